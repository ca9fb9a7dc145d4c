package ui

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// conv reads a conversation as the owner sees it, to check what an action changed.
func (h *harness) conv(t *testing.T, id int64) *store.Conversation {
	t.Helper()
	c, err := h.Inbox.Conversation(t.Context(), h.owner, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// act posts an action as htmx does, asking for target, and checks the status.
func (c *client) act(t *testing.T, conv int64, action, target string, form url.Values, want int) response {
	t.Helper()
	res := c.htmx(t, "POST", "/conversations/"+itoa(conv)+"/"+action+"?view=mine", target, form)
	if res.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d\n%s", action, res.StatusCode, want, res.Body)
	}
	return res
}

// menuItem returns the assign menu's entry of the person named name ("" if absent).
func menuItem(body, name string) string {
	start := strings.Index(body, `data-menu-item="`+strings.ToLower(name)+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</li>")
	return body[start : start+end]
}

func TestConversationHeaderActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Carla Customer", "My invoice is wrong")
		id := conv.ID
		ag := h.signIn(t, h.agent)

		page := ag.get(t, "/inbox/"+itoa(id), 200)
		mustContain(t, page, `id="conversation-header"`, "Question from Carla Customer", "Carla Customer", "Support",
			"Support chat", `id="assign-button"`, `data-shortcut="a"`, `id="close-button"`, `data-shortcut="x"`,
			`data-live="conversation.updated"`, `data-live-url="/conversations/`+itoa(id)+`/header"`, `id="presence"`,
			`aria-live="polite"`)

		header := ag.htmx(t, "GET", "/conversations/"+itoa(id)+"/header", "conversation-header", nil)
		if header.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(header.Body), `<header class="convhead" id="conversation-header"`) {
			t.Fatalf("header alone: %d\n%s", header.StatusCode, header.Body)
		}
		mustNotContain(t, header.Body, "<html")

		// Assign to me, to someone else, unassign; a team and no team.
		res := ag.act(t, id, "assign", "conversation-header", url.Values{"assignee": {"me"}}, 200)
		mustContain(t, res.Body, `id="conversation-header"`, `id="unassign"`)
		if c := h.conv(t, id); c.AssigneeID == nil || *c.AssigneeID != h.agent.ID {
			t.Fatalf("assign to me: %v", c.AssigneeID)
		}
		res = ag.act(t, id, "assign", "conversation-header", url.Values{"assignee": {itoa(h.admin.ID)}}, 200)
		if c := h.conv(t, id); c.AssigneeID == nil || *c.AssigneeID != h.admin.ID {
			t.Fatalf("assign to admin: %v", c.AssigneeID)
		}
		mustContain(t, res.Body, `value="`+itoa(h.admin.ID)+`" aria-current="true"`)
		ag.act(t, id, "assign", "conversation-header", url.Values{"assignee": {"none"}}, 200)
		if c := h.conv(t, id); c.AssigneeID != nil {
			t.Fatalf("unassign: %v", *c.AssigneeID)
		}
		team, err := h.WS.CreateTeam(t.Context(), h.owner, workspace.NewTeam{Name: "Billing"})
		if err != nil {
			t.Fatal(err)
		}
		res = ag.act(t, id, "assign", "conversation-header", url.Values{"team": {itoa(team.ID)}}, 200)
		mustContain(t, res.Body, "Billing")
		if c := h.conv(t, id); c.TeamID == nil || *c.TeamID != team.ID {
			t.Fatalf("team: %v", c.TeamID)
		}
		ag.act(t, id, "assign", "conversation-header", url.Values{"team": {"none"}}, 200)
		if c := h.conv(t, id); c.TeamID != nil {
			t.Fatalf("no team: %v", *c.TeamID)
		}

		// Priority and tags.
		res = ag.act(t, id, "priority", "conversation-header", url.Values{"priority": {"urgent"}}, 200)
		mustContain(t, res.Body, `convhead__priority--urgent">Urgent`)
		if c := h.conv(t, id); c.Priority != "urgent" {
			t.Fatalf("priority %q", c.Priority)
		}
		res = ag.act(t, id, "tags", "conversation-header", url.Values{"add": {"vip, refund"}}, 200)
		mustContain(t, res.Body, `<li class="badge">refund</li>`, `<li class="badge">vip</li>`, `name="remove" value="vip"`)
		ag.act(t, id, "tags", "conversation-header", url.Values{"remove": {"vip"}}, 200)
		if c := h.conv(t, id); !slices.Equal(c.Tags, []string{"refund"}) {
			t.Fatalf("tags %v", c.Tags)
		}
		res = ag.act(t, id, "tags", "conversation-header", url.Values{"add": {strings.Repeat("x", 65)}}, 400)
		if res.Header.Get("HX-Retarget") != "#toasts" {
			t.Fatalf("a bad tag must answer with a toast: %v", res.Header)
		}
		mustContain(t, res.Body, "A tag must be 1–64 characters long")

		// Snooze and unsnooze.
		before := time.Now()
		res = ag.act(t, id, "snooze", "conversation-header", url.Values{"preset": {"hour"}}, 200)
		mustContain(t, res.Body, "Snoozed until", `id="unsnooze"`)
		c := h.conv(t, id)
		if c.SnoozedUntil == nil || *c.SnoozedUntil < before.Add(time.Hour).UnixMilli() || *c.SnoozedUntil > time.Now().Add(time.Hour).UnixMilli() {
			t.Fatalf("snoozed until %v", c.SnoozedUntil)
		}
		ag.act(t, id, "snooze", "conversation-header", url.Values{"unsnooze": {"1"}}, 200)
		if c := h.conv(t, id); c.SnoozedUntil != nil {
			t.Fatalf("unsnooze left %v", *c.SnoozedUntil)
		}

		// Close and reopen re-render the whole pane.
		res = ag.act(t, id, "status", "conversation", url.Values{"status": {"closed"}}, 200)
		mustContain(t, res.Body, `id="conversation"`, `id="conversation-header"`, ">Reopen<")
		if c := h.conv(t, id); c.Status != "closed" {
			t.Fatalf("status %q", c.Status)
		}
		ag.act(t, id, "status", "conversation", url.Values{"status": {"open"}}, 200)
		if c := h.conv(t, id); c.Status != "open" {
			t.Fatalf("status %q", c.Status)
		}

		// Spam and trash, there and back.
		res = ag.act(t, id, "spam", "conversation", url.Values{"spam": {"true"}}, 200)
		mustContain(t, res.Body, `id="conversation"`, ">Not spam<")
		if c := h.conv(t, id); !c.Spam {
			t.Fatal("not marked spam")
		}
		ag.act(t, id, "spam", "conversation", url.Values{"spam": {"false"}}, 200)
		res = ag.act(t, id, "trash", "conversation", url.Values{"trashed": {"true"}}, 200)
		mustContain(t, res.Body, "In the trash", ">Restore from trash<")
		if c := h.conv(t, id); c.TrashedAt == nil || c.Spam {
			t.Fatalf("trash: %+v", c)
		}
		ag.act(t, id, "trash", "conversation", url.Values{"trashed": {"false"}}, 200)
		if c := h.conv(t, id); c.TrashedAt != nil {
			t.Fatal("not restored")
		}

		// Only people who can see the inbox can be assigned.
		res = ag.act(t, id, "assign", "conversation-header", url.Values{"assignee": {itoa(h.outside.ID)}}, 400)
		mustContain(t, res.Body, "That person cannot see this inbox")

		// Move to another inbox the agent sees.
		sales, err := h.WS.CreateInbox(t.Context(), nil, workspace.NewInbox{Name: "Sales", Access: workspace.AccessEveryone})
		if err != nil {
			t.Fatal(err)
		}
		page = ag.get(t, "/inbox/"+itoa(id), 200)
		mustContain(t, page, `name="inbox" value="`+itoa(sales.ID)+`">Sales<`)
		res = ag.act(t, id, "move", "conversation", url.Values{"inbox": {itoa(sales.ID)}}, 200)
		mustContain(t, res.Body, `id="conversation"`, "Sales")
		if c := h.conv(t, id); c.InboxID != sales.ID {
			t.Fatalf("inbox %d, want %d", c.InboxID, sales.ID)
		}

		// Without scripts a form post comes back to the conversation and the list it was on.
		plain := ag.post(t, "/conversations/"+itoa(id)+"/priority?view=mine", url.Values{"priority": {"low"}}, 303)
		if loc := plain.Header.Get("Location"); loc != "/inbox/"+itoa(id)+"?view=mine" {
			t.Fatalf("redirect to %q", loc)
		}
		if c := h.conv(t, id); c.Priority != "low" {
			t.Fatalf("priority %q", c.Priority)
		}

		// Bad input is a clear toast, not a change.
		res = ag.act(t, id, "priority", "conversation-header", url.Values{"priority": {"whenever"}}, 400)
		mustContain(t, res.Body, "toast--error", "That choice is not valid.")
	})
}

func TestAssignMenuListsWhoCanSeeTheInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Dan Customer", "Hello")
		ctx := t.Context()
		if _, err := h.Inbox.SetAvailability(ctx, h.agent, h.agent.ID, inbox.StatusAway); err != nil {
			t.Fatal(err)
		}
		two := int64(2)
		if _, err := h.Inbox.SetCapacity(ctx, h.owner, h.admin.ID, routing.Limits{Total: &two}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Inbox.Update(ctx, h.owner, conv.ID, inbox.Patch{AssigneeID: &h.admin.ID}); err != nil {
			t.Fatal(err)
		}
		gone := h.user(t, "agent", "Gus Gone")
		if _, err := h.WS.UpdateInbox(ctx, h.owner, h.support.ID, workspace.InboxPatch{UserIDs: &[]int64{h.admin.ID, h.agent.ID, gone.ID}}); err != nil {
			t.Fatal(err)
		}
		deactivated := true
		if _, err := h.WS.UpdateUser(ctx, h.owner, gone.ID, workspace.UserPatch{Deactivated: &deactivated}); err != nil {
			t.Fatal(err)
		}

		body := h.signIn(t, h.agent).get(t, "/inbox/"+itoa(conv.ID), 200)
		ana := menuItem(body, "Ana Agent")
		mustContain(t, ana, "presence-dot--away", "Away", "Open: 0", "(you)")
		adam := menuItem(body, "Adam Admin")
		mustContain(t, adam, "presence-dot--available", "Available", "Open: 1/2", `aria-current="true"`)
		mustContain(t, menuItem(body, "Olivia Owner"), "Available") // owners see every inbox
		if menuItem(body, "Otto Outsider") != "" || menuItem(body, "Gus Gone") != "" {
			t.Fatal("the menu lists someone who cannot see the inbox")
		}
		// Nor does the presence name map (other parts of the page, like filters, list everyone).
		header := h.signIn(t, h.agent).get(t, "/conversations/"+itoa(conv.ID)+"/header", 200)
		mustNotContain(t, header, "Otto Outsider", "Gus Gone")
		mustContain(t, header, `data-people="{`, `&#34;`+itoa(h.agent.ID)+`&#34;:&#34;Ana Agent&#34;`)

		// Someone over their limit is flagged.
		one := int64(1)
		if _, err := h.Inbox.SetCapacity(ctx, h.owner, h.admin.ID, routing.Limits{Total: &one}); err != nil {
			t.Fatal(err)
		}
		body = h.signIn(t, h.agent).get(t, "/conversations/"+itoa(conv.ID)+"/header", 200)
		mustContain(t, menuItem(body, "Adam Admin"), `actions-menu__full">Open: 1/1`)
	})
}

func TestMoveToAnInboxTheAgentCannotSee(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Eve Customer", "Hello")
		secret, err := h.WS.CreateInbox(t.Context(), nil, workspace.NewInbox{Name: "Secret", Access: workspace.AccessSpecific, UserIDs: []int64{h.admin.ID}})
		if err != nil {
			t.Fatal(err)
		}
		ag := h.signIn(t, h.agent)
		mustContain(t, ag.get(t, "/inbox/"+itoa(conv.ID), 200), "There is no other inbox you can move it to.")
		res := ag.act(t, conv.ID, "move", "conversation", url.Values{"inbox": {itoa(secret.ID)}}, 400)
		if res.Header.Get("HX-Retarget") != "#toasts" {
			t.Fatalf("no toast: %v", res.Header)
		}
		mustContain(t, res.Body, "toast--error", "You can only move the conversation to an inbox you have access to.")
		if c := h.conv(t, conv.ID); c.InboxID != h.support.ID {
			t.Fatalf("moved anyway to %d", c.InboxID)
		}
		// The admin sees the inbox and may move it there.
		mustContain(t, h.signIn(t, h.admin).get(t, "/inbox/"+itoa(conv.ID), 200), `value="`+itoa(secret.ID)+`">Secret<`)
	})
}

func TestConversationActionsOutsider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Finn Customer", "Hello")
		out := h.signIn(t, h.outside)
		out.get(t, "/conversations/"+itoa(conv.ID)+"/header", 404)
		for action, form := range map[string]url.Values{
			"assign":   {"assignee": {"me"}},
			"status":   {"status": {"closed"}},
			"snooze":   {"preset": {"hour"}},
			"move":     {"inbox": {itoa(h.support.ID)}},
			"priority": {"priority": {"high"}},
			"tags":     {"add": {"x"}},
			"spam":     {"spam": {"true"}},
			"trash":    {"trashed": {"true"}},
			"block":    {"blocked": {"true"}},
		} {
			out.act(t, conv.ID, action, "conversation-header", form, 404)
			out.post(t, "/conversations/"+itoa(conv.ID)+"/"+action, form, 404)
		}
		c := h.conv(t, conv.ID)
		if c.AssigneeID != nil || c.Status != "open" || c.Spam || c.TrashedAt != nil || c.Priority != "none" || len(c.Tags) > 0 {
			t.Fatalf("an outsider changed the conversation: %+v", c)
		}
		contact, err := h.Store.Contact(t.Context(), *c.ContactID)
		if err != nil || contact.Blocked {
			t.Fatalf("an outsider blocked the contact: %v %v", contact, err)
		}
		// A signed-out browser goes to sign in.
		if res := h.newClient(t).do(t, "POST", "/conversations/"+itoa(conv.ID)+"/status", url.Values{"status": {"closed"}}, nil); res.StatusCode != 303 {
			t.Fatalf("anonymous: %d", res.StatusCode)
		}
	})
}

func TestSnoozePresets(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	ny, sthlm, akl := load("America/New_York"), load("Europe/Stockholm"), load("Pacific/Auckland")
	for _, tc := range []struct {
		name             string
		now              time.Time
		loc              *time.Location
		tomorrow, monday time.Time
	}{
		// Already Monday in UTC, still Sunday evening in New York: tomorrow is Monday there.
		{"sunday evening in New York", time.Date(2025, 1, 13, 3, 0, 0, 0, time.UTC), ny,
			time.Date(2025, 1, 13, 14, 0, 0, 0, time.UTC), time.Date(2025, 1, 13, 14, 0, 0, 0, time.UTC)},
		// On a Monday, next Monday is a week away.
		{"monday morning in Auckland", time.Date(2025, 1, 5, 21, 0, 0, 0, time.UTC), akl, // Mon 6 Jan 10:00 NZDT
			time.Date(2025, 1, 6, 20, 0, 0, 0, time.UTC), time.Date(2025, 1, 12, 20, 0, 0, 0, time.UTC)},
		// Across the spring-forward night: 09:00 is CEST (UTC+2) the next day.
		{"saturday night before DST in Stockholm", time.Date(2025, 3, 29, 22, 30, 0, 0, time.UTC), sthlm,
			time.Date(2025, 3, 30, 7, 0, 0, 0, time.UTC), time.Date(2025, 3, 31, 7, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := snoozePresets(tc.now, tc.loc)
			if len(p) != 3 || p[0].Key != "hour" || p[1].Key != "tomorrow" || p[2].Key != "monday" {
				t.Fatalf("presets %+v", p)
			}
			if !p[0].At.Equal(tc.now.Add(time.Hour)) {
				t.Errorf("in an hour: %v", p[0].At)
			}
			if !p[1].At.Equal(tc.tomorrow) || p[1].At.Location() != tc.loc {
				t.Errorf("tomorrow: %v, want %v", p[1].At, tc.tomorrow.In(tc.loc))
			}
			if !p[2].At.Equal(tc.monday) || p[2].At.Weekday() != time.Monday || p[2].At.Hour() != 9 {
				t.Errorf("next Monday: %v, want %v", p[2].At, tc.monday.In(tc.loc))
			}
		})
	}
}

func TestSnoozeInTheUsersTimeZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Gina Customer", "Hello")
		kiwi, err := h.WS.CreateUser(t.Context(), nil, workspace.NewUser{Email: "kiwi@example.com", Name: "Kiri Kiwi",
			Role: "admin", Password: testPassword, TimeZone: "Pacific/Auckland"})
		if err != nil {
			t.Fatal(err)
		}
		akl, _ := time.LoadLocation("Pacific/Auckland")
		c := h.signIn(t, kiwi)

		want := map[int64]bool{}
		for _, p := range snoozePresets(time.Now(), akl) {
			if p.Key == "tomorrow" {
				want[p.At.UnixMilli()] = true
			}
		}
		c.act(t, conv.ID, "snooze", "conversation-header", url.Values{"preset": {"tomorrow"}}, 200)
		for _, p := range snoozePresets(time.Now(), akl) { // midnight may have passed meanwhile
			if p.Key == "tomorrow" {
				want[p.At.UnixMilli()] = true
			}
		}
		got := h.conv(t, conv.ID).SnoozedUntil
		if got == nil || !want[*got] {
			t.Fatalf("snoozed until %v, want one of %v", got, want)
		}
		if at := time.UnixMilli(*got).In(akl); at.Hour() != 9 || at.Minute() != 0 {
			t.Fatalf("tomorrow 09:00 in Auckland is %v", at)
		}

		res := c.act(t, conv.ID, "snooze", "conversation-header", url.Values{"preset": {"custom"}, "until": {"2030-06-01T10:00"}}, 200)
		if got := h.conv(t, conv.ID).SnoozedUntil; got == nil || *got != time.Date(2030, 6, 1, 10, 0, 0, 0, akl).UnixMilli() {
			t.Fatalf("custom snooze %v", got)
		}
		mustContain(t, res.Body, "Snoozed until 2030-06-01 10:00") // shown on the user's clock

		res = c.act(t, conv.ID, "snooze", "conversation-header", url.Values{"preset": {"custom"}, "until": {"2001-01-01T10:00"}}, 400)
		mustContain(t, res.Body, "Choose a date and time in the future")
		res = c.act(t, conv.ID, "snooze", "conversation-header", url.Values{"preset": {"custom"}, "until": {"soon"}}, 400)
		mustContain(t, res.Body, "Choose a date and time in the future")
	})
}

func TestBlockSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Hal Spammer", "Buy now")
		ag := h.signIn(t, h.agent)
		page := ag.get(t, "/inbox/"+itoa(conv.ID), 200)
		// Blocking asks first: the menu's button opens a dialog with the real form.
		mustContain(t, page, `data-dialog="block-dialog"`, `<dialog id="block-dialog"`, "Block Hal Spammer?", `id="block-confirm"`)

		res := ag.act(t, conv.ID, "block", "conversation", url.Values{"blocked": {"true"}}, 200)
		mustContain(t, res.Body, `id="conversation"`, ">Blocked<", ">Unblock sender<")
		mustNotContain(t, res.Body, `id="block-dialog"`)
		contact, err := h.Store.Contact(t.Context(), *conv.ContactID)
		if err != nil || !contact.Blocked {
			t.Fatalf("contact not blocked: %+v %v", contact, err)
		}

		ag.act(t, conv.ID, "block", "conversation-header", url.Values{"blocked": {"false"}}, 200)
		if contact, _ := h.Store.Contact(t.Context(), *conv.ContactID); contact.Blocked {
			t.Fatal("contact still blocked")
		}
		ag.act(t, conv.ID, "block", "conversation-header", url.Values{"blocked": {"maybe"}}, 400)
	})
}
