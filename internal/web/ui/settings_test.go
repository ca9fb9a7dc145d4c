package ui

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// post sends a settings form the way its htmx attributes do: the answer is #settings-main.
func (c *client) settingsPost(t testing.TB, path string, form url.Values, want int) response {
	t.Helper()
	res := c.htmx(t, "POST", path, "settings-main", form)
	if res.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d\n%s", path, res.StatusCode, want, res.Body)
	}
	return res
}

func TestSettingsSectionsAreForAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		admin, agent := h.signIn(t, h.admin), h.signIn(t, h.agent)
		res := admin.do(t, "GET", "/settings", nil, nil)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/settings/inboxes" {
			t.Fatalf("/settings: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		c := h.custom(t)
		for path, want := range map[string]string{
			"/settings/inboxes":                   "Create inbox",
			"/settings/users":                     "Invite someone",
			"/settings/users/" + itoa(h.owner.ID): "Working hours",
			"/settings/teams":                     "Create team",
			"/settings/routing":                   "Support chat",
			"/settings/channels":                  "Create channel",
			"/settings/channels/" + itoa(c.ID):    "Signing secret",
			"/settings/tokens":                    "Create token",
			"/settings/audit":                     "Audit log",
		} {
			body := admin.get(t, path, 200)
			mustContain(t, body, want, `id="settings-main"`, `aria-current="page"`)
			agent.get(t, path, 403)
		}
		// People manage their own availability and hours, nobody else's.
		mine := agent.get(t, "/settings/users/"+itoa(h.agent.ID), 200)
		mustContain(t, mine, "Working hours", "Ana Agent")
		mustNotContain(t, mine, `href="/settings/inboxes"`)
		agent.get(t, "/settings/users/"+itoa(h.admin.ID), 403)
		agent.post(t, "/settings/users/"+itoa(h.agent.ID)+"/availability", url.Values{"status": {"away"}}, 303)
		if a, _ := h.Inbox.Availability(t.Context(), h.agent, h.agent.ID); a.Status != "away" {
			t.Fatalf("agent could not set themselves away: %s", a.Status)
		}
		res = agent.do(t, "POST", "/settings/users/"+itoa(h.agent.ID)+"/capacity", url.Values{"total": {"3"}}, nil)
		if res.StatusCode != 403 {
			t.Fatalf("agent set their own capacity: %d", res.StatusCode)
		}
		// htmx asking for the section gets only the section.
		frag := admin.htmx(t, "GET", "/settings/teams", "settings-main", nil)
		mustContain(t, frag.Body, `id="settings-main"`)
		mustNotContain(t, frag.Body, "<html")
	})
}

func TestSettingsInboxes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		res := c.settingsPost(t, "/settings/inboxes", url.Values{"name": {"Billing"}, "access": {"everyone"}}, 200)
		mustContain(t, res.Body, "Billing", "Inbox created", `hx-swap-oob`)
		mustNotContain(t, res.Body, "<html")
		billing := h.inboxNamed(t, "Billing")

		// An empty name is refused next to the field, with what was typed kept.
		bad := c.settingsPost(t, "/settings/inboxes", url.Values{"name": {"  "}, "access": {"specific"}}, 422)
		mustContain(t, bad.Body, `id="inbox-new-name-error"`, "Enter a name.", `aria-invalid="true"`)

		// Rename and restrict to the agent.
		c.settingsPost(t, "/settings/inboxes/"+itoa(billing.ID), url.Values{"name": {"Billing & refunds"},
			"access": {"specific"}, "user_ids": {itoa(h.agent.ID)}}, 200)
		got, err := h.WS.Inbox(t.Context(), nil, billing.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Billing & refunds" || got.Access != "specific" || len(got.UserIDs) != 1 || got.UserIDs[0] != h.agent.ID {
			t.Fatalf("inbox after edit: %+v", got)
		}
		page := c.get(t, "/settings/inboxes", 200)
		mustContain(t, page, "Billing &amp; refunds", "Ana Agent")

		// A plain post (no htmx) redirects back with the toast.
		plain := c.post(t, "/settings/inboxes/"+itoa(billing.ID)+"/delete", url.Values{}, 303)
		if loc := plain.Header.Get("Location"); loc != "/settings/inboxes?flash=settings.flash.inbox_deleted" {
			t.Fatalf("after delete went to %q", loc)
		}
		mustContain(t, c.get(t, plain.Header.Get("Location"), 200), "Inbox deleted")
		mustNotContain(t, c.get(t, "/settings/inboxes", 200), "Billing")
		// The Support inbox has a channel: deleting it is refused with a toast.
		res = c.htmx(t, "POST", "/settings/inboxes/"+itoa(h.support.ID)+"/delete", "settings-main", url.Values{})
		if res.StatusCode != 409 || res.Header.Get("HX-Retarget") != "#toasts" {
			t.Fatalf("deleting a used inbox: %d %q", res.StatusCode, res.Header.Get("HX-Retarget"))
		}
		mustContain(t, res.Body, "still has conversations or channels")
	})
}

func TestSettingsUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		res := c.settingsPost(t, "/settings/users", url.Values{"name": {"Nina New"}, "email": {"nina@example.com"}, "role": {"agent"}}, 200)
		mustContain(t, res.Body, "Nina New", "nina@example.com", "Invited")
		mustContain(t, res.Body, `id="invite-link-url"`, `value="http://parley.test/reset?token=ppw_`)
		// A fresh link for someone locked out; an admin gets none for the owner.
		again := c.settingsPost(t, "/settings/users/"+itoa(h.agent.ID)+"/link", url.Values{}, 200)
		mustContain(t, again.Body, "Password link for Ana Agent", "/reset?token=ppw_")
		if res := c.htmx(t, "POST", "/settings/users/"+itoa(h.owner.ID)+"/link", "settings-main", url.Values{}); res.StatusCode != 403 {
			t.Fatalf("admin got a link for the owner: %d", res.StatusCode)
		}
		mustNotContain(t, again.Body, `action="/settings/users/`+itoa(h.owner.ID)+`/link"`)
		dup := c.settingsPost(t, "/settings/users", url.Values{"name": {"Nina Again"}, "email": {"NINA@example.com"}, "role": {"agent"}}, 422)
		mustContain(t, dup.Body, `id="user-new-email-error"`, "Someone already has this email address.", "Nina Again")

		c.settingsPost(t, "/settings/users/"+itoa(h.agent.ID)+"/role", url.Values{"role": {"admin"}}, 200)
		c.settingsPost(t, "/settings/users/"+itoa(h.agent.ID)+"/deactivate", url.Values{}, 200)
		u, _ := h.WS.User(t.Context(), h.agent.ID)
		if u.Role != "admin" || u.DeactivatedAt == nil {
			t.Fatalf("agent after role change and deactivation: %s %v", u.Role, u.DeactivatedAt)
		}
		mustContain(t, c.get(t, "/settings/users", 200), "Deactivated", "/settings/users/"+itoa(h.agent.ID)+"/reactivate")
		c.settingsPost(t, "/settings/users/"+itoa(h.agent.ID)+"/reactivate", url.Values{}, 200)
		// An admin may not demote the owner: the domain says so in a toast.
		res = c.htmx(t, "POST", "/settings/users/"+itoa(h.owner.ID)+"/role", "settings-main", url.Values{"role": {"agent"}})
		if res.StatusCode != 403 {
			t.Fatalf("admin demoted the owner: %d", res.StatusCode)
		}
		mustContain(t, res.Body, "Only owners may change owners")
	})
}

func TestSettingsTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		c.settingsPost(t, "/settings/teams", url.Values{"name": {"Tier 1"}}, 200)
		dup := c.settingsPost(t, "/settings/teams", url.Values{"name": {"tier 1"}}, 422)
		mustContain(t, dup.Body, "Another team already has this name.", `id="team-new-name-error"`)
		teams, _, err := h.WS.Teams(t.Context(), 0, 10)
		if err != nil || len(teams) != 1 {
			t.Fatalf("teams: %v %v", teams, err)
		}
		id := itoa(teams[0].ID)
		res := c.settingsPost(t, "/settings/teams/"+id+"/members", url.Values{"user_id": {itoa(h.agent.ID)}, "primary": {"on"}}, 200)
		mustContain(t, res.Body, "Ana Agent", "1 member")
		team, _ := h.WS.Team(t.Context(), teams[0].ID)
		if len(team.Members) != 1 || team.Members[0].UserID != h.agent.ID || !team.Members[0].IsPrimary {
			t.Fatalf("members: %+v", team.Members)
		}
		// Clearing the primary flag keeps the member.
		c.settingsPost(t, "/settings/teams/"+id+"/members", url.Values{"user_id": {itoa(h.agent.ID)}}, 200)
		if team, _ = h.WS.Team(t.Context(), teams[0].ID); len(team.Members) != 1 || team.Members[0].IsPrimary {
			t.Fatalf("members after unsetting primary: %+v", team.Members)
		}
		c.settingsPost(t, "/settings/teams/"+id, url.Values{"name": {"First line"}}, 200)
		c.settingsPost(t, "/settings/teams/"+id+"/members/"+itoa(h.agent.ID)+"/delete", url.Values{}, 200)
		if team, _ = h.WS.Team(t.Context(), teams[0].ID); team.Name != "First line" || len(team.Members) != 0 {
			t.Fatalf("team after rename and removal: %+v", team)
		}
		res = c.settingsPost(t, "/settings/teams/"+id+"/delete", url.Values{}, 200)
		mustContain(t, res.Body, "Team deleted")
		mustNotContain(t, res.Body, "First line")
	})
}

func TestSettingsHoursAndCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		path := "/settings/users/" + itoa(h.agent.ID)
		form := url.Values{"enabled": {"on"}, "time_zone": {"Europe/Stockholm"},
			"mon_start": {"09:00", "13:00"}, "mon_end": {"12:00", "17:30"}, "fri_start": {"10:00"}, "fri_end": {"23:59"}}
		c.settingsPost(t, path+"/hours", form, 200)
		w, err := h.Inbox.WorkingHours(t.Context(), h.admin, h.agent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !w.Enabled || w.TimeZone != "Europe/Stockholm" || len(w.Days["mon"]) != 2 || w.Days["fri"][0].End != "24:00" || len(w.Days["tue"]) != 0 {
			t.Fatalf("working hours: %+v", w)
		}
		page := c.get(t, path, 200)
		mustContain(t, page, `value="Europe/Stockholm"`, `value="13:00"`, `value="17:30"`, `value="23:59"`)

		bad := c.settingsPost(t, path+"/hours", url.Values{"time_zone": {"Europe/Stockholm"}, "tue_start": {"17:00"}, "tue_end": {"09:00"}}, 422)
		mustContain(t, bad.Body, "each interval must end after it starts", `value="17:00"`)
		bad = c.settingsPost(t, path+"/hours", url.Values{"time_zone": {"Mars/Olympus"}}, 422)
		mustContain(t, bad.Body, `id="hours-time_zone-error"`, "Mars/Olympus")

		c.settingsPost(t, path+"/capacity", url.Values{"total": {"5"}, "email": {"2"}, "messaging": {""}}, 200)
		capy, _ := h.Inbox.Capacity(t.Context(), h.admin, h.agent.ID)
		if capy.Limits.Total == nil || *capy.Limits.Total != 5 || *capy.Limits.Email != 2 || capy.Limits.Messaging != nil {
			t.Fatalf("capacity: %+v", capy.Limits)
		}
		mustContain(t, c.get(t, path, 200), `name="total" value="5"`, `name="email" value="2"`)
		bad = c.settingsPost(t, path+"/capacity", url.Values{"total": {"-1"}}, 422)
		mustContain(t, bad.Body, `id="capacity-total-error"`, "whole number from 0 to 10000")

		c.settingsPost(t, path+"/availability", url.Values{"status": {"away"}}, 200)
		away := c.get(t, path, 200)
		mustContain(t, away, "Set available", "set by Adam Admin")
	})
}

func TestSettingsRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		path := "/settings/routing/" + itoa(h.channel.ID)
		c.settingsPost(t, path, url.Values{"enabled": {"on"}, "assign_to": {"users_and_teams"}, "strategy": {"balanced"},
			"user_ids": {itoa(h.agent.ID), itoa(h.admin.ID)}}, 200)
		rule, err := h.Inbox.RoutingRule(t.Context(), h.admin, h.channel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !rule.Enabled || rule.Strategy != "balanced" || rule.OnlyAvailable || len(rule.UserIDs) != 2 {
			t.Fatalf("rule: %+v", rule)
		}
		// The outsider has no access to Support: refused next to the people picker.
		bad := c.settingsPost(t, path, url.Values{"enabled": {"on"}, "assign_to": {"users_and_teams"}, "strategy": {"round_robin"},
			"user_ids": {itoa(h.outside.ID)}}, 422)
		mustContain(t, bad.Body, "must have access to the channel", `id="rule-`+itoa(h.channel.ID)+`-user_ids-error"`)
	})
}

// custom creates a custom channel through the domain.
func (h *harness) custom(t testing.TB) *store.CustomChannel {
	t.Helper()
	name, hook := "Acme chat", "https://hooks.example.com/parley"
	c, err := h.UI.custom().CreateChannel(t.Context(), h.admin, custom.ChannelInput{Name: &name, WebhookURL: &hook,
		Capabilities: []byte(`{"deliveryIdentifierTypes":["CHANNEL_SPECIFIC_OPAQUE_ID"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) inboxNamed(t testing.TB, name string) *store.Inbox {
	t.Helper()
	list, _, err := h.WS.Inboxes(t.Context(), nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if in.Name == name {
			return in
		}
	}
	t.Fatalf("no inbox %q", name)
	return nil
}

func TestSettingsCustomChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		bad := c.settingsPost(t, "/settings/channels", url.Values{"name": {"Acme"}, "webhookUrl": {"ftp://nope"}, "delivery_types": {custom.OpaqueID}}, 422)
		mustContain(t, bad.Body, `id="channel-new-webhook-error"`, "full http:// or https://")
		bad = c.settingsPost(t, "/settings/channels", url.Values{"name": {"Acme"}, "webhookUrl": {"https://hooks.example.com/x"}}, 422)
		mustContain(t, bad.Body, `id="channel-new-types-error"`)

		res := c.settingsPost(t, "/settings/channels", url.Values{"name": {"Acme chat"}, "webhookUrl": {"https://hooks.example.com/x"},
			"delivery_types": {custom.OpaqueID, custom.PhoneNumber}, "threading_model": {custom.ThreadByIntegration}, "allow_outgoing": {"on"}}, 204)
		loc := res.Header.Get("HX-Redirect")
		if !strings.HasPrefix(loc, "/settings/channels/") {
			t.Fatalf("after create: %q", loc)
		}
		list, _, err := s.CustomChannels(t.Context(), store.CustomChannelFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("channels: %v %v", list, err)
		}
		ch := list[0]
		page := c.get(t, loc, 200)
		mustContain(t, page, "Custom channel created", "Signing secret", `value="`+ch.Secret+`"`, "Phone number")

		base := "/settings/channels/" + itoa(ch.ID)
		bad = c.settingsPost(t, base+"/accounts", url.Values{"name": {"Main line"}}, 422)
		mustContain(t, bad.Body, `id="account-new-inbox-error"`, "This is required.")
		res = c.settingsPost(t, base+"/accounts", url.Values{"name": {"Main line"}, "inbox_id": {itoa(h.support.ID)},
			"identifier_type": {custom.PhoneNumber}, "identifier_value": {"+46 70 123 45 67"}}, 200)
		mustContain(t, res.Body, "Account connected", "Main line", "<td>Support</td>")
		accounts, _, err := s.ChannelAccounts(t.Context(), store.ChannelAccountFilter{CustomChannelID: ch.ID})
		if err != nil || len(accounts) != 1 || accounts[0].InboxID != h.support.ID {
			t.Fatalf("accounts: %v %v", accounts, err)
		}

		// Rotating gives a new secret.
		c.settingsPost(t, base+"/rotate", url.Values{}, 200)
		rotated, _ := s.CustomChannel(t.Context(), ch.ID)
		if rotated.Secret == ch.Secret {
			t.Fatal("secret not rotated")
		}
		mustContain(t, c.get(t, base, 200), `value="`+rotated.Secret+`"`)

		// The account event webhook fails for good: the log shows it, and it can be retried.
		job, err := s.ClaimJob(t.Context(), "test-node", []string{custom.AccountEventJob}, time.Minute)
		if err != nil || job == nil {
			t.Fatalf("claim: %v %v", job, err)
		}
		if err := s.FailJob(t.Context(), job.ID, "test-node", "webhook answered 503 Service Unavailable"); err != nil {
			t.Fatal(err)
		}
		log := c.get(t, base, 200)
		mustContain(t, log, `id="delivery-`+itoa(job.ID)+`"`, "webhook answered 503 Service Unavailable", "Failed",
			base+"/deliveries/"+itoa(job.ID)+"/retry")
		res = c.settingsPost(t, base+"/deliveries/"+itoa(job.ID)+"/retry", url.Values{}, 200)
		mustContain(t, res.Body, "Delivery queued again", "Queued")
		if j, _ := s.Job(t.Context(), job.ID); j.State != store.JobQueued {
			t.Fatalf("job after retry: %s", j.State)
		}
		// Retrying what is not failed says so.
		again := c.htmx(t, "POST", base+"/deliveries/"+itoa(job.ID)+"/retry", "settings-main", url.Values{})
		if again.StatusCode != 409 {
			t.Fatalf("second retry: %d", again.StatusCode)
		}
		// Another channel's page does not list this channel's deliveries.
		other := h.custom(t)
		mustNotContain(t, c.get(t, "/settings/channels/"+itoa(other.ID), 200), `id="delivery-`+itoa(job.ID)+`"`)
	})
}

func TestSettingsTokensAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.admin)
		// Someone else's token is listed for admins too.
		if _, _, err := h.WS.CreateToken(t.Context(), h.agent, h.agent.ID, "Agent script"); err != nil {
			t.Fatal(err)
		}
		bad := c.settingsPost(t, "/settings/tokens", url.Values{"name": {""}}, 422)
		mustContain(t, bad.Body, `id="token-new-name-error"`, "Enter a name.")
		res := c.settingsPost(t, "/settings/tokens", url.Values{"name": {"Order sync"}}, 200)
		mustContain(t, res.Body, `id="new-token-value"`, `value="pt_`, `<td class="settings__strong">Order sync</td>`, "Agent script", "Ana Agent", "Never")
		tokens, err := h.WS.Tokens(t.Context(), h.admin, h.admin.ID)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens: %v %v", tokens, err)
		}
		res = c.settingsPost(t, "/settings/tokens/"+itoa(tokens[0].ID)+"/revoke", url.Values{}, 200)
		mustContain(t, res.Body, "Token revoked", "Agent script")
		mustNotContain(t, res.Body, "<td class=\"settings__strong\">Order sync</td>")

		c.settingsPost(t, "/settings/inboxes", url.Values{"name": {"Sales"}, "access": {"everyone"}}, 200)
		audit := c.get(t, "/settings/audit", 200)
		mustContain(t, audit, `title="inbox.created"`, `title="token.created"`, `title="token.revoked"`, "Adam Admin", `&#34;name&#34;:&#34;Sales&#34;`)
		only := c.htmx(t, "GET", "/settings/audit?action=inbox.created&actor="+itoa(h.admin.ID), "settings-main", nil)
		mustContain(t, only.Body, "Inbox created", `&#34;name&#34;:&#34;Sales&#34;`)
		mustNotContain(t, only.Body, `title="token.created"`, "<html")
		mustContain(t, c.get(t, "/settings/audit?action=nothing.happened", 200), "Nothing recorded yet.")
	})
}
