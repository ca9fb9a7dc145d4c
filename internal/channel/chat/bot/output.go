package bot

// Output is one thing the caller must do, in order, after Start or Step. The concrete types
// are Say, AwaitAnswer, SetContactProperty, SetVariable, TicketRequest, HandoffRequest,
// WebhookRequest, AvailabilityRequest and End. Every output names the step it came from.
type Output interface {
	// Step is the id of the step that produced the output.
	Step() string
}

// Say is a bot message to the visitor: plain text (escape it when displaying), with quick
// replies to offer (show Label, send Value back as the answer) or a link to show as a button.
type Say struct {
	StepID       string
	Text         string
	QuickReplies []Choice
	Link         *Link
}

// Link is a link the visitor can follow, such as a meeting booking page.
type Link struct {
	URL   string
	Label string
}

// AwaitAnswer says the bot now waits for the visitor's answer to a question. Kind lets the
// widget offer the right keyboard; Retry counts the invalid answers given so far.
type AwaitAnswer struct {
	StepID  string
	Kind    AnswerKind
	Choices []Choice
	Retry   int
}

// SetContactProperty stores a value on the conversation's contact. Kind is the kind of question
// whose normalised answer Value is ("email" means also an email identity), or empty for a
// set_property step's text, which the caller converts to the property's type.
type SetContactProperty struct {
	StepID   string
	Property string
	Value    string
	Kind     AnswerKind
}

// SetVariable records a bot variable, already stored in State, for the caller's log and
// timeline.
type SetVariable struct {
	StepID string
	Name   string
	Value  string
}

// TicketRequest asks the caller to create a ticket linked to the conversation. Zero ids and an
// empty priority mean the caller's defaults.
type TicketRequest struct {
	StepID      string
	Subject     string
	Description string
	PipelineID  int64
	StageID     int64
	Priority    string
}

// HandoffRequest asks the caller to hand the conversation to routing, limited to these users and
// teams when any are named. It is always followed by End with EndHandedOff.
type HandoffRequest struct {
	StepID  string
	UserIDs []int64
	TeamIDs []int64
}

// WebhookRequest asks the caller to POST Body (JSON) to URL, signed as Parley signs every
// webhook, and to feed the outcome back with WebhookResponse. The bot waits until then.
type WebhookRequest struct {
	StepID string
	URL    string
	Body   []byte
}

// AvailabilityRequest asks the caller whether the teams are available (team 0 meaning the
// chatflow's inbox) and to feed the answer back with Availability. The bot waits until then.
type AvailabilityRequest struct {
	StepID  string
	TeamIDs []int64
}

// End says the bot has finished with the conversation, and why. StepID is where it stopped: the
// end or handoff step, the question that ran out of retries, or the last step that ran when it
// had no next step.
type End struct {
	StepID string
	Reason EndReason
}

// EndReason says why a bot ended.
type EndReason string

const (
	// EndCompleted: an end step, or a step with no next step.
	EndCompleted EndReason = "completed"
	// EndHandedOff: a handoff step gave the conversation to routing.
	EndHandedOff EndReason = "handed_off"
	// EndNoValidAnswer: a question ran out of retries and has no fallback.
	EndNoValidAnswer EndReason = "no_valid_answer"
	// EndDefinitionChanged: Step was given another version of the definition than the
	// conversation started with, or one in which the current step no longer fits.
	EndDefinitionChanged EndReason = "definition_changed"
	// EndStepLimit: more than MaxStepsPerInput steps ran without waiting for the visitor.
	EndStepLimit EndReason = "step_limit"
	// EndBrokenDefinition: a step refers to a step that does not exist, or has no settings for
	// its type; Validate rejects such definitions.
	EndBrokenDefinition EndReason = "broken_definition"
)

func (o Say) Step() string                 { return o.StepID }
func (o AwaitAnswer) Step() string         { return o.StepID }
func (o SetContactProperty) Step() string  { return o.StepID }
func (o SetVariable) Step() string         { return o.StepID }
func (o TicketRequest) Step() string       { return o.StepID }
func (o HandoffRequest) Step() string      { return o.StepID }
func (o WebhookRequest) Step() string      { return o.StepID }
func (o AvailabilityRequest) Step() string { return o.StepID }
func (o End) Step() string                 { return o.StepID }
