package email

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/store"
)

// Kind is the channel kind of email channels and the key of their Sender.
const Kind = "email"

// Settings are an email channel's settings, as an admin edits them (channels.settings).
type Settings struct {
	// Address is the team address customers write to, e.g. support@acme.example; replies are
	// sent from it.
	Address string `json:"address"`
	// FromName is "agent_and_company" ("Jane at Acme") or "company" (EMAIL-2).
	FromName    string `json:"from_name"`
	CompanyName string `json:"company_name"`
	// SignatureHTML is the team signature with {{agent.first_name}}-style tokens.
	SignatureHTML string `json:"signature_html"`
	// LogToOriginalSender logs forwarded mail to the original sender rather than the forwarder
	// (EMAIL-5); on by default.
	LogToOriginalSender bool `json:"log_to_original_sender"`
	// Filters says which kinds of automated mail go to the Filtered view (EMAIL-8).
	Filters FilterRules `json:"filters"`
	// IMAP, when set, fetches mail from a mailbox instead of (or besides) forwarding.
	IMAP *IMAPSettings `json:"imap,omitempty"`
	// SMTP, when set, is this channel's own relay; otherwise the installation's is used.
	SMTP *SMTPSettings `json:"smtp,omitempty"`
	// DKIM, when set, signs every outgoing mail for the team address's domain.
	DKIM *DKIMSettings `json:"dkim,omitempty"`
	// WebhookSecret authenticates a mail provider posting raw MIME to the channel's webhook.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// FilterRules toggles the Filtered view's rules; each is on by default.
type FilterRules struct {
	AutoReplies bool `json:"auto_replies"`
	Bounces     bool `json:"bounces"`
	Bulk        bool `json:"bulk"`
	RoleSenders bool `json:"role_senders"`
}

// IMAPSettings is a mailbox to fetch from (EMAIL-1 b).
type IMAPSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"` // tls | starttls | none
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Mailbox  string `json:"mailbox"`
	// BackfillDays is how far back the first fetch reaches; 0 takes only new mail.
	BackfillDays int `json:"backfill_days"`
}

// SMTPSettings is a channel's own relay.
type SMTPSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"` // starttls | tls | none
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
}

// DKIMSettings sign outgoing mail (RFC 6376) for the team address's domain; the public key is
// published at <selector>._domainkey.<domain>.
type DKIMSettings struct {
	Selector string `json:"selector"`
	// PrivateKey is the PEM of an RSA or Ed25519 key; write-only in the API.
	PrivateKey string `json:"private_key,omitempty"`
}

// DefaultSettings are a new channel's settings before the admin's input is applied.
func DefaultSettings() Settings {
	return Settings{
		FromName:            string(outbound.NameAgentAndCompany),
		LogToOriginalSender: true,
		Filters:             FilterRules{AutoReplies: true, Bounces: true, Bulk: true, RoleSenders: true},
	}
}

// ChannelSettings reads a channel's settings; fields the stored JSON lacks keep their defaults.
func ChannelSettings(ch *store.Channel) (Settings, error) {
	s := DefaultSettings()
	if len(ch.Settings) > 0 {
		if err := json.Unmarshal(ch.Settings, &s); err != nil {
			return s, fmt.Errorf("email channel %d settings: %w", ch.ID, err)
		}
	}
	return s, nil
}

// State is what an email channel records while it runs (channels.state).
type State struct {
	// ForwardingConfirmation is the last Gmail forwarding confirmation received (EMAIL-9).
	ForwardingConfirmation *Confirmation `json:"forwarding_confirmation,omitempty"`
	// Test is the last "send test email" round trip.
	Test *TestMail `json:"test,omitempty"`
	// Quarantined lists the latest runaway senders whose mail was quarantined (EMAIL-7).
	Quarantined []Quarantine `json:"quarantined,omitempty"`
}

// Confirmation is a provider's forwarding verification mail, shown in channel setup.
type Confirmation struct {
	Code       string `json:"code"`
	Link       string `json:"link"`
	From       string `json:"from"`
	ReceivedAt int64  `json:"received_at"`
}

// TestMail is a test message sent to the team address to check that forwarding works.
type TestMail struct {
	Token      string `json:"token"`
	SentAt     int64  `json:"sent_at"`
	ReceivedAt int64  `json:"received_at,omitempty"`
	// Error says why the test mail could not be sent.
	Error string `json:"error,omitempty"`
}

// Quarantine is a sender whose flood of mail was held back.
type Quarantine struct {
	Sender string `json:"sender"`
	At     int64  `json:"at"`
}

// maxQuarantined bounds State.Quarantined.
const maxQuarantined = 20

// ChannelState reads a channel's state.
func ChannelState(ch *store.Channel) (State, error) {
	var st State
	if len(ch.State) > 0 {
		if err := json.Unmarshal(ch.State, &st); err != nil {
			return st, fmt.Errorf("email channel %d state: %w", ch.ID, err)
		}
	}
	return st, nil
}

// normalizeAddress returns the bare, lower-case address of s, or an error when s is not one
// address.
func normalizeAddress(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !strings.Contains(a.Address, "@") || len(a.Address) > maxAddressLength {
		return "", fmt.Errorf("not an email address")
	}
	return strings.ToLower(a.Address), nil
}

// domainOf returns the lower-case domain of an address ("" when it has none).
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}
