package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"

	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/smtpd"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/config"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// threadSecretSetting holds the installation's key for signed reply addresses and Message-IDs.
const threadSecretSetting = "email_thread_secret"

// newEmail builds the email channel service from the configuration.
func newEmail(ctx context.Context, c *config.Config, s *store.Store, svc *inbox.Service, fileStore *files.Store, log *slog.Logger) (*email.Service, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	secret, err := s.EnsureSetting(ctx, threadSecretSetting, hex.EncodeToString(fresh))
	if err != nil {
		return nil, fmt.Errorf("email thread secret: %w", err)
	}
	tr, err := thread.New([]byte(secret))
	if err != nil {
		return nil, err
	}
	e := &email.Service{Store: s, Inbox: svc, Files: fileStore, Filters: s, Threader: tr, Domain: c.InboundDomain,
		WakeJobs: svc.WakeJobs, Log: log}
	if c.MailFrom != "" {
		if a, err := mail.ParseAddress(c.MailFrom); err == nil {
			e.NotificationFrom = a.Address
		}
	}
	if c.SMTPRelay != "" {
		if e.Relay, err = outbound.NewSender(c.SMTPRelay); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// startEmail starts the SMTP receiver (when an address is configured) and the IMAP fetchers.
// The returned function stops the receiver, letting deliveries in flight finish.
func startEmail(ctx context.Context, wg *sync.WaitGroup, c *config.Config, e *email.Service, log *slog.Logger) (stop func(context.Context) error, err error) {
	sup := &imapsync.Supervisor{Store: e.Store, List: e.Mailboxes, Deliver: e.DeliverFetched, Log: log}
	wg.Go(func() {
		if err := sup.Run(ctx); err != nil {
			log.Error("imap fetchers stopped", "err", err)
		}
	})
	if c.SMTPAddr == "" {
		return func(context.Context) error { return nil }, nil
	}
	srv := &smtpd.Server{Addr: c.SMTPAddr, Domain: c.InboundDomain, Log: log,
		Accept: func(ctx context.Context, rcpt string) bool {
			_, err := e.InboxForRecipient(ctx, rcpt)
			return err == nil
		},
		Deliver: func(ctx context.Context, env smtpd.Envelope, raw []byte) error {
			return deliverSMTP(ctx, e, env, raw)
		},
	}
	if c.SMTPRateLimitOff {
		// PARLEY_SMTP_RATE_LIMIT=off: a trusted relay (or parley bench email) sends everything
		// from one address, which the per-IP limits would throttle.
		srv.ConnLimit, srv.MessageLimit = smtpd.RateLimit{Burst: -1}, smtpd.RateLimit{Burst: -1}
	}
	if addr := c.SMTPDNS; addr != "" {
		// PARLEY_SMTP_DNS: the checks ask this server (a local cache, or parley bench email's
		// own) instead of the system resolver.
		srv.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	if c.SMTPTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.SMTPTLSCert, c.SMTPTLSKey)
		if err != nil {
			return nil, fmt.Errorf("smtp tls: %w", err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", c.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp receiver: listen on %s: %w", c.SMTPAddr, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("smtp receiver listening", "addr", ln.Addr().String(), "domain", c.InboundDomain)
	return func(ctx context.Context) error {
		return errors.Join(srv.Shutdown(ctx), <-served)
	}, nil
}

// deliverSMTP stores one received mail in the inbox of each of its receiving addresses. The
// sender gets 250 only when every copy is committed; a retry finds the ones already stored.
func deliverSMTP(ctx context.Context, e *email.Service, env smtpd.Envelope, raw []byte) error {
	seen := map[int64]bool{}
	for _, rcpt := range env.Recipients {
		ib, err := e.InboxForRecipient(ctx, rcpt)
		if errors.Is(err, store.ErrNotFound) {
			continue // refused at RCPT; an inbox deleted since then
		} else if err != nil {
			return err
		}
		if seen[ib.ID] {
			continue
		}
		seen[ib.ID] = true
		auth := env.Auth
		_, err = e.Receive(ctx, email.Delivery{InboxID: ib.ID, Raw: raw, MailFrom: env.MailFrom,
			Recipients: env.Recipients, Auth: &auth})
		if p, ok := problem.As(err); ok && p.Code == "unreadable_email" {
			return smtpd.Reject(strings.TrimPrefix(p.Detail, "the message "))
		} else if err != nil {
			return err
		}
	}
	return nil
}
