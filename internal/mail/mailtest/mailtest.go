// Package mailtest runs a real SMTP server on a local port for tests: messages sent to it are
// parsed and handed to the test, so mail can be checked end to end without a relay.
package mailtest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string
	// Body is the decoded text of a single-part message (quoted-printable undone).
	Body string
	Raw  []byte
}

// Server is a running SMTP sink.
type Server struct {
	// URL is the smtp:// URL to configure a sender with.
	URL  string
	msgs chan Received
}

// Start runs a sink until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "smtp://" + ln.Addr().String(), msgs: make(chan Received, 100)}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "mailtest.local"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go func() { _ = srv.Serve(ln) }() // returns when closed
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Next waits up to 5 seconds for the next message.
func (s *Server) Next(t testing.TB) Received {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no mail arrived within 5s")
		return Received{}
	}
}

// None checks that no message arrives within wait.
func (s *Server) None(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("unexpected mail to %v: %s", m.To, m.Subject)
	case <-time.After(wait):
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("unreadable message")
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	text := string(body)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		text = unQP(body)
	}
	subject, err := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	x.s.msgs <- Received{From: x.from, To: x.to, Header: m.Header, Subject: subject, Body: text, Raw: raw}
	return nil
}
