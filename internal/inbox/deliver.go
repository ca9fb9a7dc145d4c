package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// maxFailureReason bounds the provider text kept on a message.
const maxFailureReason = 1000

// Deliver is the jobs.Handler for DeliverJob: it sends one queued outbound message through its
// channel's Sender and records the outcome on the message. A transient failure keeps the
// message queued (with the reason, so agents see it is being retried) and returns the error for
// the job runner to retry; a permanent failure, or the last attempt, marks it failed. A message
// that is no longer queued is not sent again: jobs run at least once, messages should go once.
func (s *Service) Deliver(ctx context.Context, job *store.Job) error {
	var payload struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(job.Payload, &payload); err != nil || payload.MessageID <= 0 {
		return channel.Permanent(fmt.Errorf("deliver job %d: bad payload %s", job.ID, job.Payload))
	}
	msg, err := s.Store.Message(ctx, payload.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the conversation was deleted; nothing to send
	} else if err != nil {
		return err
	}
	if msg.Status != "queued" || msg.Direction != "outbound" {
		return nil
	}
	out, sender, err := s.outbound(ctx, msg)
	if err != nil {
		if channel.IsPermanent(err) {
			return s.deliveryFailed(ctx, msg.ID, err)
		}
		return err
	}
	externalID, sendErr := sender.Send(ctx, out)
	if sendErr != nil {
		if channel.IsPermanent(sendErr) || job.Attempts >= job.MaxAttempts {
			return s.deliveryFailed(ctx, msg.ID, sendErr)
		}
		if err := s.Store.InTx(ctx, func(tx *store.Tx) error {
			m, err := tx.Message(ctx, msg.ID)
			if err != nil || m.Status != "queued" {
				return err
			}
			if err := tx.SetMessageStatus(ctx, msg.ID, "queued", truncate("retrying: "+sendErr.Error(), maxFailureReason)); err != nil {
				return err
			}
			return messageChanged(ctx, tx, msg.ID)
		}); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	}
	return s.deliverySent(ctx, msg, externalID)
}

// outbound gathers what a Sender needs. A missing channel or Sender is permanent: retrying
// cannot bring it back.
func (s *Service) outbound(ctx context.Context, msg *store.Message) (*channel.Outbound, channel.Sender, error) {
	conv, err := s.Store.Conversation(ctx, msg.ConversationID, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("conversation %d: %w", msg.ConversationID, err)
	}
	if msg.ChannelID == nil {
		return nil, nil, channel.Permanent(errors.New("the message has no channel"))
	}
	ch, err := s.Store.Channel(ctx, *msg.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, channel.Permanent(errors.New("the channel was removed"))
	} else if err != nil {
		return nil, nil, err
	}
	sender, ok := s.Senders[ch.Kind]
	if !ok || sender == nil {
		return nil, nil, channel.Permanent(fmt.Errorf("channel kind %q cannot send", ch.Kind))
	}
	out := &channel.Outbound{Message: msg, Conversation: conv, Channel: ch}
	if conv.ContactID != nil {
		c, err := s.Store.Contact(ctx, *conv.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		out.Contact = c
	}
	if msg.AuthorID != nil {
		u, err := s.Store.User(ctx, *msg.AuthorID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		out.Author = u
	}
	return out, sender, nil
}

// deliveryFailed marks the message failed and returns the cause as a permanent error, so the
// job stops too.
func (s *Service) deliveryFailed(ctx context.Context, messageID int64, cause error) error {
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		m, err := tx.Message(ctx, messageID)
		if err != nil || m.Status != "queued" {
			return err
		}
		if err := tx.SetMessageStatus(ctx, messageID, "failed", truncate(cause.Error(), maxFailureReason)); err != nil {
			return err
		}
		return messageChanged(ctx, tx, messageID)
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	if channel.IsPermanent(cause) {
		return cause
	}
	return channel.Permanent(cause)
}

// deliverySent records a successful send. The integration may already have reported a later
// status (delivered, read) through UpdateMessageStatus; that is kept.
func (s *Service) deliverySent(ctx context.Context, msg *store.Message, externalID string) error {
	externalID = cleanText(externalID)
	record := func(withExternal bool) error {
		return s.Store.InTx(ctx, func(tx *store.Tx) error {
			m, err := tx.Message(ctx, msg.ID)
			if err != nil {
				return err
			}
			changed := false
			if m.Status == "queued" {
				if err := tx.SetMessageStatus(ctx, m.ID, "sent", ""); err != nil {
					return err
				}
				changed = true
			}
			if withExternal && externalID != "" && m.ExternalID == nil {
				if err := tx.SetMessageExternalID(ctx, m.ID, externalID); err != nil {
					return err
				}
				changed = true
			}
			if !changed {
				return nil
			}
			return messageChanged(ctx, tx, m.ID)
		})
	}
	err := record(true)
	if store.IsConflict(err) {
		// Another message of the channel already carries this provider id. The send happened;
		// record it without the id rather than send again.
		s.logger().WarnContext(ctx, "delivered message's external id is taken", "message_id", msg.ID, "err", err)
		err = record(false)
	}
	if err != nil {
		return fmt.Errorf("record delivery of message %d: %w", msg.ID, err)
	}
	return nil
}

// messageStatusRank orders delivery statuses so a late report cannot move a message backwards
// (a "sent" arriving after "read").
var messageStatusRank = map[string]int{"queued": 0, "sent": 1, "delivered": 2, "read": 3}

// UpdateMessageStatus records a delivery status reported by a channel integration: sent,
// delivered, read or failed (with a reason). A status older than the current one is ignored.
func (s *Service) UpdateMessageStatus(ctx context.Context, messageID int64, status, failureReason string) error {
	if _, ok := messageStatusRank[status]; !ok && status != "failed" {
		return problem.Field("invalid_status", "status", "must be one of queued, sent, delivered, read, failed")
	}
	failureReason = truncate(cleanText(failureReason), maxFailureReason)
	if status != "failed" {
		failureReason = ""
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		m, err := tx.Message(ctx, messageID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("message_not_found", "no message %d", messageID)
		} else if err != nil {
			return err
		}
		if m.Direction != "outbound" {
			return problem.Conflictf("message_not_outbound", "only outbound messages have a delivery status")
		}
		if status != "failed" && m.Status != "failed" && messageStatusRank[status] < messageStatusRank[m.Status] {
			return nil
		}
		if m.Status == status && m.FailureReason == failureReason {
			return nil
		}
		if err := tx.SetMessageStatus(ctx, messageID, status, failureReason); err != nil {
			return err
		}
		return messageChanged(ctx, tx, messageID)
	})
}

// Message returns one message without an access check, for channel integrations.
func (s *Service) Message(ctx context.Context, id int64) (*store.Message, error) {
	m, err := s.Store.Message(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFoundf("message_not_found", "no message %d", id)
	}
	return m, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
