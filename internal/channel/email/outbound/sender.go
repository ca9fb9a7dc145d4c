package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/parley-inbox/parley/internal/channel"
)

// TLSMode says how a relay connection is protected.
type TLSMode int

const (
	// TLSOpportunistic uses STARTTLS when the relay offers it (smtp:// without credentials).
	TLSOpportunistic TLSMode = iota
	// TLSRequired insists on STARTTLS (smtp:// with credentials, or ?tls=required).
	TLSRequired
	// TLSImplicit speaks TLS from the first byte (smtps://).
	TLSImplicit
)

// Sender delivers composed messages through one SMTP relay (SPEC EMAIL-1 "Outbound goes
// through an SMTP relay (host, port, STARTTLS/TLS, auth)").
type Sender struct {
	Host     string
	Port     int
	TLS      TLSMode
	Username string
	Password string
	// HeloName is our name in EHLO; empty means the machine's host name.
	HeloName string
	// TLSConfig overrides the TLS settings (tests pass their own roots); nil means the system's.
	TLSConfig *tls.Config
	// Timeout bounds one whole delivery; zero means one minute.
	Timeout time.Duration
	// DKIM, when set, signs every message just before it is sent.
	DKIM *DKIM
}

// NewSender reads a relay URL: smtp://[user:pass@]host[:port][?tls=required] (port 587,
// STARTTLS when offered and always when credentials are given) or smtps://… (port 465).
func NewSender(rawURL string) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("smtp relay url: not a URL")
	}
	s := &Sender{}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
		if u.User != nil || u.Query().Get("tls") == "required" {
			s.TLS = TLSRequired
		}
	case "smtps":
		s.Port, s.TLS = 465, TLSImplicit
	default:
		return nil, fmt.Errorf("smtp relay url: want smtp:// or smtps://, got %q", u.Scheme+"://")
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return nil, errors.New("smtp relay url: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("smtp relay url: bad port %q", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// Envelope is the SMTP transaction's sender and recipients. From may be empty for the null
// reverse-path (MAIL FROM:<>); To is every recipient, Bcc included (Outgoing.Recipients).
type Envelope struct {
	From string
	To   []string
}

// RecipientError is a recipient the relay refused. The whole delivery stops on it, so a retry
// never sends the message twice to the recipients that were accepted.
type RecipientError struct {
	Address string
	Err     error
}

func (e *RecipientError) Error() string {
	return fmt.Sprintf("recipient %s refused: %v", e.Address, e.Err)
}
func (e *RecipientError) Unwrap() error { return e.Err }

// Send delivers msg (signed first when DKIM is set) and returns the relay's final reply, e.g.
// "2.0.0 Ok: queued as 4BX…", for the delivery log. Errors that a retry cannot fix — 5xx
// replies, a relay without the TLS we require, bad addresses, untrusted certificates — are
// wrapped with channel.Permanent; network trouble, timeouts and 4xx replies are not.
func (s *Sender) Send(ctx context.Context, env Envelope, msg []byte) (string, error) {
	reply, err := s.send(ctx, env, msg)
	if err != nil {
		err = fmt.Errorf("smtp relay %s: %w", s.addr(), err)
		if permanent(err) {
			return "", channel.Permanent(err)
		}
		return "", err
	}
	return reply, nil
}

func (s *Sender) addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// errConfig marks failures that come from the relay's setup rather than a passing condition.
type errConfig struct{ msg string }

func (e errConfig) Error() string { return e.msg }

func (s *Sender) send(ctx context.Context, env Envelope, msg []byte) (string, error) {
	if len(env.To) == 0 {
		return "", errConfig{"no recipients"}
	}
	if env.From != "" {
		if _, err := checkEmail(env.From); err != nil {
			return "", errConfig{"envelope sender: " + err.Error()}
		}
	}
	for _, to := range env.To {
		if _, err := checkEmail(to); err != nil {
			return "", &RecipientError{Address: to, Err: errConfig{err.Error()}}
		}
	}
	if s.DKIM != nil {
		signed, err := s.DKIM.Sign(msg)
		if err != nil {
			return "", errConfig{err.Error()}
		}
		msg = signed
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	tlsConfig := s.TLSConfig.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = s.Host
	}
	tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)

	d := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	var err error
	if s.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, "tcp", s.addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return "", err
	}
	// The deadline covers every read and write; cancelling ctx closes the connection at once.
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		_ = conn.Close()
		return "", err
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello(s.heloName()); err != nil {
		return "", err
	}
	if s.TLS != TLSImplicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return "", err
			}
		} else if s.TLS == TLSRequired {
			return "", errConfig{"relay does not offer STARTTLS, which this relay's settings require"}
		}
	}
	if s.Username != "" {
		_, tlsOn := c.TLSConnectionState()
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return "", errConfig{"relay does not offer AUTH but credentials are configured"}
		}
		var auth smtp.Auth
		switch m := " " + strings.ToUpper(mechs) + " "; {
		case strings.Contains(m, " PLAIN "):
			auth = smtp.PlainAuth("", s.Username, s.Password, s.Host, tlsOn)
		case strings.Contains(m, " LOGIN "):
			auth = smtp.LoginAuth(s.Username, s.Password, s.Host, tlsOn)
		default:
			return "", errConfig{"relay offers neither AUTH PLAIN nor LOGIN (offers " + mechs + ")"}
		}
		if err := c.Auth(auth); err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
	}
	if ok, size := c.Extension("SIZE"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(size)); err == nil && n > 0 && len(msg) > n {
			return "", errConfig{fmt.Sprintf("message is %d bytes, the relay takes at most %d", len(msg), n)}
		}
	}
	if err := c.Mail("<" + env.From + ">"); err != nil {
		return "", fmt.Errorf("mail from: %w", err)
	}
	for _, to := range env.To {
		if err := c.Rcpt("<" + to + ">"); err != nil {
			_ = c.Reset()
			return "", &RecipientError{Address: to, Err: err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	reply := ""
	if dc, ok := w.(*smtp.DataCloser); ok {
		reply = dc.ServerResponse()
	}
	_ = c.Quit()
	return reply, nil
}

func (s *Sender) heloName() string {
	if s.HeloName != "" {
		return s.HeloName
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// permanent classifies a delivery error: the relay's own verdict (5xx) when there is one,
// setup problems and untrusted certificates; everything else — 4xx, network errors,
// timeouts — may pass and is retried.
func permanent(err error) bool {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 500
	}
	var cfg errConfig
	if errors.As(err, &cfg) {
		return true
	}
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	if errors.As(err, &verify) || errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return true
	}
	if errors.Is(err, smtp.ErrUnencrypted) || errors.Is(err, smtp.ErrWrongHostname) {
		return true
	}
	return false
}
