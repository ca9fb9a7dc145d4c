package chat

import (
	"encoding/json"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
)

// The preview page is on Parley's own origin: the widget answers there for every channel, and
// still nowhere else that the channel does not list.
func TestWidgetSettingsAllowOwnOrigin(t *testing.T) {
	raw, _ := json.Marshal(Settings{AllowedOrigins: []string{"https://www.example.com"}})
	ch := &store.Channel{Settings: raw}
	for _, tc := range []struct {
		base, origin string
		want         bool
	}{
		{"https://parley.example.org", "https://parley.example.org", true},
		{"https://Parley.Example.org/", "https://parley.example.org", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"https://parley.example.org", "https://www.example.com", true},
		{"https://parley.example.org", "https://evil.example.net", false},
		{"https://parley.example.org", "http://parley.example.org", false},
		{"https://parley.example.org", "https://parley.example.org:8443", false},
		{"", "https://parley.example.org", false},
		{"not a url", "https://parley.example.org", false},
	} {
		s := &Service{BaseURL: tc.base}
		st := s.widgetSettings(ch)
		if got := st.allows(tc.origin); got != tc.want {
			t.Errorf("base %q: allows(%q) = %v, want %v", tc.base, tc.origin, got, tc.want)
		}
	}
	// The stored list is left as the admin wrote it.
	if got := loadSettings(ch.Settings).AllowedOrigins; len(got) != 1 {
		t.Errorf("stored origins changed: %v", got)
	}
}
