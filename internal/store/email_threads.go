package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The seen-Message-ID table of email threading (spec/email.md §4.2): every Message-ID of an
// inbound or outbound email on a channel, with its conversation. These methods also make
// *Store the thread.Lookup that package channel/email/thread resolves replies with.

// EmailMessageID is one Message-ID seen on an email channel.
type EmailMessageID struct {
	ChannelID int64
	// MessageID is the bare id, without angle brackets (thread.NormalizeID).
	MessageID      string
	ConversationID int64
	// MessageRowID is the message carrying it; 0 when none (yet).
	MessageRowID int64
	Direction    string // "inbound" or "outbound"
	// Sender is the From address of an inbound message; it is stored lower-case.
	Sender    string
	CreatedAt int64
}

// RecordEmailMessageID stores a seen Message-ID. Recording an id again is not an error and
// changes nothing (the first conversation keeps it): recorded reports whether this call
// stored it.
func (tx *Tx) RecordEmailMessageID(ctx context.Context, m *EmailMessageID) (recorded bool, err error) {
	if m.MessageID == "" {
		return false, fmt.Errorf("record email message id: empty id")
	}
	if m.CreatedAt == 0 {
		m.CreatedAt = Now()
	}
	var row sql.NullInt64
	if m.MessageRowID > 0 {
		row = sql.NullInt64{Int64: m.MessageRowID, Valid: true}
	}
	res, err := tx.exec(ctx, `INSERT INTO email_message_ids
		(channel_id, message_id, conversation_id, message_row_id, direction, sender, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel_id, message_id) DO NOTHING`,
		m.ChannelID, m.MessageID, m.ConversationID, row, m.Direction, strings.ToLower(strings.TrimSpace(m.Sender)), m.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("record email message id: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record email message id: %w", err)
	}
	return n > 0, nil
}

// SetEmailMessageRow links a recorded Message-ID to its message row, for an outbound id
// recorded before the message was stored. ErrNotFound when the id is not recorded.
func (tx *Tx) SetEmailMessageRow(ctx context.Context, channelID int64, messageID string, messageRowID int64) error {
	res, err := tx.exec(ctx, `UPDATE email_message_ids SET message_row_id = $3
		WHERE channel_id = $1 AND message_id = $2`, channelID, messageID, messageRowID)
	if err != nil {
		return fmt.Errorf("set email message row: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// EmailConversationsByMessageIDs returns, for those of ids seen on the channel, their
// conversation: one query for a whole References list (chunked only past idChunk ids).
func (s *Store) EmailConversationsByMessageIDs(ctx context.Context, channelID int64, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), idChunk)
		a := qargs{args: []any{channelID}}
		ph := make([]string, n)
		for i, id := range ids[:n] {
			ph[i] = a.add(id)
		}
		ids = ids[n:]
		rows, err := s.read.QueryContext(ctx, `SELECT message_id, conversation_id FROM email_message_ids
			WHERE channel_id = $1 AND message_id IN (`+strings.Join(ph, ", ")+`)`, a.args...)
		if err != nil {
			return nil, fmt.Errorf("email conversations by message id: %w", err)
		}
		for rows.Next() {
			var id string
			var conv int64
			if err := rows.Scan(&id, &conv); err != nil {
				rows.Close()
				return nil, fmt.Errorf("email conversations by message id: %w", err)
			}
			out[id] = conv
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("email conversations by message id: %w", err)
		}
	}
	return out, nil
}

// EmailMessageIDs returns the Message-IDs recorded for a conversation, oldest first: the
// thread's history, for References when the parent's own headers are not at hand.
func (s *Store) EmailMessageIDs(ctx context.Context, conversationID int64) ([]EmailMessageID, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT channel_id, message_id, conversation_id,
		COALESCE(message_row_id, 0), direction, sender, created_at
		FROM email_message_ids WHERE conversation_id = $1 ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("email message ids: %w", err)
	}
	defer rows.Close()
	list := []EmailMessageID{}
	for rows.Next() {
		var m EmailMessageID
		if err := rows.Scan(&m.ChannelID, &m.MessageID, &m.ConversationID, &m.MessageRowID, &m.Direction, &m.Sender, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("email message ids: %w", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("email message ids: %w", err)
	}
	return list, nil
}

// EmailConversationExists reports whether a conversation exists (trashed ones too: a reply
// to a trashed conversation still belongs to it).
func (s *Store) EmailConversationExists(ctx context.Context, conversationID int64) (bool, error) {
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = $1`, conversationID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("conversation exists: %w", err)
	}
	return true, nil
}

// EmailConversationByNumber returns the id of the conversation with a display number.
func (s *Store) EmailConversationByNumber(ctx context.Context, number int64) (int64, bool, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM conversations WHERE number = $1`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("conversation by number: %w", err)
	}
	return id, true, nil
}

// EmailParticipant reports whether address takes part in a conversation: it is an email
// identity of the conversation's contact, or it sent an email recorded in the conversation.
// The comparison is case-insensitive (identities and senders are stored lower-case).
func (s *Store) EmailParticipant(ctx context.Context, conversationID int64, address string) (bool, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	if address == "" {
		return false, nil
	}
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM conversations c
			JOIN contact_identities ci ON ci.contact_id = c.contact_id
			WHERE c.id = $1 AND ci.kind = 'email' AND ci.value = $2
		UNION ALL
		SELECT 1 FROM email_message_ids
			WHERE conversation_id = $1 AND sender = $2
		LIMIT 1`, conversationID, address).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("email participant: %w", err)
	}
	return true, nil
}

// EmailSenderCount counts the inbound mail from sender (lower-case) recorded on a channel since
// a time (unix ms): the runaway-sender check.
func (s *Store) EmailSenderCount(ctx context.Context, channelID int64, sender string, since int64) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_message_ids
		WHERE channel_id = $1 AND sender = $2 AND created_at >= $3`, channelID, sender, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("email sender count: %w", err)
	}
	return n, nil
}

// EmailOutboundMessage returns the recorded outbound Message-ID id of a channel, for a bounce
// that names a message we sent. ErrNotFound when it is not ours.
func (s *Store) EmailOutboundMessage(ctx context.Context, channelID int64, messageID string) (*EmailMessageID, error) {
	m := EmailMessageID{ChannelID: channelID, MessageID: messageID}
	err := s.read.QueryRowContext(ctx, `SELECT conversation_id, COALESCE(message_row_id, 0), direction, sender, created_at
		FROM email_message_ids WHERE channel_id = $1 AND message_id = $2 AND direction = 'outbound'`,
		channelID, messageID).Scan(&m.ConversationID, &m.MessageRowID, &m.Direction, &m.Sender, &m.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}
