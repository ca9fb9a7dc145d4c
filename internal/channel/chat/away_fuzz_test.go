package chat

import (
	"net/mail"
	"strings"
	"testing"
)

// FuzzParseEmail: an address a visitor types is kept only when it is one plain address, in
// lower case, of sane length.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"ada@example.com", "Ada <ada@example.com>", " ADA@Example.COM ", "a@b", "@", "",
		"a@b.c,d@e.f", "\"a b\"@example.com", "ada@example.com\r\nBcc: x@y.z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := parseEmail(s)
		if got == "" {
			return
		}
		if len(got) > maxEmail || got != strings.ToLower(got) || strings.ContainsAny(got, "\r\n<>, ") {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if a, err := mail.ParseAddress(got); err != nil || a.Address != got {
			t.Fatalf("accepted %q as %q, which does not parse back: %v", s, got, err)
		}
	})
}
