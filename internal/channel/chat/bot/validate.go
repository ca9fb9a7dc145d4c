package bot

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
)

// codeInvalid is the problem code of every definition error; Fields says where.
const codeInvalid = "invalid_bot"

// codeUnreachable is the code of the warning about a step no path reaches.
const codeUnreachable = "bot_step_unreachable"

// Warning is a finding that does not stop a definition from running.
type Warning struct {
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// checker collects every problem of a definition, so an editor can mark all of them at once.
type checker struct {
	fields map[string]string
	order  []string
}

func (c *checker) add(field, format string, args ...any) {
	if c.fields == nil {
		c.fields = map[string]string{}
	}
	if _, dup := c.fields[field]; dup {
		return // the first problem of a field is the one to fix first
	}
	c.fields[field] = fmt.Sprintf(format, args...)
	c.order = append(c.order, field)
}

func (c *checker) err() error {
	if len(c.order) == 0 {
		return nil
	}
	first := c.order[0]
	detail := first + ": " + c.fields[first]
	if n := len(c.order) - 1; n > 0 {
		detail += fmt.Sprintf(" (and %d more)", n)
	}
	return &problem.Error{Kind: problem.Invalid, Code: codeInvalid, Detail: detail, Fields: c.fields}
}

// validID reports whether s may be a step id, variable or property name: ASCII letters, digits,
// "_" and "-", so ids survive URLs, tokens and field paths unescaped.
func validID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// Validate reports everything that would stop the definition from running as intended, as one
// problem error (code "invalid_bot") whose Fields map JSON paths to messages: a wrong schema,
// missing or duplicate ids, a step whose settings do not match its type, a reference to a step
// that does not exist, and a cycle of steps none of which asks a question (it would run forever
// without the visitor). Unreachable steps are not errors; see Warnings.
func (d *Definition) Validate() error {
	var c checker
	if d.Schema != Schema {
		c.add("schema", "must be %d", Schema)
	}
	if d.Version < 1 {
		c.add("version", "must be 1 or more")
	}
	switch {
	case len(d.Steps) == 0:
		c.add("steps", "a bot needs at least one step")
	case len(d.Steps) > MaxSteps:
		c.add("steps", "a bot has at most %d steps", MaxSteps)
		return c.err() // not worth walking further
	}
	ids := make(map[string]int, len(d.Steps))
	for i, s := range d.Steps {
		path := fmt.Sprintf("steps[%d].id", i)
		switch {
		case !validID(s.ID, maxIDLen):
			c.add(path, "must be 1 to %d letters, digits, _ or -", maxIDLen)
		case ids[s.ID] > 0:
			c.add(path, "duplicates the id of steps[%d]", ids[s.ID]-1)
		default:
			ids[s.ID] = i + 1
		}
	}
	exists := func(id string) bool { return ids[id] > 0 }
	if d.Start != "" && !exists(d.Start) {
		c.add("start", "no step has the id %q", d.Start)
	}
	for i := range d.Steps {
		d.Steps[i].check(&c, fmt.Sprintf("steps[%d]", i), d, exists)
	}
	if len(c.order) == 0 {
		d.checkLoops(&c)
	}
	return c.err()
}

// ref checks a reference to another step; empty is allowed only when optional.
func ref(c *checker, field, id string, optional bool, exists func(string) bool) {
	switch {
	case id == "" && optional:
	case id == "":
		c.add(field, "is required")
	case !exists(id):
		c.add(field, "no step has the id %q", id)
	}
}

func text(c *checker, field, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "" && required:
		c.add(field, "is required")
	case utf8.RuneCountInString(s) > maxTextLen:
		c.add(field, "is longer than %d characters", maxTextLen)
	}
}

func checkURL(c *checker, field, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		c.add(field, "is required")
	case len(s) > maxURLLen:
		c.add(field, "is longer than %d characters", maxURLLen)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		c.add(field, "must be an absolute http or https URL")
	case u.User != nil:
		c.add(field, "must not carry a user name or password")
	}
}

func (t *Target) check(c *checker, field string) {
	switch {
	case t.Property != "" && t.Variable != "":
		c.add(field, "names either a property or a variable, not both")
	case t.Property != "":
		if !validID(t.Property, maxNameLen) {
			c.add(field+".property", "must be 1 to %d letters, digits, _ or -", maxNameLen)
		}
	case t.Variable != "":
		if !validID(t.Variable, maxNameLen) {
			c.add(field+".variable", "must be 1 to %d letters, digits, _ or -", maxNameLen)
		}
	default:
		c.add(field, "needs a property or a variable")
	}
}

func checkIDs(c *checker, field string, ids []int64) {
	if len(ids) > maxIDs {
		c.add(field, "has more than %d entries", maxIDs)
		return
	}
	for j, id := range ids {
		if id <= 0 {
			c.add(fmt.Sprintf("%s[%d]", field, j), "must be a positive id")
		} else if slices.Contains(ids[:j], id) {
			c.add(fmt.Sprintf("%s[%d]", field, j), "is listed twice")
		}
	}
}

func (s *Action) check(c *checker, path string, d *Definition, exists func(string) bool) {
	bodies := []struct {
		action ActionType
		set    bool
	}{
		{ActSendMessage, s.SendMessage != nil}, {ActAskQuestion, s.AskQuestion != nil}, {ActBranch, s.Branch != nil},
		{ActSetProperty, s.SetProperty != nil}, {ActSubmitTicket, s.SubmitTicket != nil}, {ActHandoff, s.Handoff != nil},
		{ActWebhook, s.Webhook != nil}, {ActMeetingLink, s.MeetingLink != nil}, {ActEnd, s.End != nil},
	}
	known := false
	for _, b := range bodies {
		if b.action == s.Type {
			known = true
			if !b.set {
				c.add(path+"."+string(b.action), "is required for a %s step", s.Type)
				return
			}
		} else if b.set {
			c.add(path+"."+string(b.action), "does not belong to a %s step", s.Type)
		}
	}
	if !known {
		c.add(path+".type", "must be one of send_message, ask_question, branch, set_property, submit_ticket, handoff, webhook, meeting_link, end")
		return
	}
	if s.Type == ActHandoff || s.Type == ActEnd {
		if s.Next != "" {
			c.add(path+".next", "must be empty: a %s step ends the bot", s.Type)
		}
	} else {
		ref(c, path+".next", s.Next, true, exists)
	}
	p := path + "." + string(s.Type)
	switch s.Type {
	case ActSendMessage:
		text(c, p+".text", s.SendMessage.Text, true)
	case ActAskQuestion:
		s.AskQuestion.check(c, p, exists)
	case ActBranch:
		s.Branch.check(c, p, d, exists)
	case ActSetProperty:
		s.SetProperty.Target.check(c, p)
		text(c, p+".value", s.SetProperty.Value, false)
	case ActSubmitTicket:
		t := s.SubmitTicket
		text(c, p+".subject", t.Subject, true)
		text(c, p+".description", t.Description, false)
		if t.PipelineID < 0 {
			c.add(p+".pipeline_id", "must be a positive id")
		}
		if t.StageID < 0 {
			c.add(p+".stage_id", "must be a positive id")
		}
		if !slices.Contains([]string{"", "none", "low", "medium", "high", "urgent"}, t.Priority) {
			c.add(p+".priority", "must be none, low, medium, high or urgent")
		}
	case ActHandoff:
		checkIDs(c, p+".user_ids", s.Handoff.UserIDs)
		checkIDs(c, p+".team_ids", s.Handoff.TeamIDs)
	case ActWebhook:
		w := s.Webhook
		checkURL(c, p+".url", w.URL)
		if len(w.SetVariables) > maxMappings {
			c.add(p+".set_variables", "has more than %d entries", maxMappings)
		}
		for _, name := range sortedKeys(w.SetVariables) {
			if !validID(name, maxNameLen) {
				c.add(p+".set_variables."+name, "a variable name is 1 to %d letters, digits, _ or -", maxNameLen)
			} else if path := w.SetVariables[name]; path == "" || len(path) > 200 || strings.Contains(path, "..") ||
				strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
				c.add(p+".set_variables."+name, "must be a dotted path into the response such as customer.tier")
			}
		}
		ref(c, p+".on_error", w.OnError, true, exists)
	case ActMeetingLink:
		m := s.MeetingLink
		text(c, p+".text", m.Text, false)
		checkURL(c, p+".url", m.URL)
		if utf8.RuneCountInString(m.Label) > maxChoiceLen {
			c.add(p+".label", "is longer than %d characters", maxChoiceLen)
		}
	case ActEnd:
		text(c, p+".message", s.End.Message, false)
	}
}

func (q *Question) check(c *checker, p string, exists func(string) bool) {
	switch q.Kind {
	case TextAnswer, EmailAnswer, PhoneAnswer, NumberAnswer, DateAnswer, ChoiceAnswer:
	default:
		c.add(p+".kind", "must be one of text, email, phone, number, date, choice")
	}
	text(c, p+".prompt", q.Prompt, true)
	text(c, p+".error_message", q.ErrorMessage, false)
	if q.MaxRetries < 0 || q.MaxRetries > maxRetries {
		c.add(p+".max_retries", "must be between 0 and %d", maxRetries)
	}
	ref(c, p+".fallback", q.Fallback, true, exists)
	if q.SaveTo != nil {
		q.SaveTo.check(c, p+".save_to")
	}
	if q.Kind != ChoiceAnswer {
		if len(q.Choices) > 0 {
			c.add(p+".choices", "only a choice question has choices")
		}
		return
	}
	switch {
	case len(q.Choices) == 0:
		c.add(p+".choices", "a choice question needs at least one choice")
	case len(q.Choices) > maxChoices:
		c.add(p+".choices", "has more than %d choices", maxChoices)
	}
	for j, ch := range q.Choices {
		cp := fmt.Sprintf("%s.choices[%d]", p, j)
		label := strings.TrimSpace(ch.Label)
		switch {
		case label == "":
			c.add(cp+".label", "is required")
		case utf8.RuneCountInString(ch.Label) > maxChoiceLen:
			c.add(cp+".label", "is longer than %d characters", maxChoiceLen)
		case utf8.RuneCountInString(ch.Value) > maxChoiceLen:
			c.add(cp+".value", "is longer than %d characters", maxChoiceLen)
		}
		for _, prev := range q.Choices[:j] {
			if strings.EqualFold(strings.TrimSpace(prev.Label), label) {
				c.add(cp+".label", "is the same as another choice's label")
			}
			if prev.value() == ch.value() {
				c.add(cp+".value", "is the same as another choice's value")
			}
		}
	}
}

func (b *Branch) check(c *checker, p string, d *Definition, exists func(string) bool) {
	switch {
	case len(b.Cases) == 0:
		c.add(p+".cases", "a branch needs at least one case")
	case len(b.Cases) > maxCases:
		c.add(p+".cases", "has more than %d cases", maxCases)
	}
	for j, cs := range b.Cases {
		cp := fmt.Sprintf("%s.cases[%d]", p, j)
		ref(c, cp+".next", cs.Next, false, exists)
		switch {
		case len(cs.Conditions) == 0:
			c.add(cp+".conditions", "a case needs at least one condition")
		case len(cs.Conditions) > maxConditions:
			c.add(cp+".conditions", "has more than %d conditions", maxConditions)
		}
		for k, cond := range cs.Conditions {
			cond.check(c, fmt.Sprintf("%s.conditions[%d]", cp, k), d)
		}
	}
}

func (cond Condition) check(c *checker, p string, d *Definition) {
	if cond.Source == FromTeamAvailability {
		if cond.Name != "" {
			c.add(p+".name", "must be empty for team availability; use team_id")
		}
		if cond.TeamID < 0 {
			c.add(p+".team_id", "must be a team id, or 0 for the chatflow's inbox")
		}
		if cond.Operator != Equals && cond.Operator != NotEquals {
			c.add(p+".operator", "team availability is compared with equals or not_equals")
		}
		if cond.Value != "true" && cond.Value != "false" {
			c.add(p+".value", `must be "true" (available) or "false"`)
		}
		return
	}
	switch cond.Source {
	case FromAnswer:
		if s := d.step(cond.Name); s == nil || s.Type != ActAskQuestion {
			c.add(p+".name", "must be the id of a question step")
		}
	case FromVariable, FromProperty:
		if !validID(cond.Name, maxNameLen) {
			c.add(p+".name", "must be 1 to %d letters, digits, _ or -", maxNameLen)
		}
	default:
		c.add(p+".source", "must be one of answer, variable, property, team_availability")
	}
	if cond.TeamID != 0 {
		c.add(p+".team_id", "belongs only to a team availability condition")
	}
	switch cond.Operator {
	case Equals, NotEquals, Contains:
		if strings.TrimSpace(cond.Value) == "" {
			c.add(p+".value", "is required with %s", cond.Operator)
		} else if utf8.RuneCountInString(cond.Value) > maxTextLen {
			c.add(p+".value", "is longer than %d characters", maxTextLen)
		}
	case IsSet, IsNotSet:
		if cond.Value != "" {
			c.add(p+".value", "must be empty with %s", cond.Operator)
		}
	case GreaterThan, LessThan:
		if _, err := strconv.ParseFloat(cond.Value, 64); err != nil || !canonicalNumber(cond.Value) {
			c.add(p+".value", "must be a number such as 10 or 2.5")
		}
	default:
		c.add(p+".operator", "must be one of equals, not_equals, contains, is_set, is_not_set, greater_than, less_than")
	}
}

// canonicalNumber reports whether s is a plain decimal: an optional minus, digits, and an
// optional fraction. It keeps "1e9", "NaN" and "0x10", which ParseFloat accepts, out of bots.
func canonicalNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	return allDigits(intPart) && intPart != "" && (!hasFrac || (frac != "" && allDigits(frac)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// successors lists the steps a step can lead to without the visitor, and, for a question, the
// fallback it takes after an answer.
func (s *Action) successors() []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	add(s.Next)
	switch {
	case s.Branch != nil && s.Type == ActBranch:
		for _, cs := range s.Branch.Cases {
			add(cs.Next)
		}
	case s.AskQuestion != nil && s.Type == ActAskQuestion:
		add(s.AskQuestion.Fallback)
	case s.Webhook != nil && s.Type == ActWebhook:
		add(s.Webhook.OnError)
	}
	return out
}

// checkLoops finds cycles with no question on them. A question waits for the visitor, so a
// loop through one advances only as fast as the visitor answers; any other loop would spin on
// its own. Only called on a definition whose references all resolve.
func (d *Definition) checkLoops(c *checker) {
	index := make(map[string]int, len(d.Steps))
	for i, s := range d.Steps {
		index[s.ID] = i
	}
	const (
		unseen = iota
		onPath
		done
	)
	color := make([]int, len(d.Steps))
	var path []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = onPath
		path = append(path, i)
		for _, id := range d.Steps[i].successors() {
			j := index[id]
			if d.Steps[j].Type == ActAskQuestion {
				continue
			}
			switch color[j] {
			case onPath:
				at := slices.Index(path, j)
				var ids []string
				for _, k := range path[at:] {
					ids = append(ids, d.Steps[k].ID)
				}
				ids = append(ids, d.Steps[j].ID)
				c.add(fmt.Sprintf("steps[%d]", j), "loops back without asking a question (%s): it would never stop",
					strings.Join(ids, " → "))
			case unseen:
				visit(j)
			}
		}
		path = path[:len(path)-1]
		color[i] = done
	}
	for i, s := range d.Steps {
		if s.Type != ActAskQuestion && color[i] == unseen {
			visit(i)
		}
	}
}

// Warnings reports findings that do not stop the definition from running: steps no path from
// the start reaches. They are not errors because an editor passes through such states while
// steps are rewired, and an unreachable step never runs.
func (d *Definition) Warnings() []Warning {
	index := make(map[string]int, len(d.Steps))
	for i, s := range d.Steps {
		if _, dup := index[s.ID]; !dup {
			index[s.ID] = i
		}
	}
	start, ok := index[d.startID()]
	if !ok {
		return nil
	}
	reached := make([]bool, len(d.Steps))
	reached[start] = true
	queue := []int{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, id := range d.Steps[i].successors() {
			if j, ok := index[id]; ok && !reached[j] {
				reached[j] = true
				queue = append(queue, j)
			}
		}
	}
	var out []Warning
	for i, r := range reached {
		if !r {
			out = append(out, Warning{Code: codeUnreachable, Field: fmt.Sprintf("steps[%d]", i),
				Message: fmt.Sprintf("no path from the start reaches step %q", d.Steps[i].ID)})
		}
	}
	return out
}
