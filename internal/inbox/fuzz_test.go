package inbox

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// activeHTML finds what could run in a page: script elements, event handler attributes and
// javascript: URLs inside tags.
var activeHTML = regexp.MustCompile(`(?i)<script|<[^>]*\son[a-z]+\s*=|<[^>]*javascript:`)

func TestMentionedEmails(t *testing.T) {
	for body, want := range map[string][]string{
		"hi @ada@example.com and @Bob@Example.COM.": {"ada@example.com", "bob@example.com"},
		"(@ada@example.com)":                        {"ada@example.com"},
		"@ada@example.com @ada@example.com":         {"ada@example.com"},
		"mail me at ada@example.com":                nil, // an address, not a mention
		"x@@ada@example.com":                        nil,
		"@ada@localhost":                            nil,
		"@":                                         nil,
	} {
		if got := mentionedEmails(body); !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", body, got, want)
		}
	}
}

// FuzzTextInput runs the parsers of customer and agent text: mentions, emails, phones, HTML
// sanitizing, previews and JSON cleaning. None may panic, and their output must be storable.
func FuzzTextInput(f *testing.F) {
	for _, seed := range []string{"@ada@example.com hi", "<p>a</p><script>x</script>", "+46 70 123 45 67", "ADA@EXAMPLE.COM",
		"\x00\xff", `{"a":"\u0000"}`, "<a href=\"javascript:alert(1)\">x</a>", strings.Repeat("é", 200), "<img src=x onerror=y>"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, e := range mentionedEmails(s) {
			if e != strings.ToLower(e) || !strings.Contains(e, "@") {
				t.Fatalf("mention %q", e)
			}
		}
		if e, err := NormalizeEmail(s); err == nil {
			if again, err := NormalizeEmail(e); err != nil || again != e {
				t.Fatalf("email %q normalizes to %q, then %q %v", s, e, again, err)
			}
		}
		if p, err := NormalizePhone(s); err == nil && !e164.MatchString(p) {
			t.Fatalf("phone %q accepted as %q", s, p)
		}
		clean := sanitizeHTML(s)
		if !utf8.ValidString(clean) || strings.Contains(clean, "\x00") {
			t.Fatalf("sanitized HTML not storable: %q", clean)
		}
		if activeHTML.MatchString(clean) {
			t.Fatalf("sanitized HTML of %q still active: %q", s, clean)
		}
		text := messageText("", s)
		p := preview(text)
		if !utf8.ValidString(p) || utf8.RuneCountInString(p) > previewLength || strings.ContainsAny(p, "\n\t") {
			t.Fatalf("preview %q", p)
		}
		if tr := truncate(cleanText(s), 10); len(tr) > 10 || !utf8.ValidString(tr) {
			t.Fatalf("truncate %q", tr)
		}
		if raw := cleanJSON(json.RawMessage(s), "{}"); !json.Valid(raw) || strings.Contains(string(raw), `\u0000`) {
			t.Fatalf("cleanJSON %q = %q", s, raw)
		}
	})
}
