package imapsync

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/email/imapsync/imaptest"
)

func TestTestConnection(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{TLS: true})
	ctx := context.Background()
	if err := d.Client().Create("Support", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	plain := d.config("INBOX")
	tlsCfg := plain
	tlsCfg.Security, tlsCfg.Port, tlsCfg.TLS = SecurityTLS, d.TLSPort, d.TLSConfig()
	startTLS := plain
	startTLS.Security, startTLS.TLS = SecurityStartTLS, d.TLSConfig()

	ok := map[string]Config{"none": plain, "tls": tlsCfg, "starttls": startTLS}
	other := plain
	other.Mailbox = "Support"
	ok["other mailbox"] = other
	for name, cfg := range ok {
		if err := Test(ctx, cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	with := func(base Config, change func(*Config)) Config {
		change(&base)
		return base
	}
	closed := imaptest.FreePort(t)
	fails := []struct {
		name string
		cfg  Config
		step Step
	}{
		{"bad password", with(plain, func(c *Config) { c.Password = "wrong" }), StepLogin},
		{"unknown user", with(tlsCfg, func(c *Config) { c.Username = "nobody-here" }), StepLogin},
		{"bad mailbox", with(plain, func(c *Config) { c.Mailbox = "No Such Folder" }), StepMailbox},
		{"closed port", with(plain, func(c *Config) { c.Port = closed }), StepConnect},
		{"untrusted certificate", with(tlsCfg, func(c *Config) { c.TLS = nil }), StepTLS},
		{"starttls untrusted certificate", with(startTLS, func(c *Config) { c.TLS = nil }), StepTLS},
		{"tls to a plain port", with(plain, func(c *Config) { c.Security = SecurityTLS }), StepTLS},
	}
	for _, tc := range fails {
		err := Test(ctx, tc.cfg)
		var se *StepError
		if !errors.As(err, &se) || se.Step != tc.step {
			t.Errorf("%s: err = %v, want a %s error", tc.name, err, tc.step)
		}
	}

	if err := Test(ctx, Config{Host: "127.0.0.1", Security: "ssl3", Username: "x"}); err == nil || errors.As(err, new(*StepError)) {
		t.Errorf("invalid settings: %v, want a validation error", err)
	}
}
