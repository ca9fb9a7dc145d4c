package slack_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/slack"
)

// FuzzParseEnvelope feeds Events API bodies to the parser: it must never panic, and whatever it
// accepts must carry what the handler relies on.
func FuzzParseEnvelope(f *testing.F) {
	for _, seed := range []string{
		`{"token":"x","challenge":"abc","type":"url_verification"}`,
		`{"team_id":"T1","type":"event_callback","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"2.0","thread_ts":"1.0"}}`,
		`{"type":"event_callback","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","message":{"text":"x"}}}`,
		`{"type":"app_rate_limited","minute_rate_limited":1}`,
		`{"type":"event_callback","event_id":"","event":null}`,
		`{"type":1}`, `[]`, `null`, ``, `{`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := slack.ParseEnvelope(body)
		if err != nil {
			return
		}
		switch e.Type {
		case "":
			t.Fatal("accepted without a type")
		case slack.TypeURLVerification:
			if e.Challenge == "" {
				t.Fatal("challenge without a challenge")
			}
		case slack.TypeEventCallback:
			if e.EventID == "" || e.Event.Type == "" {
				t.Fatalf("event without id or type: %+v", e)
			}
		}
		_ = e.Event.Reply()
	})
}

// FuzzPlainText turns arbitrary Slack message text into plain text: no panic, no markup left
// that Slack's escaping would have hidden, and valid UTF-8 in, valid UTF-8 out.
func FuzzPlainText(f *testing.F) {
	for _, seed := range []string{"Hello &lt;b&gt;", "<https://a.example|a>", "<@U1|ada> <!here> <#C1>", "<<>>", "<|>", "&amp;lt;", "<mailto:a@b|x>"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := slack.PlainText(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("PlainText(%q) = %q is not UTF-8", in, out)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("PlainText(%q) = %q is not trimmed", in, out)
		}
		// Escaping and reading back gives the text back: what Parley posts reads as it was typed.
		if utf8.ValidString(in) {
			if got := slack.PlainText(slack.Escape(in)); got != strings.TrimSpace(in) {
				t.Fatalf("round trip of %q gave %q", in, got)
			}
		}
	})
}
