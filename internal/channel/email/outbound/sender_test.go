package outbound

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/parley-inbox/parley/internal/channel"
)

// relay is a real SMTP server on a local port that records what it is given and answers the
// way a test tells it to.
type relay struct {
	addr string
	port int
	cert *x509.Certificate

	mu         sync.Mutex
	from       string
	rcpts      []string
	data       []byte
	authed     string // "mech:user" after a successful AUTH
	tlsSeen    bool
	rcptReject map[string]*smtp.SMTPError // by address
	dataReject *smtp.SMTPError
	mechs      []string
}

type relayOptions struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	auth     bool // require AUTH
}

func startRelay(t *testing.T, o relayOptions) *relay {
	t.Helper()
	cert, tlsCert := selfSigned(t)
	r := &relay{cert: cert, rcptReject: map[string]*smtp.SMTPError{}, mechs: []string{sasl.Plain, sasl.Login}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(relayBackend{r, o.auth})
	srv.Domain = "relay.test"
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up early are part of the tests
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.AllowInsecureAuth = !o.startTLS && !o.implicit
	srv.MaxMessageBytes = 1 << 20
	tc := &tls.Config{Certificates: []tls.Certificate{tlsCert}}
	if o.startTLS {
		srv.TLSConfig = tc
	}
	if o.implicit {
		ln = tls.NewListener(ln, tc)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.addr = ln.Addr().String()
	r.port = ln.Addr().(*net.TCPAddr).Port
	return r
}

func selfSigned(t *testing.T) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// sender returns a Sender for r that trusts r's certificate.
func (r *relay) sender(mode TLSMode) *Sender {
	roots := x509.NewCertPool()
	roots.AddCert(r.cert)
	return &Sender{Host: "127.0.0.1", Port: r.port, TLS: mode, HeloName: "parley.test",
		TLSConfig: &tls.Config{RootCAs: roots}, Timeout: 5 * time.Second}
}

type relayBackend struct {
	r    *relay
	auth bool
}

func (b relayBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &relaySession{r: b.r, conn: c, needAuth: b.auth}, nil
}

type relaySession struct {
	r        *relay
	conn     *smtp.Conn
	needAuth bool
	authed   bool
}

func (s *relaySession) AuthMechanisms() []string { return s.r.mechs }

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != "ana" || pass != "s3cret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		s.r.mu.Lock()
		s.r.authed = mech + ":" + user
		s.r.mu.Unlock()
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

// loginServer is the server side of AUTH LOGIN, which go-sasl only has a client for.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(resp) > 0 {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if s.needAuth && !s.authed {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.from, s.r.rcpts, s.r.data, s.r.tlsSeen = from, nil, nil, isTLS
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if e := s.r.rcptReject[to]; e != nil {
		return e
	}
	s.r.rcpts = append(s.r.rcpts, to)
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.dataReject != nil {
		return s.r.dataReject
	}
	s.r.data = b
	return nil
}

func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

func (r *relay) got() (string, []string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.from, append([]string(nil), r.rcpts...), r.data
}

func composeReply(t *testing.T) (Envelope, []byte) {
	t.Helper()
	in := reply()
	msg, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	return Envelope{From: "bounces@acme.example", To: in.Recipients()}, msg
}

func TestSendThroughRelay(t *testing.T) {
	cases := []struct {
		name   string
		opts   relayOptions
		mode   TLSMode
		user   string
		mechs  []string
		wantTL bool
		auth   string
	}{
		{name: "plain, nothing offered", opts: relayOptions{}, mode: TLSOpportunistic},
		{name: "opportunistic STARTTLS", opts: relayOptions{startTLS: true}, mode: TLSOpportunistic, wantTL: true},
		{name: "STARTTLS and AUTH PLAIN", opts: relayOptions{startTLS: true, auth: true}, mode: TLSRequired, user: "ana", wantTL: true, auth: "PLAIN:ana"},
		{name: "STARTTLS and AUTH LOGIN", opts: relayOptions{startTLS: true, auth: true}, mode: TLSRequired, user: "ana", mechs: []string{sasl.Login}, wantTL: true, auth: "LOGIN:ana"},
		{name: "implicit TLS and AUTH", opts: relayOptions{implicit: true, auth: true}, mode: TLSImplicit, user: "ana", wantTL: true, auth: "PLAIN:ana"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startRelay(t, c.opts)
			if c.mechs != nil {
				r.mechs = c.mechs
			}
			s := r.sender(c.mode)
			if c.user != "" {
				s.Username, s.Password = c.user, "s3cret"
			}
			env, msg := composeReply(t)
			reply, err := s.Send(context.Background(), env, msg)
			if err != nil {
				t.Fatal(err)
			}
			if reply == "" {
				t.Error("no relay reply recorded")
			}
			from, rcpts, data := r.got()
			if from != "bounces@acme.example" {
				t.Errorf("MAIL FROM %q", from)
			}
			if strings.Join(rcpts, ",") != "bo@customer.example,asa@customer.example,audit@acme.example" {
				t.Errorf("RCPT TO %v", rcpts)
			}
			if !bytes.Equal(bytes.TrimRight(data, "\r\n"), bytes.TrimRight(msg, "\r\n")) {
				t.Errorf("relay received different bytes:\n%s", data)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.tlsSeen != c.wantTL {
				t.Errorf("TLS = %v, want %v", r.tlsSeen, c.wantTL)
			}
			if r.authed != c.auth {
				t.Errorf("auth = %q, want %q", r.authed, c.auth)
			}
		})
	}
}

func TestSendSignsWithDKIM(t *testing.T) {
	r := startRelay(t, relayOptions{})
	k := dkimKeys(t)["ed25519"]
	d, err := NewDKIM("acme.example", "s2026", []byte(k[0]))
	if err != nil {
		t.Fatal(err)
	}
	s := r.sender(TLSOpportunistic)
	s.DKIM = d
	env, msg := composeReply(t)
	if _, err := s.Send(context.Background(), env, msg); err != nil {
		t.Fatal(err)
	}
	_, _, data := r.got()
	if err := verify(t, data, k[1]); err != nil {
		t.Fatalf("received mail does not verify: %v", err)
	}
}

func TestSendErrorClassification(t *testing.T) {
	env, msg := composeReply(t)
	ctx := context.Background()

	t.Run("4xx recipient is transient", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		r.rcptReject["asa@customer.example"] = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		_, err := r.sender(TLSOpportunistic).Send(ctx, env, msg)
		var re *RecipientError
		if err == nil || channel.IsPermanent(err) || !errors.As(err, &re) || re.Address != "asa@customer.example" {
			t.Fatalf("err = %v (permanent %v)", err, channel.IsPermanent(err))
		}
		if _, _, data := r.got(); data != nil {
			t.Error("data was sent although a recipient was refused")
		}
	})
	t.Run("5xx recipient is permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		r.rcptReject["bo@customer.example"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		_, err := r.sender(TLSOpportunistic).Send(ctx, env, msg)
		if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "no such user") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("4xx after data is transient", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		r.dataReject = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "queue full"}
		_, err := r.sender(TLSOpportunistic).Send(ctx, env, msg)
		if err == nil || channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("5xx after data is permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		r.dataReject = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
		_, err := r.sender(TLSOpportunistic).Send(ctx, env, msg)
		if !channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad credentials are permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{startTLS: true, auth: true})
		s := r.sender(TLSRequired)
		s.Username, s.Password = "ana", "wrong"
		_, err := s.Send(ctx, env, msg)
		if !channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("required STARTTLS missing is permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		_, err := r.sender(TLSRequired).Send(ctx, env, msg)
		if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v", err)
		}
		if from, _, _ := r.got(); from != "" {
			t.Error("mail transaction started without TLS")
		}
	})
	t.Run("untrusted certificate is permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{startTLS: true})
		s := r.sender(TLSRequired)
		s.TLSConfig = nil // system roots do not trust the test certificate
		_, err := s.Send(ctx, env, msg)
		if !channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("connection refused is transient", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		s := &Sender{Host: "127.0.0.1", Port: port, Timeout: 2 * time.Second}
		_, err = s.Send(ctx, env, msg)
		if err == nil || channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("silent relay times out, transient", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				defer func() { _ = c.Close() }()
				time.Sleep(2 * time.Second) // never greets
			}
		}()
		s := &Sender{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Timeout: 300 * time.Millisecond}
		start := time.Now()
		_, err = s.Send(ctx, env, msg)
		if err == nil || channel.IsPermanent(err) || time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
	})
	t.Run("bad envelope is permanent", func(t *testing.T) {
		r := startRelay(t, relayOptions{})
		_, err := r.sender(TLSOpportunistic).Send(ctx, Envelope{From: "x@y.example", To: []string{"a@b.example>\r\nRCPT TO:<c@d.example"}}, msg)
		if !channel.IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
		_, err = r.sender(TLSOpportunistic).Send(ctx, Envelope{From: "x@y.example"}, msg)
		if !channel.IsPermanent(err) {
			t.Fatalf("no recipients: err = %v", err)
		}
	})
}

func TestNullReversePath(t *testing.T) {
	r := startRelay(t, relayOptions{})
	_, msg := composeReply(t)
	if _, err := r.sender(TLSOpportunistic).Send(context.Background(), Envelope{To: []string{"bo@customer.example"}}, msg); err != nil {
		t.Fatal(err)
	}
	if from, rcpts, _ := r.got(); from != "" || len(rcpts) != 1 {
		t.Errorf("MAIL FROM %q RCPT %v", from, rcpts)
	}
}

func TestNewSender(t *testing.T) {
	for url, want := range map[string]Sender{
		"smtp://relay.example":                   {Host: "relay.example", Port: 587, TLS: TLSOpportunistic},
		"smtp://relay.example:2525?tls=required": {Host: "relay.example", Port: 2525, TLS: TLSRequired},
		"smtp://ana:p%40ss@relay.example":        {Host: "relay.example", Port: 587, TLS: TLSRequired, Username: "ana", Password: "p@ss"},
		"smtps://ana:pw@relay.example":           {Host: "relay.example", Port: 465, TLS: TLSImplicit, Username: "ana", Password: "pw"},
	} {
		s, err := NewSender(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if s.Host != want.Host || s.Port != want.Port || s.TLS != want.TLS || s.Username != want.Username || s.Password != want.Password {
			t.Errorf("%s: got %+v", url, s)
		}
	}
	for _, bad := range []string{"http://relay.example", "smtp://", "smtp://relay.example:99999", "::"} {
		if _, err := NewSender(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
