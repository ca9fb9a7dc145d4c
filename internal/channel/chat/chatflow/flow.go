package chatflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
)

// Error codes. Validate reports every problem it finds in Error.Fields (keyed by field path, e.g.
// "targeting.groups[0].rules[1].value"); Error.Code is the code of the first one.
const (
	CodeInvalidChatflow      = "invalid_chatflow"
	CodeInvalidTargetingRule = "invalid_targeting_rule"
	CodeInvalidBusinessHours = "invalid_business_hours"
	// CodeInvalidTimeZone is the code routing's working hours use for the same mistake.
	CodeInvalidTimeZone = "invalid_time_zone"
)

// Flow types.
const (
	TypeLiveChat = "live_chat"
	TypeBot      = "bot"
)

// Display behaviours: what happens when the trigger fires. The launcher shows in every case.
const (
	BehaviourLauncherOnly = "launcher_only"
	BehaviourPrompt       = "prompt" // pop the welcome message out of the launcher
	BehaviourOpen         = "open"   // open the whole widget
)

// Triggers.
const (
	TriggerOnLoad             = "on_load"
	TriggerAfterSeconds       = "after_seconds"
	TriggerAfterScrollPercent = "after_scroll_percent"
	TriggerExitIntent         = "exit_intent"
)

// Availability modes.
const (
	ModeTeamStatus    = "team_status"    // open when anyone eligible is available
	ModeBusinessHours = "business_hours" // open inside the weekly schedule, except holidays
	ModeAlways        = "always"
)

// Typical response times shown to visitors.
const (
	ResponseHidden     = "hidden"
	ResponseFewMinutes = "few_minutes"
	ResponseHour       = "hour"
	ResponseFewHours   = "few_hours"
	ResponseDay        = "day"
	ResponseCustom     = "custom"
)

// Consent modes (CHAT-12).
const (
	ConsentNone     = "none"
	ConsentImplicit = "implicit" // the text is shown; starting the chat agrees
	ConsentExplicit = "explicit" // the visitor clicks "I agree" before chatting
)

// Hand-off targets and strategies. They are routing's values (package routing's AssignTargets and
// Strategies; a test keeps them equal) without importing it, which would drag the store in.
const (
	AssignUsersAndTeams = "users_and_teams"
	AssignContactOwner  = "contact_owner"
	StrategyRoundRobin  = "round_robin"
	StrategyBalanced    = "balanced"
)

// Heading modes (CHAT-2): whom the widget's heading shows.
const (
	HeadingUsersAndTeams = "users_and_teams" // up to three of the named users and teams' members
	HeadingCustom        = "custom"          // a name and avatar the flow sets
	HeadingContactOwner  = "contact_owner"   // the visitor's contact owner, else as users_and_teams
)

// DefaultAutoCloseMinutes is CHAT-10's default.
const DefaultAutoCloseMinutes = 30

// The values each enum accepts, in the order error messages list them.
var (
	Types         = []string{TypeLiveChat, TypeBot}
	Languages     = []string{"en", "sv", "nb", "da"}
	Behaviours    = []string{BehaviourLauncherOnly, BehaviourPrompt, BehaviourOpen}
	Triggers      = []string{TriggerOnLoad, TriggerAfterSeconds, TriggerAfterScrollPercent, TriggerExitIntent}
	Modes         = []string{ModeTeamStatus, ModeBusinessHours, ModeAlways}
	ResponseTimes = []string{ResponseHidden, ResponseFewMinutes, ResponseHour, ResponseFewHours, ResponseDay, ResponseCustom}
	ConsentModes  = []string{ConsentNone, ConsentImplicit, ConsentExplicit}
	AssignTargets = []string{AssignUsersAndTeams, AssignContactOwner}
	Strategies    = []string{StrategyRoundRobin, StrategyBalanced}
	HeadingModes  = []string{HeadingUsersAndTeams, HeadingCustom, HeadingContactOwner}
	botModes      = []string{ModeBusinessHours, ModeAlways}
)

// Limits on sizes, so a stored flow stays small and the widget endpoint cheap.
const (
	maxName         = 100
	maxMessage      = 1000
	maxConsentText  = 2000
	maxCustomText   = 100
	maxURL          = 2048
	maxParamName    = 256
	maxGroups       = 20
	maxRules        = 20
	maxHolidays     = 500
	maxHandOffUsers = 100
	maxPriority     = 1_000_000
	maxAutoClose    = 30 * 24 * 60 // a month: past that "auto-close" is a typo
	maxTriggerSecs  = 3600
)

// Flow is one chatflow of a chat channel.
type Flow struct {
	// ID is unique within the channel; 0 for a flow not stored yet.
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Enabled bool   `json:"enabled"`
	// Language is the widget's language for this flow: en, sv, nb or da.
	Language string `json:"language"`
	InboxID  int64  `json:"inbox_id"`
	// Priority orders matching flows on a page: the lowest number wins, ties by lowest ID.
	Priority     int          `json:"priority"`
	Targeting    Targeting    `json:"targeting"`
	Display      Display      `json:"display"`
	Availability Availability `json:"availability"`
	ResponseTime ResponseTime `json:"response_time"`
	Away         Away         `json:"away"`
	// AutoCloseMinutes closes a chat after this long without messages; 0 turns it off. Absent
	// from JSON it is DefaultAutoCloseMinutes (Parse starts from New).
	AutoCloseMinutes int     `json:"auto_close_minutes"`
	Consent          Consent `json:"consent"`
	// Bot names the bot a bot flow runs; a live chat flow has none.
	Bot     *BotRef `json:"bot,omitempty"`
	HandOff HandOff `json:"hand_off"`
	// Heading is who the widget's heading shows; nil shows the widget's own title only.
	Heading *Heading `json:"heading,omitempty"`
}

// Heading is who the widget's heading presents to the visitor (CHAT-2). Under users_and_teams
// the widget shows at most three of the users and the teams' members (a random three when there
// are more); under contact_owner the visitor's contact owner, and for visitors without one the
// users and teams as under users_and_teams; under custom a name and an avatar of the flow's own.
type Heading struct {
	Mode    string  `json:"mode"`
	UserIDs []int64 `json:"user_ids"`
	TeamIDs []int64 `json:"team_ids"`
	// Name and AvatarURL are for custom only.
	Name      string `json:"name,omitempty"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

// Display is the welcome message and how the widget presents itself (CHAT-4).
type Display struct {
	WelcomeMessage string  `json:"welcome_message"`
	Behaviour      string  `json:"behaviour"`
	Trigger        Trigger `json:"trigger"`
	HideOnMobile   bool    `json:"hide_on_mobile"`
}

// Trigger is when the display behaviour happens. Value is seconds for after_seconds (1…3600) and
// a percentage for after_scroll_percent (1…100); the other kinds have none.
type Trigger struct {
	Kind  string `json:"kind"`
	Value int    `json:"value,omitempty"`
}

// Availability is how the flow decides whether the team is there (CHAT-5). A bot flow's
// availability says when the bot shows: business hours or always.
type Availability struct {
	Mode          string         `json:"mode"`
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
}

// ResponseTime is the typical response time shown to visitors (CHAT-6); Text only for custom.
type ResponseTime struct {
	Kind string `json:"kind"`
	Text string `json:"text,omitempty"`
}

// Away is what visitors see when the team is away (CHAT-6).
type Away struct {
	// Message is shown in the widget; empty means the widget's own text in the flow's language.
	Message string `json:"message"`
	// ShowBackAt shows when the team is back (business hours only: team status has no schedule).
	ShowBackAt bool `json:"show_back_at"`
	// CollectEmail asks for the visitor's email so the reply goes by email and threads back.
	CollectEmail bool `json:"collect_email"`
	HideLauncher bool `json:"hide_launcher"`
}

// Consent is the data-processing consent the flow asks for (CHAT-12).
type Consent struct {
	Mode       string `json:"mode"`
	Text       string `json:"text,omitempty"`
	PrivacyURL string `json:"privacy_url,omitempty"`
}

// BotRef pins the version of a bot a bot flow runs, so editing the bot does not change live
// conversations until the flow moves to the new version.
type BotRef struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"`
}

// HandOff is who a chat goes to, in routing's rule shape (ROUTE-1): the flow's "send to team
// member" step. Under contact_owner the users and teams are the fallback for visitors without an
// owner, as in routing.
type HandOff struct {
	AssignTo      string  `json:"assign_to"`
	UserIDs       []int64 `json:"user_ids"`
	TeamIDs       []int64 `json:"team_ids"`
	OnlyAvailable bool    `json:"only_available"`
	Strategy      string  `json:"strategy"`
}

// New returns a flow with the defaults: disabled live chat in English, shown on every page,
// launcher only on load, availability by team status, auto-close after 30 minutes, no consent,
// hand-off to available users round robin. It does not validate (no name or inbox yet).
func New() *Flow {
	return &Flow{
		Type:             TypeLiveChat,
		Language:         "en",
		Targeting:        Targeting{Groups: []Group{}, Exclusions: []Group{}},
		Display:          Display{Behaviour: BehaviourLauncherOnly, Trigger: Trigger{Kind: TriggerOnLoad}},
		ResponseTime:     ResponseTime{Kind: ResponseHidden},
		AutoCloseMinutes: DefaultAutoCloseMinutes,
		Consent:          Consent{Mode: ConsentNone},
		HandOff: HandOff{AssignTo: AssignUsersAndTeams, UserIDs: []int64{}, TeamIDs: []int64{},
			OnlyAvailable: true, Strategy: StrategyRoundRobin},
	}
}

// Parse reads one flow from JSON — unknown fields refused — on top of New's defaults, so absent
// fields keep them (auto_close_minutes 30 and only_available true included), then validates it.
func Parse(data []byte) (*Flow, error) {
	f := New()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, decodeProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, problem.Field(CodeInvalidChatflow, "chatflow", "must be one JSON object")
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeProblem names the field a JSON decoding error is about where encoding/json says so.
func decodeProblem(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return problem.Field(CodeInvalidChatflow, typ.Field, "must be a JSON "+jsonKind(typ.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return problem.Field(CodeInvalidChatflow, strings.Trim(name, `"`), "is not a chatflow field")
	}
	return problem.Field(CodeInvalidChatflow, "chatflow", "must be a JSON object")
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "whole number"
	case strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "slice":
		return "array"
	case goKind == "struct", goKind == "map", goKind == "ptr":
		return "object"
	}
	return goKind // string, bool
}

// problems collects every problem of one validation, so an editor can mark all bad fields at once.
type problems struct {
	code   string
	first  string
	fields map[string]string
}

func (p *problems) add(code, field, message string) {
	if p.fields == nil {
		p.fields = map[string]string{}
		p.code, p.first = code, field
	}
	if _, dup := p.fields[field]; !dup {
		p.fields[field] = message
	}
}

func (p *problems) err() error {
	if p.fields == nil {
		return nil
	}
	detail := p.first + ": " + p.fields[p.first]
	if n := len(p.fields); n > 1 {
		detail += fmt.Sprintf(" (and %d more)", n-1)
	}
	return &problem.Error{Kind: problem.Invalid, Code: p.code, Detail: detail, Fields: p.fields}
}

func oneOf(list []string) string { return "must be one of " + strings.Join(list, ", ") }

// cleanText trims s and checks it is at most max characters of valid UTF-8 without control
// characters (newlines and tabs allowed when multiline).
func cleanText(s string, max int, multiline bool) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return s, "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return s, fmt.Sprintf("must be at most %d characters", max)
	}
	bad := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	})
	if bad >= 0 {
		return s, "must not contain control characters"
	}
	return s, ""
}

// Validate normalises the flow in place — trims text, fills empty enums with their defaults,
// sorts and de-duplicates lists, gives every weekday a (possibly empty) list of intervals — and
// checks it. It returns nil or a *problem.Error listing every problem by field path. Validating a
// valid flow again changes nothing.
func (f *Flow) Validate() error {
	var p problems
	if f.ID < 0 {
		p.add(CodeInvalidChatflow, "id", "must not be negative")
	}
	var msg string
	if f.Name, msg = cleanText(f.Name, maxName, false); msg != "" {
		p.add(CodeInvalidChatflow, "name", msg)
	} else if f.Name == "" {
		p.add(CodeInvalidChatflow, "name", "must not be empty")
	}
	if f.Type == "" {
		f.Type = TypeLiveChat
	}
	if !slices.Contains(Types, f.Type) {
		p.add(CodeInvalidChatflow, "type", oneOf(Types))
	}
	if f.Language == "" {
		f.Language = "en"
	}
	if !slices.Contains(Languages, f.Language) {
		p.add(CodeInvalidChatflow, "language", oneOf(Languages))
	}
	if f.InboxID <= 0 {
		p.add(CodeInvalidChatflow, "inbox_id", "must name an inbox")
	}
	if f.Priority < 0 || f.Priority > maxPriority {
		p.add(CodeInvalidChatflow, "priority", fmt.Sprintf("must be from 0 (first) to %d", maxPriority))
	}
	f.Targeting.validate(&p)
	f.Display.validate(&p)
	f.Availability.validate(&p, f.Type)
	f.validateResponseAndAway(&p)
	if f.AutoCloseMinutes < 0 || f.AutoCloseMinutes > maxAutoClose {
		p.add(CodeInvalidChatflow, "auto_close_minutes", fmt.Sprintf("must be from 0 (off) to %d minutes", maxAutoClose))
	}
	f.Consent.validate(&p)
	switch {
	case f.Type == TypeBot && f.Bot == nil:
		p.add(CodeInvalidChatflow, "bot", "a bot chatflow must name its bot")
	case f.Type == TypeBot:
		if f.Bot.ID <= 0 {
			p.add(CodeInvalidChatflow, "bot.id", "must name a bot")
		}
		if f.Bot.Version <= 0 {
			p.add(CodeInvalidChatflow, "bot.version", "must be a version of the bot, from 1")
		}
	case f.Bot != nil:
		p.add(CodeInvalidChatflow, "bot", "only bot chatflows run a bot")
	}
	f.HandOff.validate(&p)
	if f.Heading != nil {
		f.Heading.validate(&p)
	}
	return p.err()
}

func (h *Heading) validate(p *problems) {
	if h.Mode == "" {
		h.Mode = HeadingUsersAndTeams
	}
	if !slices.Contains(HeadingModes, h.Mode) {
		p.add(CodeInvalidChatflow, "heading.mode", oneOf(HeadingModes))
	}
	h.UserIDs = cleanIDs(p, h.UserIDs, "heading.user_ids")
	h.TeamIDs = cleanIDs(p, h.TeamIDs, "heading.team_ids")
	var msg string
	if h.Name, msg = cleanText(h.Name, maxName, false); msg != "" {
		p.add(CodeInvalidChatflow, "heading.name", msg)
	}
	h.AvatarURL = strings.TrimSpace(h.AvatarURL)
	if h.AvatarURL != "" && !absoluteHTTP(h.AvatarURL) {
		p.add(CodeInvalidChatflow, "heading.avatar_url", "must be a full http or https URL")
	}
	switch {
	case h.Mode == HeadingCustom && h.Name == "" && msg == "":
		p.add(CodeInvalidChatflow, "heading.name", "must not be empty for a custom heading")
	case h.Mode == HeadingCustom && (len(h.UserIDs) > 0 || len(h.TeamIDs) > 0):
		p.add(CodeInvalidChatflow, "heading.user_ids", "is not for a custom heading")
	case h.Mode != HeadingCustom && (h.Name != "" || h.AvatarURL != ""):
		// A name kept from an earlier custom heading would silently never show.
		p.add(CodeInvalidChatflow, "heading.name", "is only for a custom heading")
	}
}

func (d *Display) validate(p *problems) {
	var msg string
	if d.WelcomeMessage, msg = cleanText(d.WelcomeMessage, maxMessage, true); msg != "" {
		p.add(CodeInvalidChatflow, "display.welcome_message", msg)
	}
	if d.Behaviour == "" {
		d.Behaviour = BehaviourLauncherOnly
	}
	switch {
	case !slices.Contains(Behaviours, d.Behaviour):
		p.add(CodeInvalidChatflow, "display.behaviour", oneOf(Behaviours))
	case d.Behaviour == BehaviourPrompt && d.WelcomeMessage == "" && msg == "":
		// A prompt pops the welcome message out of the launcher: without one there is nothing to pop.
		p.add(CodeInvalidChatflow, "display.welcome_message", "must not be empty when the behaviour is prompt")
	}
	if d.Trigger.Kind == "" {
		d.Trigger.Kind = TriggerOnLoad
	}
	switch d.Trigger.Kind {
	case TriggerAfterSeconds:
		if d.Trigger.Value < 1 || d.Trigger.Value > maxTriggerSecs {
			p.add(CodeInvalidChatflow, "display.trigger.value", fmt.Sprintf("must be from 1 to %d seconds", maxTriggerSecs))
		}
	case TriggerAfterScrollPercent:
		if d.Trigger.Value < 1 || d.Trigger.Value > 100 {
			p.add(CodeInvalidChatflow, "display.trigger.value", "must be a percentage from 1 to 100")
		}
	case TriggerOnLoad, TriggerExitIntent:
		if d.Trigger.Value != 0 {
			p.add(CodeInvalidChatflow, "display.trigger.value", "is only for after_seconds and after_scroll_percent")
		}
	default:
		p.add(CodeInvalidChatflow, "display.trigger.kind", oneOf(Triggers))
	}
}

func (a *Availability) validate(p *problems, flowType string) {
	if a.Mode == "" {
		// A bot that nobody scheduled answers around the clock; a live chat follows the team.
		a.Mode = ModeTeamStatus
		if flowType == TypeBot {
			a.Mode = ModeAlways
		}
	}
	switch {
	case !slices.Contains(Modes, a.Mode):
		p.add(CodeInvalidChatflow, "availability.mode", oneOf(Modes))
	case flowType == TypeBot && !slices.Contains(botModes, a.Mode):
		// CHAT-9: a bot shows during business hours or always; team status decides its hand-off,
		// not whether it shows.
		p.add(CodeInvalidChatflow, "availability.mode", "a bot chatflow's must be one of "+strings.Join(botModes, ", "))
	case a.Mode == ModeBusinessHours && a.BusinessHours == nil:
		p.add(CodeInvalidBusinessHours, "availability.business_hours", "must be set when the mode is business_hours")
	}
	// A schedule kept while another mode is chosen is still checked, so switching back cannot fail.
	if a.BusinessHours != nil {
		a.BusinessHours.validate(p, "availability.business_hours")
	}
}

func (f *Flow) validateResponseAndAway(p *problems) {
	r := &f.ResponseTime
	if r.Kind == "" {
		r.Kind = ResponseHidden
	}
	var msg string
	r.Text, msg = cleanText(r.Text, maxCustomText, false)
	switch {
	case !slices.Contains(ResponseTimes, r.Kind):
		p.add(CodeInvalidChatflow, "response_time.kind", oneOf(ResponseTimes))
	case msg != "":
		p.add(CodeInvalidChatflow, "response_time.text", msg)
	case r.Kind == ResponseCustom && r.Text == "":
		p.add(CodeInvalidChatflow, "response_time.text", "must not be empty for a custom response time")
	case r.Kind != ResponseCustom && r.Text != "":
		p.add(CodeInvalidChatflow, "response_time.text", "is only for a custom response time")
	}
	if f.Away.Message, msg = cleanText(f.Away.Message, maxMessage, true); msg != "" {
		p.add(CodeInvalidChatflow, "away.message", msg)
	}
}

func (c *Consent) validate(p *problems) {
	if c.Mode == "" {
		c.Mode = ConsentNone
	}
	var msg string
	if c.Text, msg = cleanText(c.Text, maxConsentText, true); msg != "" {
		p.add(CodeInvalidChatflow, "consent.text", msg)
	}
	c.PrivacyURL = strings.TrimSpace(c.PrivacyURL)
	switch {
	case !slices.Contains(ConsentModes, c.Mode):
		p.add(CodeInvalidChatflow, "consent.mode", oneOf(ConsentModes))
	case c.Mode != ConsentNone && c.Text == "" && msg == "":
		// The exact text is what the contact's consent record keeps; consent to nothing is none.
		p.add(CodeInvalidChatflow, "consent.text", "must not be empty when consent is asked")
	}
	if c.PrivacyURL != "" && !absoluteHTTP(c.PrivacyURL) {
		p.add(CodeInvalidChatflow, "consent.privacy_url", "must be a full http or https URL")
	}
}

// absoluteHTTP reports whether s is an http(s) URL with a host, of a sane length.
func absoluteHTTP(s string) bool {
	if len(s) > maxURL {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == ""
}

func (h *HandOff) validate(p *problems) {
	if h.AssignTo == "" {
		h.AssignTo = AssignUsersAndTeams
	}
	if !slices.Contains(AssignTargets, h.AssignTo) {
		p.add(CodeInvalidChatflow, "hand_off.assign_to", oneOf(AssignTargets))
	}
	if h.Strategy == "" {
		h.Strategy = StrategyRoundRobin
	}
	if !slices.Contains(Strategies, h.Strategy) {
		p.add(CodeInvalidChatflow, "hand_off.strategy", oneOf(Strategies))
	}
	h.UserIDs = cleanIDs(p, h.UserIDs, "hand_off.user_ids")
	h.TeamIDs = cleanIDs(p, h.TeamIDs, "hand_off.team_ids")
}

// cleanIDs sorts and de-duplicates ids: the order of a routing list carries no meaning (the
// strategy picks), so equal sets compare equal.
func cleanIDs(p *problems, ids []int64, field string) []int64 {
	for i, id := range ids {
		if id <= 0 {
			p.add(CodeInvalidChatflow, fmt.Sprintf("%s[%d]", field, i), "must be an id")
			break
		}
	}
	out := slices.Clone(ids)
	if out == nil {
		out = []int64{}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > maxHandOffUsers {
		p.add(CodeInvalidChatflow, field, fmt.Sprintf("must list at most %d", maxHandOffUsers))
	}
	return out
}
