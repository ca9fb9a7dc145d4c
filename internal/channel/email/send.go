package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// maxSendAttachments bounds the bytes of files one outbound mail carries (most relays refuse
// more than 25–35 MB after base64).
const maxSendAttachments = 20 << 20

// Recipient is one entry of an outbound message's recipients JSON, as the composer stores it.
type Recipient struct {
	Kind  string `json:"kind"` // to | cc | bcc
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Addressable says that email replies take To, Cc and Bcc and that messages can be forwarded.
func (s *Service) Addressable() bool { return true }

// Send delivers an agent's reply or forward (channel.Sender). The message's Message-ID is
// derived from its conversation and id, so a retried delivery sends the same message, and it
// is recorded before sending so that a reply or bounce arriving at once finds its conversation.
func (s *Service) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	settings, err := ChannelSettings(out.Channel)
	if err != nil {
		return "", channel.Permanent(err)
	}
	relay, err := s.relayFor(settings)
	if err != nil {
		return "", channel.Permanent(err)
	}
	if settings.Address == "" {
		return "", channel.Permanent(errors.New("the email channel has no team address"))
	}
	ib, err := s.Store.Inbox(ctx, out.Conversation.InboxID)
	if err != nil {
		return "", fmt.Errorf("inbox of conversation: %w", err)
	}
	msg, conv := out.Message, out.Conversation
	og := outbound.Outgoing{
		From: outbound.Identity{
			Email:       settings.Address,
			CompanyName: settings.CompanyName,
			InboxName:   ib.Name,
			NameMode:    outbound.NameMode(settings.FromName),
			Signature:   outbound.Signature{HTML: settings.SignatureHTML},
		},
		Agent:     agentOf(out.Author),
		Subject:   conv.Subject,
		MessageID: s.Threader.MessageID(conv.ID, msg.ID, domainOf(settings.Address)),
		Text:      msg.Text,
		HTML:      msg.HTML,
	}
	// A team address that is only forwarded to us cannot receive a plus address's mail at the
	// provider; replies then come straight to the inbox's own address with the signed token.
	if settings.IMAP == nil {
		if base := s.ReceivingAddress(ib); base != "" {
			og.From.ReplyTo = s.Threader.ReplyAddress(base, conv.ID)
		}
	}
	var meta struct {
		ForwardOf int64 `json:"forward_of"`
	}
	_ = json.Unmarshal(msg.Sender, &meta) // a sender without it is a reply
	var rcpts []Recipient
	if err := json.Unmarshal(msg.Recipients, &rcpts); err != nil {
		return "", channel.Permanent(fmt.Errorf("message recipients: %w", err))
	}
	for _, r := range rcpts {
		a := outbound.Address{Name: r.Name, Email: r.Email}
		switch r.Kind {
		case "cc":
			og.Cc = append(og.Cc, a)
		case "bcc":
			og.Bcc = append(og.Bcc, a)
		default:
			og.To = append(og.To, a)
		}
	}
	if og.Attachments, err = s.attachmentsOf(ctx, msg); err != nil {
		return "", err
	}

	var raw []byte
	if meta.ForwardOf > 0 {
		raw, err = s.composeForward(ctx, og, meta.ForwardOf)
	} else {
		raw, err = s.composeReply(ctx, &og, out)
	}
	if err != nil {
		return "", err
	}
	if len(og.To) == 0 {
		return "", channel.Permanent(errors.New("no recipient: the contact has no email address"))
	}
	if err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.RecordEmailMessageID(ctx, &store.EmailMessageID{ChannelID: out.Channel.ID,
			MessageID: thread.NormalizeID(og.MessageID), ConversationID: conv.ID, MessageRowID: msg.ID,
			Direction: "outbound", Sender: settings.Address})
		return err
	}); err != nil {
		return "", err
	}
	if _, err := relay.Send(ctx, outbound.Envelope{From: settings.Address, To: og.Recipients()}, raw); err != nil {
		return "", err
	}
	return thread.NormalizeID(og.MessageID), nil
}

// composeReply addresses a reply to the contact (unless the agent named recipients), threads it
// under the conversation's last inbound mail and quotes that mail.
func (s *Service) composeReply(ctx context.Context, og *outbound.Outgoing, out *channel.Outbound) ([]byte, error) {
	ids, err := s.Store.EmailMessageIDs(ctx, out.Conversation.ID)
	if err != nil {
		return nil, err
	}
	var parent, last *store.EmailMessageID
	var history []string
	for i := range ids {
		id := &ids[i]
		if id.MessageRowID == out.Message.ID {
			continue // this message's own id, recorded by an earlier attempt
		}
		last = id
		if id.Direction == "inbound" {
			parent = id
		}
		// Headers carry only ids they can: not the hash a mail without a Message-ID is
		// recorded under, nor a customer's id with characters a header may not hold (one such
		// id made every reply of its conversation fail).
		if outbound.ValidMessageID(id.MessageID) {
			history = append(history, id.MessageID)
		}
	}
	if parent == nil {
		parent = last
	}
	if len(history) > 0 {
		og.References = thread.CapReferences(history)
		og.InReplyTo = history[len(history)-1]
		if parent != nil && outbound.ValidMessageID(parent.MessageID) {
			og.InReplyTo = parent.MessageID
		}
	}
	var quoted *store.Message
	if parent != nil && parent.MessageRowID > 0 && parent.MessageRowID != out.Message.ID {
		if m, err := s.Store.Message(ctx, parent.MessageRowID); err == nil {
			quoted = m
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if len(og.To) == 0 {
		if to := replyTarget(out.Contact, quoted); to.Email != "" {
			og.To = []outbound.Address{to}
		}
	}
	if quoted != nil {
		q := &outbound.Quoted{Text: quoted.Text, HTML: quoted.HTML, Date: time.UnixMilli(quoted.CreatedAt)}
		var from struct{ Name, Email string }
		_ = json.Unmarshal(quoted.Sender, &from)
		q.From = outbound.Address{Name: from.Name, Email: from.Email}
		og.Quote = q
	}
	if len(og.To) == 0 {
		return nil, nil
	}
	return outbound.Compose(*og)
}

// composeForward forwards one message of the conversation to the agent's recipients.
func (s *Service) composeForward(ctx context.Context, og outbound.Outgoing, forwardOf int64) ([]byte, error) {
	orig, err := s.Store.Message(ctx, forwardOf)
	if errors.Is(err, store.ErrNotFound) {
		return nil, channel.Permanent(errors.New("the forwarded message was deleted"))
	} else if err != nil {
		return nil, err
	}
	var from struct{ Name, Email string }
	_ = json.Unmarshal(orig.Sender, &from)
	fw := outbound.Forwarded{From: outbound.Address{Name: from.Name, Email: from.Email},
		Date: time.UnixMilli(orig.CreatedAt), Subject: og.Subject, Text: orig.Text, HTML: orig.HTML}
	var rcpts []Recipient
	_ = json.Unmarshal(orig.Recipients, &rcpts)
	for _, r := range rcpts {
		if r.Kind == "to" {
			fw.To = append(fw.To, outbound.Address{Name: r.Name, Email: r.Email})
		}
	}
	if fw.Attachments, err = s.attachmentsOf(ctx, orig); err != nil {
		return nil, err
	}
	og.Subject = ""
	return outbound.Forward(og, fw)
}

// replyTarget is where a reply goes: the contact's email, else the quoted mail's Reply-To or
// sender.
func replyTarget(c *store.Contact, quoted *store.Message) outbound.Address {
	if c != nil {
		for _, id := range c.Identities {
			if id.Kind == "email" && id.Value != "" {
				return outbound.Address{Name: c.Name, Email: id.Value}
			}
		}
	}
	if quoted != nil {
		var from struct {
			Name    string `json:"name"`
			Email   string `json:"email"`
			ReplyTo string `json:"reply_to"`
		}
		if json.Unmarshal(quoted.Sender, &from) == nil {
			if from.ReplyTo != "" {
				return outbound.Address{Email: from.ReplyTo}
			}
			return outbound.Address{Name: from.Name, Email: from.Email}
		}
	}
	return outbound.Address{}
}

// attachmentsOf reads the files a message carries.
func (s *Service) attachmentsOf(ctx context.Context, msg *store.Message) ([]outbound.Attachment, error) {
	var list []ReceivedFile
	if err := json.Unmarshal(msg.Attachments, &list); err != nil || len(list) == 0 || s.Files == nil {
		return nil, nil
	}
	var out []outbound.Attachment
	var total int64
	for _, a := range list {
		f, err := s.Files.File(ctx, a.ID)
		if p, ok := problem.As(err); ok && p.Kind == problem.NotFound || errors.Is(err, store.ErrNotFound) {
			// The file store answers a missing file as a problem: it will not come back.
			return nil, channel.Permanent(fmt.Errorf("attachment %q was removed", a.Name))
		} else if err != nil {
			return nil, err
		}
		// Only the conversation's own files leave with its mail, as only its people may
		// download them: the JSON API stores a reply's attachments as the client wrote them,
		// and any file id there would otherwise be mailed out.
		if f.ConversationID == nil || *f.ConversationID != msg.ConversationID {
			return nil, channel.Permanent(fmt.Errorf("attachment %q is not a file of this conversation", a.Name))
		}
		if total += f.Size; total > maxSendAttachments {
			return nil, channel.Permanent(fmt.Errorf("the attachments are larger than %d MB", maxSendAttachments>>20))
		}
		r, err := s.Files.Open(f)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, outbound.Attachment{Name: f.Name, ContentType: f.ContentType, Data: data, ContentID: a.ContentID})
	}
	return out, nil
}

// agentOf is the replying agent for the From name and the signature's tokens.
func agentOf(u *store.User) *outbound.Agent {
	if u == nil {
		return nil
	}
	first, last, _ := strings.Cut(strings.TrimSpace(u.Name), " ")
	return &outbound.Agent{FirstName: first, LastName: strings.TrimSpace(last), FullName: u.Name,
		Email: u.Email, JobTitle: u.JobTitle}
}

// relayFor returns the channel's own relay, else the installation's, signing with the
// channel's DKIM key when it has one.
func (s *Service) relayFor(settings Settings) (*outbound.Sender, error) {
	var relay *outbound.Sender
	var err error
	switch {
	case settings.SMTP != nil && settings.SMTP.Host != "" && s.NewRelay != nil:
		relay, err = s.NewRelay(*settings.SMTP)
	case settings.SMTP != nil && settings.SMTP.Host != "":
		relay, err = NewRelay(*settings.SMTP)
	case s.Relay == nil:
		return nil, errors.New("no SMTP relay: set PARLEY_SMTP_RELAY or the channel's own SMTP server")
	default:
		copied := *s.Relay // the installation's relay is shared: sign on a copy
		relay = &copied
	}
	if err != nil || settings.DKIM == nil {
		return relay, err
	}
	if relay.DKIM, err = outbound.NewDKIM(domainOf(settings.Address), settings.DKIM.Selector, []byte(settings.DKIM.PrivateKey)); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	return relay, nil
}

// NewRelay makes a relay from a channel's SMTP settings.
func NewRelay(c SMTPSettings) (*outbound.Sender, error) {
	r := &outbound.Sender{Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password}
	switch c.Security {
	case "tls":
		r.TLS = outbound.TLSImplicit
		if r.Port == 0 {
			r.Port = 465
		}
	case "none":
		r.TLS = outbound.TLSOpportunistic
	default:
		r.TLS = outbound.TLSRequired
	}
	if r.Port == 0 {
		r.Port = 587
	}
	return r, nil
}
