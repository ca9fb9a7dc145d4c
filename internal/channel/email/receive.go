package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email/mime"
	"github.com/parley-inbox/parley/internal/channel/email/smtpd"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Delivery is one raw message for an email channel to take in.
type Delivery struct {
	// ChannelID is the channel the mail was fetched or posted for (IMAP, webhook). When 0 the
	// mail came to InboxID's receiving address and the channel is found from its recipients.
	ChannelID int64
	InboxID   int64
	Raw       []byte
	// The SMTP envelope, when the mail came through the receiver.
	MailFrom   string
	Recipients []string
	// Auth is the receiver's SPF/DKIM/DMARC verdict; nil when the mail did not come over SMTP.
	Auth *smtpd.AuthResults
}

// Outcome says what became of a delivery.
type Outcome struct {
	ChannelID      int64
	MessageID      int64 // 0 when no message was stored (a forwarding confirmation, a test mail)
	ConversationID int64
	Duplicate      bool
	// Rule is the threading rule that placed the message.
	Rule thread.Rule
	// Kind is what the mail was classified as (mime.Kind, or "test").
	Kind string
	// Filed is "", inbox.FileFiltered or inbox.FileSpam, for a new conversation; FiledBy names
	// the rule (deny_list, loop, runaway_sender, dmarc, auto_reply, bounce, bulk, role_sender).
	Filed   string
	FiledBy string
}

// KindTest is Outcome.Kind of a channel's own test mail coming back.
const KindTest = "test"

// Runaway senders (spec/email.md §4.3): more than runawayLimit messages from one sender on one
// channel within runawayWindow, and the rest are quarantined.
const (
	runawayLimit  = 20
	runawayWindow = 10 * time.Minute
)

// maxAttachmentParts bounds how many parts of one mail become files.
const maxAttachmentParts = 50

func unreadable(err error) error {
	return problem.Invalidf("unreadable_email", "the message cannot be read as email: %v", err)
}

// Receive takes in one raw message exactly once: it parses and classifies it, applies the
// inbox's filters in the order of spec/inbox-behaviour.md §1.4, threads it (spec/email.md §4.2)
// and stores it through inbox.Receive, with its Message-ID and files in the same transaction.
// It returns only after the message is committed; receiving the same mail again returns the
// stored message with Duplicate set. A message that is not email at all is a problem error
// with code unreadable_email, which the caller should refuse rather than retry.
func (s *Service) Receive(ctx context.Context, d Delivery) (Outcome, error) {
	m, err := mime.Parse(bytes.NewReader(d.Raw))
	if err != nil {
		return Outcome{}, unreadable(err)
	}
	boundIdentifiers(m)
	ch, err := s.channelFor(ctx, d, m)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{ChannelID: ch.ID}
	settings, err := ChannelSettings(ch)
	if err != nil {
		return out, err
	}
	class := mime.Classify(m)
	out.Kind = string(class.Kind)

	// 1. Provider verification mail is for the setup screen, never a conversation (EMAIL-9).
	// Over SMTP a confirmation that fails DMARC is a forgery trying to replace the code on the
	// setup screen; it is left to the filters like any other mail.
	if fc := class.ForwardingConfirmation; fc != nil && !dmarcFailed(d.Auth) {
		return out, s.recordConfirmation(ctx, ch.ID, fc)
	}
	if token := strings.TrimSpace(m.Header.Get(testHeader)); token != "" {
		if ok, err := s.recordTestArrival(ctx, ch.ID, token); err != nil || ok {
			out.Kind = KindTest
			return out, err
		}
	}

	externalID := m.MessageID
	if externalID == "" {
		// Without a Message-ID the content itself is the identity: fetching or posting the
		// same mail again still finds it.
		sum := sha256.Sum256(d.Raw)
		externalID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if prev, err := s.Store.MessageByExternalID(ctx, ch.ID, externalID); err == nil {
		out.MessageID, out.ConversationID, out.Duplicate = prev.ID, prev.ConversationID, true
		return out, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return out, err
	}

	from := strings.ToLower(m.From.Address)
	contact := s.contactOf(ctx, settings, m, !dmarcFailed(d.Auth))

	dec, err := s.Threader.Resolve(ctx, thread.Incoming{
		ChannelID:  ch.ID,
		From:       from,
		Recipients: recipientsOf(m, d.Recipients),
		InReplyTo:  m.Header.Get("In-Reply-To"),
		References: m.Header.Get("References"),
		Subject:    m.Subject,
		HTML:       m.HTML,
		Text:       m.Text,
	}, s.Store)
	if err != nil {
		return out, err
	}
	// A bounce belongs with the message that bounced, whatever its own headers say.
	var bounced int64
	if b := class.Bounce; b != nil {
		if conv, msg := s.bouncedMessage(ctx, ch.ID, b.OriginalMessageID); conv > 0 {
			dec = thread.Decision{ConversationID: conv, Rule: thread.RuleInReplyTo, Evidence: b.OriginalMessageID}
			if b.Permanent {
				bounced = msg
			}
		}
	}
	out.Rule = dec.Rule

	if dec.ConversationID == 0 {
		out.Filed, out.FiledBy, err = s.filing(ctx, ch, settings, m, class, d.Auth)
		if err != nil {
			return out, err
		}
	}

	attachments, files, err := s.storeParts(ctx, m)
	if err != nil {
		return out, err
	}
	in := inbox.Inbound{
		ChannelID:      ch.ID,
		ExternalID:     externalID,
		ConversationID: dec.ConversationID,
		ContactName:    contact.Name,
		Subject:        m.Subject,
		Text:           m.Text,
		HTML:           m.HTML,
		SearchText:     searchText(m),
		// mime.Parse sanitized the HTML with the email policy, which keeps remote images parked
		// (data-src) and cid: links to inline parts; the inbox's generic policy would drop both.
		SanitizeHTML: func(h string) string { return h },
		Sender:       senderJSON(m, d.Auth, dec),
		Recipients:   recipientsJSON(m),
		Attachments:  attachments,
		// Robots' mail stays on the thread without reopening it; a role address such as
		// info@ is still a person writing (its own Filtered rule handles new conversations).
		Automated:  class.AutoReply || class.Bounce != nil || class.Bulk,
		File:       out.Filed,
		FileRule:   out.FiledBy,
		FileReason: strings.Join(class.Reasons, "; "),
		Stored: func(ctx context.Context, tx *store.Tx, msg *store.Message, conv *store.Conversation) error {
			// A mail without a Message-ID is recorded under its content's hash: the runaway
			// check counts a sender's rows, and a reply finds its latest mail here. No header
			// names such an id, so it threads nothing, and replies leave it out of theirs.
			if _, err := tx.RecordEmailMessageID(ctx, &store.EmailMessageID{ChannelID: ch.ID, MessageID: externalID,
				ConversationID: conv.ID, MessageRowID: msg.ID, Direction: "inbound", Sender: from}); err != nil {
				return err
			}
			now := store.Now()
			for _, id := range files {
				if err := tx.AttachFile(ctx, id, conv.ID, now); err != nil {
					return fmt.Errorf("attach received file: %w", err)
				}
			}
			return nil
		},
	}
	if out.FiledBy != "" && in.FileReason == "" {
		in.FileReason = out.FiledBy
	}
	if contact.Address != "" {
		in.ContactIdentities = []store.Identity{{Kind: "email", Value: contact.Address}}
	}
	if !m.Date.IsZero() {
		in.At = m.Date.UnixMilli() // Receive keeps a date from the future at now
	}
	msg, conv, dup, err := s.Inbox.Receive(ctx, in)
	if err != nil {
		return out, err
	}
	out.MessageID, out.ConversationID, out.Duplicate = msg.ID, conv.ID, dup
	if bounced > 0 && !dup {
		reason := class.Bounce.Reason
		if reason == "" {
			reason = "the recipient's mail server refused the message"
		}
		if err := s.Inbox.UpdateMessageStatus(ctx, bounced, "failed", "bounced: "+reason); err != nil {
			s.log().Warn("email: mark bounced message failed", "message", bounced, "err", err)
		}
	}
	return out, nil
}

// channelFor returns the channel a delivery belongs to. Mail to an inbox's receiving address
// goes to the email channel whose team address it was sent to (forwarding keeps it in To, Cc or
// Delivered-To), else to the inbox's oldest email channel, else to a channel made for the
// receiving address itself on its first mail, so no mail is ever refused for want of setup.
func (s *Service) channelFor(ctx context.Context, d Delivery, m *mime.Message) (*store.Channel, error) {
	if d.ChannelID > 0 {
		ch, err := s.Store.Channel(ctx, d.ChannelID)
		if errors.Is(err, store.ErrNotFound) || err == nil && (ch.Kind != Kind || ch.ArchivedAt != nil) {
			return nil, problem.NotFoundf("channel_not_found", "no email channel %d", d.ChannelID)
		}
		return ch, err
	}
	channels, err := s.Store.ChannelsByInbox(ctx, d.InboxID)
	if err != nil {
		return nil, err
	}
	var email []*store.Channel
	for _, ch := range channels {
		if ch.Kind == Kind && ch.ArchivedAt == nil {
			email = append(email, ch)
		}
	}
	targets := map[string]bool{}
	for _, a := range recipientsOf(m, d.Recipients) {
		if addr, err := normalizeAddress(a); err == nil {
			targets[addr] = true
		}
	}
	for _, ch := range email {
		if targets[strings.ToLower(ch.Address)] {
			return ch, nil
		}
	}
	if len(email) > 0 {
		return email[0], nil
	}
	return s.fallbackChannel(ctx, d.InboxID)
}

// fallbackChannel creates the email channel of an inbox's receiving address (HubSpot's
// fallback email), once, even when two mails race to create it.
func (s *Service) fallbackChannel(ctx context.Context, inboxID int64) (*store.Channel, error) {
	var ch *store.Channel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ib, err := tx.Inbox(ctx, inboxID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("inbox_not_found", "no inbox %d", inboxID)
		} else if err != nil {
			return err
		}
		// SQLite's single writer, or this advisory lock on PostgreSQL, makes a second mail wait
		// here and then find the first one's channel.
		if err := tx.LockConversationThread(ctx, 0, "email-fallback-"+ib.Slug); err != nil {
			return err
		}
		list, err := tx.ChannelsByInbox(ctx, inboxID)
		if err != nil {
			return err
		}
		for _, c := range list {
			if c.Kind == Kind && c.ArchivedAt == nil {
				ch = c
				return nil
			}
		}
		settings := DefaultSettings()
		settings.Address = s.ReceivingAddress(ib)
		settings.CompanyName = ib.Name
		raw, err := json.Marshal(settings)
		if err != nil {
			return err
		}
		ch = &store.Channel{InboxID: inboxID, Kind: Kind, Name: settings.Address, Settings: raw,
			AddressType: "email", Address: settings.Address, Authorized: true}
		_, err = tx.InsertChannel(ctx, ch)
		return err
	})
	return ch, err
}

// maxAddressLength is the longest address SMTP carries (RFC 5321 §4.5.3.1.3: a path of 256
// octets with its angle brackets).
const maxAddressLength = 254

// boundIdentifiers drops a Message-ID and sender addresses that no real mail has but that
// would end up in unique indexes, whose rows PostgreSQL limits to 2,704 bytes: such a mail
// could never be stored, so an SMTP sender retried it for ever and an IMAP mailbox stopped at
// it. The mail still arrives: without a Message-ID it is known by its content's hash, without
// a usable From as a sender with no address.
func boundIdentifiers(m *mime.Message) {
	if id := m.MessageID; id != "" && thread.NormalizeID("<"+id+">") != id {
		m.MessageID = ""
	}
	if len(m.From.Address) > maxAddressLength {
		m.From.Address = ""
	}
	m.ReplyTo = slices.DeleteFunc(m.ReplyTo, func(a mime.Address) bool { return len(a.Address) > maxAddressLength })
}

// party is a person in a mail's header.
type party struct{ Name, Address string }

// contactOf returns who the conversation is with (EMAIL-5): normally the sender. Mail that was
// forwarded is logged to the original sender when the channel says so: the Reply-To or
// X-Original-Sender a forwarding service sets, or — when one of the team forwards a customer's
// mail in by hand — the sender named in the forwarded block.
func (s *Service) contactOf(ctx context.Context, settings Settings, m *mime.Message, trusted bool) party {
	p := party{Name: m.From.Name, Address: strings.ToLower(m.From.Address)}
	if !settings.LogToOriginalSender {
		return p
	}
	// A forged team member's address (failing DMARC) must not choose whose conversation it is.
	if trusted && s.isTeamMember(ctx, p.Address) {
		if fw, ok := forwardedSender(m.Text); ok && !s.isTeamMember(ctx, fw.Address) {
			return fw
		}
		return p
	}
	if len(m.ReplyTo) == 1 && m.ReplyTo[0].Address != "" && !strings.EqualFold(m.ReplyTo[0].Address, settings.Address) {
		return party{Name: m.ReplyTo[0].Name, Address: strings.ToLower(m.ReplyTo[0].Address)}
	}
	if orig, err := normalizeAddress(m.Header.Get("X-Original-Sender")); err == nil {
		return party{Address: orig}
	}
	return p
}

// isTeamMember reports whether addr is a Parley user's address.
func (s *Service) isTeamMember(ctx context.Context, addr string) bool {
	if addr == "" {
		return false
	}
	u, err := s.Store.UserByEmail(ctx, addr)
	return err == nil && u != nil
}

// filing decides where a mail that opens a conversation is filed, in the order of
// spec/inbox-behaviour.md §1.4: the allow list wins; then the deny list, loops, runaway senders
// and failed DMARC go to spam; then automated mail goes to Filtered by the channel's rules.
func (s *Service) filing(ctx context.Context, ch *store.Channel, settings Settings, m *mime.Message, class mime.Classification, auth *smtpd.AuthResults) (file, rule string, err error) {
	from := strings.ToLower(m.From.Address)
	if s.Filters != nil && from != "" {
		verdict, err := s.Filters.EmailFilterVerdict(ctx, ch.InboxID, from)
		if err != nil {
			return "", "", err
		}
		switch verdict {
		case "allow":
			return "", "", nil
		case "deny":
			return inbox.FileSpam, "deny_list", nil
		}
	}
	if s.ownMail(ch, settings, m, class) {
		return inbox.FileSpam, "loop", nil
	}
	if from != "" {
		n, err := s.Store.EmailSenderCount(ctx, ch.ID, from, s.now().Add(-runawayWindow).UnixMilli())
		if err != nil {
			return "", "", err
		}
		if n >= runawayLimit {
			if err := s.recordQuarantine(ctx, ch.ID, from); err != nil {
				return "", "", err
			}
			return inbox.FileSpam, "runaway_sender", nil
		}
	}
	if dmarcFailed(auth) && (auth.DMARC.Policy == "reject" || auth.DMARC.Policy == "quarantine") {
		return inbox.FileSpam, "dmarc", nil
	}
	f := settings.Filters
	switch {
	case class.Bounce != nil && f.Bounces:
		return inbox.FileFiltered, string(mime.KindBounce), nil
	case class.AutoReply && f.AutoReplies:
		return inbox.FileFiltered, string(mime.KindAutoReply), nil
	case class.Bulk && f.Bulk:
		return inbox.FileFiltered, string(mime.KindBulk), nil
	case class.RoleSender && f.RoleSenders:
		return inbox.FileFiltered, string(mime.KindRoleSender), nil
	}
	return "", "", nil
}

// ownMail reports mail that is our own coming back (EMAIL-7): from the team address to itself,
// from our notifications or a receiving address, or carrying our X-Loop mark.
func (s *Service) ownMail(ch *store.Channel, settings Settings, m *mime.Message, class mime.Classification) bool {
	from := strings.ToLower(m.From.Address)
	if from == "" {
		return false
	}
	if from == strings.ToLower(settings.Address) || from == strings.ToLower(s.NotificationFrom) ||
		s.Domain != "" && domainOf(from) == strings.ToLower(s.Domain) {
		return true
	}
	for _, v := range class.XLoop {
		if a, err := normalizeAddress(v); err == nil && (a == strings.ToLower(settings.Address) || a == strings.ToLower(ch.Address)) {
			return true
		}
	}
	return false
}

// bouncedMessage finds the outbound message a bounce reports: by our own signed Message-ID,
// else by the seen-Message-ID table. It returns zeros when the bounce is not about our mail.
func (s *Service) bouncedMessage(ctx context.Context, channelID int64, messageID string) (conv, msg int64) {
	if messageID == "" {
		return 0, 0
	}
	if c, m, ok := s.Threader.ParseMessageID(messageID); ok {
		if exists, err := s.Store.EmailConversationExists(ctx, c); err == nil && exists {
			return c, m
		}
		return 0, 0
	}
	found, err := s.Store.EmailOutboundMessage(ctx, channelID, thread.NormalizeID(messageID))
	if err != nil {
		return 0, 0
	}
	return found.ConversationID, found.MessageRowID
}

// recipientsOf lists every address the mail was sent to, for threading's plus address and for
// finding which team address a forward was for.
func recipientsOf(m *mime.Message, envelope []string) []string {
	var out []string
	for _, list := range [][]mime.Address{m.To, m.Cc} {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	for _, h := range []string{"Delivered-To", "X-Original-To", "X-Forwarded-To", "X-Forwarded-For", "Envelope-To"} {
		for _, v := range m.Header.Values(h) {
			for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
				out = append(out, strings.Trim(f, "<>"))
			}
		}
	}
	return append(out, envelope...)
}

// senderJSON is the message's sender as stored: who wrote it and how it was authenticated and
// threaded, for the timeline.
func senderJSON(m *mime.Message, auth *smtpd.AuthResults, dec thread.Decision) json.RawMessage {
	v := map[string]any{"name": m.From.Name, "email": strings.ToLower(m.From.Address)}
	if len(m.ReplyTo) > 0 {
		v["reply_to"] = m.ReplyTo[0].Address
	}
	if m.MessageID != "" {
		v["message_id"] = m.MessageID
	}
	if auth != nil && auth.Header != "" {
		v["authentication_results"] = auth.Header
	}
	if dec.Rule != "" {
		v["thread_rule"] = string(dec.Rule)
	}
	raw, _ := json.Marshal(v)
	return raw
}

// recipientsJSON lists To and Cc as [{"kind":"to","name":…,"email":…}, …].
func recipientsJSON(m *mime.Message) json.RawMessage {
	type rcpt struct {
		Kind  string `json:"kind"`
		Name  string `json:"name,omitempty"`
		Email string `json:"email"`
	}
	list := []rcpt{}
	for _, a := range m.To {
		list = append(list, rcpt{"to", a.Name, a.Address})
	}
	for _, a := range m.Cc {
		list = append(list, rcpt{"cc", a.Name, a.Address})
	}
	raw, _ := json.Marshal(list)
	return raw
}

// ReceivedFile is one entry of a received message's attachments JSON.
type ReceivedFile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// ContentID and Inline mark an image the HTML shows as cid:ContentID.
	ContentID string `json:"content_id,omitempty"`
	Inline    bool   `json:"inline,omitempty"`
}

// storeParts stores the mail's attachments and inline parts as files (not yet on a
// conversation: Receive attaches them in its transaction; the sweep removes them if it fails)
// and returns their JSON and ids. A part too large to keep is left out and named in the list.
func (s *Service) storeParts(ctx context.Context, m *mime.Message) (json.RawMessage, []string, error) {
	list := []ReceivedFile{}
	var ids []string
	for i, p := range m.Attachments {
		if i == maxAttachmentParts || s.Files == nil {
			break
		}
		f, err := s.Files.Put(ctx, p.Name, p.ContentType, p.Open())
		if err != nil {
			if _, ok := problem.As(err); ok {
				// Too large or a refused type: the rest of the mail still arrives.
				s.log().Info("email: attachment left out", "name", p.Name, "err", err)
				continue
			}
			return nil, nil, err
		}
		ids = append(ids, f.ID)
		list = append(list, ReceivedFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
			ContentID: p.ContentID, Inline: p.Inline})
	}
	raw, err := json.Marshal(list)
	return raw, ids, err
}

// searchText is what a mail adds to its conversation's search index and preview: the new text
// with its signature, without the quoted history, which the earlier messages indexed already
// (and which made up most of a reply's text to index). A forward keeps everything: its quoted
// part is new to the conversation.
func searchText(m *mime.Message) string {
	sp := mime.SplitText(m.Text)
	if sp.Forward || strings.TrimSpace(sp.Body) == "" || sp.Quoted == "" {
		return ""
	}
	if sp.Signature != "" {
		return sp.Body + "\n" + sp.Signature
	}
	return sp.Body
}

// dmarcFailed reports mail the receiver checked and found failing DMARC: its From is forged or
// at least unproven. Mail without a verdict (IMAP, the webhook) is not held against.
func dmarcFailed(auth *smtpd.AuthResults) bool {
	return auth != nil && auth.DMARC.Result == "fail"
}
