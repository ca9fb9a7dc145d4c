package mail_test

import (
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/mail"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
)

func TestSendThroughRelay(t *testing.T) {
	sink := mailtest.Start(t)
	s, err := mail.NewSMTP(sink.URL, "Parley <parley@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), mail.Message{To: "ana@example.com", Subject: "Återställ ditt lösenord",
		Text: "Hej Ana,\n\nÖppna länken: http://parley.test/reset?token=ppw_abc\n"})
	if err != nil {
		t.Fatal(err)
	}
	m := sink.Next(t)
	if m.From != "parley@example.com" || len(m.To) != 1 || m.To[0] != "ana@example.com" {
		t.Fatalf("envelope: from %q to %v", m.From, m.To)
	}
	if m.Subject != "Återställ ditt lösenord" {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Body, "http://parley.test/reset?token=ppw_abc") || !strings.Contains(m.Body, "Öppna") {
		t.Fatalf("body:\n%s", m.Body)
	}
	if m.Header.Get("Message-ID") == "" || m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("headers: %v", m.Header)
	}
}

func TestNewSMTPChecksItsSettings(t *testing.T) {
	for _, c := range []struct{ url, from string }{
		{"http://mail.example.com", "a@example.com"},
		{"smtp://", "a@example.com"},
		{"smtp://mail.example.com:99999", "a@example.com"},
		{"smtp://mail.example.com", ""},
		{"smtp://mail.example.com", "not an address"},
	} {
		if _, err := mail.NewSMTP(c.url, c.from); err == nil {
			t.Errorf("NewSMTP(%q, %q) accepted", c.url, c.from)
		}
	}
	for _, u := range []string{"smtp://mail.example.com", "smtps://user:pw@mail.example.com:2465", "smtp://user@mail.example.com:25"} {
		if _, err := mail.NewSMTP(u, "Parley <parley@example.com>"); err != nil {
			t.Errorf("NewSMTP(%q): %v", u, err)
		}
	}
}

// Names and subjects come from people (a user's name, a translated subject with their name in
// it): a line break in them must not start a header or the body of its own.
func TestNoHeaderInjection(t *testing.T) {
	sink := mailtest.Start(t)
	s, err := mail.NewSMTP(sink.URL, "Parley <parley@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), mail.Message{To: "ana@example.com",
		Subject: "Reset\r\nBcc: victim@example.com\r\nX-Evil: 1\n\nbody", Text: "hello\r\n.\r\nMAIL FROM:<x@y>\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	m := sink.Next(t)
	if len(m.To) != 1 || m.To[0] != "ana@example.com" {
		t.Fatalf("recipients: %v", m.To)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("X-Evil") != "" {
		t.Fatalf("injected headers: %v", m.Header)
	}
	if !strings.Contains(m.Subject, "Bcc: victim@example.com") {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Body, "MAIL FROM:<x@y>") {
		t.Fatalf("body: %q", m.Body)
	}
	for _, to := range []string{"ana@example.com\r\nBcc: victim@example.com", "Ana\r\n <ana@example.com>, victim@example.com"} {
		if err := s.Send(t.Context(), mail.Message{To: to, Subject: "x", Text: "x"}); err == nil {
			m := sink.Next(t)
			if len(m.To) != 1 || m.Header.Get("Bcc") != "" {
				t.Fatalf("To %q reached %v, headers %v", to, m.To, m.Header)
			}
		}
	}
}
