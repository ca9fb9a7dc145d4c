package bot

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// drive starts a bot and feeds it inputs, storing the state as JSON between calls as the chat
// channel does. It returns the last state and the outputs of each call, Start's first.
func drive(t *testing.T, def *Definition, ctx Context, inputs ...Input) (State, [][]Output) {
	t.Helper()
	st, out := Start(def, ctx)
	all := [][]Output{out}
	for _, in := range inputs {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var stored State
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatal(err)
		}
		st, out = Step(def, stored, in)
		all = append(all, out)
	}
	return st, all
}

func show(outs [][]Output) string {
	var b strings.Builder
	for i, out := range outs {
		fmt.Fprintf(&b, "call %d:\n", i)
		for _, o := range out {
			fmt.Fprintf(&b, "  %T %+v\n", o, o)
		}
	}
	return b.String()
}

func checkOutputs(t *testing.T, got, want [][]Output) {
	t.Helper()
	for _, out := range got {
		for _, o := range out {
			if id := reflect.ValueOf(o).FieldByName("StepID").String(); o.Step() != id {
				t.Fatalf("%T.Step() = %q, StepID %q", o, o.Step(), id)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs:\n%swant:\n%s", show(got), show(want))
	}
}

func mustValid(t *testing.T, d *Definition) *Definition {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatalf("test definition invalid: %v", err)
	}
	return d
}

// TestQualifyingFlow walks the sales qualifying bot down each of its paths.
func TestQualifyingFlow(t *testing.T) {
	def := mustDecode(t, qualifyJSON)
	sizes := []Choice{{Label: "1-10", Value: "small"}, {Label: "11-100", Value: "medium"}, {Label: "More than 100", Value: "large"}}
	greet := []Output{
		Say{StepID: "hello", Text: "Hi Anna! I can put you in touch with sales."},
		Say{StepID: "ask_email", Text: "What is your work email?"},
		AwaitAnswer{StepID: "ask_email", Kind: EmailAnswer},
	}
	badEmail := []Output{
		Say{StepID: "ask_email", Text: DefaultErrorMessage(EmailAnswer, "en")},
		AwaitAnswer{StepID: "ask_email", Kind: EmailAnswer, Retry: 1},
	}
	goodEmail := []Output{
		SetContactProperty{StepID: "ask_email", Property: "email", Value: "anna@acme.example", Kind: EmailAnswer},
		Say{StepID: "ask_size", Text: "How big is your team?", QuickReplies: sizes},
		AwaitAnswer{StepID: "ask_size", Kind: ChoiceAnswer, Choices: sizes},
	}
	ctx := Context{Language: "en-GB", Contact: map[string]string{"first_name": "Anna"}}

	t.Run("available hands off", func(t *testing.T) {
		st, outs := drive(t, def, ctx,
			Answer("anna@acme"), Answer(" Anna@ACME.example "), Answer("11-100"), Availability(map[int64]bool{7: true}))
		checkOutputs(t, outs, [][]Output{
			greet, badEmail, goodEmail,
			{SetVariable{StepID: "ask_size", Name: "size", Value: "medium"}, AvailabilityRequest{StepID: "route", TeamIDs: []int64{7}}},
			{HandoffRequest{StepID: "to_sales", TeamIDs: []int64{7}}, End{StepID: "to_sales", Reason: EndHandedOff}},
		})
		if !st.Ended || st.EndReason != EndHandedOff || st.Contact["email"] != "anna@acme.example" ||
			st.Answers["ask_size"] != "medium" || st.Variables["size"] != "medium" {
			t.Fatalf("state %+v", st)
		}
		// An ended bot ignores everything after.
		if st2, out := Step(def, st, Answer("hello?")); out != nil || !reflect.DeepEqual(st2, st) {
			t.Fatalf("ended bot answered: %v", out)
		}
	})

	t.Run("small team collects and ends", func(t *testing.T) {
		st, outs := drive(t, def, ctx,
			Answer("anna@acme.example"), Answer("1"), Availability(map[int64]bool{7: true}), Answer("Pricing for 5 seats"))
		checkOutputs(t, outs, [][]Output{
			greet, goodEmail,
			{SetVariable{StepID: "ask_size", Name: "size", Value: "small"}, AvailabilityRequest{StepID: "route", TeamIDs: []int64{7}}},
			{
				Say{StepID: "collect", Text: "Nobody is free right now. What would you like to talk about?"},
				AwaitAnswer{StepID: "collect", Kind: TextAnswer},
			},
			{
				SetVariable{StepID: "collect", Name: "topic", Value: "Pricing for 5 seats"},
				TicketRequest{StepID: "ticket", Subject: "Sales lead anna@acme.example",
					Description: "Team size small: Pricing for 5 seats", Priority: "high"},
				Say{StepID: "bye", Text: "Thanks! We will email you at anna@acme.example."},
				End{StepID: "bye", Reason: EndCompleted},
			},
		})
		if st.EndReason != EndCompleted {
			t.Fatalf("state %+v", st)
		}
	})

	t.Run("unavailable collects", func(t *testing.T) {
		// A team missing from the answer counts as unavailable.
		st, outs := drive(t, def, Context{}, Answer("anna@acme.example"), Answer("large"), Availability(nil))
		last := outs[len(outs)-1]
		if len(last) != 2 || !reflect.DeepEqual(last[0], Say{StepID: "collect", Text: "Nobody is free right now. What would you like to talk about?"}) ||
			st.Awaiting != AwaitingAnswer || st.Step != "collect" {
			t.Fatalf("outputs %s state %+v", show(outs), st)
		}
		if first := outs[0][0].(Say); first.Text != "Hi there! I can put you in touch with sales." {
			t.Fatalf("greeting without a name: %q", first.Text)
		}
	})

	t.Run("no valid email falls back", func(t *testing.T) {
		st, outs := drive(t, def, ctx, Answer("nope"), Answer("still nope"))
		checkOutputs(t, outs, [][]Output{
			greet, badEmail,
			{Say{StepID: "no_email", Text: "No problem, come back any time."}, End{StepID: "no_email", Reason: EndCompleted}},
		})
		if st.Contact["email"] != "" || len(st.Answers) != 0 {
			t.Fatalf("an invalid answer was kept: %+v", st)
		}
	})
}

func TestActions(t *testing.T) {
	hook := Action{ID: "w", Type: ActWebhook, Next: "after", Webhook: &Webhook{URL: "https://crm.example/lookup",
		SetVariables: map[string]string{"tier": "customer.tier", "first": "items.0.id", "seats": "customer.seats",
			"vip": "customer.vip", "tags": "customer.tags", "gone": "customer.missing", "nothing": "customer.none"},
		OnError: "failed"}}
	after := Action{ID: "after", Type: ActSendMessage, SendMessage: &Message{Text: "{{variable.tier}}/{{variable.seats}}"}}
	failed := end("failed")
	tests := []struct {
		name   string
		def    *Definition
		ctx    Context
		inputs []Input
		want   [][]Output
		check  func(t *testing.T, st State)
	}{
		{
			name: "send message with tokens",
			def: steps(Action{ID: "m", Type: ActSendMessage, SendMessage: &Message{
				Text: "Hi {{contact.first_name}} {{ contact.last_name }}, {{contact.email}}{{contact.unknown}}{{weather.today}} on {{variable.page}} {{ answer.nope | ok }} {{contact.x"}}),
			ctx: Context{Contact: map[string]string{"first_name": "Åsa", "email": "asa@example.se"}, Variables: map[string]string{"page": "/pricing"}},
			want: [][]Output{{
				Say{StepID: "m", Text: "Hi Åsa , asa@example.se on /pricing ok {{contact.x"},
				End{StepID: "m", Reason: EndCompleted},
			}},
		},
		{
			name:   "ask number saves to a variable and normalises",
			def:    steps(question("q", "", Question{Kind: NumberAnswer, Prompt: "Seats?", SaveTo: &Target{Variable: "seats"}})),
			ctx:    Context{Language: "sv"},
			inputs: []Input{Answer("1 250,50")},
			want: [][]Output{
				{Say{StepID: "q", Text: "Seats?"}, AwaitAnswer{StepID: "q", Kind: NumberAnswer}},
				{SetVariable{StepID: "q", Name: "seats", Value: "1250.5"}, End{StepID: "q", Reason: EndCompleted}},
			},
		},
		{
			name: "custom error message and retries without fallback",
			def: steps(question("q", "", Question{Kind: DateAnswer, Prompt: "When?", MaxRetries: 2,
				ErrorMessage: "Try 31.12.2025, {{contact.first_name}}."})),
			ctx:    Context{Language: "nb", Contact: map[string]string{"first_name": "Ola"}},
			inputs: []Input{Answer("snart"), Answer("32.12.2025"), Answer("i morgen")},
			want: [][]Output{
				{Say{StepID: "q", Text: "When?"}, AwaitAnswer{StepID: "q", Kind: DateAnswer}},
				{Say{StepID: "q", Text: "Try 31.12.2025, Ola."}, AwaitAnswer{StepID: "q", Kind: DateAnswer, Retry: 1}},
				{Say{StepID: "q", Text: "Try 31.12.2025, Ola."}, AwaitAnswer{StepID: "q", Kind: DateAnswer, Retry: 2}},
				{End{StepID: "q", Reason: EndNoValidAnswer}},
			},
		},
		{
			name: "choice re-offers its quick replies in the visitor's language",
			def: steps(question("q", "", Question{Kind: ChoiceAnswer, Prompt: "Ja eller nej?",
				Choices: []Choice{{Label: "Ja", Value: "yes"}, {Label: "Nej", Value: "no"}}, SaveTo: &Target{Property: "interested"}})),
			ctx:    Context{Language: "sv"},
			inputs: []Input{Answer("kanske"), Answer("NEJ")},
			want: [][]Output{
				{Say{StepID: "q", Text: "Ja eller nej?", QuickReplies: []Choice{{Label: "Ja", Value: "yes"}, {Label: "Nej", Value: "no"}}},
					AwaitAnswer{StepID: "q", Kind: ChoiceAnswer, Choices: []Choice{{Label: "Ja", Value: "yes"}, {Label: "Nej", Value: "no"}}}},
				{Say{StepID: "q", Text: "Välj ett av alternativen.", QuickReplies: []Choice{{Label: "Ja", Value: "yes"}, {Label: "Nej", Value: "no"}}},
					AwaitAnswer{StepID: "q", Kind: ChoiceAnswer, Choices: []Choice{{Label: "Ja", Value: "yes"}, {Label: "Nej", Value: "no"}}, Retry: 1}},
				{SetContactProperty{StepID: "q", Property: "interested", Value: "no", Kind: ChoiceAnswer}, End{StepID: "q", Reason: EndCompleted}},
			},
		},
		{
			name: "branch on property, variable and numbers; first match wins",
			def: steps(
				Action{ID: "b", Type: ActBranch, Next: "default", Branch: &Branch{Cases: []Case{
					{Conditions: []Condition{{Source: FromProperty, Name: "country", Operator: Equals, Value: "NO"},
						{Source: FromVariable, Name: "seats", Operator: GreaterThan, Value: "100"}}, Next: "big_se"},
					{Conditions: []Condition{{Source: FromVariable, Name: "seats", Operator: LessThan, Value: "1000.5"},
						{Source: FromProperty, Name: "company", Operator: Contains, Value: "ACME"},
						{Source: FromProperty, Name: "phone", Operator: IsNotSet}}, Next: "acme"},
					{Conditions: []Condition{{Source: FromProperty, Name: "country", Operator: IsSet}}, Next: "later"},
				}}},
				Action{ID: "big_se", Type: ActSendMessage, SendMessage: &Message{Text: "big"}},
				Action{ID: "acme", Type: ActSendMessage, SendMessage: &Message{Text: "acme"}},
				Action{ID: "later", Type: ActSendMessage, SendMessage: &Message{Text: "later"}},
				Action{ID: "default", Type: ActSendMessage, SendMessage: &Message{Text: "default"}}),
			ctx:  Context{Contact: map[string]string{"country": " se ", "company": "Acme AB"}, Variables: map[string]string{"seats": "1,000"}},
			want: [][]Output{{Say{StepID: "acme", Text: "acme"}, End{StepID: "acme", Reason: EndCompleted}}},
		},
		{
			name: "a normalised Danish answer compares as the number it is",
			def: steps(question("q", "b", Question{Kind: NumberAnswer}),
				branch("b", "small", Case{Conditions: []Condition{{Source: FromAnswer, Name: "q", Operator: GreaterThan, Value: "2"}}, Next: "big"}),
				Action{ID: "big", Type: ActSendMessage, SendMessage: &Message{Text: "big {{answer.q}}"}},
				Action{ID: "small", Type: ActSendMessage, SendMessage: &Message{Text: "small {{answer.q}}"}}),
			ctx:    Context{Language: "da"},
			inputs: []Input{Answer("1,234")},
			want: [][]Output{
				{Say{StepID: "q", Text: "?"}, AwaitAnswer{StepID: "q", Kind: NumberAnswer}},
				{Say{StepID: "small", Text: "small 1.234"}, End{StepID: "small", Reason: EndCompleted}},
			},
		},
		{
			name: "branch equals ignores case and surrounding space",
			def: steps(branch("b", "",
				Case{Conditions: []Condition{{Source: FromProperty, Name: "country", Operator: Equals, Value: "SE"}}, Next: "se"}),
				Action{ID: "se", Type: ActSendMessage, SendMessage: &Message{Text: "hej"}}),
			ctx:  Context{Contact: map[string]string{"country": " se "}},
			want: [][]Output{{Say{StepID: "se", Text: "hej"}, End{StepID: "se", Reason: EndCompleted}}},
		},
		{
			name: "branch falls through to next, numbers compare as numbers",
			def: steps(
				branch("b", "default",
					Case{Conditions: []Condition{{Source: FromVariable, Name: "n", Operator: NotEquals, Value: "10"}}, Next: "ten"},
					Case{Conditions: []Condition{{Source: FromVariable, Name: "n", Operator: GreaterThan, Value: "9"},
						{Source: FromVariable, Name: "missing", Operator: LessThan, Value: "1"}}, Next: "ten"}),
				Action{ID: "ten", Type: ActSendMessage, SendMessage: &Message{Text: "ten"}},
				Action{ID: "default", Type: ActSendMessage, SendMessage: &Message{Text: "default"}}),
			ctx:  Context{Variables: map[string]string{"n": "10.0"}},
			want: [][]Output{{Say{StepID: "default", Text: "default"}, End{StepID: "default", Reason: EndCompleted}}},
		},
		{
			name: "branch on availability of two teams",
			def: steps(
				branch("b", "away",
					Case{Conditions: []Condition{{Source: FromTeamAvailability, TeamID: 2, Operator: Equals, Value: "true"}}, Next: "support"},
					Case{Conditions: []Condition{{Source: FromTeamAvailability, Operator: NotEquals, Value: "false"}}, Next: "anyone"},
					Case{Conditions: []Condition{{Source: FromTeamAvailability, TeamID: 2, Operator: Equals, Value: "false"}}, Next: "anyone"}),
				Action{ID: "support", Type: ActHandoff, Handoff: &Handoff{TeamIDs: []int64{2}}},
				Action{ID: "anyone", Type: ActHandoff, Handoff: &Handoff{UserIDs: []int64{5, 9}}},
				Action{ID: "away", Type: ActEnd, End: &Ending{Message: "Nobody is here."}}),
			inputs: []Input{Answer("are you there?"), Availability(map[int64]bool{0: true, 2: false})},
			want: [][]Output{
				{AvailabilityRequest{StepID: "b", TeamIDs: []int64{2, 0}}},
				nil, // an answer while waiting for availability changes nothing
				{HandoffRequest{StepID: "anyone", UserIDs: []int64{5, 9}}, End{StepID: "anyone", Reason: EndHandedOff}},
			},
		},
		{
			name: "set property and variable",
			def: steps(
				Action{ID: "p", Type: ActSetProperty, Next: "v", SetProperty: &Assignment{Target: Target{Property: "lifecycle"}, Value: "lead from {{variable.page}}"}},
				Action{ID: "v", Type: ActSetProperty, Next: "m", SetProperty: &Assignment{Target: Target{Variable: "source"}, Value: "bot"}},
				Action{ID: "m", Type: ActSendMessage, SendMessage: &Message{Text: "{{contact.lifecycle}} via {{variable.source}}"}}),
			ctx: Context{Variables: map[string]string{"page": "/pricing"}},
			want: [][]Output{{
				SetContactProperty{StepID: "p", Property: "lifecycle", Value: "lead from /pricing"},
				SetVariable{StepID: "v", Name: "source", Value: "bot"},
				Say{StepID: "m", Text: "lead from /pricing via bot"},
				End{StepID: "m", Reason: EndCompleted},
			}},
			check: func(t *testing.T, st State) {
				if st.Contact["lifecycle"] != "lead from /pricing" || st.Variables["source"] != "bot" {
					t.Fatalf("state %+v", st)
				}
			},
		},
		{
			name: "submit ticket with defaults",
			def:  steps(Action{ID: "t", Type: ActSubmitTicket, Next: "e", SubmitTicket: &Ticket{Subject: "Callback for {{contact.phone}}", PipelineID: 3, StageID: 4}}, end("e")),
			ctx:  Context{Contact: map[string]string{"phone": "+4670123"}},
			want: [][]Output{{
				TicketRequest{StepID: "t", Subject: "Callback for +4670123", PipelineID: 3, StageID: 4},
				End{StepID: "e", Reason: EndCompleted},
			}},
		},
		{
			name:   "webhook sets variables from its response",
			def:    steps(Action{ID: "first", Type: ActSetProperty, Next: "w", SetProperty: &Assignment{Target: Target{Variable: "plan"}, Value: "pro"}}, hook, after, failed),
			ctx:    Context{Language: "da", Contact: map[string]string{"email": "a@b.dk"}},
			inputs: []Input{WebhookResponse(200, []byte(`{"customer":{"tier":"gold","seats":12.50,"vip":true,"tags":["a","b"],"none":null},"items":[{"id":"x1"}]}`))},
			want: [][]Output{
				{
					SetVariable{StepID: "first", Name: "plan", Value: "pro"},
					WebhookRequest{StepID: "w", URL: "https://crm.example/lookup",
						Body: []byte(`{"event":"bot.webhook","bot_version":1,"step_id":"w","language":"da","contact":{"email":"a@b.dk"},"variables":{"plan":"pro"},"answers":{}}`)},
				},
				{
					SetVariable{StepID: "w", Name: "first", Value: "x1"},
					SetVariable{StepID: "w", Name: "seats", Value: "12.50"},
					SetVariable{StepID: "w", Name: "tags", Value: `["a","b"]`},
					SetVariable{StepID: "w", Name: "tier", Value: "gold"},
					SetVariable{StepID: "w", Name: "vip", Value: "true"},
					Say{StepID: "after", Text: "gold/12.50"},
					End{StepID: "after", Reason: EndCompleted},
				},
			},
		},
		{
			name:   "webhook failure goes to on_error",
			def:    steps(hook, after, failed),
			inputs: []Input{Answer("hello"), WebhookResponse(502, []byte(`{"customer":{"tier":"gold"}}`))},
			want: [][]Output{
				{WebhookRequest{StepID: "w", URL: "https://crm.example/lookup",
					Body: []byte(`{"event":"bot.webhook","bot_version":1,"step_id":"w","language":"en","contact":{},"variables":{},"answers":{}}`)}},
				nil,
				{End{StepID: "failed", Reason: EndCompleted}},
			},
			check: func(t *testing.T, st State) {
				if len(st.Variables) != 0 {
					t.Fatalf("a failed webhook set variables: %v", st.Variables)
				}
			},
		},
		{
			name:   "webhook with a body that is not JSON fails",
			def:    steps(hook, after, failed),
			inputs: []Input{WebhookResponse(200, []byte(`<html>`))},
			want: [][]Output{
				{WebhookRequest{StepID: "w", URL: "https://crm.example/lookup",
					Body: []byte(`{"event":"bot.webhook","bot_version":1,"step_id":"w","language":"en","contact":{},"variables":{},"answers":{}}`)}},
				{End{StepID: "failed", Reason: EndCompleted}},
			},
		},
		{
			name: "webhook failure without on_error goes to next",
			def: steps(Action{ID: "w", Type: ActWebhook, Next: "e", Webhook: &Webhook{URL: "http://hooks.example/"}},
				Action{ID: "e", Type: ActEnd, End: &Ending{Message: "bye"}}),
			inputs: []Input{WebhookResponse(0, nil)},
			want: [][]Output{
				{WebhookRequest{StepID: "w", URL: "http://hooks.example/",
					Body: []byte(`{"event":"bot.webhook","bot_version":1,"step_id":"w","language":"en","contact":{},"variables":{},"answers":{}}`)}},
				{Say{StepID: "e", Text: "bye"}, End{StepID: "e", Reason: EndCompleted}},
			},
		},
		{
			name: "meeting link",
			def: steps(Action{ID: "m", Type: ActMeetingLink, Next: "e", MeetingLink: &MeetingInvite{Text: "Book a demo, {{contact.first_name}}:",
				URL: "https://meet.example/anna", Label: "Pick a time"}}, end("e")),
			ctx: Context{Contact: map[string]string{"first_name": "Bo"}},
			want: [][]Output{{
				Say{StepID: "m", Text: "Book a demo, Bo:", Link: &Link{URL: "https://meet.example/anna", Label: "Pick a time"}},
				End{StepID: "e", Reason: EndCompleted},
			}},
		},
		{
			name: "explicit start",
			def:  &Definition{Schema: Schema, Version: 1, Start: "b", Steps: []Action{say("a", ""), say("b", "")}},
			want: [][]Output{{Say{StepID: "b", Text: "hi"}, End{StepID: "b", Reason: EndCompleted}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := mustValid(t, tt.def)
			st, outs := drive(t, def, tt.ctx, tt.inputs...)
			checkOutputs(t, outs, tt.want)
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

func TestDefinitionChangedMidConversation(t *testing.T) {
	v3 := mustDecode(t, qualifyJSON)
	st, _ := Start(v3, Context{})
	if st.Version != 3 || st.Step != "ask_email" || st.Awaiting != AwaitingAnswer {
		t.Fatalf("state %+v", st)
	}

	// The conversation keeps running on the version it started with, even after v4 exists.
	v4 := mustDecode(t, strings.Replace(strings.Replace(qualifyJSON, `"version": 3`, `"version": 4`, 1),
		"What is your work email?", "Your email, please?", 1))
	if next, out := Step(v3, st, Answer("a@b.example")); next.Step != "ask_size" || len(out) != 3 {
		t.Fatalf("v3 did not continue: %s", show([][]Output{out}))
	}

	// Given another version, the bot ends instead of guessing.
	next, out := Step(v4, st, Answer("a@b.example"))
	checkOutputs(t, [][]Output{out}, [][]Output{{End{StepID: "ask_email", Reason: EndDefinitionChanged}}})
	if !next.Ended || next.EndReason != EndDefinitionChanged || next.Contact["email"] != "" {
		t.Fatalf("state %+v", next)
	}
	if st.Ended {
		t.Fatal("Step modified the state it was given")
	}

	// So does a "same version" whose current step is gone or no longer a question.
	broken := mustDecode(t, qualifyJSON)
	broken.Steps[1].Type, broken.Steps[1].AskQuestion = ActSendMessage, &Question{}
	if _, out := Step(broken, st, Answer("a@b.example")); !reflect.DeepEqual(out, []Output{End{StepID: "ask_email", Reason: EndDefinitionChanged}}) {
		t.Fatalf("outputs %s", show([][]Output{out}))
	}
	if _, out := Step(nil, st, Answer("a@b.example")); !reflect.DeepEqual(out, []Output{End{StepID: "ask_email", Reason: EndDefinitionChanged}}) {
		t.Fatalf("outputs %s", show([][]Output{out}))
	}
}

func TestStepLimit(t *testing.T) {
	// Validate refuses this loop; the engine must still stop if it is given one.
	loop := steps(say("a", "b"), say("b", "a"))
	if loop.Validate() == nil {
		t.Fatal("Validate accepted a loop without a question")
	}
	st, out := Start(loop, Context{})
	if len(out) != MaxStepsPerInput+1 || !st.Ended || st.EndReason != EndStepLimit {
		t.Fatalf("%d outputs, state %+v", len(out), st)
	}
	if e, ok := out[len(out)-1].(End); !ok || e.Reason != EndStepLimit {
		t.Fatalf("last output %+v", out[len(out)-1])
	}

	// The limit is per input: a long straight flow behind a question runs in full.
	var s []Action
	s = append(s, question("q", "m0", Question{}))
	for i := range MaxStepsPerInput - 1 {
		s = append(s, say(fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", i+1)))
	}
	s = append(s, end(fmt.Sprintf("m%d", MaxStepsPerInput-1)))
	long := mustValid(t, steps(s...))
	st, outs := drive(t, long, Context{}, Answer("go"))
	if st.EndReason != EndCompleted || len(outs[1]) != MaxStepsPerInput {
		t.Fatalf("state %+v, %d outputs", st, len(outs[1]))
	}
}

func TestBrokenDefinitionEndsGracefully(t *testing.T) {
	for name, d := range map[string]*Definition{
		"unknown next":     steps(say("a", "missing")),
		"no body":          steps(Action{ID: "a", Type: ActBranch}),
		"unknown type":     steps(Action{ID: "a", Type: "dance"}),
		"no steps":         steps(),
		"nil definition":   nil,
		"unknown fallback": steps(question("q", "", Question{Kind: EmailAnswer, MaxRetries: 1, Fallback: "gone"})),
	} {
		t.Run(name, func(t *testing.T) {
			st, outs := drive(t, d, Context{}, Answer("x"), Answer("y"))
			if !st.Ended {
				t.Fatalf("not ended: %+v %s", st, show(outs))
			}
			if st.EndReason != EndBrokenDefinition && st.EndReason != EndCompleted {
				t.Fatalf("reason %q", st.EndReason)
			}
		})
	}
}

func TestStateJSON(t *testing.T) {
	def := mustDecode(t, qualifyJSON)
	st, _ := drive(t, def, Context{Language: "da", Contact: map[string]string{"first_name": "Mette"},
		Variables: map[string]string{"page": "/"}}, Answer("x"), Answer("mette@firma.dk"))
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":3,"step":"ask_size","awaiting":"answer","language":"da",` +
		`"contact":{"email":"mette@firma.dk","first_name":"Mette"},"variables":{"page":"/"},"answers":{"ask_email":"mette@firma.dk"}}`
	if string(b) != want {
		t.Fatalf("state JSON\n%s\nwant\n%s", b, want)
	}
}

func TestStartDoesNotShareMaps(t *testing.T) {
	ctx := Context{Contact: map[string]string{}, Variables: map[string]string{}}
	def := mustValid(t, steps(Action{ID: "p", Type: ActSetProperty, Next: "v", SetProperty: &Assignment{Target: Target{Property: "x"}, Value: "1"}},
		Action{ID: "v", Type: ActSetProperty, SetProperty: &Assignment{Target: Target{Variable: "y"}, Value: "2"}}))
	Start(def, ctx)
	if len(ctx.Contact) != 0 || len(ctx.Variables) != 0 {
		t.Fatalf("Start wrote into the caller's maps: %v %v", ctx.Contact, ctx.Variables)
	}
}

func TestRender(t *testing.T) {
	st := &State{Contact: map[string]string{"first_name": "Liv"}, Variables: map[string]string{"x": "{{contact.first_name}}"}}
	for in, want := range map[string]string{
		"plain":                                "plain",
		"{{contact.first_name}}":               "Liv",
		"{{contact.last_name|}}!":              "!",
		"{{contact.last_name | friend }}":      "friend",
		"{{variable.x}}":                       "{{contact.first_name}}", // values are not rendered again
		"{{ contact.first_name }}{{contact.}}": "Liv{{contact.}}",
		"{{Contact.first_name}}":               "{{Contact.first_name}}",
	} {
		if got := Render(in, st); got != want {
			t.Errorf("Render(%q) = %q, want %q", in, got, want)
		}
	}
}
