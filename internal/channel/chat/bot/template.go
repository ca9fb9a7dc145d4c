package bot

import (
	"regexp"
	"strings"
)

// token matches {{contact.first_name}}, {{ variable.plan }}, {{answer.ask_email}} and the same
// with a default after a bar: {{contact.first_name | there}}.
var token = regexp.MustCompile(`\{\{\s*([a-z]+)\.([A-Za-z0-9_-]+)\s*(?:\|([^{}]*))?\}\}`)

// Render replaces the tokens in s with values from the state: contact.<property> (the contact's
// properties, such as first_name and email), variable.<name> and answer.<question step id>. A
// token whose value is unknown or empty renders as its default, or as nothing: a greeting must
// not show "{{contact.first_name}}" to a visitor who gave no name. Text that is not a token is
// left alone. The result is plain text; whoever displays it escapes it.
func Render(s string, st *State) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return token.ReplaceAllStringFunc(s, func(m string) string {
		sub := token.FindStringSubmatch(m)
		var v string
		switch sub[1] {
		case "contact":
			v = st.Contact[sub[2]]
		case "variable":
			v = st.Variables[sub[2]]
		case "answer":
			v = st.Answers[sub[2]]
		}
		if v == "" {
			v = strings.TrimSpace(sub[3])
		}
		return v
	})
}
