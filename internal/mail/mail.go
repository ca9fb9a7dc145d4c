// Package mail sends Parley's own system messages — password reset and invitation links — through
// an SMTP relay configured with PARLEY_SMTP_URL. It is not the email channel: conversations'
// mail goes through the channel adapters. It knows nothing of users or templates; callers compose
// the message in the recipient's language.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text system message.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender delivers system messages. A nil Sender means outbound mail is not configured.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through a relay. smtp://host[:port] speaks STARTTLS when the relay offers it and
// insists on it when a user and password are given (they never travel in clear); the port
// defaults to 587. smtps://host[:port] is TLS from the first byte, port 465 by default.
type SMTP struct {
	host     string
	port     int
	implicit bool
	user     string
	password string
	from     string
	// timeout bounds one delivery: a hung relay must not hold a request for long.
	timeout time.Duration
}

// NewSMTP checks a relay URL and sender address and returns a Sender for them.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("smtp url: not a URL")
	}
	s := &SMTP{from: strings.TrimSpace(from), timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("smtp url: want smtp:// or smtps://, got %q", u.Scheme+"://")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("smtp url: bad port %q", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	if s.from == "" {
		return nil, errors.New("mail from: required with an smtp url")
	}
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return nil, fmt.Errorf("mail from: %w", err)
	}
	return s, nil
}

// Addr is the relay's host:port, for logs.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Send delivers m to the relay. A message the relay refused or could not take is an error; the
// caller decides whether to retry.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)

	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.timeout)}
	switch {
	case s.implicit:
		opts = append(opts, gomail.WithSSL())
	case s.user != "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail via %s: %w", s.Addr(), err)
	}
	return nil
}
