package bot

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/problem"
)

// qualifyJSON is the sales qualifying bot the engine tests walk through: greet, ask for an email
// (one retry, then give up politely), ask the team size, hand off to sales when the team is
// available and the lead is not small, otherwise collect the topic, file a ticket and end.
const qualifyJSON = `{
  "schema": 1,
  "version": 3,
  "steps": [
    {"id": "hello", "type": "send_message", "next": "ask_email",
     "send_message": {"text": "Hi {{contact.first_name | there}}! I can put you in touch with sales."}},
    {"id": "ask_email", "type": "ask_question", "next": "ask_size",
     "ask_question": {"kind": "email", "prompt": "What is your work email?", "max_retries": 1,
                      "fallback": "no_email", "save_to": {"property": "email"}}},
    {"id": "ask_size", "type": "ask_question", "next": "route",
     "ask_question": {"kind": "choice", "prompt": "How big is your team?",
                      "choices": [{"label": "1-10", "value": "small"}, {"label": "11-100", "value": "medium"},
                                  {"label": "More than 100", "value": "large"}],
                      "save_to": {"variable": "size"}}},
    {"id": "route", "type": "branch", "next": "collect",
     "branch": {"cases": [{"conditions": [
         {"source": "team_availability", "team_id": 7, "operator": "equals", "value": "true"},
         {"source": "answer", "name": "ask_size", "operator": "not_equals", "value": "small"}],
       "next": "to_sales"}]}},
    {"id": "to_sales", "type": "handoff", "handoff": {"team_ids": [7]}},
    {"id": "collect", "type": "ask_question", "next": "ticket",
     "ask_question": {"kind": "text", "prompt": "Nobody is free right now. What would you like to talk about?",
                      "save_to": {"variable": "topic"}}},
    {"id": "ticket", "type": "submit_ticket", "next": "bye",
     "submit_ticket": {"subject": "Sales lead {{contact.email}}", "description": "Team size {{variable.size}}: {{variable.topic}}",
                       "priority": "high"}},
    {"id": "bye", "type": "end", "end": {"message": "Thanks! We will email you at {{contact.email}}."}},
    {"id": "no_email", "type": "end", "end": {"message": "No problem, come back any time."}}
  ]
}`

func mustDecode(t testing.TB, s string) *Definition {
	t.Helper()
	d, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return d
}

func TestDecodeRoundTrip(t *testing.T) {
	d := mustDecode(t, qualifyJSON)
	if d.Version != 3 || len(d.Steps) != 9 || d.startID() != "hello" {
		t.Fatalf("decoded %+v", d)
	}
	if w := d.Warnings(); len(w) != 0 {
		t.Fatalf("warnings on a connected bot: %v", w)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back := mustDecode(t, string(b))
	if !reflect.DeepEqual(d, back) {
		t.Fatalf("round trip changed the definition:\n%s", b)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in, detail string }{
		{"not JSON", `{"schema":1,`, "not valid JSON"},
		{"unknown field", `{"schema":1,"version":1,"steps":[],"colour":"red"}`, "unknown field"},
		{"trailing data", `{"schema":1,"version":1,"steps":[{"id":"a","type":"end","end":{}}]} {}`, "after its JSON"},
		{"too large", `{"schema":1,"steps":[` + strings.Repeat(" ", MaxDefinitionBytes) + `]}`, "larger than"},
		{"invalid", `{"schema":2,"version":1,"steps":[{"id":"a","type":"end","end":{}}]}`, "schema: must be 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			p, ok := problem.As(err)
			if !ok || p.Code != "invalid_bot" || p.Kind != problem.Invalid || !strings.Contains(p.Detail, tt.detail) {
				t.Fatalf("got %v, want invalid_bot mentioning %q", err, tt.detail)
			}
		})
	}
}

// steps builds a definition around a list of steps, for validation cases.
func steps(s ...Action) *Definition { return &Definition{Schema: Schema, Version: 1, Steps: s} }

func end(id string) Action { return Action{ID: id, Type: ActEnd, End: &Ending{}} }

func say(id, next string) Action {
	return Action{ID: id, Type: ActSendMessage, Next: next, SendMessage: &Message{Text: "hi"}}
}

func question(id, next string, q Question) Action {
	if q.Prompt == "" {
		q.Prompt = "?"
	}
	if q.Kind == "" {
		q.Kind = TextAnswer
	}
	return Action{ID: id, Type: ActAskQuestion, Next: next, AskQuestion: &q}
}

func branch(id, next string, cases ...Case) Action {
	return Action{ID: id, Type: ActBranch, Next: next, Branch: &Branch{Cases: cases}}
}

func TestValidate(t *testing.T) {
	cond := func(c Condition) Action {
		return branch("b", "e", Case{Conditions: []Condition{c}, Next: "e"})
	}
	tests := []struct {
		name  string
		def   *Definition
		field string // "" when valid
		msg   string
	}{
		{"minimal", steps(end("e")), "", ""},
		{"schema", &Definition{Schema: 0, Version: 1, Steps: []Action{end("e")}}, "schema", "must be 1"},
		{"version", &Definition{Schema: 1, Steps: []Action{end("e")}}, "version", "1 or more"},
		{"no steps", steps(), "steps", "at least one"},
		{"too many steps", steps(make([]Action, MaxSteps+1)...), "steps", "at most"},
		{"empty id", steps(Action{Type: ActEnd, End: &Ending{}}), "steps[0].id", "letters"},
		{"bad id", steps(Action{ID: "a b", Type: ActEnd, End: &Ending{}}), "steps[0].id", "letters"},
		{"duplicate id", steps(say("a", "a2"), say("a2", "e"), end("a")), "steps[2].id", "duplicates the id of steps[0]"},
		{"unknown start", &Definition{Schema: 1, Version: 1, Start: "nope", Steps: []Action{end("e")}}, "start", `"nope"`},
		{"unknown type", steps(Action{ID: "x", Type: "dance"}), "steps[0].type", "must be one of"},
		{"missing body", steps(Action{ID: "x", Type: ActSendMessage}), "steps[0].send_message", "required"},
		{"extra body", steps(Action{ID: "x", Type: ActEnd, End: &Ending{}, SendMessage: &Message{Text: "hi"}}),
			"steps[0].send_message", "does not belong"},
		{"unknown next", steps(say("a", "nowhere"), end("e")), "steps[0].next", `no step has the id "nowhere"`},
		{"next after end", steps(Action{ID: "e", Type: ActEnd, End: &Ending{}, Next: "e"}), "steps[0].next", "ends the bot"},
		{"next after handoff", steps(Action{ID: "h", Type: ActHandoff, Handoff: &Handoff{}, Next: "e"}, end("e")),
			"steps[0].next", "ends the bot"},
		{"empty message", steps(Action{ID: "m", Type: ActSendMessage, SendMessage: &Message{Text: "  "}}),
			"steps[0].send_message.text", "required"},
		{"long message", steps(Action{ID: "m", Type: ActSendMessage, SendMessage: &Message{Text: strings.Repeat("x", 4001)}}),
			"steps[0].send_message.text", "longer"},
		{"question kind", steps(question("q", "", Question{Kind: "colour"})), "steps[0].ask_question.kind", "must be one of"},
		{"question prompt", steps(Action{ID: "q", Type: ActAskQuestion, AskQuestion: &Question{Kind: TextAnswer}}),
			"steps[0].ask_question.prompt", "required"},
		{"choices on text", steps(question("q", "", Question{Choices: []Choice{{Label: "a"}}})),
			"steps[0].ask_question.choices", "only a choice question"},
		{"choice without choices", steps(question("q", "", Question{Kind: ChoiceAnswer})),
			"steps[0].ask_question.choices", "at least one"},
		{"choice label", steps(question("q", "", Question{Kind: ChoiceAnswer, Choices: []Choice{{Label: " ", Value: "v"}}})),
			"steps[0].ask_question.choices[0].label", "required"},
		{"same label", steps(question("q", "", Question{Kind: ChoiceAnswer, Choices: []Choice{{Label: "Yes"}, {Label: "yes ", Value: "y"}}})),
			"steps[0].ask_question.choices[1].label", "same as another"},
		{"same value", steps(question("q", "", Question{Kind: ChoiceAnswer, Choices: []Choice{{Label: "Yes", Value: "y"}, {Label: "y"}}})),
			"steps[0].ask_question.choices[1].value", "same as another"},
		{"retries", steps(question("q", "", Question{MaxRetries: 11})), "steps[0].ask_question.max_retries", "between"},
		{"fallback", steps(question("q", "", Question{Fallback: "gone"})), "steps[0].ask_question.fallback", `"gone"`},
		{"save to nothing", steps(question("q", "", Question{SaveTo: &Target{}})), "steps[0].ask_question.save_to", "needs a property"},
		{"save to both", steps(question("q", "", Question{SaveTo: &Target{Property: "a", Variable: "b"}})),
			"steps[0].ask_question.save_to", "not both"},
		{"save to bad name", steps(question("q", "", Question{SaveTo: &Target{Property: "first name"}})),
			"steps[0].ask_question.save_to.property", "letters"},
		{"branch without cases", steps(branch("b", "")), "steps[0].branch.cases", "at least one"},
		{"case without conditions", steps(branch("b", "", Case{Next: "b"})), "steps[0].branch.cases[0].conditions", "at least one"},
		{"case without next", steps(branch("b", "", Case{Conditions: []Condition{{Source: FromVariable, Name: "v", Operator: IsSet}}})),
			"steps[0].branch.cases[0].next", "required"},
		{"condition source", steps(cond(Condition{Source: "weather", Name: "x", Operator: IsSet}), end("e")),
			"steps[0].branch.cases[0].conditions[0].source", "must be one of"},
		{"condition operator", steps(cond(Condition{Source: FromVariable, Name: "x", Operator: "matches", Value: "y"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].operator", "must be one of"},
		{"answer of a non-question", steps(cond(Condition{Source: FromAnswer, Name: "e", Operator: IsSet}), end("e")),
			"steps[0].branch.cases[0].conditions[0].name", "question step"},
		{"equals without value", steps(cond(Condition{Source: FromProperty, Name: "x", Operator: Equals}), end("e")),
			"steps[0].branch.cases[0].conditions[0].value", "required"},
		{"is_set with value", steps(cond(Condition{Source: FromProperty, Name: "x", Operator: IsSet, Value: "y"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].value", "must be empty"},
		{"greater than text", steps(cond(Condition{Source: FromVariable, Name: "x", Operator: GreaterThan, Value: "lots"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].value", "number"},
		{"greater than exponent", steps(cond(Condition{Source: FromVariable, Name: "x", Operator: GreaterThan, Value: "1e3"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].value", "number"},
		{"team id on property", steps(cond(Condition{Source: FromProperty, Name: "x", TeamID: 3, Operator: IsSet}), end("e")),
			"steps[0].branch.cases[0].conditions[0].team_id", "team availability"},
		{"availability operator", steps(cond(Condition{Source: FromTeamAvailability, Operator: Contains, Value: "true"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].operator", "equals"},
		{"availability value", steps(cond(Condition{Source: FromTeamAvailability, Operator: Equals, Value: "yes"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].value", `"true"`},
		{"availability name", steps(cond(Condition{Source: FromTeamAvailability, Name: "sales", Operator: Equals, Value: "true"}), end("e")),
			"steps[0].branch.cases[0].conditions[0].name", "team_id"},
		{"set property target", steps(Action{ID: "p", Type: ActSetProperty, SetProperty: &Assignment{Value: "x"}}),
			"steps[0].set_property", "needs a property"},
		{"ticket subject", steps(Action{ID: "t", Type: ActSubmitTicket, SubmitTicket: &Ticket{}}), "steps[0].submit_ticket.subject", "required"},
		{"ticket priority", steps(Action{ID: "t", Type: ActSubmitTicket, SubmitTicket: &Ticket{Subject: "s", Priority: "asap"}}),
			"steps[0].submit_ticket.priority", "urgent"},
		{"ticket pipeline", steps(Action{ID: "t", Type: ActSubmitTicket, SubmitTicket: &Ticket{Subject: "s", PipelineID: -1}}),
			"steps[0].submit_ticket.pipeline_id", "positive"},
		{"handoff user", steps(Action{ID: "h", Type: ActHandoff, Handoff: &Handoff{UserIDs: []int64{0}}}),
			"steps[0].handoff.user_ids[0]", "positive"},
		{"handoff team twice", steps(Action{ID: "h", Type: ActHandoff, Handoff: &Handoff{TeamIDs: []int64{4, 4}}}),
			"steps[0].handoff.team_ids[1]", "twice"},
		{"webhook url", steps(Action{ID: "w", Type: ActWebhook, Webhook: &Webhook{URL: "ftp://example.com/x"}}),
			"steps[0].webhook.url", "http or https"},
		{"webhook relative url", steps(Action{ID: "w", Type: ActWebhook, Webhook: &Webhook{URL: "/hooks"}}),
			"steps[0].webhook.url", "http or https"},
		{"webhook credentials", steps(Action{ID: "w", Type: ActWebhook, Webhook: &Webhook{URL: "https://u:p@example.com/"}}),
			"steps[0].webhook.url", "password"},
		{"webhook mapping", steps(Action{ID: "w", Type: ActWebhook, Webhook: &Webhook{URL: "https://example.com/",
			SetVariables: map[string]string{"tier": "customer..tier"}}}), "steps[0].webhook.set_variables.tier", "dotted path"},
		{"webhook on_error", steps(Action{ID: "w", Type: ActWebhook, Webhook: &Webhook{URL: "https://example.com/", OnError: "x"}}),
			"steps[0].webhook.on_error", `"x"`},
		{"meeting url", steps(Action{ID: "m", Type: ActMeetingLink, MeetingLink: &MeetingInvite{}}), "steps[0].meeting_link.url", "required"},
		{"self loop", steps(say("a", "a")), "steps[0]", "loops back without asking a question (a → a)"},
		{"loop", steps(say("a", "b"), Action{ID: "b", Type: ActSetProperty, Next: "c",
			SetProperty: &Assignment{Target: Target{Variable: "n"}, Value: "1"}},
			branch("c", "a", Case{Conditions: []Condition{{Source: FromVariable, Name: "n", Operator: IsSet}}, Next: "e"}), end("e")),
			"steps[0]", "a → b → c → a"},
		{"loop through a webhook error", steps(Action{ID: "w", Type: ActWebhook, Next: "e",
			Webhook: &Webhook{URL: "https://example.com/", OnError: "w"}}, end("e")), "steps[0]", "w → w"},
		{"loop through a question", steps(say("a", "q"), question("q", "a", Question{})), "", ""},
		{"fallback loop through a question", steps(question("q", "e", Question{Fallback: "a"}), say("a", "q"), end("e")), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.def.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Code != "invalid_bot" {
				t.Fatalf("want invalid_bot, got %v", err)
			}
			if msg, ok := p.Fields[tt.field]; !ok || !strings.Contains(msg, tt.msg) {
				t.Fatalf("want %s: …%s…, got fields %v", tt.field, tt.msg, p.Fields)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	err := steps(say("a", "x"), Action{ID: "b", Type: ActSendMessage, SendMessage: &Message{}}).Validate()
	p, _ := problem.As(err)
	if p == nil || len(p.Fields) != 2 || p.Fields["steps[0].next"] == "" || p.Fields["steps[1].send_message.text"] == "" ||
		!strings.Contains(p.Detail, "(and 1 more)") {
		t.Fatalf("got %v", err)
	}
}

func TestWarningsUnreachable(t *testing.T) {
	d := steps(say("a", "e"), say("orphan", "e"), question("q", "e", Question{Fallback: "fb"}), end("fb"), end("e"))
	if err := d.Validate(); err != nil {
		t.Fatalf("unreachable steps must not be errors: %v", err)
	}
	var got []string
	for _, w := range d.Warnings() {
		if w.Code != "bot_step_unreachable" {
			t.Errorf("code %q", w.Code)
		}
		got = append(got, w.Field)
	}
	// q is unreachable, and so is fb, which only q leads to; e is reached from a.
	if want := []string{"steps[1]", "steps[2]", "steps[3]"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("unreachable %v, want %v", got, want)
	}
	d.Start = "q"
	if got := d.Warnings(); len(got) != 2 || got[0].Field != "steps[0]" || got[1].Field != "steps[1]" {
		t.Fatalf("from q: %v", got)
	}
}
