package bot

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxStepsPerInput bounds the steps one Start or Step runs without waiting for the visitor or
// an effect. Validate already rejects loops without a question; this catches a definition that
// was never validated, and keeps one input's work small whatever is stored.
const MaxStepsPerInput = 50

// maxWebhookResponse is the largest webhook response the bot reads variables from; the caller
// should stop reading there anyway.
const maxWebhookResponse = 1 << 20

// Awaiting is what a running bot waits for.
type Awaiting string

const (
	AwaitingAnswer       Awaiting = "answer"
	AwaitingWebhook      Awaiting = "webhook"
	AwaitingAvailability Awaiting = "availability"
)

// State is where a conversation is in its bot, stored by the caller as JSON after every Start
// and Step. Contact is the contact's properties as the bot knows them: those it was started
// with plus what it has set since; a caller that learns of other changes may update it before
// the next Step.
type State struct {
	// Version is the definition version the conversation runs.
	Version int64 `json:"version"`
	// Step is the step waiting for input, or where the bot ended.
	Step string `json:"step,omitempty"`
	// Awaiting is what that step waits for; empty once the bot has ended.
	Awaiting Awaiting `json:"awaiting,omitempty"`
	// Retries counts invalid answers to the current question.
	Retries   int               `json:"retries,omitempty"`
	Ended     bool              `json:"ended,omitempty"`
	EndReason EndReason         `json:"end_reason,omitempty"`
	Language  string            `json:"language"`
	Contact   map[string]string `json:"contact,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	// Answers holds each question's normalised answer by step id.
	Answers map[string]string `json:"answers,omitempty"`
}

func (st State) clone() State {
	st.Contact = maps.Clone(st.Contact)
	st.Variables = maps.Clone(st.Variables)
	st.Answers = maps.Clone(st.Answers)
	return st
}

// Context is what the caller knows when a bot starts.
type Context struct {
	// Language is the chatflow's language (en, sv, nb, da); see Language.
	Language string
	// Contact holds the contact's properties by name, such as first_name, last_name, email,
	// phone, company and custom properties, as text.
	Contact map[string]string
	// Variables are initial bot variables, such as the page the visitor is on. They are sent
	// with webhooks and usable in tokens and branches.
	Variables map[string]string
}

// InputKind says what an Input carries.
type InputKind string

const (
	InputAnswer       InputKind = "answer"
	InputWebhook      InputKind = "webhook"
	InputAvailability InputKind = "availability"
)

// Input is what moves a waiting bot on: the visitor's answer, a webhook's outcome or team
// availability. Build it with Answer, WebhookResponse or Availability.
type Input struct {
	Kind InputKind `json:"kind"`
	// Text is the visitor's answer as typed, or the Value of the quick reply they picked.
	Text         string         `json:"text,omitempty"`
	Webhook      *WebhookResult `json:"webhook,omitempty"`
	Availability map[int64]bool `json:"availability,omitempty"`
}

// WebhookResult is the outcome of a WebhookRequest: the HTTP status (0 when no response came)
// and the response body.
type WebhookResult struct {
	Status int    `json:"status"`
	Body   []byte `json:"body,omitempty"`
}

// Answer is the visitor's answer (typed text, or a quick reply's value).
func Answer(text string) Input { return Input{Kind: InputAnswer, Text: text} }

// WebhookResponse is the outcome of a webhook call.
func WebhookResponse(status int, body []byte) Input {
	return Input{Kind: InputWebhook, Webhook: &WebhookResult{Status: status, Body: body}}
}

// Availability says which of the requested teams are available; a team not in the map is not.
func Availability(teams map[int64]bool) Input {
	if teams == nil {
		teams = map[int64]bool{}
	}
	return Input{Kind: InputAvailability, Availability: teams}
}

// runner executes steps for one Start or Step call.
type runner struct {
	def   *Definition
	st    *State
	out   []Output
	steps int
	// last is the step that ran last, where the bot ends when that step has no next step.
	last string
}

func (r *runner) emit(o Output) { r.out = append(r.out, o) }

func (r *runner) end(stepID string, reason EndReason) {
	r.st.Step, r.st.Awaiting, r.st.Retries = stepID, "", 0
	r.st.Ended, r.st.EndReason = true, reason
	r.emit(End{StepID: stepID, Reason: reason})
}

func (r *runner) wait(stepID string, a Awaiting) {
	r.st.Step, r.st.Awaiting = stepID, a
}

// Start begins a conversation's bot at the definition's first step and runs until the bot waits
// or ends.
func Start(def *Definition, ctx Context) (State, []Output) {
	st := State{Language: Language(ctx.Language), Contact: maps.Clone(ctx.Contact),
		Variables: maps.Clone(ctx.Variables), Answers: map[string]string{}}
	r := &runner{def: def, st: &st}
	if def == nil || len(def.Steps) == 0 {
		r.end("", EndBrokenDefinition)
		return st, r.out
	}
	st.Version = def.Version
	r.run(def.startID())
	return st, r.out
}

// Step feeds one input to a waiting bot and runs until it waits or ends again. An input the bot
// is not waiting for (a visitor message while a webhook is outstanding, say) changes nothing and
// returns no outputs; so does any input once the bot has ended. def must be the version the
// state names; given another, the bot ends with EndDefinitionChanged. st is not modified.
func Step(def *Definition, st State, in Input) (State, []Output) {
	st = st.clone()
	if st.Ended {
		return st, nil
	}
	r := &runner{def: def, st: &st, last: st.Step}
	if def == nil || def.Version != st.Version {
		r.end(st.Step, EndDefinitionChanged)
		return st, r.out
	}
	s := def.step(st.Step)
	fits := s != nil && (st.Awaiting == AwaitingAnswer && s.Type == ActAskQuestion && s.AskQuestion != nil ||
		st.Awaiting == AwaitingWebhook && s.Type == ActWebhook && s.Webhook != nil ||
		st.Awaiting == AwaitingAvailability && s.Type == ActBranch && s.Branch != nil)
	if !fits {
		r.end(st.Step, EndDefinitionChanged)
		return st, r.out
	}
	switch st.Awaiting {
	case AwaitingAnswer:
		if in.Kind != InputAnswer {
			return st, nil
		}
		r.answer(s, in.Text)
	case AwaitingWebhook:
		if in.Kind != InputWebhook || in.Webhook == nil {
			return st, nil
		}
		r.webhookDone(s, *in.Webhook)
	case AwaitingAvailability:
		if in.Kind != InputAvailability {
			return st, nil
		}
		st.Awaiting = ""
		r.run(r.branchNext(s, in.Availability))
	}
	return st, r.out
}

// run executes steps from id until one waits or the bot ends.
func (r *runner) run(id string) {
	for {
		if id == "" {
			r.end(r.last, EndCompleted)
			return
		}
		if r.steps >= MaxStepsPerInput {
			r.end(id, EndStepLimit)
			return
		}
		r.steps++
		s := r.def.step(id)
		if s == nil {
			r.end(id, EndBrokenDefinition)
			return
		}
		r.last = id
		next, stop := r.exec(s)
		if stop {
			return
		}
		id = next
	}
}

// exec runs one step and returns the next step, or stop when the bot now waits or has ended.
func (r *runner) exec(s *Action) (next string, stop bool) {
	st := r.st
	broken := func() (string, bool) {
		r.end(s.ID, EndBrokenDefinition)
		return "", true
	}
	switch s.Type {
	case ActSendMessage:
		if s.SendMessage == nil {
			return broken()
		}
		r.emit(Say{StepID: s.ID, Text: Render(s.SendMessage.Text, st)})
	case ActAskQuestion:
		q := s.AskQuestion
		if q == nil {
			return broken()
		}
		st.Retries = 0
		r.ask(s, Render(q.Prompt, st))
		return "", true
	case ActBranch:
		if s.Branch == nil {
			return broken()
		}
		if teams := availabilityTeams(s.Branch); len(teams) > 0 {
			r.emit(AvailabilityRequest{StepID: s.ID, TeamIDs: teams})
			r.wait(s.ID, AwaitingAvailability)
			return "", true
		}
		return r.branchNext(s, nil), false
	case ActSetProperty:
		a := s.SetProperty
		if a == nil {
			return broken()
		}
		r.save(s.ID, a.Target, Render(a.Value, st), "")
	case ActSubmitTicket:
		t := s.SubmitTicket
		if t == nil {
			return broken()
		}
		r.emit(TicketRequest{StepID: s.ID, Subject: Render(t.Subject, st), Description: Render(t.Description, st),
			PipelineID: t.PipelineID, StageID: t.StageID, Priority: t.Priority})
	case ActHandoff:
		h := s.Handoff
		if h == nil {
			return broken()
		}
		r.emit(HandoffRequest{StepID: s.ID, UserIDs: slices.Clone(h.UserIDs), TeamIDs: slices.Clone(h.TeamIDs)})
		r.end(s.ID, EndHandedOff)
		return "", true
	case ActWebhook:
		if s.Webhook == nil {
			return broken()
		}
		r.emit(WebhookRequest{StepID: s.ID, URL: s.Webhook.URL, Body: r.webhookBody(s.ID)})
		r.wait(s.ID, AwaitingWebhook)
		return "", true
	case ActMeetingLink:
		m := s.MeetingLink
		if m == nil {
			return broken()
		}
		r.emit(Say{StepID: s.ID, Text: Render(m.Text, st), Link: &Link{URL: m.URL, Label: m.Label}})
	case ActEnd:
		if s.End == nil {
			return broken()
		}
		if s.End.Message != "" {
			r.emit(Say{StepID: s.ID, Text: Render(s.End.Message, st)})
		}
		r.end(s.ID, EndCompleted)
		return "", true
	default:
		return broken()
	}
	return s.Next, false
}

// ask says a question (or repeats it after an invalid answer) and waits for the answer.
func (r *runner) ask(s *Action, text string) {
	q := s.AskQuestion
	var replies []Choice
	if q.Kind == ChoiceAnswer {
		replies = slices.Clone(q.Choices)
	}
	r.emit(Say{StepID: s.ID, Text: text, QuickReplies: replies})
	r.emit(AwaitAnswer{StepID: s.ID, Kind: q.Kind, Choices: slices.Clone(replies), Retry: r.st.Retries})
	r.wait(s.ID, AwaitingAnswer)
}

// answer handles the visitor's answer to the question at s.
func (r *runner) answer(s *Action, text string) {
	st, q := r.st, s.AskQuestion
	v, ok := ParseAnswer(q.Kind, q.Choices, text, st.Language)
	if !ok {
		st.Retries++
		limit := q.MaxRetries
		if limit == 0 {
			limit = DefaultMaxRetries
		}
		if st.Retries > limit {
			st.Retries, st.Awaiting = 0, ""
			if q.Fallback == "" {
				r.end(s.ID, EndNoValidAnswer)
				return
			}
			r.run(q.Fallback)
			return
		}
		msg := Render(q.ErrorMessage, st)
		if strings.TrimSpace(msg) == "" {
			msg = DefaultErrorMessage(q.Kind, st.Language)
		}
		r.ask(s, msg)
		return
	}
	st.Retries, st.Awaiting = 0, ""
	if st.Answers == nil {
		st.Answers = map[string]string{}
	}
	st.Answers[s.ID] = v
	if q.SaveTo != nil {
		r.save(s.ID, *q.SaveTo, v, q.Kind)
	}
	r.run(s.Next)
}

// save stores a value in a contact property or a variable.
func (r *runner) save(stepID string, t Target, v string, kind AnswerKind) {
	st := r.st
	switch {
	case t.Property != "":
		if st.Contact == nil {
			st.Contact = map[string]string{}
		}
		st.Contact[t.Property] = v
		r.emit(SetContactProperty{StepID: stepID, Property: t.Property, Value: v, Kind: kind})
	case t.Variable != "":
		r.setVariable(stepID, t.Variable, v)
	}
}

func (r *runner) setVariable(stepID, name, v string) {
	if r.st.Variables == nil {
		r.st.Variables = map[string]string{}
	}
	r.st.Variables[name] = v
	r.emit(SetVariable{StepID: stepID, Name: name, Value: v})
}

// webhookPayload is the JSON a webhook step sends: everything the bot has collected.
type webhookPayload struct {
	Event      string            `json:"event"`
	BotVersion int64             `json:"bot_version"`
	StepID     string            `json:"step_id"`
	Language   string            `json:"language"`
	Contact    map[string]string `json:"contact"`
	Variables  map[string]string `json:"variables"`
	Answers    map[string]string `json:"answers"`
}

func (r *runner) webhookBody(stepID string) []byte {
	orEmpty := func(m map[string]string) map[string]string {
		if m == nil {
			return map[string]string{}
		}
		return m
	}
	st := r.st
	// Marshalling maps of strings cannot fail; keys come out sorted, so the body (and its
	// signature) is the same for the same state.
	b, err := json.Marshal(webhookPayload{Event: "bot.webhook", BotVersion: st.Version, StepID: stepID,
		Language: st.Language, Contact: orEmpty(st.Contact), Variables: orEmpty(st.Variables), Answers: orEmpty(st.Answers)})
	if err != nil {
		panic("bot: marshal webhook payload: " + err.Error())
	}
	return b
}

// webhookDone takes a webhook's outcome: a 2xx response sets the mapped variables and goes on
// to Next; anything else — no response, another status, or a body that is not JSON when
// variables are to be read from it — goes to OnError, or to Next without setting variables.
func (r *runner) webhookDone(s *Action, res WebhookResult) {
	w := s.Webhook
	r.st.Awaiting = ""
	ok := res.Status >= 200 && res.Status <= 299
	var doc any
	if ok && len(w.SetVariables) > 0 {
		dec := json.NewDecoder(bytes.NewReader(res.Body))
		dec.UseNumber()
		ok = len(res.Body) <= maxWebhookResponse && dec.Decode(&doc) == nil
	}
	if !ok {
		next := w.OnError
		if next == "" {
			next = s.Next
		}
		r.run(next)
		return
	}
	for _, name := range sortedKeys(w.SetVariables) {
		if v, found := lookup(doc, w.SetVariables[name]); found {
			r.setVariable(s.ID, name, v)
		}
	}
	r.run(s.Next)
}

// lookup follows a dotted path ("customer.tier", "items.0.id") into decoded JSON. Strings come
// out as they are, numbers and booleans as their JSON text, objects and arrays as compact JSON.
// A missing path, null, or a value longer than a bot message is not found.
func lookup(doc any, path string) (string, bool) {
	cur := doc
	for seg := range strings.SplitSeq(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) || !allDigits(seg) {
				return "", false
			}
			cur = v[i]
		default:
			return "", false
		}
	}
	var out string
	switch v := cur.(type) {
	case nil:
		return "", false
	case string:
		out = v
	case json.Number:
		out = v.String()
	case bool:
		out = strconv.FormatBool(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		out = string(b)
	}
	if utf8.RuneCountInString(out) > maxTextLen {
		return "", false
	}
	return out, true
}

// availabilityTeams lists the teams a branch's conditions ask about, each once, in order.
func availabilityTeams(b *Branch) []int64 {
	var teams []int64
	for _, cs := range b.Cases {
		for _, c := range cs.Conditions {
			if c.Source == FromTeamAvailability && !slices.Contains(teams, c.TeamID) {
				teams = append(teams, c.TeamID)
			}
		}
	}
	return teams
}

// branchNext picks the first case whose conditions all hold, or the step's Next.
func (r *runner) branchNext(s *Action, avail map[int64]bool) string {
	for _, cs := range s.Branch.Cases {
		if len(cs.Conditions) == 0 {
			continue
		}
		all := true
		for _, c := range cs.Conditions {
			if !r.holds(c, avail) {
				all = false
				break
			}
		}
		if all {
			return cs.Next
		}
	}
	return s.Next
}

func (r *runner) holds(c Condition, avail map[int64]bool) bool {
	var v string
	switch c.Source {
	case FromAnswer:
		v = r.st.Answers[c.Name]
	case FromVariable:
		v = r.st.Variables[c.Name]
	case FromProperty:
		v = r.st.Contact[c.Name]
	case FromTeamAvailability:
		v = strconv.FormatBool(avail[c.TeamID])
	default:
		return false
	}
	v, want := strings.TrimSpace(v), strings.TrimSpace(c.Value)
	switch c.Operator {
	case Equals:
		return equal(v, want)
	case NotEquals:
		return !equal(v, want)
	case Contains:
		return want != "" && strings.Contains(strings.ToLower(v), strings.ToLower(want))
	case IsSet:
		return v != ""
	case IsNotSet:
		return v == ""
	case GreaterThan, LessThan:
		a, okA := r.number(v)
		b, okB := r.number(want)
		if !okA || !okB {
			return false
		}
		if c.Operator == GreaterThan {
			return a > b
		}
		return a < b
	}
	return false
}

// number reads a value for a numeric comparison. A plain decimal is read as one first: that is
// how answers are stored, and reading "1.234" the Danish way would make it a thousand times
// larger. Contact properties and variables may be written as people write numbers.
func (r *runner) number(s string) (float64, bool) {
	if !canonicalNumber(s) {
		n, ok := parseNumber(s, r.st.Language)
		if !ok {
			return 0, false
		}
		s = n
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// equal compares two values as numbers when both are plain decimals ("10" equals "10.0"), and as
// text ignoring case otherwise.
func equal(a, b string) bool {
	if canonicalNumber(a) && canonicalNumber(b) {
		x, errA := strconv.ParseFloat(a, 64)
		y, errB := strconv.ParseFloat(b, 64)
		if errA == nil && errB == nil {
			return x == y
		}
	}
	return strings.EqualFold(a, b)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
