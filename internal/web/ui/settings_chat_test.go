package ui

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// withChat gives the harness's web app a chat service.
func withChat(t *testing.T, h *harness) *chat.Service {
	t.Helper()
	svc := &chat.Service{Store: h.Store, Inbox: h.Inbox, BaseURL: h.UI.BaseURL}
	h.UI.Chat = svc
	return svc
}

// chatChannel creates a chat channel on the Support inbox through the service.
func (h *harness) chatChannel(t *testing.T, svc *chat.Service) *chat.View {
	t.Helper()
	name, origins := "Website chat", []string{"https://www.example.com"}
	v, err := svc.CreateChannel(t.Context(), h.admin, chat.ChannelInput{InboxID: h.support.ID, Name: &name, AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var chatPathID = regexp.MustCompile(`^/settings/chat/(\d+)`)

func TestChatSettingsChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		admin := h.signIn(t, h.admin)

		body := admin.get(t, "/settings/chat", 200)
		mustContain(t, body, `href="/settings/chat" aria-current="page"`, `name="allowed_origins"`, "Support")

		// A bad origin is named next to the field and nothing is created.
		res := admin.post(t, "/settings/chat", url.Values{"inbox_id": {itoa(h.support.ID)}, "name": {"Website chat"},
			"allowed_origins": {"https://www.example.com\n\nwww.example.org/blog"}}, 422)
		mustContain(t, res.Body, "“www.example.org/blog” is not a site", `aria-invalid="true"`, "www.example.org/blog</textarea>")
		if chs, _ := s.ChannelsOfKind(t.Context(), chat.Kind); len(chs) != 0 {
			t.Fatalf("a refused form created %d channels", len(chs))
		}

		res = admin.post(t, "/settings/chat", url.Values{"inbox_id": {itoa(h.support.ID)}, "name": {"Website chat"},
			"allowed_origins": {"https://www.example.com\r\nhttps://shop.example.com/"}}, http.StatusSeeOther)
		m := chatPathID.FindStringSubmatch(res.Header.Get("Location"))
		if m == nil {
			t.Fatalf("created: redirected to %q", res.Header.Get("Location"))
		}
		v, err := svc.Channel(t.Context(), mustInt(t, m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Settings.AllowedOrigins; !slices.Equal(got, []string{"https://shop.example.com", "https://www.example.com"}) {
			t.Fatalf("allowed origins %v", got)
		}

		page := admin.get(t, res.Header.Get("Location"), 200)
		mustContain(t, page, html.EscapeString(v.EmbedSnippet), `data-chat-copy="#chat-snippet"`,
			`/settings/chat/`+m[1]+`/preview`, "Website chat", "createHmac", "hash_hmac", "hmac.new", "hmac.New")
		// The identity secret is in the page only once asked for.
		mustNotContain(t, page, v.Chat.IdentitySecret)
		secret := admin.htmx(t, "GET", "/settings/chat/"+m[1]+"/secret", "chat-secret", nil)
		mustContain(t, secret.Body, `value="`+v.Chat.IdentitySecret+`"`)
		mustContain(t, admin.get(t, "/settings/chat/"+m[1]+"/secret", 200), v.Chat.IdentitySecret)

		// The list shows the channel with its sites.
		mustContain(t, admin.get(t, "/settings/chat", 200), "Website chat", "https://shop.example.com", "No chatflows yet")

		// Saving the settings: look and sites; a bad colour is refused at its field.
		res = admin.post(t, "/settings/chat/"+m[1], url.Values{"name": {"Site chat"}, "allowed_origins": {"https://www.example.com"},
			"accent_color": {"blue"}, "position": {"left"}}, 422)
		mustContain(t, res.Body, `id="chat-accent-error"`, "Choose a colour.")
		admin.post(t, "/settings/chat/"+m[1], url.Values{"name": {"Site chat"}, "allowed_origins": {"https://www.example.com"},
			"accent_color": {"#FF6600"}, "position": {"left"}}, http.StatusSeeOther)
		v, _ = svc.Channel(t.Context(), v.Channel.ID)
		if v.Channel.Name != "Site chat" || v.Settings.Appearance != (chat.Appearance{AccentColor: "#ff6600", Position: "left"}) ||
			len(v.Settings.AllowedOrigins) != 1 {
			t.Fatalf("saved %q %+v", v.Channel.Name, v.Settings)
		}

		// The preview page embeds the widget, the script tag as the service wrote it.
		prev := admin.get(t, "/settings/chat/"+m[1]+"/preview", 200)
		mustContain(t, prev, v.EmbedSnippet, "Preview of the chat channel Site chat")

		// Agents get none of it.
		agent := h.signIn(t, h.agent)
		agent.get(t, "/settings/chat", http.StatusForbidden)
		agent.get(t, "/settings/chat/"+m[1]+"/secret", http.StatusForbidden)
		agent.post(t, "/settings/chat", url.Values{"inbox_id": {itoa(h.support.ID)}}, http.StatusForbidden)
	})
}

func TestChatSettingsOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		admin := h.signIn(t, h.admin)
		mustContain(t, admin.get(t, "/settings/chat", 200), "Live chat is not set up on this server.")
		admin.get(t, "/settings/chat/1", http.StatusNotFound)
	})
}

// fullFlowForm is the editor's form filled in as an admin would: targeting with two groups and
// an exclusion, a prompt after ten seconds, business hours with a split shift and a holiday,
// explicit consent and a hand-off to one agent.
func fullFlowForm(h *harness) url.Values {
	const bh = "availability.business_hours"
	return url.Values{
		"name": {"Pricing sales"}, "type": {"live_chat"}, "enabled": {"on"}, "language": {"sv"}, "priority": {"5"},
		"bot":                                {"7:1"}, // left over from choosing bot first: a live chat flow runs none
		"targeting.groups[0].rules[0].field": {"page_url"}, "targeting.groups[0].rules[0].operator": {"starts_with"},
		"targeting.groups[0].rules[0].value": {"/pricing"}, "targeting.groups[0].rules[0].name": {""},
		"targeting.groups[0].rules[1].field": {"visitor"}, "targeting.groups[0].rules[1].operator": {"known"},
		"targeting.groups[0].rules[1].value": {"ignored"},
		// Indexes with gaps, as rows removed in the page leave them.
		"targeting.groups[3].rules[2].field": {"query_param"}, "targeting.groups[3].rules[2].operator": {"equals"},
		"targeting.groups[3].rules[2].name": {"utm_campaign"}, "targeting.groups[3].rules[2].value": {"spring"},
		"targeting.exclusions[0].rules[0].field": {"page_url"}, "targeting.exclusions[0].rules[0].operator": {"contains"},
		"targeting.exclusions[0].rules[0].value": {"/careers"},
		"display.welcome_message":                {"Hej! Frågor om priserna?"}, "display.behaviour": {"prompt"},
		"display.trigger.kind": {"after_seconds"}, "display.trigger.value": {"10"}, "display.hide_on_mobile": {"on"},
		"heading.mode": {"users_and_teams"}, "heading.user_ids": {itoa(h.agent.ID)}, "heading.name": {"leftover"},
		"availability.mode": {"business_hours"}, bh + ".time_zone": {"Europe/Stockholm"},
		bh + ".days.mon.start": {"09:00"}, bh + ".days.mon.end": {"17:00"},
		bh + ".days.tue.start": {"13:00", "08:00"}, bh + ".days.tue.end": {"23:59", "12:00"},
		bh + ".days.wed.start": {""}, bh + ".days.wed.end": {""},
		bh + ".holidays":     {"2025-12-25\r\n\r\n2025-12-24\n"},
		"response_time.kind": {"custom"}, "response_time.text": {"Within 10 minutes"},
		"away.message": {"Back soon"}, "away.show_back_at": {"on"}, "away.collect_email": {"on"},
		"auto_close_minutes": {"45"},
		"consent.mode":       {"explicit"}, "consent.text": {"We keep this chat to answer you."},
		"consent.privacy_url": {"https://www.example.com/privacy"},
		"hand_off.assign_to":  {"users_and_teams"}, "hand_off.user_ids": {itoa(h.agent.ID)},
		"hand_off.only_available": {"on"}, "hand_off.strategy": {"balanced"},
	}
}

func TestChatflowEditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		v := h.chatChannel(t, svc)
		ch := itoa(v.Channel.ID)
		admin := h.signIn(t, h.admin)

		// The new flow's form starts from the defaults, with weekday hours to switch on.
		body := admin.get(t, "/settings/chat/"+ch+"/flows/new", 200)
		mustContain(t, body, `name="availability.business_hours.days.mon.start" value="09:00"`,
			`name="auto_close_minutes" min="0" max="43200" step="1" inputmode="numeric" value="30"`, `data-chatflow-form`)

		res := admin.post(t, "/settings/chat/"+ch+"/flows", fullFlowForm(h), http.StatusSeeOther)
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/settings/chat/"+ch+"?flash=") {
			t.Fatalf("saved: redirected to %q", loc)
		}
		flows, err := svc.Chatflows(t.Context(), v.Channel.ID)
		if err != nil || len(flows) != 1 {
			t.Fatalf("flows %v, %v", flows, err)
		}
		got := flows[0]
		want := chatflow.New()
		want.ID, want.Name, want.Enabled, want.Language, want.InboxID, want.Priority = got.ID, "Pricing sales", true, "sv", h.support.ID, 5
		want.Targeting = chatflow.Targeting{
			Groups: []chatflow.Group{
				{Rules: []chatflow.Rule{{Field: "page_url", Operator: "starts_with", Value: "/pricing"}, {Field: "visitor", Operator: "known"}}},
				{Rules: []chatflow.Rule{{Field: "query_param", Operator: "equals", Name: "utm_campaign", Value: "spring"}}},
			},
			Exclusions: []chatflow.Group{{Rules: []chatflow.Rule{{Field: "page_url", Operator: "contains", Value: "/careers"}}}},
		}
		want.Display = chatflow.Display{WelcomeMessage: "Hej! Frågor om priserna?", Behaviour: "prompt",
			Trigger: chatflow.Trigger{Kind: "after_seconds", Value: 10}, HideOnMobile: true}
		want.Heading = &chatflow.Heading{Mode: "users_and_teams", UserIDs: []int64{h.agent.ID}, TeamIDs: []int64{}}
		want.Availability = chatflow.Availability{Mode: "business_hours", BusinessHours: &chatflow.BusinessHours{
			TimeZone: "Europe/Stockholm",
			Days: map[string][]chatflow.Interval{"mon": {{Start: "09:00", End: "17:00"}},
				"tue": {{Start: "08:00", End: "12:00"}, {Start: "13:00", End: "24:00"}},
				"wed": {}, "thu": {}, "fri": {}, "sat": {}, "sun": {}},
			Holidays: []string{"2025-12-24", "2025-12-25"}}}
		want.ResponseTime = chatflow.ResponseTime{Kind: "custom", Text: "Within 10 minutes"}
		want.Away = chatflow.Away{Message: "Back soon", ShowBackAt: true, CollectEmail: true}
		want.AutoCloseMinutes = 45
		want.Consent = chatflow.Consent{Mode: "explicit", Text: "We keep this chat to answer you.", PrivacyURL: "https://www.example.com/privacy"}
		want.HandOff = chatflow.HandOff{AssignTo: "users_and_teams", UserIDs: []int64{h.agent.ID}, TeamIDs: []int64{},
			OnlyAvailable: true, Strategy: "balanced"}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Fatalf("stored flow\n got %s\nwant %s", gj, wj)
		}

		// The channel page lists it with its targeting in words, and the editor shows it back.
		page := admin.get(t, "/settings/chat/"+ch, 200)
		mustContain(t, page, "Pricing sales", "Page URL starts with /pricing and Visitor is known · or Query parameter utm_campaign equals spring; not when Page URL contains /careers",
			`aria-checked="true"`)
		fid := itoa(got.ID)
		edit := admin.get(t, "/settings/chat/"+ch+"/flows/"+fid, 200)
		mustContain(t, edit, `name="targeting.groups[1].rules[0].name" data-part="name" value="utm_campaign"`,
			`name="availability.business_hours.days.tue.end" value="23:59"`, "2025-12-24\n2025-12-25</textarea>",
			`<option value="Europe/Stockholm" selected>`, `value="explicit" checked`)

		// Which flow a page shows: the tester asks chatflow.Pick.
		test := admin.htmx(t, "GET", "/settings/chat/"+ch+"/test-page?url="+url.QueryEscape("https://www.example.com/pricing/team")+"&known=on", "chat-test-result", nil)
		mustContain(t, test.Body, "This page shows", "Pricing sales")
		test = admin.htmx(t, "GET", "/settings/chat/"+ch+"/test-page?url="+url.QueryEscape("https://www.example.com/pricing"), "chat-test-result", nil)
		mustContain(t, test.Body, "No chatflow shows on this page")

		// Edit: a change saves over it.
		f := fullFlowForm(h)
		f.Set("name", "Pricing")
		f.Set("consent.mode", "none")
		admin.post(t, "/settings/chat/"+ch+"/flows/"+fid, f, http.StatusSeeOther)
		flows, _ = svc.Chatflows(t.Context(), v.Channel.ID)
		if flows[0].Name != "Pricing" || flows[0].Consent != (chatflow.Consent{Mode: "none"}) {
			t.Fatalf("after edit: %q %+v", flows[0].Name, flows[0].Consent)
		}

		// Off, on, delete.
		admin.post(t, "/settings/chat/"+ch+"/flows/"+fid+"/enabled", url.Values{"enabled": {"off"}}, http.StatusSeeOther)
		if flows, _ = svc.Chatflows(t.Context(), v.Channel.ID); flows[0].Enabled {
			t.Fatal("still enabled")
		}
		res = admin.htmx(t, "POST", "/settings/chat/"+ch+"/flows/"+fid+"/enabled", "settings-main", url.Values{"enabled": {"on"}})
		mustContain(t, res.Body, "Chatflow turned on", `aria-checked="true"`)
		if flows, _ = svc.Chatflows(t.Context(), v.Channel.ID); !flows[0].Enabled {
			t.Fatal("not enabled again")
		}
		res = admin.htmx(t, "POST", "/settings/chat/"+ch+"/flows/"+fid+"/delete", "settings-main", nil)
		mustContain(t, res.Body, "Chatflow deleted", "No chatflows yet")
		if flows, _ = svc.Chatflows(t.Context(), v.Channel.ID); len(flows) != 0 {
			t.Fatalf("%d flows after delete", len(flows))
		}
		admin.post(t, "/settings/chat/"+ch+"/flows/"+fid+"/delete", nil, http.StatusNotFound)
		admin.get(t, "/settings/chat/"+ch+"/flows/"+fid, http.StatusNotFound)
	})
}

func TestChatflowEditorErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		v := h.chatChannel(t, svc)
		ch := itoa(v.Channel.ID)
		admin := h.signIn(t, h.admin)

		const bh = "availability.business_hours"
		f := fullFlowForm(h)
		f.Set("name", " ")
		f.Set("targeting.groups[0].rules[0].operator", "is")
		f.Set("targeting.groups[0].rules[0].value", "pricing")
		f.Set("display.trigger.value", "ten")
		f.Set(bh+".time_zone", "Mars/Olympus")
		f[bh+".days.tue.start"] = []string{"09:00", "08:00"}
		f[bh+".days.tue.end"] = []string{"12:00", "10:00"}
		f.Set(bh+".holidays", "2025-12-24\n24/12")
		f.Set("consent.text", "")
		res := admin.post(t, "/settings/chat/"+ch+"/flows", f, 422)
		body := res.Body
		for field, msg := range map[string]string{
			"name":                         "Fill this in.",
			"targeting.groups[0].rules[0]": "Enter a full address like https://example.com/pricing, or a path like /pricing.",
			"display.trigger.value":        "Enter a whole number.",
			bh + ".time_zone":              "Choose a time zone like Europe/Stockholm.",
			bh + ".days.tue[0]":            "This shift overlaps another one.",
			bh + ".holidays":               "“24/12” is not a date",
			"consent.text":                 "Write the text visitors agree to.",
		} {
			if !strings.Contains(body, msg) {
				t.Errorf("no message %q for %s", msg, field)
			}
		}
		mustContain(t, body, "The chatflow was not saved: fix the 7 fields marked below.",
			`name="display.trigger.value" min="1" max="3600" step="1" inputmode="numeric" value="ten"`, "2025-12-24\n24/12</textarea>",
			`<option value="Mars/Olympus" selected>`, `id="err-name"`, `aria-describedby="err-consent-text"`)
		if flows, _ := svc.Chatflows(t.Context(), v.Channel.ID); len(flows) != 0 {
			t.Fatalf("a refused form stored %d flows", len(flows))
		}

		// A bot flow needs its bot.
		f = fullFlowForm(h)
		f.Set("type", "bot")
		f.Del("bot")
		f.Set("availability.mode", "always")
		res = admin.post(t, "/settings/chat/"+ch+"/flows", f, 422)
		mustContain(t, res.Body, "Choose the bot this chatflow runs.")

		// In Swedish.
		if _, err := h.WS.UpdateUser(t.Context(), h.owner, h.admin.ID, workspacePatchLocale("sv", "Europe/Stockholm")); err != nil {
			t.Fatal(err)
		}
		f = fullFlowForm(h)
		f.Set("consent.text", "")
		res = admin.post(t, "/settings/chat/"+ch+"/flows", f, 422)
		mustContain(t, res.Body, "Skriv texten som besökarna samtycker till.", "Chattflödet sparades inte")
	})
}

// The editor's add and remove buttons work without scripts: the form comes back changed and
// unsaved.
func TestChatflowEditorActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		v := h.chatChannel(t, svc)
		ch := itoa(v.Channel.ID)
		admin := h.signIn(t, h.admin)

		f := fullFlowForm(h)
		f.Set("_action", "add_group:exclusions")
		res := admin.post(t, "/settings/chat/"+ch+"/flows", f, 200)
		mustContain(t, res.Body, `name="targeting.exclusions[1].rules[0].field"`, "Exclusion 2")
		mustNotContain(t, res.Body, "was not saved")

		f.Set("_action", "add_rule:groups:1")
		res = admin.post(t, "/settings/chat/"+ch+"/flows", f, 200)
		mustContain(t, res.Body, `name="targeting.groups[1].rules[1].value"`)

		// Removing a group's last rule removes the group.
		f.Set("_action", "remove_rule:groups:1:0")
		res = admin.post(t, "/settings/chat/"+ch+"/flows", f, 200)
		mustNotContain(t, res.Body, `name="targeting.groups[1]`)
		mustContain(t, res.Body, `name="targeting.groups[0].rules[1].field"`)

		f.Set("_action", "add_shift:wed")
		res = admin.post(t, "/settings/chat/"+ch+"/flows", f, 200)
		if n := strings.Count(res.Body, `name="availability.business_hours.days.wed.start"`); n != 2 {
			t.Fatalf("%d Wednesday rows after adding a shift", n)
		}
		if flows, _ := svc.Chatflows(t.Context(), v.Channel.ID); len(flows) != 0 {
			t.Fatal("an editor action saved the flow")
		}
	})
}

func TestChatflowFromFormIgnoresWhatDoesNotApply(t *testing.T) {
	pg := &Page{Lang: langs["en"]}
	f := url.Values{"name": {"x"}, "type": {"live_chat"}, "bot": {"3:2"}, "priority": {"1"}, "auto_close_minutes": {"0"},
		"display.trigger.kind": {"on_load"}, "display.trigger.value": {"12"},
		"response_time.kind": {"hour"}, "response_time.text": {"soon"},
		"consent.mode": {"none"}, "consent.text": {"kept?"}, "heading.mode": {"custom"}, "heading.user_ids": {"4"},
		"heading.name": {"Team"}, "targeting.groups[0].rules[0].field": {"page_url"},
		"targeting.groups[0].rules[0].operator": {"contains"}, "targeting.groups[0].rules[0].name": {"n"},
		"targeting.groups[0].rules[0].value": {"/a"}}
	ff := chatflowFromForm(pg, f, 9)
	fl := ff.flow
	if len(ff.errors) != 0 {
		t.Fatalf("errors %v", ff.errors)
	}
	if fl.Bot != nil || fl.Display.Trigger.Value != 0 || fl.ResponseTime.Text != "" || fl.Consent.Text != "" ||
		fl.Heading == nil || len(fl.Heading.UserIDs) != 0 || fl.Heading.Name != "Team" || fl.Targeting.Groups[0].Rules[0].Name != "" ||
		fl.Availability.BusinessHours != nil || fl.InboxID != 9 {
		t.Fatalf("flow %+v", fl)
	}
	if err := fl.Validate(); err != nil {
		t.Fatal(err)
	}
}

// FuzzChatflowForm feeds the editor's form parser and actions arbitrary forms: they never panic,
// and a flow they build either validates or says why by field.
func FuzzChatflowForm(f *testing.F) {
	f.Add("name=a&targeting.groups[0].rules[0].field=page_url&targeting.groups[0].rules[0].value=/x", "add_rule:groups:0")
	f.Add("targeting.exclusions[999].rules[999].operator=is&priority=-1&type=bot&bot=1:x", "remove_rule:exclusions:999:999")
	f.Add("availability.mode=business_hours&availability.business_hours.days.mon.start=9&availability.business_hours.days.mon.end=", "add_shift:mon")
	f.Add("heading.mode=contact_owner&heading.user_ids=-3&hand_off.user_ids=x", "add_group:")
	pg := &Page{Lang: langs["en"]}
	f.Fuzz(func(t *testing.T, form, action string) {
		vals, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		ff := chatflowFromForm(pg, vals, 1)
		applyEditorAction(ff.flow, action)
		if err := ff.flow.Validate(); err != nil {
			if _, ok := err.(interface{ Error() string }); !ok {
				t.Fatal(err)
			}
		}
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, r := range s {
		n = n*10 + int64(r-'0')
	}
	return n
}

// A bot flow picks its bot and version from the chat service's bots.
func TestChatflowEditorBotPicker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		v := h.chatChannel(t, svc)
		ch := itoa(v.Channel.ID)
		admin := h.signIn(t, h.admin)
		mustContain(t, admin.get(t, "/settings/chat/"+ch+"/flows/new", 200), "There are no bots yet.")

		name := "Front desk"
		b, err := svc.CreateBot(t.Context(), h.admin, chat.BotInput{Name: &name,
			Definition: json.RawMessage(`{"schema":1,"version":1,"steps":[{"id":"a","type":"end","end":{}}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		choice := itoa(b.ID) + ":1"
		mustContain(t, admin.get(t, "/settings/chat/"+ch+"/flows/new", 200), `<option value="`+choice+`" >Front desk · version 1 (latest)</option>`)

		f := fullFlowForm(h)
		f.Set("type", "bot")
		f.Set("bot", choice)
		f.Set("availability.mode", "always")
		admin.post(t, "/settings/chat/"+ch+"/flows", f, http.StatusSeeOther)
		flows, _ := svc.Chatflows(t.Context(), v.Channel.ID)
		if len(flows) != 1 || flows[0].Type != "bot" || flows[0].Bot == nil || *flows[0].Bot != (chatflow.BotRef{ID: b.ID, Version: 1}) {
			t.Fatalf("bot flow %+v", flows)
		}
		mustContain(t, admin.get(t, "/settings/chat/"+ch+"/flows/"+itoa(flows[0].ID), 200), `<option value="`+choice+`" selected>`)
	})
}

// The chat routes refuse ids that are not ids and forms that are not forms, with a chat service
// present: never a crash or an internal error.
func TestChatRoutesMalformedInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		v := h.chatChannel(t, svc)
		admin := h.signIn(t, h.admin)
		junk := url.Values{"inbox_id": {"1e9"}, "name": {strings.Repeat("n", 500)}, "allowed_origins": {"javascript:alert(1)"},
			"accent_color": {"red"}, "position": {"top"}, "enabled": {"maybe"}, "type": {"robot"}, "bot": {"x:y"},
			"priority": {"99999999999999999999"}, "_action": {"remove_rule:groups:-1:9"},
			"targeting.groups[999].rules[0].field": {"\x00"}, "availability.business_hours.days.mon.start": {"25:99"},
			"availability.mode": {"business_hours"}, "heading.mode": {"custom"}, "hand_off.user_ids": {"-1", "x"}}
		for _, rt := range h.UI.chatSettingsRoutes() {
			for _, id := range []string{itoa(v.Channel.ID), "x", "0", "99999999999999999999", "987654321"} {
				method, path := routePath(rt.pattern, id)
				for _, hdr := range []http.Header{nil, {"Hx-Request": {"true"}, "Hx-Target": {"settings-main"}}} {
					res := admin.do(t, method, path, junk, hdr)
					if res.StatusCode >= 500 {
						t.Errorf("%s %s: %d\n%s", method, path, res.StatusCode, res.Body)
					}
				}
			}
		}
	})
}
