package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Receive stores one message that arrived on a channel, exactly once, in one transaction: it
// drops a duplicate (same channel and idempotency key or external id) and returns the stored
// message with duplicate=true; it finds or creates the contact, threads the message into the
// channel's conversation with the same thread key (reopening a closed one, waking a snoozed one)
// or opens a new conversation, stores the sanitized message, indexes it for search and makes the
// conversation unread for everyone. Only after Receive returns may a channel acknowledge the
// provider.
func (s *Service) Receive(ctx context.Context, in Inbound) (msg *store.Message, conv *store.Conversation, duplicate bool, err error) {
	in, err = normalizeInbound(in)
	if err != nil {
		return nil, nil, false, err
	}
	for attempt := 0; ; attempt++ {
		msg, conv, duplicate, err = s.receiveOnce(ctx, in)
		// A conflict means a concurrent receive stored the same message or created the same
		// contact first; running again finds what it stored.
		if err != nil && store.IsConflict(err) && attempt < 4 {
			continue
		}
		if err != nil {
			return nil, nil, false, err
		}
		return msg, conv, duplicate, nil
	}
}

func normalizeInbound(in Inbound) (Inbound, error) {
	if in.ChannelID <= 0 {
		return in, problem.Field("invalid_channel", "channel_id", "is required")
	}
	switch in.Direction {
	case "":
		in.Direction = "inbound"
	case "inbound", "outbound":
	default:
		return in, problem.Field("invalid_direction", "direction", "must be inbound or outbound")
	}
	in.ThreadKey = cleanText(in.ThreadKey)
	in.IdempotencyKey = cleanText(in.IdempotencyKey)
	in.ExternalID = cleanText(in.ExternalID)
	in.ContactName = strings.TrimSpace(cleanText(in.ContactName))
	in.Subject = strings.TrimSpace(cleanText(in.Subject))
	in.Text = cleanText(in.Text)
	if in.SanitizeHTML != nil {
		in.HTML = strings.TrimSpace(in.SanitizeHTML(cleanText(in.HTML)))
	} else {
		in.HTML = sanitizeHTML(in.HTML)
	}
	switch in.File {
	case "", FileFiltered, FileSpam:
	default:
		return in, fmt.Errorf("receive: unknown filing %q", in.File)
	}
	in.Sender = cleanJSON(in.Sender, "{}")
	in.Recipients = cleanJSON(in.Recipients, "[]")
	in.Attachments = cleanJSON(in.Attachments, "[]")
	var ids []store.Identity
	seen := map[store.Identity]bool{}
	for _, id := range in.ContactIdentities {
		id = normalizeIdentity(id)
		if id.Kind == "" || id.Value == "" || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	in.ContactIdentities = ids
	now := store.Now()
	// A provider's clock may run ahead of ours; a message from the future would sort above
	// everything that arrives after it.
	if in.At <= 0 || in.At > now {
		in.At = now
	}
	return in, nil
}

// normalizeIdentity puts an identity in the form it is stored and matched in.
func normalizeIdentity(id store.Identity) store.Identity {
	id.Kind = strings.TrimSpace(cleanText(id.Kind))
	id.Value = strings.TrimSpace(cleanText(id.Value))
	switch id.Kind {
	case "email":
		id.Value = strings.ToLower(id.Value)
	case "phone":
		id.Value = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '-', '(', ')', '.', '\t':
				return -1
			}
			return r
		}, id.Value)
	}
	return id
}

func (s *Service) receiveOnce(ctx context.Context, in Inbound) (*store.Message, *store.Conversation, bool, error) {
	var msg *store.Message
	var conv *store.Conversation
	var duplicate bool
	// Receiving is the hot path under load: on SQLite concurrent receives share a transaction
	// (group commit), each still returning only after its own work is committed.
	err := s.Store.InGroupTx(ctx, func(tx *store.Tx) error {
		msg, conv, duplicate = nil, nil, false
		ch := in.Channel
		if ch == nil || ch.ID != in.ChannelID {
			var err error
			ch, err = tx.Channel(ctx, in.ChannelID)
			if errors.Is(err, store.ErrNotFound) {
				return problem.NotFoundf("channel_not_found", "no channel %d", in.ChannelID)
			} else if err != nil {
				return err
			}
		}
		// Receivers of one thread (or, without a thread, of one idempotency key) wait for each
		// other: the second sees what the first stored instead of opening a second conversation.
		if lock := receiveLock(in); lock != "" {
			if err := tx.LockConversationThread(ctx, ch.ID, lock); err != nil {
				return err
			}
		}
		if m, err := s.findDuplicate(ctx, tx, in); err != nil {
			return err
		} else if m != nil {
			c, err := tx.Conversation(ctx, m.ConversationID)
			if err != nil {
				return fmt.Errorf("conversation of duplicate message: %w", err)
			}
			msg, conv, duplicate = m, c, true
			return nil
		}

		contact, err := s.resolveContact(ctx, tx, in)
		if err != nil {
			return err
		}
		c, created, err := s.threadConversation(ctx, tx, ch, contact, in)
		if err != nil {
			return err
		}
		// The conversation as stored: the update at the end writes only what changed since.
		before := store.CopyConversation(c)
		if c.ContactID == nil && contact != nil {
			c.ContactID = &contact.ID
		}

		m := &store.Message{
			ConversationID: c.ID,
			ChannelID:      &ch.ID,
			Direction:      in.Direction,
			Sender:         in.Sender,
			Recipients:     in.Recipients,
			Text:           in.Text,
			HTML:           in.HTML,
			Attachments:    in.Attachments,
			Status:         "received",
			InReplyToID:    in.InReplyToID,
			CreatedAt:      in.At,
		}
		if in.Direction == "outbound" {
			m.Status = "sent"
		}
		if in.IdempotencyKey != "" {
			m.IdempotencyKey = &in.IdempotencyKey
		}
		if in.ExternalID != "" {
			m.ExternalID = &in.ExternalID
		}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		events.MessageCreated(tx, m, c.InboxID)

		text := messageText(m.Text, m.HTML)
		if in.SearchText != "" {
			text = in.SearchText
		}
		if p := preview(text); p != "" {
			c.Preview = p
		}
		c.LastActivityAt = max(c.LastActivityAt, in.At)
		reopened := false
		if in.Direction == "inbound" {
			c.LastInboundAt = maxPtr(c.LastInboundAt, in.At)
			if !created && !in.Automated {
				reopened = c.Status == "closed"
				if err := s.wakeOnInbound(ctx, tx, c); err != nil {
					return err
				}
			}
		} else {
			c.LastOutboundAt = maxPtr(c.LastOutboundAt, in.At)
		}
		if contact != nil && contact.Blocked && !c.Spam {
			c.Spam, c.Filtered = true, false
			if err := addEvent(ctx, tx, c.ID, nil, "marked_spam", map[string]any{"reason": "blocked contact"}); err != nil {
				return err
			}
		} else if created && in.File != "" {
			if err := fileConversation(ctx, tx, c, in); err != nil {
				return err
			}
		}
		if in.Stored != nil {
			if err := in.Stored(ctx, tx, m, c); err != nil {
				return err
			}
		}
		// Routing takes conversations opened or reopened by the customer (ROUTE-1, ROUTE-7);
		// filed ones wait until an agent moves them to the inbox.
		if in.Direction == "inbound" && (created || reopened) && !c.Spam && !c.Filtered && !in.NoRouting {
			if err := s.routeOnReceive(ctx, tx, ch, c, reopened, in.RoutingRule); err != nil {
				return err
			}
		}
		if err := tx.UpdateConversationFrom(ctx, before, c); err != nil {
			return err
		}
		events.ConversationUpdated(tx, c)
		if err := tx.IndexText(ctx, c.ID, text); err != nil {
			return err
		}
		if in.Direction == "inbound" {
			if err := tx.ClearConversationReads(ctx, c.ID); err != nil {
				return err
			}
		}
		msg, conv = m, c
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	if !duplicate && in.Direction == "inbound" {
		conv.Unread = true
	}
	return msg, conv, duplicate, nil
}

// findDuplicate returns the message already stored for in's idempotency key or external id.
func (s *Service) findDuplicate(ctx context.Context, tx *store.Tx, in Inbound) (*store.Message, error) {
	if in.IdempotencyKey != "" {
		find := func(ctx context.Context, tx *store.Tx) (*store.Message, error) {
			return tx.MessageByIdempotencyKey(ctx, in.ChannelID, in.IdempotencyKey)
		}
		if in.FindByIdempotencyKey != nil {
			find = in.FindByIdempotencyKey
		}
		m, err := find(ctx, tx)
		if err == nil {
			return m, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if in.ExternalID != "" {
		m, err := tx.MessageByExternalID(ctx, in.ChannelID, in.ExternalID)
		if err == nil {
			return m, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// resolveContact finds the message's contact — named directly, or by any identity — or creates
// one, then records the identities it did not have yet and fills in an empty name. The returned
// contact's Identities are not complete: only whether it is blocked and its id matter here.
func (s *Service) resolveContact(ctx context.Context, tx *store.Tx, in Inbound) (*store.Contact, error) {
	var contact *store.Contact
	// have holds identities known to be the contact's; the others are offered to it below,
	// which adds those nobody holds.
	have := map[store.Identity]bool{}
	if in.ContactID != nil {
		c, err := tx.Contact(ctx, *in.ContactID)
		if err == nil {
			contact = c
			for _, id := range c.Identities {
				have[id] = true
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if contact == nil {
		for _, id := range in.ContactIdentities {
			c, err := tx.ContactByIdentity(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			contact = c
			have[id] = true
			break
		}
	}
	if contact == nil {
		contact = &store.Contact{Name: in.ContactName, Properties: json.RawMessage("{}")}
		if err := tx.InsertContact(ctx, contact); err != nil {
			return nil, err
		}
	} else if contact.Name == "" && in.ContactName != "" {
		contact.Name = in.ContactName
		if err := tx.UpdateContact(ctx, contact); err != nil {
			return nil, err
		}
	}
	for _, id := range in.ContactIdentities {
		if have[id] {
			continue
		}
		// An identity held by another contact stays theirs: merging contacts is a decision
		// for a person (CONTACT-4), not a side effect of receiving mail.
		added, err := tx.AddContactIdentity(ctx, contact.ID, id)
		if err != nil {
			return nil, err
		}
		if added {
			contact.Identities = append(contact.Identities, id)
		}
	}
	return contact, nil
}

// fileConversation files a conversation the message just opened under Filtered or Spam.
func fileConversation(ctx context.Context, tx *store.Tx, c *store.Conversation, in Inbound) error {
	data := map[string]any{"reason": in.FileReason}
	if in.FileRule != "" {
		data["rule"] = in.FileRule
	}
	if in.File == FileSpam {
		c.Spam, c.Filtered = true, false
		return addEvent(ctx, tx, c.ID, nil, "marked_spam", data)
	}
	c.Filtered = true
	return addEvent(ctx, tx, c.ID, nil, "filtered", data)
}

// threadConversation returns the conversation the message belongs to: the one the channel
// named, else the latest one of the channel with the same thread key that is not in the trash,
// else a new one (with the contact). An existing one is returned as stored; the caller gives it
// the contact if it has none.
func (s *Service) threadConversation(ctx context.Context, tx *store.Tx, ch *store.Channel, contact *store.Contact, in Inbound) (*store.Conversation, bool, error) {
	if in.ConversationID > 0 {
		c, err := tx.Conversation(ctx, in.ConversationID)
		if err == nil {
			return c, false, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
		// Deleted since the channel looked: the message opens a new conversation.
	}
	if in.ThreadKey != "" {
		c, err := tx.ConversationByThread(ctx, ch.ID, in.ThreadKey)
		if err == nil {
			return c, false, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
	}
	number, err := tx.NextConversationNumber(ctx)
	if err != nil {
		return nil, false, err
	}
	c := &store.Conversation{
		Number:         number,
		InboxID:        ch.InboxID,
		ChannelID:      &ch.ID,
		ThreadKey:      in.ThreadKey,
		Subject:        in.Subject,
		Status:         "open",
		Priority:       "none",
		CreatedAt:      in.At,
		LastActivityAt: in.At,
	}
	if contact != nil {
		c.ContactID = &contact.ID
	}
	if err := tx.InsertConversation(ctx, c); err != nil {
		return nil, false, err
	}
	events.ConversationCreated(tx, c)
	if err := addEventAt(ctx, tx, c.ID, nil, "created", map[string]any{
		"channel_id": ch.ID, "direction": in.Direction,
	}, in.At); err != nil {
		return nil, false, err
	}
	if err := tx.IndexText(ctx, c.ID, c.Subject); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// wakeOnInbound reopens a closed conversation and ends a snooze when the customer writes again.
func (s *Service) wakeOnInbound(ctx context.Context, tx *store.Tx, c *store.Conversation) error {
	reason := map[string]any{"reason": "new inbound message"}
	if c.Status == "closed" {
		c.Status = "open"
		c.ClosedAt = nil
		if err := addEvent(ctx, tx, c.ID, nil, "reopened", reason); err != nil {
			return err
		}
	}
	if c.SnoozedUntil != nil {
		c.SnoozedUntil = nil
		if err := addEvent(ctx, tx, c.ID, nil, "unsnoozed", reason); err != nil {
			return err
		}
	}
	return nil
}

// addEvent appends a timeline event with data marshalled to JSON.
func addEvent(ctx context.Context, tx *store.Tx, conversationID int64, actorID *int64, typ string, data map[string]any) error {
	return addEventAt(ctx, tx, conversationID, actorID, typ, data, 0)
}

// addEventAt is addEvent at a given time (0 means now).
func addEventAt(ctx context.Context, tx *store.Tx, conversationID int64, actorID *int64, typ string, data map[string]any, at int64) error {
	raw := json.RawMessage("{}")
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("event data: %w", err)
		}
		raw = b
	}
	return tx.InsertConversationEvent(ctx, &store.ConversationEvent{
		ConversationID: conversationID,
		Type:           typ,
		ActorID:        actorID,
		Data:           raw,
		CreatedAt:      at,
	})
}

func maxPtr(p *int64, v int64) *int64 {
	if p != nil && *p > v {
		return p
	}
	return &v
}

// receiveLock names what concurrent receives of one message or thread contend on: the thread
// key, else the idempotency key, else the external id; "" when the message has none of them.
func receiveLock(in Inbound) string {
	switch {
	case in.ThreadKey != "":
		return in.ThreadKey
	case in.IdempotencyKey != "":
		return "idem:" + in.IdempotencyKey
	case in.ExternalID != "":
		return "ext:" + in.ExternalID
	}
	return ""
}
