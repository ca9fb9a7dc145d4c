package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Defaults used when the matching Server field is zero.
const (
	DefaultMaxSize        = 25 << 20 // 25 MiB, what the big providers accept
	DefaultMaxRecipients  = 50
	DefaultMaxConnections = 200
	// DefaultReadTimeout bounds every command line and, because go-smtp
	// does not extend the deadline while reading DATA, the whole DATA
	// transfer. RFC 5321 §4.5.3.2 suggests 5 minutes per command and 10
	// for the data block.
	DefaultReadTimeout    = 10 * time.Minute
	DefaultWriteTimeout   = time.Minute
	DefaultDeliverTimeout = time.Minute
)

// Envelope is what the SMTP transaction said about a message, plus the
// authentication verdicts computed while receiving it.
type Envelope struct {
	RemoteIP   netip.Addr
	HELO       string
	MailFrom   string   // reverse-path; "" for bounces (null sender)
	Recipients []string // accepted RCPT TO addresses, as given
	TLS        bool     // the message travelled over TLS (STARTTLS)
	ReceivedAt time.Time
	Auth       AuthResults
}

// Rejection is an error Deliver returns to refuse a message permanently
// (550): the sender must not retry. Any other error is temporary (451).
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return "message rejected: " + r.Reason }

// Reject returns a permanent refusal for Deliver to return.
func Reject(reason string) error { return &Rejection{Reason: reason} }

// Server is the SMTP receiver. Set the fields, then call ListenAndServe or
// Serve; the fields must not change afterwards.
type Server struct {
	Addr   string      // listen address for ListenAndServe, e.g. ":25"
	Domain string      // our host name, used in the greeting and Authentication-Results
	TLS    *tls.Config // enables STARTTLS when set

	MaxSize        int64 // bytes of DATA; DefaultMaxSize when 0
	MaxRecipients  int   // DefaultMaxRecipients when 0
	MaxConnections int   // concurrent connections; DefaultMaxConnections when 0

	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	DeliverTimeout time.Duration

	// Per remote IP (IPv6 per /64) token buckets. Zero values get
	// defaults; a negative Burst turns the limit off.
	ConnLimit    RateLimit // connections; over the limit → 421 and close
	MessageLimit RateLimit // MAIL FROM commands; over the limit → 450

	// Accept reports whether rcpt is a receiving address we handle. Mail to
	// anything else is refused at RCPT (550), so we are never a relay.
	// When nil every recipient is refused.
	Accept func(ctx context.Context, rcpt string) bool
	// Deliver stores a received message. It must return nil only once the
	// message is committed: the sender is told 250 right after.
	Deliver func(ctx context.Context, env Envelope, raw []byte) error

	// Resolver answers the DNS queries of the SPF, DKIM and DMARC checks;
	// net.DefaultResolver when nil. Tests inject a fake.
	Resolver Resolver

	Log *slog.Logger

	initOnce   sync.Once
	srv        *smtp.Server
	connLim    *limiter
	msgLim     *limiter
	baseCtx    context.Context
	cancelBase context.CancelFunc

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closing  atomic.Bool
	inflight sync.WaitGroup // Deliver calls in progress
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.Log == nil {
			s.Log = slog.Default()
		}
		if s.Resolver == nil {
			s.Resolver = net.DefaultResolver
		}
		s.connLim = newLimiter(s.ConnLimit, RateLimit{Every: 2 * time.Second, Burst: 20})
		s.msgLim = newLimiter(s.MessageLimit, RateLimit{Every: 6 * time.Second, Burst: 30})
		s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
		s.conns = make(map[net.Conn]struct{})

		srv := smtp.NewServer(backend{s})
		srv.Domain = s.Domain
		srv.TLSConfig = s.TLS
		srv.MaxMessageBytes = orDefault(s.MaxSize, DefaultMaxSize)
		srv.MaxRecipients = orDefault(s.MaxRecipients, DefaultMaxRecipients)
		srv.ReadTimeout = orDefault(s.ReadTimeout, DefaultReadTimeout)
		srv.WriteTimeout = orDefault(s.WriteTimeout, DefaultWriteTimeout)
		srv.ErrorLog = slogPrintf{s.Log}
		s.srv = srv
	})
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// ListenAndServe listens on s.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	err := s.srv.Serve(&listener{Listener: ln, s: s})
	if errors.Is(err, smtp.ErrServerClosed) || s.closing.Load() {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, lets the messages that are being
// delivered finish (so their senders get their 250), then closes every
// connection. Idle or half-way sessions are cut; their senders retry. If
// ctx ends first, the context passed to Deliver is cancelled too.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.closing.Store(true)
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(context.Background()) }()

	drained := make(chan struct{})
	go func() { s.inflight.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancelBase()
	}
	s.mu.Lock()
	open := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open { // Close takes s.mu itself
		c.Close()
	}
	select {
	case e := <-done:
		if err == nil && !errors.Is(e, smtp.ErrServerClosed) {
			err = e
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.cancelBase()
	return err
}

// listener enforces the connection limits before go-smtp sees a
// connection, so a flood costs us one short write per attempt.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		ip := remoteIP(c)
		max := orDefault(s.MaxConnections, DefaultMaxConnections)
		s.mu.Lock()
		busy := len(s.conns) >= max
		s.mu.Unlock()
		switch {
		case s.closing.Load():
			go refuse(c, "421 4.3.2 "+s.Domain+" shutting down, try again later")
			continue
		case busy:
			s.Log.Warn("smtp: too many connections", "remote", ip)
			go refuse(c, "421 4.3.2 "+s.Domain+" too busy, try again later")
			continue
		case !s.connLim.allow(ip):
			s.Log.Warn("smtp: connection rate limited", "remote", ip)
			go refuse(c, "421 4.7.0 "+s.Domain+" too many connections from your address, try again later")
			continue
		}
		tc := &trackedConn{Conn: c, s: s}
		s.mu.Lock()
		s.conns[tc] = struct{}{}
		s.mu.Unlock()
		return tc, nil
	}
}

func refuse(c net.Conn, line string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, line+"\r\n")
	c.Close()
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, c: c, ip: remoteIP(c.Conn())}, nil
}

// session is one SMTP session (it restarts after STARTTLS).
type session struct {
	s    *Server
	c    *smtp.Conn
	ip   netip.Addr
	from string
	hasF bool
	rcpt []string
	// delivering is set while a message is in s.inflight: from before Deliver until go-smtp
	// has written the reply and calls Reset, so Shutdown never cuts a 250 off.
	delivering bool
}

var (
	errNoSuchUser  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	errMsgRate     = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Too many messages from your address, try again later"}
	errTempFail    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure storing the message, try again later"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long (RFC 5321 allows 1000 characters)"}
	errShutdown    = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
)

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.s.msgLim.allow(ss.ip) {
		ss.s.Log.Warn("smtp: message rate limited", "remote", ss.ip)
		return errMsgRate
	}
	ss.from, ss.hasF, ss.rcpt = from, true, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.TrimSpace(to)
	accept := ss.s.Accept
	if to == "" || accept == nil || !accept(ss.s.baseCtx, to) {
		ss.s.Log.Info("smtp: unknown recipient", "remote", ss.ip, "rcpt", to)
		return errNoSuchUser
	}
	for _, r := range ss.rcpt {
		if strings.EqualFold(r, to) {
			return nil
		}
	}
	ss.rcpt = append(ss.rcpt, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) { // ErrDataTooLarge → 552
			ss.s.Log.Info("smtp: message too large", "remote", ss.ip)
			return se
		}
		if errors.Is(err, smtp.ErrTooLongLine) {
			return errLineTooLong
		}
		return err
	}
	s := ss.s
	// Register before checking closing, so Shutdown either sees this
	// delivery in flight or we see closing and never call Deliver.
	s.inflight.Add(1)
	ss.delivering = true
	if s.closing.Load() {
		return errShutdown
	}
	_, isTLS := ss.c.TLSConnectionState()
	env := Envelope{
		RemoteIP:   ss.ip,
		HELO:       ss.c.Hostname(),
		MailFrom:   ss.from,
		Recipients: append([]string(nil), ss.rcpt...),
		TLS:        isTLS,
		ReceivedAt: time.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, orDefault(s.DeliverTimeout, DefaultDeliverTimeout))
	defer cancel()
	env.Auth = s.authenticate(ctx, env, raw)

	if s.Deliver == nil {
		return errTempFail
	}
	if err := s.Deliver(ctx, env, raw); err != nil {
		var rej *Rejection
		if errors.As(err, &rej) {
			s.Log.Info("smtp: message refused", "remote", ss.ip, "from", env.MailFrom, "reason", rej.Reason)
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: oneLine(rej.Reason)}
		}
		s.Log.Error("smtp: deliver failed", "remote", ss.ip, "from", env.MailFrom, "err", err)
		return errTempFail
	}
	s.Log.Info("smtp: message received", "remote", ss.ip, "from", env.MailFrom,
		"rcpt", len(env.Recipients), "size", len(raw), "tls", env.TLS, "auth", env.Auth.Header)
	return nil
}

// Reset runs after every DATA reply has been written (and on RSET), so a delivery counts as in
// flight until its client has been answered.
func (ss *session) Reset() {
	ss.from, ss.hasF, ss.rcpt = "", false, nil
	ss.done()
}

func (ss *session) Logout() error {
	ss.done()
	return nil
}

func (ss *session) done() {
	if ss.delivering {
		ss.delivering = false
		ss.s.inflight.Done()
	}
}

// oneLine keeps a refusal reason to something safe for an SMTP reply.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	if strings.TrimSpace(s) == "" {
		return "Message refused"
	}
	return s
}

// slogPrintf adapts slog to go-smtp's Printf-style error log.
type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, v ...any) {
	p.l.Warn("smtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}
func (p slogPrintf) Println(v ...any) {
	p.l.Warn("smtp: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
