// Package config reads Parley's settings from command-line flags and PARLEY_* environment
// variables (a flag wins over its variable; secrets may also come from PARLEY_*_FILE), validates
// them and prints them with secrets masked. It holds no globals: Load returns a value.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one parley process.
type Config struct {
	Addr          string
	DataDir       string
	DatabaseURL   string
	BaseURL       string
	AdminEmail    string
	AdminPassword string
	LogFormat     string // text | json
	LogLevel      string // debug | info | warn | error
	Workers       int
	ShutdownGrace time.Duration
	// EventRetention is how long the realtime event log keeps events; a client resuming from
	// before it is told to resync.
	EventRetention time.Duration
	// SMTPURL is the relay for Parley's own mail (password reset and invitation links):
	// smtp://user:pass@host:587 or smtps://…; empty means no outbound system mail.
	SMTPURL  string
	MailFrom string

	// SMTPAddr is where the built-in SMTP receiver listens for mail forwarded to inboxes'
	// receiving addresses (EMAIL-1); empty runs no receiver.
	SMTPAddr string
	// InboundDomain is the domain of receiving addresses, <inbox-slug>@InboundDomain; by default
	// the host of the base URL.
	InboundDomain string
	// SMTPRelay is the installation-wide relay email channels send through unless they have
	// their own: smtp://user:pass@host:port or smtps://…; empty means only channels' own relays.
	SMTPRelay string
	// SMTPTLSCert and SMTPTLSKey are PEM files that turn on STARTTLS in the receiver.
	SMTPTLSCert string
	SMTPTLSKey  string
	// SMTPRateLimitOff turns the receiver's per-IP connection and message limits off
	// (PARLEY_SMTP_RATE_LIMIT=off; they are on by default and in a zero Config): for a trusted
	// relay in front of the receiver, or for `parley bench email`, which sends from one address.
	SMTPRateLimitOff bool
	// SMTPDNS is the DNS server (host:port) the receiver's SPF, DKIM and DMARC checks ask;
	// empty for the system resolver.
	SMTPDNS string
}

// setting describes one setting: its flag, its variable, its default and whether it is secret.
type setting struct {
	name, env, def, usage string
	secret                bool
	dst                   *string
}

// Bind registers the settings on fs and returns a function that resolves them after fs.Parse:
// flag if given, else the environment (or its _FILE), else the default.
func Bind(fs *flag.FlagSet, c *Config) func() error {
	var workers, grace, retention, smtpRateLimit string
	settings := []setting{
		{"addr", "PARLEY_ADDR", "localhost:8080", "address to listen on", false, &c.Addr},
		{"data-dir", "PARLEY_DATA_DIR", "./parley-data", "directory for the SQLite database and files", false, &c.DataDir},
		{"database-url", "PARLEY_DATABASE_URL", "", "postgres://… for PostgreSQL; empty for SQLite in the data dir", true, &c.DatabaseURL},
		{"base-url", "PARLEY_BASE_URL", "", "public URL of this installation (default http://ADDR)", false, &c.BaseURL},
		{"admin-email", "PARLEY_ADMIN_EMAIL", "", "on first start with an empty database, create this owner", false, &c.AdminEmail},
		{"admin-password", "PARLEY_ADMIN_PASSWORD", "", "password of the first owner", true, &c.AdminPassword},
		{"log-format", "PARLEY_LOG_FORMAT", "text", "log format: text or json", false, &c.LogFormat},
		{"log-level", "PARLEY_LOG_LEVEL", "info", "log level: debug, info, warn or error", false, &c.LogLevel},
		{"workers", "PARLEY_WORKERS", "4", "background job workers in this process", false, &workers},
		{"shutdown-grace", "PARLEY_SHUTDOWN_GRACE", "30s", "how long shutdown waits for in-flight requests and jobs", false, &grace},
		{"event-retention", "PARLEY_EVENT_RETENTION", "168h", "how long realtime events are kept for clients to resume", false, &retention},
		{"smtp-url", "PARLEY_SMTP_URL", "", "smtp://user:pass@host:587 or smtps://… relay for password reset and invitation mail; empty for none", true, &c.SMTPURL},
		{"mail-from", "PARLEY_MAIL_FROM", "", "sender of that mail, e.g. Parley <parley@example.com>", false, &c.MailFrom},
		{"smtp-addr", "PARLEY_SMTP_ADDR", "", "address the SMTP receiver listens on for forwarded mail, e.g. :25; empty for none", false, &c.SMTPAddr},
		{"inbound-domain", "PARLEY_INBOUND_DOMAIN", "", "domain of inboxes' receiving addresses (default: the base URL's host)", false, &c.InboundDomain},
		{"smtp-relay", "PARLEY_SMTP_RELAY", "", "smtp://user:pass@host:port or smtps://… relay for email channels' replies; empty for none", true, &c.SMTPRelay},
		{"smtp-tls-cert", "PARLEY_SMTP_TLS_CERT", "", "PEM certificate file for the SMTP receiver's STARTTLS", false, &c.SMTPTLSCert},
		{"smtp-tls-key", "PARLEY_SMTP_TLS_KEY", "", "PEM key file for the SMTP receiver's STARTTLS", false, &c.SMTPTLSKey},
		{"smtp-dns", "PARLEY_SMTP_DNS", "", "DNS server (host:port) for the SMTP receiver's SPF, DKIM and DMARC lookups; empty for the system resolver", false, &c.SMTPDNS},
		{"smtp-rate-limit", "PARLEY_SMTP_RATE_LIMIT", "on", "per-IP connection and message rate limits of the SMTP receiver: on, or off (a trusted relay in front, benchmarks)", false, &smtpRateLimit},
	}
	given := map[string]*string{}
	for _, s := range settings {
		v := new(string)
		given[s.name] = v
		fs.StringVar(v, s.name, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
	}
	return func() error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, s := range settings {
			switch {
			case set[s.name]:
				*s.dst = *given[s.name]
			case os.Getenv(s.env) != "":
				*s.dst = os.Getenv(s.env)
			case s.secret && os.Getenv(s.env+"_FILE") != "":
				b, err := os.ReadFile(os.Getenv(s.env + "_FILE"))
				if err != nil {
					return fmt.Errorf("%s_FILE: %w", s.env, err)
				}
				*s.dst = strings.TrimSpace(string(b))
			default:
				*s.dst = s.def
			}
		}
		n, err := strconv.Atoi(workers)
		if err != nil || n < 0 || n > 256 {
			return fmt.Errorf("workers: want a number from 0 to 256, got %q", workers)
		}
		c.Workers = n
		d, err := time.ParseDuration(grace)
		if err != nil || d < 0 {
			return fmt.Errorf("shutdown-grace: want a duration like 30s, got %q", grace)
		}
		c.ShutdownGrace = d
		r, err := time.ParseDuration(retention)
		if err != nil || r < time.Minute {
			return fmt.Errorf("event-retention: want a duration of at least 1m like 168h, got %q", retention)
		}
		c.EventRetention = r
		switch smtpRateLimit {
		case "on":
			c.SMTPRateLimitOff = false
		case "off":
			c.SMTPRateLimitOff = true
		default:
			return fmt.Errorf("smtp-rate-limit: want on or off, got %q", smtpRateLimit)
		}
		return c.validate()
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base-url: want http(s)://host[:port], got %q", c.BaseURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("database-url: want postgres://… or empty for SQLite"))
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("admin-email and admin-password go together"))
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("smtp-url: want smtp://[user:pass@]host[:port] or smtps://…"))
		}
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("mail-from: want an address like Parley <parley@example.com> with smtp-url, got %q", c.MailFrom))
		}
	}
	if c.SMTPRelay != "" {
		if u, err := url.Parse(c.SMTPRelay); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("smtp-relay: want smtp://[user:pass@]host[:port] or smtps://…"))
		}
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("smtp-addr: want host:port such as :25, got %q", c.SMTPAddr))
		}
	}
	if c.SMTPDNS != "" {
		if _, _, err := net.SplitHostPort(c.SMTPDNS); err != nil {
			errs = append(errs, fmt.Errorf("smtp-dns: want host:port such as 127.0.0.1:53, got %q", c.SMTPDNS))
		}
	}
	if (c.SMTPTLSCert == "") != (c.SMTPTLSKey == "") {
		errs = append(errs, errors.New("smtp-tls-cert and smtp-tls-key go together"))
	}
	if c.InboundDomain == "" {
		if u, err := url.Parse(c.BaseURL); err == nil {
			c.InboundDomain = u.Hostname()
		}
	}
	c.InboundDomain = strings.ToLower(strings.TrimSpace(c.InboundDomain))
	if strings.ContainsAny(c.InboundDomain, "@/: ") {
		errs = append(errs, fmt.Errorf("inbound-domain: want a domain such as in.example.com, got %q", c.InboundDomain))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format: want text or json, got %q", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: want debug, info, warn or error, got %q", c.LogLevel))
	}
	return errors.Join(errs...)
}

// Print writes the effective configuration with secrets masked.
func (c *Config) Print(w io.Writer) {
	db := "sqlite (" + c.DataDir + "/parley.db)"
	if c.DatabaseURL != "" {
		db = maskURL(c.DatabaseURL)
	}
	fmt.Fprintf(w, "parley configuration:\n")
	fmt.Fprintf(w, "  addr            %s\n", c.Addr)
	fmt.Fprintf(w, "  base-url        %s\n", c.BaseURL)
	fmt.Fprintf(w, "  data-dir        %s\n", c.DataDir)
	fmt.Fprintf(w, "  database        %s\n", db)
	fmt.Fprintf(w, "  admin-email     %s\n", orNone(c.AdminEmail))
	fmt.Fprintf(w, "  admin-password  %s\n", mask(c.AdminPassword))
	fmt.Fprintf(w, "  log             %s, %s\n", c.LogFormat, c.LogLevel)
	fmt.Fprintf(w, "  workers         %d\n", c.Workers)
	fmt.Fprintf(w, "  shutdown-grace  %s\n", c.ShutdownGrace)
	fmt.Fprintf(w, "  event-retention %s\n", c.EventRetention)
	smtp := "(not set)"
	if c.SMTPURL != "" {
		smtp = maskURL(c.SMTPURL) + " from " + c.MailFrom
	}
	fmt.Fprintf(w, "  smtp            %s\n", smtp)
	fmt.Fprintf(w, "  smtp-addr       %s (receiving addresses @%s)\n", orNone(c.SMTPAddr), c.InboundDomain)
	if c.SMTPDNS != "" {
		fmt.Fprintf(w, "  smtp-dns        %s\n", c.SMTPDNS)
	}
	if c.SMTPRateLimitOff {
		fmt.Fprintf(w, "  smtp-rate-limit off (no per-IP limits on the receiver)\n")
	}
	relay := "(not set)"
	if c.SMTPRelay != "" {
		relay = maskURL(c.SMTPRelay)
	}
	fmt.Fprintf(w, "  smtp-relay      %s\n", relay)
}

func mask(s string) string {
	if s == "" {
		return "(not set)"
	}
	return "********"
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}

// maskURL hides the password of a database URL and any password=… query parameter.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "********"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
