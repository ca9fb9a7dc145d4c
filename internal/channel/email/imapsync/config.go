package imapsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Connection security of a mailbox.
const (
	SecurityTLS      = "tls"      // implicit TLS, usually port 993
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS, usually port 143
	SecurityNone     = "none"     // no encryption; for servers on a trusted network only
)

// Defaults used when the matching Config field is zero.
const (
	DefaultMailbox      = "INBOX"
	DefaultPollInterval = 60 * time.Second
)

// Config says how to reach one mailbox.
type Config struct {
	Host string
	// Port is 993 for SecurityTLS and 143 otherwise when 0.
	Port     int
	Security string // SecurityTLS (also when ""), SecurityStartTLS or SecurityNone
	Username string
	Password string
	Mailbox  string // DefaultMailbox when ""
	// Backfill is how far back to fetch on the first connect (and after the mailbox's
	// UIDVALIDITY changed): messages whose INTERNALDATE lies within it. 0 fetches only mail
	// that arrives from then on.
	Backfill time.Duration
	// PollInterval is how often to look for new mail when the server has no IDLE;
	// DefaultPollInterval when 0.
	PollInterval time.Duration
	// TLS overrides the TLS settings (tests set RootCAs). ServerName defaults to Host.
	TLS *tls.Config
}

func (c Config) withDefaults() Config {
	if c.Mailbox == "" {
		c.Mailbox = DefaultMailbox
	}
	if c.Security == "" {
		c.Security = SecurityTLS
	}
	if c.Port == 0 {
		c.Port = 143
		if c.Security == SecurityTLS {
			c.Port = 993
		}
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	return c
}

// Validate reports settings that can never work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case strings.TrimSpace(c.Host) == "":
		return errors.New("imap: host is required")
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("imap: port %d out of range", c.Port)
	case c.Security != SecurityTLS && c.Security != SecurityStartTLS && c.Security != SecurityNone:
		return fmt.Errorf("imap: security %q: want tls, starttls or none", c.Security)
	case c.Username == "":
		return errors.New("imap: username is required")
	case c.Backfill < 0:
		return errors.New("imap: backfill must not be negative")
	}
	return nil
}

func (c Config) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

func (c Config) tlsConfig() *tls.Config {
	var t *tls.Config
	if c.TLS != nil {
		t = c.TLS.Clone()
	} else {
		t = &tls.Config{}
	}
	if t.ServerName == "" {
		t.ServerName = c.Host
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	return t
}

// Step names the stage of connecting to a mailbox that failed.
type Step string

const (
	StepConnect Step = "connect" // TCP connection or the server's greeting
	StepTLS     Step = "tls"     // TLS handshake or STARTTLS
	StepLogin   Step = "login"   // LOGIN refused
	StepMailbox Step = "mailbox" // SELECT refused: no such mailbox, or no access
)

// StepError is a failure to reach a mailbox, with the step that failed.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string {
	// The client library prefixes server answers with "imap: " too.
	return "imap " + string(e.Step) + ": " + strings.TrimPrefix(e.Err.Error(), "imap: ")
}

func (e *StepError) Unwrap() error { return e.Err }

// session is one logged-in connection with the mailbox selected.
type session struct {
	c   *imapclient.Client
	sel *imap.SelectData
	// exists receives a value (without blocking the client's reader) whenever the server
	// reports the mailbox's message count: new mail may be there.
	exists chan struct{}
	// stopWatch ends the watch that closes the connection when ctx ends.
	stopWatch func() bool
}

const (
	// dialTimeout bounds the TCP connect, openTimeout connecting, logging in and selecting.
	dialTimeout = 30 * time.Second
	openTimeout = time.Minute
	// cmdTimeout bounds a command without message bodies, bodyTimeout one that fetches up
	// to batchBytes of them (16 MiB in 10 minutes is 28 KB/s).
	cmdTimeout  = 2 * time.Minute
	bodyTimeout = 10 * time.Minute
)

var errOpenTimeout = errors.New("timed out")

// guard runs fn, closing the connection when it has not returned within d. The client
// library has no read deadline while it waits for an answer to begin, so a server that
// takes a command and never answers would otherwise stall the fetcher for good; closed, the
// command fails and the fetcher reconnects.
func (s *session) guard(d time.Duration, fn func() error) error {
	var fired atomic.Bool
	t := time.AfterFunc(d, func() {
		fired.Store(true)
		_ = s.c.Close() // the command waiting on it fails; that error is reported
	})
	err := fn()
	t.Stop()
	if err != nil && fired.Load() {
		return fmt.Errorf("no answer within %v: %w", d, err)
	}
	return err
}

// open connects, logs in and selects the mailbox. Every error but invalid settings is a
// *StepError. While the session is open, cancelling ctx closes the connection, which ends
// any command in progress.
func open(ctx context.Context, cfg Config) (_ *session, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &session{exists: make(chan struct{}, 1)}
	step := StepConnect
	var timedOut atomic.Bool
	fail := func(e error) (*session, error) {
		if ctx.Err() != nil {
			e = ctx.Err()
		} else if timedOut.Load() {
			e = errOpenTimeout
		}
		return nil, &StepError{step, e}
	}

	// TCP keep-alives (the dialer's default) find a dead peer during a long IDLE, when the
	// client waits without a read deadline.
	conn, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", cfg.addr())
	if err != nil {
		return fail(err)
	}
	s.stopWatch = context.AfterFunc(ctx, func() { conn.Close() })
	// The client library has no deadline while it waits for an answer to begin: a server
	// that accepts the connection and then says nothing must not hold us for good.
	watchdog := time.AfterFunc(openTimeout, func() {
		timedOut.Store(true)
		conn.Close()
	})
	defer watchdog.Stop()
	defer func() {
		if err != nil {
			s.stopWatch()
			conn.Close()
		}
	}()

	opts := &imapclient.Options{
		TLSConfig: cfg.tlsConfig(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Called from the client's reader goroutine: must not block.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.exists <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch cfg.Security {
	case SecurityTLS:
		step = StepTLS
		tc := tls.Client(conn, opts.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		step = StepConnect
		s.c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		// NewStartTLS waits for the greeting, sends STARTTLS and does the handshake.
		step = StepTLS
		c, err := imapclient.NewStartTLS(conn, opts)
		if err != nil {
			return fail(err)
		}
		s.c = c
	default:
		s.c = imapclient.New(conn, opts)
	}
	if err := s.c.WaitGreeting(); err != nil {
		return fail(err)
	}

	step = StepLogin
	if s.c.State() == imap.ConnStateNotAuthenticated {
		if err := s.c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
			return fail(err)
		}
	}

	step = StepMailbox
	sel, err := s.c.Select(cfg.Mailbox, nil).Wait()
	if err != nil {
		return fail(err)
	}
	s.sel = sel
	return s, nil
}

// close closes the connection, after a LOGOUT when logout is set. LOGOUT is only for a
// healthy connection with no command running: a command started after the client closed
// would wait forever.
func (s *session) close(logout bool) {
	if logout {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.c.Logout().Wait() // best effort: the connection is closed right after anyway
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	s.stopWatch()
	_ = s.c.Close() // already closed by the server after LOGOUT, or dead: nothing to report
}

// testTimeout bounds Test when ctx has no earlier deadline.
const testTimeout = 30 * time.Second

// Test connects to the mailbox, logs in and selects it, as the channel setup screen's
// "test connection" does. It returns nil, the Validate error of settings that can never
// work, or a *StepError saying which step failed.
func Test(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	s, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	s.close(true)
	return nil
}
