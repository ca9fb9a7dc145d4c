package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// ReplyInput is an agent's reply to the customer.
type ReplyInput struct {
	Text string
	HTML string // sanitized before it is stored
	// Attachments is a JSON array of attachment descriptions; the channel decides what it can send.
	Attachments json.RawMessage
	// To, Cc and Bcc name the recipients on channels whose replies take them (email, see
	// channel.Addressable); an empty To means the conversation's contact.
	To, Cc, Bcc []string
	// ForwardOf, when set, forwards that message of the conversation to To, Cc and Bcc instead
	// of answering the customer; Text is then the agent's note above it and may be empty.
	ForwardOf int64
}

// maxRecipients bounds To, Cc and Bcc together.
const maxRecipients = 50

// recipientsJSON checks the addresses of a reply and lists them as the channel reads them:
// [{"kind":"to","name":…,"email":…}, …].
func recipientsJSON(in ReplyInput) (json.RawMessage, error) {
	type rcpt struct {
		Kind  string `json:"kind"`
		Name  string `json:"name,omitempty"`
		Email string `json:"email"`
	}
	list := []rcpt{}
	for _, group := range []struct {
		kind  string
		addrs []string
	}{{"to", in.To}, {"cc", in.Cc}, {"bcc", in.Bcc}} {
		for _, a := range group.addrs {
			if strings.TrimSpace(a) == "" {
				continue
			}
			addr, err := mail.ParseAddress(strings.TrimSpace(a))
			if err != nil || !strings.Contains(addr.Address, "@") {
				return nil, problem.Field("invalid_recipient", group.kind, strconv.Quote(cleanText(a))+" is not an email address")
			}
			list = append(list, rcpt{group.kind, addr.Name, addr.Address})
		}
	}
	if len(list) > maxRecipients {
		return nil, problem.Field("too_many_recipients", "to", "at most "+strconv.Itoa(maxRecipients)+" recipients")
	}
	return json.Marshal(list)
}

// maxMessageText bounds one reply (the API's body limit bounds it too).
const maxMessageText = 256 << 10

// Reply queues an agent's reply on the conversation's channel: the message is stored as
// "queued" together with its delivery job, so it is sent exactly when it is stored, and retried
// until the channel takes it. Replying to an unassigned conversation assigns it to the replier.
func (s *Service) Reply(ctx context.Context, actor *store.User, conversationID int64, in ReplyInput) (*store.Message, error) {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	text := cleanText(in.Text)
	html := sanitizeHTML(in.HTML)
	if strings.TrimSpace(text) == "" && html != "" {
		text = htmlToText(html)
	}
	if strings.TrimSpace(text) == "" && in.ForwardOf == 0 {
		return nil, problem.Field("empty_message", "text", "must not be empty")
	}
	recipients, err := recipientsJSON(in)
	if err != nil {
		return nil, err
	}
	if in.ForwardOf > 0 && len(in.To) == 0 {
		return nil, problem.Field("invalid_recipient", "to", "a forward needs at least one recipient")
	}
	if len(text) > maxMessageText || len(html) > maxMessageText {
		return nil, problem.Field("message_too_long", "text", "is longer than "+strconv.Itoa(maxMessageText)+" bytes")
	}
	attachments := cleanJSON(in.Attachments, "[]")
	if !strings.HasPrefix(string(attachments), "[") {
		return nil, problem.Field("invalid_attachments", "attachments", "must be an array")
	}

	ch, sender, err := s.replyChannel(ctx, conv)
	if err != nil {
		return nil, err
	}
	var contact *store.Contact
	if conv.ContactID != nil {
		if contact, err = s.Store.Contact(ctx, *conv.ContactID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	addressed := in.ForwardOf > 0 || string(recipients) != "[]"
	if a, ok := sender.(channel.Addressable); addressed && (!ok || !a.Addressable()) {
		return nil, problem.Conflictf("recipients_not_supported", "this channel sends to the conversation's contact only; it takes no recipients or forwards")
	}
	author := map[string]any{"user_id": actor.ID, "name": actor.Name, "email": actor.Email}
	if in.ForwardOf > 0 {
		orig, err := s.Store.Message(ctx, in.ForwardOf)
		if errors.Is(err, store.ErrNotFound) || err == nil && orig.ConversationID != conv.ID {
			return nil, problem.Field("message_not_found", "forward_of", "no such message in this conversation")
		} else if err != nil {
			return nil, err
		}
		author["forward_of"] = orig.ID
	}
	authorJSON, err := json.Marshal(author)
	if err != nil {
		return nil, err
	}
	msg := &store.Message{
		ConversationID: conv.ID,
		ChannelID:      &ch.ID,
		Direction:      "outbound",
		AuthorID:       &actor.ID,
		Sender:         authorJSON,
		Recipients:     recipients,
		Text:           text,
		HTML:           html,
		Attachments:    attachments,
		Status:         "queued",
	}
	if rc, ok := sender.(channel.ReplyChecker); ok {
		out := &channel.Outbound{Message: msg, Conversation: conv, Channel: ch, Contact: contact, Author: actor}
		if err := rc.CheckReply(ctx, ch, out); err != nil {
			if _, ok := problem.As(err); ok {
				return nil, err
			}
			return nil, problem.Conflictf("channel_cannot_send", "%v", err)
		}
	}

	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, conv.ID)
		if err != nil {
			return err
		}
		now := store.Now()
		msg.ID, msg.CreatedAt, msg.UpdatedAt = 0, now, now
		if err := tx.InsertMessage(ctx, msg); err != nil {
			return err
		}
		events.MessageCreated(tx, msg, c.InboxID)
		if _, err := tx.EnqueueJob(ctx, store.NewJob{
			Kind:        DeliverJob,
			Payload:     map[string]int64{"message_id": msg.ID},
			OrderingKey: "conversation:" + strconv.FormatInt(c.ID, 10),
		}); err != nil {
			return err
		}
		c.LastOutboundAt = maxPtr(c.LastOutboundAt, now)
		c.LastActivityAt = max(c.LastActivityAt, now)
		c.Preview = preview(text)
		if c.AssigneeID == nil {
			c.AssigneeID = &actor.ID
			if err := addEventAt(ctx, tx, c.ID, &actor.ID, "assigned", map[string]any{
				"assignee_id": actor.ID, "reason": "replied",
			}, now); err != nil {
				return err
			}
		}
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		events.ConversationUpdated(tx, c)
		// Whoever replies has read the conversation.
		if err := tx.MarkConversationRead(ctx, c.ID, actor.ID, max(now, derefOr(c.LastInboundAt, 0))); err != nil {
			return err
		}
		events.ConversationRead(tx, c.ID, c.InboxID, actor.ID)
		return tx.IndexText(ctx, c.ID, text)
	})
	if err != nil {
		return nil, err
	}
	s.wakeJobs()
	return msg, nil
}

// replyChannel returns the conversation's channel and the Sender that delivers on it, or a
// conflict when agents cannot send there.
func (s *Service) replyChannel(ctx context.Context, conv *store.Conversation) (*store.Channel, channel.Sender, error) {
	cannot := func(why string) error {
		return problem.Conflictf("channel_cannot_send", "replies cannot be sent on this conversation: %s", why)
	}
	if conv.ChannelID == nil {
		return nil, nil, cannot("it has no channel")
	}
	ch, err := s.Store.Channel(ctx, *conv.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, cannot("its channel was removed")
	} else if err != nil {
		return nil, nil, err
	}
	if ch.ArchivedAt != nil {
		return nil, nil, cannot("its channel was removed")
	}
	sender, ok := s.Senders[ch.Kind]
	if !ok || sender == nil {
		return nil, nil, cannot("its channel kind " + strconv.Quote(ch.Kind) + " cannot send")
	}
	return ch, sender, nil
}

func derefOr(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}
