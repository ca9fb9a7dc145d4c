package smtpd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	netsmtp "net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// harness runs a Server on 127.0.0.1:0 and records what it delivers.
type harness struct {
	srv  *Server
	addr string

	mu        sync.Mutex
	delivered []delivery
	deliver   func(ctx context.Context, env Envelope, raw []byte) error // optional override
}

type delivery struct {
	env Envelope
	raw string
}

func startServer(t *testing.T, configure func(*Server)) *harness {
	t.Helper()
	h := &harness{}
	s := &Server{
		Domain: "mx.parley.test",
		Accept: func(_ context.Context, rcpt string) bool {
			return strings.HasSuffix(strings.ToLower(rcpt), "@in.parley.test")
		},
		Deliver: func(ctx context.Context, env Envelope, raw []byte) error {
			h.mu.Lock()
			override := h.deliver
			h.mu.Unlock()
			if override != nil {
				if err := override(ctx, env, raw); err != nil {
					return err
				}
			}
			h.mu.Lock()
			h.delivered = append(h.delivered, delivery{env, string(raw)})
			h.mu.Unlock()
			return nil
		},
		Resolver: &fakeDNS{},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	h.srv, h.addr = s, ln.Addr().String()
	return h
}

func (h *harness) setDeliver(f func(ctx context.Context, env Envelope, raw []byte) error) {
	h.mu.Lock()
	h.deliver = f
	h.mu.Unlock()
}

func (h *harness) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.delivered...)
}

func (h *harness) dial(t *testing.T) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.sender.example"); err != nil {
		t.Fatal(err)
	}
	return c
}

// greet connects and says EHLO, returning what the server answered.
func (h *harness) greet() error {
	c, err := smtp.Dial(h.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Hello("client.sender.example")
}

// send runs one transaction and returns the server's verdict on DATA.
func send(t *testing.T, c *smtp.Client, from string, to []string, msg string) error {
	t.Helper()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	return w.Close()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestDeliverAndEnvelope(t *testing.T) {
	h := startServer(t, nil)
	c := h.dial(t)
	msg := testMessage("ann@shop.example", "hello", "Hi there")
	if err := send(t, c, "ann@shop.example", []string{"support@in.parley.test", "SUPPORT@in.parley.test", "sales@in.parley.test"}, msg); err != nil {
		t.Fatal(err)
	}
	got := h.deliveries()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages", len(got))
	}
	env := got[0].env
	if got[0].raw != msg {
		t.Errorf("raw changed:\n%q\nwant\n%q", got[0].raw, msg)
	}
	if env.MailFrom != "ann@shop.example" || env.HELO != "client.sender.example" || env.TLS ||
		env.RemoteIP.String() != "127.0.0.1" || env.ReceivedAt.IsZero() {
		t.Errorf("envelope = %+v", env)
	}
	if strings.Join(env.Recipients, ",") != "support@in.parley.test,sales@in.parley.test" {
		t.Errorf("recipients = %v (duplicates must collapse)", env.Recipients)
	}
	if env.Auth.SPF.Result != ResultNone || env.Auth.DMARC.Result != ResultNone || !strings.HasPrefix(env.Auth.Header, "mx.parley.test; dkim=none") {
		t.Errorf("auth = %+v", env.Auth)
	}

	// A bounce (null reverse-path) in the same session.
	if err := send(t, c, "", []string{"support@in.parley.test"}, testMessage("MAILER-DAEMON@shop.example", "bounce", "failed")); err != nil {
		t.Fatal(err)
	}
	if got := h.deliveries(); len(got) != 2 || got[1].env.MailFrom != "" {
		t.Fatalf("bounce not delivered: %+v", got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestAckOnlyAfterDeliver(t *testing.T) {
	h := startServer(t, nil)
	started := make(chan struct{})
	release := make(chan error)
	h.setDeliver(func(ctx context.Context, _ Envelope, _ []byte) error {
		close(started)
		return <-release
	})
	c := h.dial(t)
	result := make(chan error, 1)
	go func() {
		result <- send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "a", "b"))
	}()
	<-started
	select {
	case err := <-result:
		t.Fatalf("client got a reply (%v) before Deliver returned", err)
	case <-time.After(50 * time.Millisecond):
	}
	release <- nil
	if err := <-result; err != nil {
		t.Fatalf("after commit: %v", err)
	}

	// A failing Deliver is a temporary failure, so the sender retries.
	h.setDeliver(func(context.Context, Envelope, []byte) error { return errors.New("database is locked") })
	err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "c", "d"))
	if code := smtpCode(err); code != 451 {
		t.Fatalf("failing Deliver: %v (code %d), want 451", err, code)
	}
	if strings.Contains(err.Error(), "database") {
		t.Errorf("internal error leaked to the sender: %v", err)
	}

	// A Rejection is permanent.
	h.setDeliver(func(context.Context, Envelope, []byte) error { return Reject("sender is blocked\r\nX") })
	err = send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "e", "f"))
	if code := smtpCode(err); code != 550 {
		t.Fatalf("rejected: %v (code %d), want 550", err, code)
	}
	if got := len(h.deliveries()); got != 1 {
		t.Fatalf("delivered %d, want only the first", got)
	}
}

func TestUnknownRecipientAndNoRelay(t *testing.T) {
	h := startServer(t, nil)
	c := h.dial(t)
	if err := c.Mail("ann@shop.example", nil); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"someone@gmail.example", "support@in.parley.test.evil.example", "support@in.parley.test@relay.example"} {
		if code := smtpCode(c.Rcpt(rcpt, nil)); code != 550 {
			t.Errorf("RCPT %s: code %d, want 550", rcpt, code)
		}
	}
	// Without any accepted recipient there is no DATA.
	if _, err := c.Data(); err == nil {
		t.Fatal("DATA accepted without recipients")
	}

	// A server without Accept refuses everyone.
	h2 := startServer(t, func(s *Server) { s.Accept = nil })
	c2 := h2.dial(t)
	c2.Mail("ann@shop.example", nil)
	if code := smtpCode(c2.Rcpt("support@in.parley.test", nil)); code != 550 {
		t.Errorf("nil Accept: code %d, want 550", code)
	}
}

func TestSizeLimit(t *testing.T) {
	h := startServer(t, func(s *Server) { s.MaxSize = 2048 })
	c := h.dial(t)
	if size, ok := c.MaxMessageSize(); !ok || size != 2048 {
		t.Errorf("SIZE advertised = %d, %v", size, ok)
	}
	big := testMessage("ann@shop.example", "big", strings.Repeat("0123456789abcdef\r\n", 400))
	err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, big)
	if code := smtpCode(err); code != 552 {
		t.Fatalf("oversized: %v (code %d), want 552", err, code)
	}
	if n := len(h.deliveries()); n != 0 {
		t.Fatalf("oversized message delivered")
	}
	// The session goes on.
	if err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "s", "small")); err != nil {
		t.Fatalf("small message after oversized: %v", err)
	}
	// A declared SIZE over the limit is refused at MAIL FROM.
	if code := smtpCode(c.Mail("ann@shop.example", &smtp.MailOptions{Size: 4096})); code != 552 {
		t.Errorf("MAIL SIZE=4096: code %d, want 552", code)
	}
}

func TestMaxRecipients(t *testing.T) {
	h := startServer(t, func(s *Server) { s.MaxRecipients = 2 })
	c := h.dial(t)
	c.Mail("ann@shop.example", nil)
	c.Rcpt("a@in.parley.test", nil)
	c.Rcpt("b@in.parley.test", nil)
	if code := smtpCode(c.Rcpt("c@in.parley.test", nil)); code != 452 {
		t.Errorf("third recipient: code %d, want 452", code)
	}
}

func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.parley.test"},
		DNSNames:     []string{"mx.parley.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestSTARTTLS(t *testing.T) {
	// Not offered without a certificate.
	plain := startServer(t, nil)
	if ok, _ := plain.dial(t).Extension("STARTTLS"); ok {
		t.Fatal("STARTTLS offered without TLS config")
	}

	cfg, pool := selfSigned(t)
	h := startServer(t, func(s *Server) { s.TLS = cfg })
	c, err := smtp.DialStartTLS(h.addr, &tls.Config{RootCAs: pool, ServerName: "mx.parley.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "tls", "secret")); err != nil {
		t.Fatal(err)
	}
	if d := h.deliveries(); len(d) != 1 || !d[0].env.TLS {
		t.Fatalf("deliveries = %+v, want one over TLS", d)
	}

	// The standard library client upgrades on its own when offered.
	sc, err := netsmtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if ok, _ := sc.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := sc.StartTLS(&tls.Config{RootCAs: pool, ServerName: "mx.parley.test"}); err != nil {
		t.Fatal(err)
	}
	if err := sc.Mail("bob@shop.example"); err != nil {
		t.Fatal(err)
	}
	if err := sc.Rcpt("support@in.parley.test"); err != nil {
		t.Fatal(err)
	}
	w, _ := sc.Data()
	io.WriteString(w, testMessage("bob@shop.example", "tls2", "x"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sc.Quit()
	if d := h.deliveries(); len(d) != 2 || !d[1].env.TLS || d[1].env.MailFrom != "bob@shop.example" {
		t.Fatalf("net/smtp delivery = %+v", d)
	}
}

func TestRateLimits(t *testing.T) {
	h := startServer(t, func(s *Server) {
		s.ConnLimit = RateLimit{Every: time.Hour, Burst: 2}
		s.MessageLimit = RateLimit{Every: time.Hour, Burst: 2}
	})
	c := h.dial(t)
	for i := range 2 {
		if err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "m", "x")); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if code := smtpCode(c.Mail("ann@shop.example", nil)); code != 450 {
		t.Errorf("third message: code %d, want 450", code)
	}

	h.dial(t) // second connection is within the burst
	if code := smtpCode(h.greet()); code != 421 {
		t.Errorf("third connection: code %d, want 421", code)
	}
}

func TestMaxConnections(t *testing.T) {
	h := startServer(t, func(s *Server) { s.MaxConnections = 1 })
	h.dial(t)
	if code := smtpCode(h.greet()); code != 421 {
		t.Errorf("second connection: code %d, want 421", code)
	}
}

func TestIdleTimeout(t *testing.T) {
	h := startServer(t, func(s *Server) { s.ReadTimeout = 100 * time.Millisecond })
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(conn) // greeting, then 421 and close when idle
	if !strings.Contains(string(b), "421") {
		t.Fatalf("idle connection got %q, want a 421 and close", b)
	}
}

func TestShutdownFinishesDelivery(t *testing.T) {
	h := startServer(t, nil)
	started := make(chan struct{})
	release := make(chan struct{})
	h.setDeliver(func(context.Context, Envelope, []byte) error {
		close(started)
		<-release
		return nil
	})
	c := h.dial(t)
	idle := h.dial(t) // an idle session must not hold up shutdown
	_ = idle
	result := make(chan error, 1)
	go func() {
		result <- send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, testMessage("ann@shop.example", "a", "b"))
	}()
	<-started
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- h.srv.Shutdown(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("in-flight message during shutdown: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := smtp.Dial(h.addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestAuthResultsEndToEnd(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{
		"shop.example":         {"v=spf1 ip4:127.0.0.0/8 -all"},
		"_dmarc.shop.example":  {"v=DMARC1; p=reject"},
		"spoof.example":        {"v=spf1 ip4:192.0.2.1 -all"},
		"_dmarc.spoof.example": {"v=DMARC1; p=quarantine"},
	}}
	key := newTestKey(t, dns, "shop.example", "sel")
	h := startServer(t, func(s *Server) { s.Resolver = dns })
	c := h.dial(t)

	signed := key.sign(t, testMessage("Ann <ann@shop.example>", "signed", "Order 42"))
	if err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, string(signed)); err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(key.sign(t, testMessage("ann@shop.example", "t", "Order 43"))), "Order 43", "Order 44", 1)
	if err := send(t, c, "other@spoof.example", []string{"support@in.parley.test"}, tampered); err != nil {
		t.Fatal(err)
	}
	d := h.deliveries()
	if len(d) != 2 {
		t.Fatalf("delivered %d", len(d))
	}
	a := d[0].env.Auth
	if len(a.DKIM) != 1 || a.DKIM[0].Result != ResultPass || a.SPF.Result != ResultPass || a.DMARC.Result != ResultPass {
		t.Errorf("signed: %s", a.Header)
	}
	a = d[1].env.Auth
	if len(a.DKIM) != 1 || a.DKIM[0].Result != ResultFail || a.SPF.Result != ResultFail ||
		a.DMARC.Result != ResultFail || a.DMARC.Policy != "reject" {
		t.Errorf("tampered: %+v", a)
	}
	if !strings.Contains(a.Header, "dkim=fail") || !strings.Contains(a.Header, "spf=fail") || !strings.Contains(a.Header, "dmarc=fail") {
		t.Errorf("tampered header: %s", a.Header)
	}
}

func TestLineTooLong(t *testing.T) {
	h := startServer(t, nil)
	c := h.dial(t)
	msg := testMessage("ann@shop.example", "long", strings.Repeat("y", 3000))
	err := send(t, c, "ann@shop.example", []string{"support@in.parley.test"}, msg)
	if code := smtpCode(err); code != 500 {
		t.Fatalf("3000-character line: %v (code %d), want 500", err, code)
	}
	if len(h.deliveries()) != 0 {
		t.Fatal("message with an overlong line delivered")
	}
}
