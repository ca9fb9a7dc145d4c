package chat

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseClientFrame: no input panics, and an accepted frame is exactly what its type allows.
func FuzzParseClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","client_id":"c-1","text":"Hello"}`,
		`{"type":"message","client_id":"c-2","text":"","files":["abc.def"]}`,
		`{"type":"message","client_id":"c-3","text":"x","files":[]}`,
		`{"type":"typing","files":["abc.def"]}`,
		`{"type":"typing"}`,
		`{"type":"answer","client_id":"c-4","text":"sales"}`,
		`{"type":"answer","client_id":"c-5","text":"x","files":["abc.def"]}`,
		`{"type":"read","message_id":42}`,
		`{"type":"read","message_id":-1}`,
		`{"type":"message","client_id":"c 1","text":"x"}`,
		`{"type":"message","client_id":"c","text":"   "}`,
		`{"type":"typing","text":"sneaky"}`,
		`{"type":"typing"} {"type":"typing"}`,
		`{"type":"view","conversation_id":1}`,
		`[]`, `null`, ``, `{"type":"message","client_id":"c","text":"\ud800"}`,
		`{"type":"email","email":"ada@example.com"}`, `{"type":"email","email":""}`,
		`{"type":"email","email":"a@b.c","text":"x"}`, `{"type":"typing","email":"a@b.c"}`,
		`{"type":"consent","flow_id":3}`, `{"type":"consent","flow_id":0}`, `{"type":"message","client_id":"c","text":"x","flow_id":3}`,
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
			if fr.ClientID == "" || len(fr.ClientID) > maxClientID || !utf8.ValidString(fr.Text) || len(fr.Text) > maxText || fr.MessageID != 0 ||
				len(fr.Files) > maxFilesPerMessage || (strings.TrimSpace(fr.Text) == "" && len(fr.Files) == 0) {
				t.Fatalf("accepted a bad message frame %q: %+v", b, fr)
			}
		case frameAnswer:
			if fr.ClientID == "" || len(fr.ClientID) > maxClientID || !utf8.ValidString(fr.Text) || len(fr.Text) > maxText ||
				strings.TrimSpace(fr.Text) == "" || fr.MessageID != 0 || fr.Files != nil {
				t.Fatalf("accepted a bad answer frame %q: %+v", b, fr)
			}
		case frameTyping:
			if fr.ClientID != "" || fr.Text != "" || fr.MessageID != 0 {
				t.Fatalf("accepted a typing frame with fields %q", b)
			}
		case frameRead:
			if fr.MessageID <= 0 {
				t.Fatalf("accepted a read without a message %q", b)
			}
		case frameEmail:
			if fr.Email == "" || len(fr.Email) > maxEmail || fr.ClientID != "" || fr.Text != "" || fr.MessageID != 0 || fr.FlowID != 0 {
				t.Fatalf("accepted a bad email frame %q: %+v", b, fr)
			}
		case frameConsent:
			if fr.FlowID <= 0 || fr.Email != "" || fr.ClientID != "" || fr.Text != "" || fr.MessageID != 0 {
				t.Fatalf("accepted a bad consent frame %q: %+v", b, fr)
			}
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
		// What was accepted re-encodes and parses to the same frame.
		again, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := parseClientFrame(again); err != nil || !reflect.DeepEqual(back, fr) {
			t.Fatalf("round trip of %q: %+v %v", b, back, err)
		}
	})
}

// FuzzOpenHandle: a handle opens only for the visitor and secret it was made with.
func FuzzOpenHandle(f *testing.F) {
	f.Add("secret", int64(7), "abcdefghijklmnopqrstuvwxyz", "")
	f.Add("s", int64(1), "x", "x.AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, secret string, visitor int64, id, other string) {
		h := fileHandle(secret, visitor, id)
		if got, ok := openHandle(secret, visitor, h); id != "" && !strings.Contains(id, ".") && (!ok || got != id) {
			t.Fatalf("own handle %q: %q %v", h, got, ok)
		}
		if _, ok := openHandle(secret, visitor+1, h); ok {
			t.Fatalf("handle %q opened for another visitor", h)
		}
		if got, ok := openHandle(secret, visitor, other); ok && fileHandle(secret, visitor, got) != other {
			t.Fatalf("a forged handle %q opened as %q", other, got)
		}
	})
}
