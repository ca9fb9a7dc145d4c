package chatflow

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
)

func TestParseDefaults(t *testing.T) {
	f, err := Parse([]byte(`{"name":"  Welcome  ","inbox_id":3}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Flow{
		Name: "Welcome", Type: TypeLiveChat, Language: "en", InboxID: 3,
		Targeting:        Targeting{Groups: []Group{}, Exclusions: []Group{}},
		Display:          Display{Behaviour: BehaviourLauncherOnly, Trigger: Trigger{Kind: TriggerOnLoad}},
		Availability:     Availability{Mode: ModeTeamStatus},
		ResponseTime:     ResponseTime{Kind: ResponseHidden},
		AutoCloseMinutes: 30,
		Consent:          Consent{Mode: ConsentNone},
		HandOff: HandOff{AssignTo: AssignUsersAndTeams, UserIDs: []int64{}, TeamIDs: []int64{},
			OnlyAvailable: true, Strategy: StrategyRoundRobin},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
	// Stored as JSON, the defaults are spelled out and lists are [] rather than null.
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"id":0,"name":"Welcome","type":"live_chat","enabled":false,"language":"en","inbox_id":3,"priority":0,` +
		`"targeting":{"groups":[],"exclusions":[]},` +
		`"display":{"welcome_message":"","behaviour":"launcher_only","trigger":{"kind":"on_load"},"hide_on_mobile":false},` +
		`"availability":{"mode":"team_status"},"response_time":{"kind":"hidden"},` +
		`"away":{"message":"","show_back_at":false,"collect_email":false,"hide_launcher":false},` +
		`"auto_close_minutes":30,"consent":{"mode":"none"},` +
		`"hand_off":{"assign_to":"users_and_teams","user_ids":[],"team_ids":[],"only_available":true,"strategy":"round_robin"}}`
	if string(data) != wantJSON {
		t.Errorf("JSON\n got %s\nwant %s", data, wantJSON)
	}

	// Explicit values win over the defaults, 0 included.
	f, err = Parse([]byte(`{"name":"x","inbox_id":1,"auto_close_minutes":0,"hand_off":{"only_available":false,"user_ids":[5,2,5]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.AutoCloseMinutes != 0 || f.HandOff.OnlyAvailable || f.HandOff.Strategy != StrategyRoundRobin ||
		!slices.Equal(f.HandOff.UserIDs, []int64{2, 5}) {
		t.Errorf("explicit values: %+v", f)
	}

	// A bot without availability answers always.
	f, err = Parse([]byte(`{"name":"Qualify","type":"bot","inbox_id":1,"bot":{"id":4,"version":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Availability.Mode != ModeAlways {
		t.Errorf("bot availability: %q", f.Availability.Mode)
	}
}

// full is a valid flow using every part of the model.
const full = `{
	"id": 7, "name": "Pricing", "type": "live_chat", "enabled": true, "language": "sv", "inbox_id": 2, "priority": 10,
	"targeting": {
		"groups": [
			{"rules": [{"field": "page_url", "operator": "starts_with", "value": "/pricing/"},
			           {"field": "visitor", "operator": "unknown"}]},
			{"rules": [{"field": "query_param", "operator": "equals", "name": "utm_campaign", "value": "spring"}]}
		],
		"exclusions": [{"rules": [{"field": "referrer", "operator": "contains", "value": "partner.test"}]}]
	},
	"display": {"welcome_message": "Hej! Frågor om priser?", "behaviour": "prompt",
	            "trigger": {"kind": "after_seconds", "value": 15}, "hide_on_mobile": true},
	"availability": {"mode": "business_hours", "business_hours": {"time_zone": "Europe/Stockholm",
		"days": {"mon": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}], "fri": [{"start": "22:00", "end": "02:00"}]},
		"holidays": ["2026-12-25", "2026-12-24", "2026-12-25"]}},
	"response_time": {"kind": "custom", "text": "inom en timme"},
	"away": {"message": "Vi är borta.", "show_back_at": true, "collect_email": true, "hide_launcher": false},
	"auto_close_minutes": 45,
	"consent": {"mode": "explicit", "text": "Jag godkänner.", "privacy_url": "https://example.com/privacy"},
	"hand_off": {"assign_to": "users_and_teams", "user_ids": [3, 1], "team_ids": [2], "only_available": false, "strategy": "balanced"},
	"heading": {"mode": "contact_owner", "user_ids": [4, 4, 1], "team_ids": [2]}
}`

func TestParseFull(t *testing.T) {
	f, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	bh := f.Availability.BusinessHours
	if got := bh.Days["mon"]; !reflect.DeepEqual(got, []Interval{iv("08:00", "12:00"), iv("13:00", "17:00")}) {
		t.Errorf("monday not sorted: %v", got)
	}
	if len(bh.Days) != 7 || bh.Days["sun"] == nil {
		t.Errorf("every day must be present: %v", bh.Days)
	}
	if !slices.Equal(bh.Holidays, []string{"2026-12-24", "2026-12-25"}) {
		t.Errorf("holidays: %v", bh.Holidays)
	}
	if h := f.Heading; h == nil || h.Mode != HeadingContactOwner || !slices.Equal(h.UserIDs, []int64{1, 4}) || !slices.Equal(h.TeamIDs, []int64{2}) {
		t.Errorf("heading: %+v", f.Heading)
	}
	// Validated flows survive a round trip through JSON unchanged, and validating again changes nothing.
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip\n got %+v\nwant %+v", g, f)
	}
	before, _ := json.Marshal(g)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(g)
	if string(before) != string(after) {
		t.Errorf("validating twice changed the flow:\n%s\n%s", before, after)
	}
}

func TestValidateProblems(t *testing.T) {
	// Each case edits the valid full flow and expects the first problem's code and every field listed.
	tests := []struct {
		name   string
		edit   func(f *Flow)
		code   string
		fields []string
	}{
		{"name", func(f *Flow) { f.Name = "  " }, CodeInvalidChatflow, []string{"name"}},
		{"name too long", func(f *Flow) { f.Name = strings.Repeat("å", maxName+1) }, CodeInvalidChatflow, []string{"name"}},
		{"name control", func(f *Flow) { f.Name = "a\x00b" }, CodeInvalidChatflow, []string{"name"}},
		{"name invalid utf-8", func(f *Flow) { f.Name = "a\xffb" }, CodeInvalidChatflow, []string{"name"}},
		{"negative id", func(f *Flow) { f.ID = -1 }, CodeInvalidChatflow, []string{"id"}},
		{"type", func(f *Flow) { f.Type = "email" }, CodeInvalidChatflow, []string{"type"}},
		{"language", func(f *Flow) { f.Language = "de" }, CodeInvalidChatflow, []string{"language"}},
		{"inbox", func(f *Flow) { f.InboxID = 0 }, CodeInvalidChatflow, []string{"inbox_id"}},
		{"priority", func(f *Flow) { f.Priority = -1 }, CodeInvalidChatflow, []string{"priority"}},
		{"several at once", func(f *Flow) { f.Name, f.Language, f.Priority = "", "xx", -5 }, CodeInvalidChatflow,
			[]string{"name", "language", "priority"}},

		{"empty group", func(f *Flow) { f.Targeting.Groups[1].Rules = nil }, CodeInvalidTargetingRule, []string{"targeting.groups[1].rules"}},
		{"empty exclusion", func(f *Flow) { f.Targeting.Exclusions = []Group{{}} }, CodeInvalidTargetingRule, []string{"targeting.exclusions[0].rules"}},
		{"too many groups", func(f *Flow) { f.Targeting.Groups = make([]Group, maxGroups+1) }, CodeInvalidTargetingRule, []string{"targeting.groups"}},
		{"rule field", func(f *Flow) { f.Targeting.Groups[0].Rules[1].Field = "cookie" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[1].field"}},
		{"rule operator", func(f *Flow) { f.Targeting.Groups[0].Rules[0].Operator = OpExists }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[0].operator"}},
		{"visitor value", func(f *Flow) { f.Targeting.Groups[0].Rules[1].Value = "yes" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[1].value"}},
		{"url value empty", func(f *Flow) { f.Targeting.Groups[0].Rules[0].Value = " " }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[0].value"}},
		{"url value fragment", func(f *Flow) { f.Targeting.Groups[0].Rules[0].Value = "/a#b" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[0].value"}},
		{"url is bare", func(f *Flow) { f.Targeting.Groups[0].Rules[0] = rule(FieldPageURL, OpIs, "", "example.com/pricing") },
			CodeInvalidTargetingRule, []string{"targeting.groups[0].rules[0].value"}},
		{"url is scheme-relative", func(f *Flow) { f.Targeting.Groups[0].Rules[0] = rule(FieldPageURL, OpIsNot, "", "//example.com/") },
			CodeInvalidTargetingRule, []string{"targeting.groups[0].rules[0].value"}},
		{"url is ftp", func(f *Flow) { f.Targeting.Groups[0].Rules[0] = rule(FieldPageURL, OpIs, "", "ftp://example.com/") },
			CodeInvalidTargetingRule, []string{"targeting.groups[0].rules[0].value"}},
		{"url name", func(f *Flow) { f.Targeting.Groups[0].Rules[0].Name = "x" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[0].rules[0].name"}},
		{"param without name", func(f *Flow) { f.Targeting.Groups[1].Rules[0].Name = "" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[1].rules[0].name"}},
		{"param without value", func(f *Flow) { f.Targeting.Groups[1].Rules[0].Value = "" }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[1].rules[0].value"}},
		{"param exists with value", func(f *Flow) { f.Targeting.Groups[1].Rules[0].Operator = OpExists }, CodeInvalidTargetingRule,
			[]string{"targeting.groups[1].rules[0].value"}},
		{"exclusion rule", func(f *Flow) { f.Targeting.Exclusions[0].Rules[0].Operator = "" }, CodeInvalidTargetingRule,
			[]string{"targeting.exclusions[0].rules[0].operator"}},

		{"behaviour", func(f *Flow) { f.Display.Behaviour = "popup" }, CodeInvalidChatflow, []string{"display.behaviour"}},
		{"prompt without message", func(f *Flow) { f.Display.WelcomeMessage = "" }, CodeInvalidChatflow, []string{"display.welcome_message"}},
		{"message too long", func(f *Flow) { f.Display.WelcomeMessage = strings.Repeat("x", maxMessage+1) }, CodeInvalidChatflow,
			[]string{"display.welcome_message"}},
		{"trigger", func(f *Flow) { f.Display.Trigger.Kind = "on_click" }, CodeInvalidChatflow, []string{"display.trigger.kind"}},
		{"seconds zero", func(f *Flow) { f.Display.Trigger.Value = 0 }, CodeInvalidChatflow, []string{"display.trigger.value"}},
		{"seconds too many", func(f *Flow) { f.Display.Trigger.Value = 3601 }, CodeInvalidChatflow, []string{"display.trigger.value"}},
		{"percent", func(f *Flow) { f.Display.Trigger = Trigger{Kind: TriggerAfterScrollPercent, Value: 101} }, CodeInvalidChatflow,
			[]string{"display.trigger.value"}},
		{"on load with value", func(f *Flow) { f.Display.Trigger = Trigger{Kind: TriggerOnLoad, Value: 3} }, CodeInvalidChatflow,
			[]string{"display.trigger.value"}},

		{"mode", func(f *Flow) { f.Availability.Mode = "sometimes" }, CodeInvalidChatflow, []string{"availability.mode"}},
		{"hours missing", func(f *Flow) { f.Availability.BusinessHours = nil }, CodeInvalidBusinessHours, []string{"availability.business_hours"}},
		{"zone", func(f *Flow) { f.Availability.BusinessHours.TimeZone = "Mars/Olympus" }, CodeInvalidTimeZone,
			[]string{"availability.business_hours.time_zone"}},
		{"zone local", func(f *Flow) { f.Availability.BusinessHours.TimeZone = "Local" }, CodeInvalidTimeZone,
			[]string{"availability.business_hours.time_zone"}},
		{"day", func(f *Flow) { f.Availability.BusinessHours.Days["monday"] = []Interval{iv("09:00", "10:00")} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days"}},
		{"start", func(f *Flow) { f.Availability.BusinessHours.Days["tue"] = []Interval{iv("24:00", "10:00")} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days.tue[0].start"}},
		{"end", func(f *Flow) { f.Availability.BusinessHours.Days["tue"] = []Interval{iv("09:00", "9:30")} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days.tue[0].end"}},
		{"empty interval", func(f *Flow) { f.Availability.BusinessHours.Days["tue"] = []Interval{iv("09:00", "09:00")} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days.tue[0]"}},
		{"overlap", func(f *Flow) { f.Availability.BusinessHours.Days["mon"][1].Start = "11:00" }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days.mon[1]"}},
		{"overlap past midnight", func(f *Flow) { f.Availability.BusinessHours.Days["sat"] = []Interval{iv("01:00", "05:00")} },
			CodeInvalidBusinessHours, []string{"availability.business_hours.days.sat[0]"}},
		{"overlap past sunday", func(f *Flow) {
			f.Availability.BusinessHours.Days["sun"] = []Interval{iv("20:00", "09:00")}
		}, CodeInvalidBusinessHours, []string{"availability.business_hours.days.mon[0]"}},
		{"no hours", func(f *Flow) { f.Availability.BusinessHours.Days = nil }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.days"}},
		{"too many intervals", func(f *Flow) {
			f.Availability.BusinessHours.Days["wed"] = make([]Interval, maxIntervals+1)
		}, CodeInvalidBusinessHours, []string{"availability.business_hours.days.wed"}},
		{"holiday", func(f *Flow) { f.Availability.BusinessHours.Holidays = []string{"2026-12-24", "24/12/2026"} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.holidays[1]"}},
		{"holiday not a date", func(f *Flow) { f.Availability.BusinessHours.Holidays = []string{"2026-02-30"} }, CodeInvalidBusinessHours,
			[]string{"availability.business_hours.holidays[0]"}},
		{"unused hours still checked", func(f *Flow) {
			f.Availability.Mode = ModeAlways
			f.Availability.BusinessHours.TimeZone = ""
		}, CodeInvalidTimeZone, []string{"availability.business_hours.time_zone"}},

		{"response kind", func(f *Flow) { f.ResponseTime.Kind = "week" }, CodeInvalidChatflow, []string{"response_time.kind"}},
		{"custom response empty", func(f *Flow) { f.ResponseTime.Text = "" }, CodeInvalidChatflow, []string{"response_time.text"}},
		{"text of a fixed response", func(f *Flow) { f.ResponseTime.Kind = ResponseDay }, CodeInvalidChatflow, []string{"response_time.text"}},
		{"away message", func(f *Flow) { f.Away.Message = strings.Repeat("x", maxMessage+1) }, CodeInvalidChatflow, []string{"away.message"}},
		{"auto close negative", func(f *Flow) { f.AutoCloseMinutes = -1 }, CodeInvalidChatflow, []string{"auto_close_minutes"}},
		{"auto close too long", func(f *Flow) { f.AutoCloseMinutes = maxAutoClose + 1 }, CodeInvalidChatflow, []string{"auto_close_minutes"}},
		{"consent mode", func(f *Flow) { f.Consent.Mode = "opt_in" }, CodeInvalidChatflow, []string{"consent.mode"}},
		{"consent text", func(f *Flow) { f.Consent.Text = "" }, CodeInvalidChatflow, []string{"consent.text"}},
		{"privacy url", func(f *Flow) { f.Consent.PrivacyURL = "javascript:alert(1)" }, CodeInvalidChatflow, []string{"consent.privacy_url"}},
		{"bot on live chat", func(f *Flow) { f.Bot = &BotRef{ID: 1, Version: 1} }, CodeInvalidChatflow, []string{"bot"}},
		{"bot missing", func(f *Flow) { f.Type, f.Availability.Mode = TypeBot, ModeAlways }, CodeInvalidChatflow, []string{"bot"}},
		{"bot fields", func(f *Flow) { f.Type, f.Availability.Mode, f.Bot = TypeBot, ModeAlways, &BotRef{} }, CodeInvalidChatflow,
			[]string{"bot.id", "bot.version"}},
		{"bot on team status", func(f *Flow) {
			f.Type, f.Availability.Mode, f.Bot = TypeBot, ModeTeamStatus, &BotRef{ID: 1, Version: 1}
		},
			CodeInvalidChatflow, []string{"availability.mode"}},
		{"assign to", func(f *Flow) { f.HandOff.AssignTo = "everyone" }, CodeInvalidChatflow, []string{"hand_off.assign_to"}},
		{"strategy", func(f *Flow) { f.HandOff.Strategy = "random" }, CodeInvalidChatflow, []string{"hand_off.strategy"}},
		{"user id", func(f *Flow) { f.HandOff.UserIDs = []int64{4, 0} }, CodeInvalidChatflow, []string{"hand_off.user_ids[1]"}},
		{"team id", func(f *Flow) { f.HandOff.TeamIDs = []int64{-2} }, CodeInvalidChatflow, []string{"hand_off.team_ids[0]"}},
		{"heading mode", func(f *Flow) { f.Heading.Mode = "everyone" }, CodeInvalidChatflow, []string{"heading.mode"}},
		{"heading user id", func(f *Flow) { f.Heading.UserIDs = []int64{0} }, CodeInvalidChatflow, []string{"heading.user_ids[0]"}},
		{"custom heading without a name", func(f *Flow) { f.Heading = &Heading{Mode: HeadingCustom, AvatarURL: "https://x.test/a.png"} },
			CodeInvalidChatflow, []string{"heading.name"}},
		{"custom heading with users", func(f *Flow) { f.Heading.Mode, f.Heading.Name = HeadingCustom, "Acme" },
			CodeInvalidChatflow, []string{"heading.user_ids"}},
		{"heading name of users", func(f *Flow) { f.Heading.Name = "Acme" }, CodeInvalidChatflow, []string{"heading.name"}},
		{"heading avatar", func(f *Flow) { f.Heading = &Heading{Mode: HeadingCustom, Name: "Acme", AvatarURL: "javascript:x"} },
			CodeInvalidChatflow, []string{"heading.avatar_url"}},
		{"first problem's code", func(f *Flow) {
			f.Targeting.Groups[0].Rules[0].Value = ""
			f.Availability.BusinessHours.TimeZone = "x"
		}, CodeInvalidTargetingRule, []string{"targeting.groups[0].rules[0].value", "availability.business_hours.time_zone"}},
	}
	for _, tt := range tests {
		f, err := Parse([]byte(full))
		if err != nil {
			t.Fatal(err)
		}
		tt.edit(f)
		err = f.Validate()
		p, ok := problem.As(err)
		if !ok {
			t.Errorf("%s: got %v, want a problem", tt.name, err)
			continue
		}
		var fields []string
		for k := range p.Fields {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		want := slices.Sorted(slices.Values(tt.fields))
		if p.Kind != problem.Invalid || p.Code != tt.code || !slices.Equal(fields, want) {
			t.Errorf("%s: got %s %v (%s), want %s %v", tt.name, p.Code, fields, p.Detail, tt.code, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, field string
	}{
		{``, "chatflow"},
		{`[]`, "chatflow"},
		{`{"name":"x","inbox_id":1}{}`, "chatflow"},
		{`{"name":"x","inbox_id":1} x`, "chatflow"},
		{`{"name":"x","inbox_id":1,"colour":"red"}`, "colour"},
		{`{"name":"x","inbox_id":"1"}`, "inbox_id"},
		{`{"name":"x","inbox_id":1,"display":{"trigger":{"value":"10"}}}`, "display.trigger.value"},
		{`{"name":"x","inbox_id":1,"targeting":{"groups":{}}}`, "targeting.groups"},
		{`{"name":"x","inbox_id":1,"targeting":{"groups":[{"rules":[{"field":"page_url","operator":"is","value":"pricing"}]}]}}`,
			"targeting.groups[0].rules[0].value"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		p, ok := problem.As(err)
		if !ok || p.Kind != problem.Invalid || p.Fields[tt.field] == "" {
			t.Errorf("Parse(%s) = %v, want a problem naming %s", tt.in, err, tt.field)
		}
	}
}

// The hand-off speaks routing's language without importing it; this keeps the two in step.
func TestHandOffMatchesRouting(t *testing.T) {
	if !slices.Equal(AssignTargets, routing.AssignTargets) || !slices.Equal(Strategies, routing.Strategies) {
		t.Errorf("hand-off values %v %v differ from routing's %v %v", AssignTargets, Strategies, routing.AssignTargets, routing.Strategies)
	}
}

func TestHeading(t *testing.T) {
	// No heading is the widget's own title; an empty one is users and teams (of nobody yet).
	f, err := Parse([]byte(`{"name":"x","inbox_id":1}`))
	if err != nil || f.Heading != nil {
		t.Fatalf("no heading: %+v, %v", f, err)
	}
	f, err = Parse([]byte(`{"name":"x","inbox_id":1,"heading":{}}`))
	if err != nil || f.Heading == nil || f.Heading.Mode != HeadingUsersAndTeams || f.Heading.UserIDs == nil {
		t.Fatalf("empty heading: %+v, %v", f.Heading, err)
	}
	f, err = Parse([]byte(`{"name":"x","inbox_id":1,"heading":{"mode":"custom","name":" Acme support ","avatar_url":"https://acme.test/a.png"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if h := f.Heading; h.Name != "Acme support" || h.AvatarURL != "https://acme.test/a.png" {
		t.Errorf("custom heading %+v", h)
	}
	data, _ := json.Marshal(f.Heading)
	if want := `{"mode":"custom","user_ids":[],"team_ids":[],"name":"Acme support","avatar_url":"https://acme.test/a.png"}`; string(data) != want {
		t.Errorf("heading JSON %s, want %s", data, want)
	}
}
