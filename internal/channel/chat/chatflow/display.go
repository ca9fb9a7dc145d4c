package chatflow

import "time"

// Actions the widget takes by itself when the trigger fires.
const (
	ActionNone   = "none"
	ActionPrompt = "prompt"
	ActionOpen   = "open"
)

// Facts are what the widget endpoint knows about the visitor's client and the team.
type Facts struct {
	Mobile bool
	Status Status // from Available
}

// Decision is what the widget does on a page, as the widget endpoint returns it.
type Decision struct {
	FlowID   int64  `json:"flow_id"`
	Language string `json:"language"`
	// Launcher says whether the widget shows at all. When false the rest is moot.
	Launcher bool `json:"launcher"`
	// Action is what happens without the visitor's click when Trigger fires.
	Action  string   `json:"action"`
	Trigger *Trigger `json:"trigger,omitempty"`
	// Prompt is the text popped out of the launcher (action prompt).
	Prompt string `json:"prompt,omitempty"`
	// WelcomeMessage opens the conversation when the visitor opens the widget.
	WelcomeMessage string `json:"welcome_message,omitempty"`
	Away           bool   `json:"away"`
	// AwayMessage is the flow's away text; empty (while away) means the widget's own.
	AwayMessage  string        `json:"away_message,omitempty"`
	BackAt       *time.Time    `json:"back_at,omitempty"`
	CollectEmail bool          `json:"collect_email"`
	ResponseTime *ResponseTime `json:"response_time,omitempty"`
	Consent      *Consent      `json:"consent,omitempty"`
}

// Decide says what the widget does for a validated flow (CHAT-4, CHAT-6):
//
//   - hidden on mobile, and hidden when away if the flow says so; a bot flow away (outside its
//     business hours) is hidden, since a bot available "only during business hours" does not
//     show outside them;
//   - away, nothing pops: a prompt or an open widget saying nobody is there interrupts the visitor
//     for nothing, so the launcher carries the away message, back-at time and email capture;
//   - on a phone, "open" becomes a prompt (the widget would cover the whole page) and exit intent,
//     which a phone cannot show, never fires;
//   - the response time only while open: away, the back-at time or email capture says more.
func Decide(f *Flow, c Facts) Decision {
	d := Decision{FlowID: f.ID, Language: f.Language, Action: ActionNone}
	away := c.Status.Away()
	switch {
	case c.Mobile && f.Display.HideOnMobile:
		return d
	case away && (f.Away.HideLauncher || f.Type == TypeBot):
		return d
	}
	d.Launcher = true
	d.WelcomeMessage = f.Display.WelcomeMessage
	if f.Consent.Mode != ConsentNone {
		consent := f.Consent
		d.Consent = &consent
	}
	if away {
		d.Away = true
		d.AwayMessage = f.Away.Message
		d.CollectEmail = f.Away.CollectEmail
		if f.Away.ShowBackAt && c.Status.BackAt != nil {
			at := *c.Status.BackAt
			d.BackAt = &at
		}
		return d
	}
	if f.ResponseTime.Kind != ResponseHidden {
		rt := f.ResponseTime
		d.ResponseTime = &rt
	}
	switch f.Display.Behaviour {
	case BehaviourPrompt:
		d.Action = ActionPrompt
	case BehaviourOpen:
		d.Action = ActionOpen
		if c.Mobile {
			d.Action = ActionPrompt
		}
	}
	if d.Action == ActionPrompt && f.Display.WelcomeMessage == "" {
		// Only "open" on a phone gets here without a welcome message: nothing to pop.
		d.Action = ActionNone
	}
	if c.Mobile && f.Display.Trigger.Kind == TriggerExitIntent {
		d.Action = ActionNone
	}
	if d.Action != ActionNone {
		t := f.Display.Trigger
		d.Trigger = &t
	}
	if d.Action == ActionPrompt {
		d.Prompt = f.Display.WelcomeMessage
	}
	return d
}
