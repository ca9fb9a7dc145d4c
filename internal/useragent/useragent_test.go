package useragent

import (
	"strings"
	"testing"
	"unicode"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		ua, want string
		mobile   bool
	}{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 on Linux", false},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on Windows", false},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge 131 on Windows", false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari 18 on macOS", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari 18 on iOS", true},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1", "Chrome 130 on iOS", true},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome 131 on Android", true},
		{"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "Samsung Internet 23 on Android", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", "Opera 106 on Windows", false},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131 on ChromeOS", false},
		{"Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer on Windows", false},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome 131 on Linux", false},
		{"curl/8.5.0", "", false},
		{"", "", false},
	} {
		a := Parse(c.ua)
		if a.String() != c.want || a.Mobile != c.mobile {
			t.Errorf("Parse(%q) = %q (mobile %v), want %q (mobile %v)", c.ua, a, a.Mobile, c.want, c.mobile)
		}
	}
}

// FuzzParse: no header panics, and what comes out is short and printable — it is shown to
// agents, and the header is whatever a visitor's client sent.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Chrome/", "Firefox/99999999999999", "Version/1 Safari/ AppleWebKit/", "MSIE \x00", "\xff\xfeEdg/1",
		strings.Repeat("Chrome/1", 300),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		a := Parse(ua)
		s := a.String()
		if len(s) > 64 {
			t.Fatalf("Parse(%q) = %q: too long", ua, s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			t.Fatalf("Parse(%q) = %q: not printable", ua, s)
		}
		for _, r := range a.Version {
			if r < '0' || r > '9' {
				t.Fatalf("version %q", a.Version)
			}
		}
	})
}
