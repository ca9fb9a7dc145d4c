package chat

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseClientFrame: no input panics, and an accepted frame is exactly what its type allows.
func FuzzParseClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","client_id":"c-1","text":"Hello"}`,
		`{"type":"typing"}`,
		`{"type":"read","message_id":42}`,
		`{"type":"read","message_id":-1}`,
		`{"type":"message","client_id":"c 1","text":"x"}`,
		`{"type":"message","client_id":"c","text":"   "}`,
		`{"type":"typing","text":"sneaky"}`,
		`{"type":"typing"} {"type":"typing"}`,
		`{"type":"view","conversation_id":1}`,
		`[]`, `null`, ``, `{"type":"message","client_id":"c","text":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseClientFrame(b)
		if err != nil {
			return
		}
		switch fr.Type {
		case frameMessage:
			if fr.ClientID == "" || len(fr.ClientID) > maxClientID || !utf8.ValidString(fr.Text) || len(fr.Text) > maxText || fr.MessageID != 0 {
				t.Fatalf("accepted a bad message frame %q: %+v", b, fr)
			}
		case frameTyping:
			if fr.ClientID != "" || fr.Text != "" || fr.MessageID != 0 {
				t.Fatalf("accepted a typing frame with fields %q", b)
			}
		case frameRead:
			if fr.MessageID <= 0 {
				t.Fatalf("accepted a read without a message %q", b)
			}
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
		// What was accepted re-encodes and parses to the same frame.
		again, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := parseClientFrame(again); err != nil || back != fr {
			t.Fatalf("round trip of %q: %+v %v", b, back, err)
		}
	})
}
