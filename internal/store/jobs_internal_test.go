package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Error messages come from outside (provider responses, network errors): whatever they hold, the
// stored text must be valid UTF-8 without NUL bytes and bounded.
func FuzzTruncateError(f *testing.F) {
	f.Add("connection refused")
	f.Add("bad \xff\xfe bytes\x00 and NUL")
	f.Add(strings.Repeat("é", maxJobError))
	f.Add(strings.Repeat("a", maxJobError-1) + "€")
	f.Fuzz(func(t *testing.T, msg string) {
		got := truncateError(msg)
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Fatalf("truncateError(%q) = %q: not storable", msg, got)
		}
		if len(got) > maxJobError+len("…") {
			t.Fatalf("truncateError: %d bytes", len(got))
		}
		if utf8.ValidString(msg) && !strings.ContainsRune(msg, 0) && len(msg) <= maxJobError && got != msg {
			t.Fatalf("truncateError changed a storable message %q to %q", msg, got)
		}
	})
}
