package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

const messageColumns = `m.id, m.conversation_id, m.channel_id, m.direction, m.author_id, m.sender, m.recipients,
	m.text, m.html, m.attachments, m.status, m.failure_reason, m.external_id, m.idempotency_key, m.in_reply_to_id,
	m.created_at, m.updated_at`

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var channel, author, inReplyTo sql.NullInt64
	var external, idem sql.NullString
	var sender, recipients, attachments []byte
	err := row.Scan(&m.ID, &m.ConversationID, &channel, &m.Direction, &author, &sender, &recipients,
		&m.Text, &m.HTML, &attachments, &m.Status, &m.FailureReason, &external, &idem, &inReplyTo,
		&m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	m.ChannelID, m.AuthorID, m.InReplyToID = nullInt(channel), nullInt(author), nullInt(inReplyTo)
	if external.Valid {
		m.ExternalID = &external.String
	}
	if idem.Valid {
		m.IdempotencyKey = &idem.String
	}
	m.Sender, m.Recipients, m.Attachments = json.RawMessage(sender), json.RawMessage(recipients), json.RawMessage(attachments)
	return &m, nil
}

// InsertMessage stores a message and sets m.ID. A duplicate (channel, idempotency key) or
// (channel, external id) fails with ErrConflict.
func (tx *Tx) InsertMessage(ctx context.Context, m *Message) error {
	now := Now()
	if m.CreatedAt == 0 {
		m.CreatedAt = now
	}
	if m.UpdatedAt == 0 {
		m.UpdatedAt = now
	}
	id, err := tx.insert(ctx, `INSERT INTO messages (conversation_id, channel_id, direction, author_id, sender, recipients,
		text, html, attachments, status, failure_reason, external_id, idempotency_key, in_reply_to_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		m.ConversationID, m.ChannelID, m.Direction, m.AuthorID, jsonOr(m.Sender, "{}"), jsonOr(m.Recipients, "[]"),
		m.Text, m.HTML, jsonOr(m.Attachments, "[]"), m.Status, m.FailureReason, m.ExternalID, m.IdempotencyKey, m.InReplyToID,
		m.CreatedAt, m.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	m.ID = id
	return nil
}

// Message returns one message.
func (s *Store) Message(ctx context.Context, id int64) (*Message, error) {
	return scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.id = $1`, id))
}

// Message returns one message inside the transaction, locked for update on PostgreSQL.
func (tx *Tx) Message(ctx context.Context, id int64) (*Message, error) {
	return scanMessage(tx.tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.id = $1`+tx.forUpdate(), id))
}

// MessageByIdempotencyKey returns the message a channel stored under an idempotency key.
func (s *Store) MessageByIdempotencyKey(ctx context.Context, channelID int64, key string) (*Message, error) {
	return scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.channel_id = $1 AND m.idempotency_key = $2`, channelID, key))
}

// MessageByIdempotencyKey is the same read inside a transaction.
func (tx *Tx) MessageByIdempotencyKey(ctx context.Context, channelID int64, key string) (*Message, error) {
	return scanMessage(tx.tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.channel_id = $1 AND m.idempotency_key = $2`, channelID, key))
}

// MessageByExternalID returns the message a channel stored under the provider's id.
func (s *Store) MessageByExternalID(ctx context.Context, channelID int64, externalID string) (*Message, error) {
	return scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.channel_id = $1 AND m.external_id = $2`, channelID, externalID))
}

// MessageByExternalID is the same read inside a transaction.
func (tx *Tx) MessageByExternalID(ctx context.Context, channelID int64, externalID string) (*Message, error) {
	return scanMessage(tx.tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.channel_id = $1 AND m.external_id = $2`, channelID, externalID))
}

// Messages returns a conversation's messages in timeline order.
func (s *Store) Messages(ctx context.Context, conversationID int64) ([]Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.conversation_id = $1 ORDER BY m.created_at, m.id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var list []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *m)
	}
	return list, rows.Err()
}

// SetMessageStatus records a delivery status and failure reason.
func (tx *Tx) SetMessageStatus(ctx context.Context, id int64, status, failureReason string) error {
	res, err := tx.exec(ctx, `UPDATE messages SET status = $2, failure_reason = $3, updated_at = $4 WHERE id = $1`,
		id, status, failureReason, Now())
	if err != nil {
		return fmt.Errorf("set message status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetMessageExternalID records the provider's id of a delivered message. A clash with another
// message of the channel fails with ErrConflict.
func (tx *Tx) SetMessageExternalID(ctx context.Context, id int64, externalID string) error {
	if _, err := tx.exec(ctx, `UPDATE messages SET external_id = $2, updated_at = $3 WHERE id = $1`, id, externalID, Now()); err != nil {
		return fmt.Errorf("set message external id: %w", err)
	}
	return nil
}
