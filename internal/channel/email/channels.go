package email

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// ChannelInput is an email channel's settings as an admin gives them (POST /api/v1/channels
// and the setup screens). On update a nil field keeps its value, and an empty password keeps
// the stored one, so a form that never shows passwords can be saved as it is.
type ChannelInput struct {
	InboxID             int64
	Name                *string
	Address             *string
	FromName            *string
	CompanyName         *string
	SignatureHTML       *string
	LogToOriginalSender *bool
	Filters             *FilterRules
	// IMAP and SMTP replace the stored objects; RemoveIMAP and RemoveSMTP drop them.
	IMAP       *IMAPSettings
	SMTP       *SMTPSettings
	DKIM       *DKIMSettings
	RemoveIMAP bool
	RemoveSMTP bool
	RemoveDKIM bool
}

// View is an email channel as the API and the setup screens show it: passwords are never
// included, only whether one is set.
type View struct {
	Channel          *store.Channel
	Settings         Settings
	State            State
	ReceivingAddress string
	IMAPPasswordSet  bool
	SMTPPasswordSet  bool
	DKIMKeySet       bool
}

const maxSignature = 16 << 10

func requireAdmin(actor *store.User) error {
	if actor == nil || !actor.IsAdmin() {
		return problem.Forbiddenf("admin_only", "only owners and admins may do this")
	}
	return nil
}

func channelNotFound(id int64) error {
	return problem.NotFoundf("channel_not_found", "no email channel %d", id)
}

// CreateChannel connects a team address to an inbox (admins only).
func (s *Service) CreateChannel(ctx context.Context, actor *store.User, in ChannelInput) (*View, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	settings := DefaultSettings()
	settings.WebhookSecret = newToken() + newToken()
	if err := apply(&settings, in, true); err != nil {
		return nil, err
	}
	name := settings.Address
	if in.Name != nil && strings.TrimSpace(*in.Name) != "" {
		name = strings.TrimSpace(*in.Name)
	}
	var ch *store.Channel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ib, err := tx.Inbox(ctx, in.InboxID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.Field("inbox_not_found", "inbox_id", "no such inbox")
		} else if err != nil {
			return err
		}
		if settings.CompanyName == "" {
			settings.CompanyName = ib.Name
		}
		if err := checkAddressFree(ctx, tx, settings.Address, 0); err != nil {
			return err
		}
		raw, err := json.Marshal(settings)
		if err != nil {
			return err
		}
		ch = &store.Channel{InboxID: ib.ID, Kind: Kind, Name: name, Settings: raw, AddressType: "email",
			Address: settings.Address, Authorized: true}
		if _, err := tx.InsertChannel(ctx, ch); err != nil {
			return err
		}
		return tx.AddAuditEntry(ctx, &store.AuditEntry{ActorID: &actor.ID, Action: "channel.created",
			TargetType: "channel", TargetID: &ch.ID, Data: auditData(ch, settings)})
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, ch)
}

// UpdateChannel changes an email channel's settings (admins only).
func (s *Service) UpdateChannel(ctx context.Context, actor *store.User, id int64, in ChannelInput) (*View, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var ch *store.Channel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ch, err = tx.ChannelForUpdate(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && (ch.Kind != Kind || ch.ArchivedAt != nil) {
			return channelNotFound(id)
		} else if err != nil {
			return err
		}
		settings, err := ChannelSettings(ch)
		if err != nil {
			return err
		}
		if err := apply(&settings, in, false); err != nil {
			return err
		}
		if err := checkAddressFree(ctx, tx, settings.Address, ch.ID); err != nil {
			return err
		}
		if in.Name != nil && strings.TrimSpace(*in.Name) != "" {
			ch.Name = strings.TrimSpace(*in.Name)
		}
		if ch.Settings, err = json.Marshal(settings); err != nil {
			return err
		}
		ch.Address = settings.Address
		if err := tx.UpdateChannel(ctx, ch); err != nil {
			return err
		}
		return tx.AddAuditEntry(ctx, &store.AuditEntry{ActorID: &actor.ID, Action: "channel.updated",
			TargetType: "channel", TargetID: &ch.ID, Data: auditData(ch, settings)})
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, ch)
}

// auditData is what the audit log keeps of a channel change: never a password or secret.
func auditData(ch *store.Channel, st Settings) json.RawMessage {
	v := map[string]any{"name": ch.Name, "kind": ch.Kind, "inbox_id": ch.InboxID, "address": st.Address,
		"imap": st.IMAP != nil, "smtp": st.SMTP != nil}
	raw, _ := json.Marshal(v)
	return raw
}

// checkAddressFree refuses a team address another connected email channel already has: mail
// to it could only land in one of them.
func checkAddressFree(ctx context.Context, tx *store.Tx, address string, self int64) error {
	id, err := tx.EmailChannelByAddress(ctx, address)
	if errors.Is(err, store.ErrNotFound) || err == nil && id == self {
		return nil
	} else if err != nil {
		return err
	}
	return problem.Conflictf("email_address_in_use", "%s is already connected as channel %d", address, id)
}

// apply validates in and writes it over s.
func apply(s *Settings, in ChannelInput, create bool) error {
	if in.Address != nil || create {
		v := ""
		if in.Address != nil {
			v = *in.Address
		}
		addr, err := normalizeAddress(v)
		if err != nil {
			return problem.Field("invalid_email_address", "address", "must be an email address such as support@example.com")
		}
		s.Address = addr
	}
	if in.FromName != nil {
		switch outbound.NameMode(*in.FromName) {
		case outbound.NameAgentAndCompany, outbound.NameCompany:
			s.FromName = *in.FromName
		default:
			return problem.Field("invalid_from_name", "from_name", "must be agent_and_company or company")
		}
	}
	if in.CompanyName != nil {
		s.CompanyName = strings.TrimSpace(*in.CompanyName)
		if len(s.CompanyName) > 200 {
			return problem.Field("invalid_company_name", "company_name", "must be at most 200 characters")
		}
	}
	if in.SignatureHTML != nil {
		if len(*in.SignatureHTML) > maxSignature {
			return problem.Field("signature_too_long", "signature_html", "must be at most 16 KB")
		}
		s.SignatureHTML = *in.SignatureHTML
	}
	if in.LogToOriginalSender != nil {
		s.LogToOriginalSender = *in.LogToOriginalSender
	}
	if in.Filters != nil {
		s.Filters = *in.Filters
	}
	switch {
	case in.RemoveIMAP:
		s.IMAP = nil
	case in.IMAP != nil:
		c := *in.IMAP
		if err := checkIMAP(&c); err != nil {
			return err
		}
		// A stored password is kept only for the same server, user and protection: switching
		// to an unencrypted connection must be confirmed by typing the password again.
		if c.Password == "" && s.IMAP != nil && s.IMAP.Host == c.Host && s.IMAP.Username == c.Username &&
			(c.Security == s.IMAP.Security || c.Security != "none") {
			c.Password = s.IMAP.Password
		}
		if c.Password == "" {
			return problem.Field("invalid_imap", "imap.password", "is required")
		}
		s.IMAP = &c
	}
	switch {
	case in.RemoveSMTP:
		s.SMTP = nil
	case in.SMTP != nil:
		c := *in.SMTP
		if err := checkSMTP(&c); err != nil {
			return err
		}
		if c.Password == "" && s.SMTP != nil && s.SMTP.Host == c.Host && s.SMTP.Username == c.Username &&
			(c.Security == s.SMTP.Security || c.Security != "none") {
			c.Password = s.SMTP.Password
		}
		s.SMTP = &c
	}
	switch {
	case in.RemoveDKIM:
		s.DKIM = nil
	case in.DKIM != nil:
		c := DKIMSettings{Selector: strings.TrimSpace(in.DKIM.Selector), PrivateKey: strings.TrimSpace(in.DKIM.PrivateKey)}
		if c.PrivateKey == "" && s.DKIM != nil {
			c.PrivateKey = s.DKIM.PrivateKey
		}
		if _, err := outbound.NewDKIM(domainOf(s.Address), c.Selector, []byte(c.PrivateKey)); err != nil {
			return problem.Field("invalid_dkim", "dkim", err.Error())
		}
		s.DKIM = &c
	}
	return nil
}

func checkHost(field, host string) (string, error) {
	host = strings.TrimSpace(host)
	if host == "" || strings.ContainsAny(host, " /:@") && !strings.HasPrefix(host, "[") {
		return "", problem.Field("invalid_"+strings.SplitN(field, ".", 2)[0], field, "must be a host name such as mail.example.com")
	}
	return host, nil
}

func checkIMAP(c *IMAPSettings) error {
	var err error
	if c.Host, err = checkHost("imap.host", c.Host); err != nil {
		return err
	}
	switch c.Security {
	case "":
		c.Security = "tls"
	case "tls", "starttls", "none":
	default:
		return problem.Field("invalid_imap", "imap.security", "must be tls, starttls or none")
	}
	if c.Port == 0 {
		c.Port = 993
		if c.Security != "tls" {
			c.Port = 143
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return problem.Field("invalid_imap", "imap.port", "must be a port number")
	}
	if c.Username = strings.TrimSpace(c.Username); c.Username == "" {
		return problem.Field("invalid_imap", "imap.username", "is required")
	}
	if c.Mailbox = strings.TrimSpace(c.Mailbox); c.Mailbox == "" {
		c.Mailbox = "INBOX"
	}
	if c.BackfillDays < 0 || c.BackfillDays > 365 {
		return problem.Field("invalid_imap", "imap.backfill_days", "must be between 0 and 365")
	}
	return nil
}

func checkSMTP(c *SMTPSettings) error {
	var err error
	if c.Host, err = checkHost("smtp.host", c.Host); err != nil {
		return err
	}
	switch c.Security {
	case "":
		c.Security = "starttls"
	case "tls", "starttls", "none":
	default:
		return problem.Field("invalid_smtp", "smtp.security", "must be starttls, tls or none")
	}
	if c.Port < 0 || c.Port > 65535 {
		return problem.Field("invalid_smtp", "smtp.port", "must be a port number")
	}
	c.Username = strings.TrimSpace(c.Username)
	return nil
}

// Channel returns an email channel's view for someone who may see its inbox; the caller checks
// visibility (inbox.Service does for channel lists).
func (s *Service) Channel(ctx context.Context, id int64) (*View, error) {
	ch, err := s.Store.Channel(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && ch.Kind != Kind {
		return nil, channelNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return s.view(ctx, ch)
}

func (s *Service) view(ctx context.Context, ch *store.Channel) (*View, error) {
	settings, err := ChannelSettings(ch)
	if err != nil {
		return nil, err
	}
	state, err := ChannelState(ch)
	if err != nil {
		return nil, err
	}
	v := &View{Channel: ch, Settings: settings, State: state}
	if ib, err := s.Store.Inbox(ctx, ch.InboxID); err == nil {
		v.ReceivingAddress = s.ReceivingAddress(ib)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if settings.IMAP != nil {
		imap := *settings.IMAP
		v.IMAPPasswordSet, imap.Password = imap.Password != "", ""
		v.Settings.IMAP = &imap
	}
	if settings.DKIM != nil {
		dkim := *settings.DKIM
		v.DKIMKeySet, dkim.PrivateKey = dkim.PrivateKey != "", ""
		v.Settings.DKIM = &dkim
	}
	if settings.SMTP != nil {
		smtp := *settings.SMTP
		v.SMTPPasswordSet, smtp.Password = smtp.Password != "", ""
		v.Settings.SMTP = &smtp
	}
	return v, nil
}

// SendTest sends a test mail to the team address (admins only). When the team's forwarding
// brings it back to the receiving address, the channel's state records its arrival; the setup
// screen shows how long the round trip took, or that it has not arrived yet.
func (s *Service) SendTest(ctx context.Context, actor *store.User, id int64) (*View, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	v, err := s.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	full, err := ChannelSettings(v.Channel)
	if err != nil {
		return nil, err
	}
	relay, err := s.relayFor(full)
	if err != nil {
		return nil, problem.Conflictf("no_smtp_relay", "%v", err)
	}
	token := newToken()
	now := s.now()
	raw := testMail(full.Address, v.ReceivingAddress, token, now)
	_, sendErr := relay.Send(ctx, outbound.Envelope{From: full.Address, To: []string{full.Address}}, raw)
	err = s.updateState(ctx, id, func(st *State) bool {
		st.Test = &TestMail{Token: token, SentAt: now.UnixMilli()}
		if sendErr != nil {
			st.Test.Error = sendErr.Error()
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if sendErr != nil {
		return nil, problem.Conflictf("test_email_failed", "the test email could not be sent: %v", sendErr)
	}
	return s.Channel(ctx, id)
}

// testMail is the plain message SendTest sends.
func testMail(team, receiving, token string, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Parley <%s>\r\n", team)
	fmt.Fprintf(&b, "To: <%s>\r\n", team)
	fmt.Fprintf(&b, "Subject: Parley forwarding test\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <parley-test.%s@%s>\r\n", token, domainOf(team))
	fmt.Fprintf(&b, "%s: %s\r\n", testHeader, token)
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "This message checks that mail to %s is forwarded to %s.\r\n", team, receiving)
	b.WriteString("Parley recognises it and does not open a conversation for it.\r\n")
	return []byte(b.String())
}

// WebhookSecretOK reports whether secret is the channel's webhook secret (constant time).
func WebhookSecretOK(settings Settings, secret string) bool {
	return settings.WebhookSecret != "" &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(settings.WebhookSecret)) == 1
}
