package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/parley-inbox/parley/internal/problem"
)

// Schema is the version of the JSON format this package reads and writes. It changes only when
// the shape of a definition changes incompatibly; Definition.Version counts edits of one bot.
const Schema = 1

// Limits keep a stored definition, and the work of validating it, bounded.
const (
	MaxDefinitionBytes = 1 << 20
	MaxSteps           = 500
	maxIDLen           = 64
	maxNameLen         = 64
	maxTextLen         = 4000
	maxChoices         = 20
	maxChoiceLen       = 80
	maxCases           = 20
	maxConditions      = 10
	maxRetries         = 10
	maxIDs             = 50
	maxMappings        = 50
	maxURLLen          = 2000
)

// DefaultMaxRetries is how many invalid answers a question tolerates after the first when its
// definition does not say.
const DefaultMaxRetries = 2

// ActionType is the kind of a step; its value is also the name of the field with its settings.
type ActionType string

const (
	ActSendMessage  ActionType = "send_message"
	ActAskQuestion  ActionType = "ask_question"
	ActBranch       ActionType = "branch"
	ActSetProperty  ActionType = "set_property"
	ActSubmitTicket ActionType = "submit_ticket"
	ActHandoff      ActionType = "handoff"
	ActWebhook      ActionType = "webhook"
	ActMeetingLink  ActionType = "meeting_link"
	ActEnd          ActionType = "end"
)

// AnswerKind is what a question accepts, and how the answer is normalised.
type AnswerKind string

const (
	TextAnswer   AnswerKind = "text"
	EmailAnswer  AnswerKind = "email"
	PhoneAnswer  AnswerKind = "phone"
	NumberAnswer AnswerKind = "number"
	DateAnswer   AnswerKind = "date"
	ChoiceAnswer AnswerKind = "choice"
)

// Definition is one version of a bot: what a chatflow stores as JSON.
type Definition struct {
	// Schema is the JSON format version (Schema).
	Schema int `json:"schema"`
	// Version numbers the saved revisions of this bot, from 1. A running conversation is tied
	// to the version it started with.
	Version int64 `json:"version"`
	// Start is the id of the first step; empty means the first in Steps.
	Start string   `json:"start,omitempty"`
	Steps []Action `json:"steps"`
}

// Action is one step of a bot. Type names the action, and exactly the field of the same name
// holds its settings (a "send_message" step has SendMessage set and nothing else). Next is where
// the bot goes afterwards; empty ends the bot.
type Action struct {
	ID   string     `json:"id"`
	Type ActionType `json:"type"`
	Next string     `json:"next,omitempty"`

	SendMessage  *Message       `json:"send_message,omitempty"`
	AskQuestion  *Question      `json:"ask_question,omitempty"`
	Branch       *Branch        `json:"branch,omitempty"`
	SetProperty  *Assignment    `json:"set_property,omitempty"`
	SubmitTicket *Ticket        `json:"submit_ticket,omitempty"`
	Handoff      *Handoff       `json:"handoff,omitempty"`
	Webhook      *Webhook       `json:"webhook,omitempty"`
	MeetingLink  *MeetingInvite `json:"meeting_link,omitempty"`
	End          *Ending        `json:"end,omitempty"`
}

// Message is a send_message step. Text may hold tokens ({{contact.first_name}}); see Render.
type Message struct {
	Text string `json:"text"`
}

// Question is an ask_question step: the bot says Prompt and waits for an answer of Kind.
type Question struct {
	Kind   AnswerKind `json:"kind"`
	Prompt string     `json:"prompt"`
	// Choices are the quick replies of a choice question (and only of one).
	Choices []Choice `json:"choices,omitempty"`
	// ErrorMessage is said after an invalid answer; empty uses a built-in one in the visitor's
	// language.
	ErrorMessage string `json:"error_message,omitempty"`
	// MaxRetries is how many invalid answers are followed by another try; 0 means
	// DefaultMaxRetries. After that the bot goes to Fallback, or ends when there is none.
	MaxRetries int    `json:"max_retries,omitempty"`
	Fallback   string `json:"fallback,omitempty"`
	// SaveTo also stores the answer in a contact property or a variable. The answer is always
	// available to branches and tokens as {{answer.<step id>}}.
	SaveTo *Target `json:"save_to,omitempty"`
}

// Choice is one quick reply. Value is what is stored and compared; empty means Label.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value,omitempty"`
}

func (c Choice) value() string {
	if c.Value != "" {
		return c.Value
	}
	return c.Label
}

// Target names where a value goes: a contact property or a bot variable, exactly one.
type Target struct {
	Property string `json:"property,omitempty"`
	Variable string `json:"variable,omitempty"`
}

// Branch is an if/then step: the first case whose conditions all hold decides the next step;
// when none does the bot goes to the step's Next.
type Branch struct {
	Cases []Case `json:"cases"`
}

// Case is one "if": all Conditions must hold.
type Case struct {
	Conditions []Condition `json:"conditions"`
	Next       string      `json:"next"`
}

// Source is what a condition looks at.
type Source string

const (
	// FromAnswer is the answer to the question step named by Name.
	FromAnswer Source = "answer"
	// FromVariable is the bot variable Name.
	FromVariable Source = "variable"
	// FromProperty is the contact property Name.
	FromProperty Source = "property"
	// FromTeamAvailability is "true" when someone in team TeamID (0: the chatflow's inbox) is
	// available, else "false". The bot asks the caller when it reaches the branch.
	FromTeamAvailability Source = "team_availability"
)

// Operator compares a condition's source with its Value.
type Operator string

const (
	Equals      Operator = "equals"
	NotEquals   Operator = "not_equals"
	Contains    Operator = "contains"
	IsSet       Operator = "is_set"
	IsNotSet    Operator = "is_not_set"
	GreaterThan Operator = "greater_than"
	LessThan    Operator = "less_than"
)

// Condition is one test in a branch case. Text comparisons ignore case and surrounding space;
// equals compares numerically when both sides are numbers; greater_than and less_than need
// numbers on both sides and are false otherwise.
type Condition struct {
	Source   Source   `json:"source"`
	Name     string   `json:"name,omitempty"`
	TeamID   int64    `json:"team_id,omitempty"`
	Operator Operator `json:"operator"`
	Value    string   `json:"value,omitempty"`
}

// Assignment is a set_property step: Value (with tokens) goes to Target.
type Assignment struct {
	Target
	Value string `json:"value"`
}

// Ticket is a submit_ticket step: a ticket on the conversation, its texts with tokens.
// PipelineID and StageID of 0, and an empty Priority, leave the choice to the caller's defaults.
type Ticket struct {
	Subject     string `json:"subject"`
	Description string `json:"description,omitempty"`
	PipelineID  int64  `json:"pipeline_id,omitempty"`
	StageID     int64  `json:"stage_id,omitempty"`
	Priority    string `json:"priority,omitempty"`
}

// Handoff is a handoff step: the conversation leaves the bot for routing, limited to these
// users and teams when any are named. It ends the bot.
type Handoff struct {
	UserIDs []int64 `json:"user_ids,omitempty"`
	TeamIDs []int64 `json:"team_ids,omitempty"`
}

// Webhook is a webhook step: the caller POSTs the collected data to URL, signed, and feeds the
// response back. SetVariables maps variable names to dotted paths in the JSON response
// ("customer.tier", "items.0.id"). A failed call (no response or a non-2xx status) goes to
// OnError, or to Next when OnError is empty.
type Webhook struct {
	URL          string            `json:"url"`
	SetVariables map[string]string `json:"set_variables,omitempty"`
	OnError      string            `json:"on_error,omitempty"`
}

// MeetingInvite is a meeting_link step: Text (with tokens) and a link to book a meeting.
type MeetingInvite struct {
	Text  string `json:"text,omitempty"`
	URL   string `json:"url"`
	Label string `json:"label,omitempty"`
}

// Ending is an end step, with an optional last message.
type Ending struct {
	Message string `json:"message,omitempty"`
}

// Decode reads a definition from JSON, refusing unknown fields and trailing data, and validates
// it. Warnings are left for the caller to ask for.
func Decode(data []byte) (*Definition, error) {
	if len(data) > MaxDefinitionBytes {
		return nil, problem.Invalidf(codeInvalid, "the bot definition is larger than %d bytes", MaxDefinitionBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, problem.Invalidf(codeInvalid, "the bot definition is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problem.Invalidf(codeInvalid, "the bot definition has data after its JSON object")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// step returns the step with id, or nil.
func (d *Definition) step(id string) *Action {
	for i := range d.Steps {
		if d.Steps[i].ID == id {
			return &d.Steps[i]
		}
	}
	return nil
}

func (d *Definition) startID() string {
	if d.Start != "" {
		return d.Start
	}
	if len(d.Steps) > 0 {
		return d.Steps[0].ID
	}
	return ""
}
