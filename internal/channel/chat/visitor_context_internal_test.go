package chat

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzPageFrame: no input panics; an accepted page frame has an http(s) URL with a host and a
// short valid title, and nothing else.
func FuzzPageFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"page","url":"https://www.example.com/pricing","title":"Pricing"}`,
		`{"type":"page","url":"https://www.example.com/"}`,
		`{"type":"page","url":"javascript:alert(1)"}`,
		`{"type":"page","url":"https://u:p@example.com/"}`,
		`{"type":"page","url":"//example.com/"}`,
		`{"type":"page","url":"https://example.com/\n"}`,
		`{"type":"page","url":"https://example.com/","text":"x"}`,
		`{"type":"page","url":"https://example.com/","title":"\ud800"}`,
		`{"type":"typing","url":"https://example.com/"}`,
		`{"type":"message","client_id":"c","text":"x","title":"t"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseClientFrame(b)
		if err != nil {
			return
		}
		if fr.Type != framePage {
			if fr.URL != "" || fr.Title != "" {
				t.Fatalf("a %s frame kept url %q title %q", fr.Type, fr.URL, fr.Title)
			}
			return
		}
		if !strings.HasPrefix(fr.URL, "http://") && !strings.HasPrefix(strings.ToLower(fr.URL), "https://") &&
			!strings.HasPrefix(strings.ToLower(fr.URL), "http://") {
			t.Fatalf("accepted page url %q", fr.URL)
		}
		if len(fr.URL) > maxPageURL || len(fr.Title) > maxPageTitle || !utf8.ValidString(fr.Title) ||
			fr.ClientID != "" || fr.Text != "" || fr.MessageID != 0 || fr.Files != nil {
			t.Fatalf("accepted page frame %+v", fr)
		}
	})
}

// FuzzCleanVisitorContext: what a session request says of title, time zone and user agent is
// kept only in a form that is safe to store and show.
func FuzzCleanVisitorContext(f *testing.F) {
	f.Add("Pricing\n\t– Acme", "Europe/Stockholm", "Mozilla/5.0 Firefox/128.0")
	f.Add(strings.Repeat("é", 400), "../../etc/passwd", "ua\x00")
	f.Add("\xff", "Local", strings.Repeat("x", 2000))
	f.Fuzz(func(t *testing.T, title, tz, ua string) {
		ti := cleanTitle(title)
		if len(ti) > maxPageTitle || !utf8.ValidString(ti) || strings.ContainsFunc(ti, unicode.IsControl) || ti != strings.TrimSpace(ti) {
			t.Fatalf("cleanTitle(%q) = %q", title, ti)
		}
		if z := cleanTimeZone(tz); z != "" && (z != tz || strings.Contains(z, "..") || z == "Local") {
			t.Fatalf("cleanTimeZone(%q) = %q", tz, z)
		}
		u := cleanUserAgent(ua)
		if len(u) > maxUserAgent || strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Fatalf("cleanUserAgent(%q) = %q", ua, u)
		}
	})
}

func TestCleanTimeZone(t *testing.T) {
	for in, want := range map[string]string{"Europe/Stockholm": "Europe/Stockholm", "UTC": "UTC", "America/Argentina/Buenos_Aires": "America/Argentina/Buenos_Aires",
		"Local": "", "Mars/Olympus": "", "../x": "", "": ""} {
		if got := cleanTimeZone(in); got != want {
			t.Errorf("cleanTimeZone(%q) = %q, want %q", in, got, want)
		}
	}
}
