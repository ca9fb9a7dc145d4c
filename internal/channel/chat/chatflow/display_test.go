package chatflow

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	back := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	open := Status{State: StateOpen, Reason: ReasonTeamAvailable}
	away := Status{State: StateAway, Reason: ReasonOutsideBusinessHours, BackAt: &back}
	base := func(edit func(f *Flow)) *Flow {
		f := New()
		f.ID, f.Name, f.InboxID, f.Language, f.Enabled = 9, "Flow", 1, "da", true
		f.Display.WelcomeMessage = "Hej!"
		edit(f)
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		return f
	}
	after10 := Trigger{Kind: TriggerAfterSeconds, Value: 10}
	exit := Trigger{Kind: TriggerExitIntent}
	tests := []struct {
		name  string
		flow  *Flow
		facts Facts
		want  Decision
	}{
		{"launcher only", base(func(f *Flow) {}), Facts{Status: open},
			Decision{Launcher: true, Action: ActionNone}},
		{"prompt after 10 s", base(func(f *Flow) { f.Display.Behaviour, f.Display.Trigger = BehaviourPrompt, after10 }), Facts{Status: open},
			Decision{Launcher: true, Action: ActionPrompt, Trigger: &after10, Prompt: "Hej!"}},
		{"open on exit intent", base(func(f *Flow) { f.Display.Behaviour, f.Display.Trigger = BehaviourOpen, exit }), Facts{Status: open},
			Decision{Launcher: true, Action: ActionOpen, Trigger: &exit}},
		{"exit intent never fires on a phone", base(func(f *Flow) { f.Display.Behaviour, f.Display.Trigger = BehaviourPrompt, exit }),
			Facts{Mobile: true, Status: open}, Decision{Launcher: true, Action: ActionNone}},
		{"open is a prompt on a phone", base(func(f *Flow) { f.Display.Behaviour, f.Display.Trigger = BehaviourOpen, after10 }),
			Facts{Mobile: true, Status: open}, Decision{Launcher: true, Action: ActionPrompt, Trigger: &after10, Prompt: "Hej!"}},
		{"open without message on a phone", base(func(f *Flow) { f.Display.Behaviour, f.Display.WelcomeMessage = BehaviourOpen, "" }),
			Facts{Mobile: true, Status: open}, Decision{Launcher: true, Action: ActionNone, WelcomeMessage: "-"}},
		{"hidden on mobile", base(func(f *Flow) { f.Display.HideOnMobile, f.Display.Behaviour = true, BehaviourOpen }),
			Facts{Mobile: true, Status: open}, Decision{Action: ActionNone, WelcomeMessage: "-"}},
		{"hide on mobile, on a desktop", base(func(f *Flow) { f.Display.HideOnMobile = true }), Facts{Status: open},
			Decision{Launcher: true, Action: ActionNone}},
		{"response time while open", base(func(f *Flow) { f.ResponseTime = ResponseTime{Kind: ResponseFewHours} }), Facts{Status: open},
			Decision{Launcher: true, Action: ActionNone, ResponseTime: &ResponseTime{Kind: ResponseFewHours}}},
		{"consent", base(func(f *Flow) { f.Consent = Consent{Mode: ConsentImplicit, Text: "OK?"} }), Facts{Status: open},
			Decision{Launcher: true, Action: ActionNone, Consent: &Consent{Mode: ConsentImplicit, Text: "OK?"}}},

		{"away: nothing pops", base(func(f *Flow) {
			f.Display.Behaviour = BehaviourOpen
			f.ResponseTime = ResponseTime{Kind: ResponseDay}
			f.Away = Away{Message: "Borte", ShowBackAt: true, CollectEmail: true}
		}), Facts{Status: away},
			Decision{Launcher: true, Action: ActionNone, Away: true, AwayMessage: "Borte", BackAt: &back, CollectEmail: true}},
		{"away without back-at", base(func(f *Flow) { f.Away.ShowBackAt = false }), Facts{Status: away},
			Decision{Launcher: true, Action: ActionNone, Away: true}},
		{"away under team status has no back-at", base(func(f *Flow) { f.Away.ShowBackAt = true }),
			Facts{Status: Status{State: StateAway, Reason: ReasonTeamAway}}, Decision{Launcher: true, Action: ActionNone, Away: true}},
		{"away hides the launcher", base(func(f *Flow) { f.Away.HideLauncher = true }), Facts{Status: away},
			Decision{Action: ActionNone, WelcomeMessage: "-"}},
		{"away keeps consent", base(func(f *Flow) { f.Consent = Consent{Mode: ConsentExplicit, Text: "OK?"}; f.Away.CollectEmail = true }),
			Facts{Status: away}, Decision{Launcher: true, Action: ActionNone, Away: true, CollectEmail: true,
				Consent: &Consent{Mode: ConsentExplicit, Text: "OK?"}}},
		{"bot outside its hours is hidden", base(func(f *Flow) {
			f.Type, f.Bot, f.Availability.Mode = TypeBot, &BotRef{ID: 1, Version: 1}, ModeAlways
		}), Facts{Status: away}, Decision{Action: ActionNone, WelcomeMessage: "-"}},
		{"bot", base(func(f *Flow) {
			f.Type, f.Bot, f.Availability.Mode, f.Display.Behaviour = TypeBot, &BotRef{ID: 1, Version: 1}, ModeAlways, BehaviourPrompt
		}), Facts{Status: Status{State: StateOpen, Reason: ReasonAlways}},
			Decision{Launcher: true, Action: ActionPrompt, Trigger: &Trigger{Kind: TriggerOnLoad}, Prompt: "Hej!"}},
	}
	for _, tt := range tests {
		tt.want.FlowID, tt.want.Language = 9, "da"
		switch tt.want.WelcomeMessage {
		case "":
			tt.want.WelcomeMessage = "Hej!"
		case "-":
			tt.want.WelcomeMessage = ""
		}
		if got := Decide(tt.flow, tt.facts); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// The decision is the widget endpoint's JSON: its shape is a contract with the widget script.
func TestDecisionJSON(t *testing.T) {
	f := New()
	f.ID, f.Name, f.InboxID, f.Language = 3, "x", 1, "sv"
	f.Display = Display{WelcomeMessage: "Hej", Behaviour: BehaviourPrompt, Trigger: Trigger{Kind: TriggerAfterScrollPercent, Value: 50}}
	f.ResponseTime = ResponseTime{Kind: ResponseFewMinutes}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(Decide(f, Facts{Status: Status{State: StateOpen}}))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"flow_id":3,"language":"sv","launcher":true,"action":"prompt","trigger":{"kind":"after_scroll_percent","value":50},` +
		`"prompt":"Hej","welcome_message":"Hej","away":false,"collect_email":false,"response_time":{"kind":"few_minutes"}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	back := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	f.Away = Away{ShowBackAt: true}
	data, _ = json.Marshal(Decide(f, Facts{Status: Status{State: StateAway, BackAt: &back}}))
	const wantAway = `{"flow_id":3,"language":"sv","launcher":true,"action":"none","welcome_message":"Hej","away":true,` +
		`"back_at":"2026-03-30T07:00:00Z","collect_email":false}`
	if string(data) != wantAway {
		t.Errorf("got  %s\nwant %s", data, wantAway)
	}
}
