package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	resolve := Bind(fs, &c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &c, resolve()
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.DataDir != "./parley-data" || c.DatabaseURL != "" || c.BaseURL != "http://localhost:8080" || c.Workers != 4 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.SMTPRateLimitOff {
		t.Error("the SMTP receiver's rate limits are on by default")
	}
	if c, err := load(t, []string{"--smtp-rate-limit", "off"}, nil); err != nil || !c.SMTPRateLimitOff {
		t.Errorf("--smtp-rate-limit off: %v, %+v", err, c)
	}
}

func TestFlagBeatsEnvAndFileSecrets(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "pw")
	if err := os.WriteFile(secret, []byte("from-a-file-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--addr", "127.0.0.1:9999"}, map[string]string{
		"PARLEY_ADDR":                "0.0.0.0:1",
		"PARLEY_ADMIN_EMAIL":         "a@example.com",
		"PARLEY_ADMIN_PASSWORD_FILE": secret,
		"PARLEY_BASE_URL":            "https://parley.example.com/",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" {
		t.Errorf("flag should win over env: %q", c.Addr)
	}
	if c.AdminPassword != "from-a-file-123" {
		t.Errorf("password from file: %q", c.AdminPassword)
	}
	if c.BaseURL != "https://parley.example.com" {
		t.Errorf("base url trimmed: %q", c.BaseURL)
	}
}

func TestInvalid(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"mysql url":      {"PARLEY_DATABASE_URL": "mysql://x"},
		"lonely email":   {"PARLEY_ADMIN_EMAIL": "a@example.com"},
		"bad log format": {"PARLEY_LOG_FORMAT": "xml"},
		"bad workers":    {"PARLEY_WORKERS": "many"},
		"bad base url":   {"PARLEY_BASE_URL": "ftp://x"},
		"bad smtp url":   {"PARLEY_SMTP_URL": "http://mail.example.com", "PARLEY_MAIL_FROM": "a@example.com"},
		"smtp sans from": {"PARLEY_SMTP_URL": "smtp://mail.example.com"},
		"bad smtp limit": {"PARLEY_SMTP_RATE_LIMIT": "no"},
		"bad smtp dns":   {"PARLEY_SMTP_DNS": "127.0.0.1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := load(t, nil, env); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, err := load(t, nil, map[string]string{
		"PARLEY_DATABASE_URL":   "postgres://parley:hunter2secret@db:5432/parley?password=alsosecret",
		"PARLEY_ADMIN_EMAIL":    "a@example.com",
		"PARLEY_ADMIN_PASSWORD": "topsecretpassword",
		"PARLEY_SMTP_URL":       "smtps://parley:mailsecret99@smtp.example.com:465",
		"PARLEY_MAIL_FROM":      "Parley <parley@example.com>",
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.Print(&buf)
	out := buf.String()
	for _, secret := range []string{"hunter2secret", "alsosecret", "topsecretpassword", "mailsecret99"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed configuration leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "smtp.example.com:465") {
		t.Errorf("mail relay should be shown:\n%s", out)
	}
	if !strings.Contains(out, "db:5432") {
		t.Errorf("database host should be shown:\n%s", out)
	}
}
