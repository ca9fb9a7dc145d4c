package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Live chat's hand-off, away and auto-close state (migration 00017): the chatflow of a visitor's
// page and the email address they left when the team was away.

// ChatVisitorAway is what migration 00017 keeps on a visitor.
type ChatVisitorAway struct {
	// FlowID is the chatflow of the page of the visitor's latest session; nil when none matched.
	FlowID *int64
	// CollectedEmail is the unverified address the visitor left; "" when none.
	CollectedEmail   string
	CollectedEmailAt *int64
}

const chatVisitorAwayQuery = `SELECT flow_id, collected_email, collected_email_at FROM chat_visitors WHERE id = $1`

func scanChatVisitorAway(row *sql.Row) (*ChatVisitorAway, error) {
	var a ChatVisitorAway
	var flow, at sql.NullInt64
	if err := row.Scan(&flow, &a.CollectedEmail, &at); err != nil {
		return nil, mapErr(err)
	}
	a.FlowID, a.CollectedEmailAt = nullInt(flow), nullInt(at)
	return &a, nil
}

// ChatVisitorAway returns a visitor's flow and collected email.
func (s *Store) ChatVisitorAway(ctx context.Context, visitorID int64) (*ChatVisitorAway, error) {
	return scanChatVisitorAway(s.read.QueryRowContext(ctx, chatVisitorAwayQuery, visitorID))
}

// ChatVisitorAway returns a visitor's flow and collected email as the transaction sees them.
func (tx *Tx) ChatVisitorAway(ctx context.Context, visitorID int64) (*ChatVisitorAway, error) {
	return scanChatVisitorAway(tx.tx.QueryRowContext(ctx, chatVisitorAwayQuery, visitorID))
}

// SetChatVisitorFlow records the chatflow of the visitor's page (nil when none matched).
func (tx *Tx) SetChatVisitorFlow(ctx context.Context, visitorID int64, flowID *int64) error {
	res, err := tx.exec(ctx, `UPDATE chat_visitors SET flow_id = $1 WHERE id = $2`, flowID, visitorID)
	if err != nil {
		return fmt.Errorf("set flow of chat visitor %d: %w", visitorID, err)
	}
	return expectRows(res)
}

// SetChatVisitorCollectedEmail records the address a visitor left.
func (tx *Tx) SetChatVisitorCollectedEmail(ctx context.Context, visitorID int64, email string, at int64) error {
	res, err := tx.exec(ctx, `UPDATE chat_visitors SET collected_email = $1, collected_email_at = $2 WHERE id = $3`,
		email, at, visitorID)
	if err != nil {
		return fmt.Errorf("set collected email of chat visitor %d: %w", visitorID, err)
	}
	return expectRows(res)
}

// SetChatVisitorContact records the contact a visitor's messages are filed under.
func (tx *Tx) SetChatVisitorContact(ctx context.Context, visitorID, contactID int64) error {
	if _, err := tx.exec(ctx, `UPDATE chat_visitors SET contact_id = $1 WHERE id = $2
		AND (contact_id IS NULL OR contact_id <> $1)`, contactID, visitorID); err != nil {
		return fmt.Errorf("set contact of chat visitor %d: %w", visitorID, err)
	}
	return nil
}

// Chatflow returns one stored chatflow's JSON by id, in the transaction.
func (tx *Tx) Chatflow(ctx context.Context, id int64) (*Chatflow, error) {
	var f Chatflow
	var raw []byte
	err := tx.tx.QueryRowContext(ctx, `SELECT id, channel_id, flow, created_at, updated_at FROM chatflows WHERE id = $1`, id).
		Scan(&f.ID, &f.ChannelID, &raw, &f.CreatedAt, &f.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	f.Flow = json.RawMessage(raw)
	return &f, nil
}

// ChatChannelIDs returns the ids of the chat channels that are not archived, in id order.
func (s *Store) ChatChannelIDs(ctx context.Context) ([]int64, error) {
	return int64Column(ctx, s.read, `SELECT id FROM channels WHERE kind = 'chat' AND archived_at IS NULL ORDER BY id`)
}

// IdleChat is an open conversation of a chat channel with no activity for a while.
type IdleChat struct {
	ConversationID int64
	ThreadKey      string
	LastActivityAt int64
}

// ChatIdleConversations returns up to limit open, unsnoozed conversations of a channel not in
// the trash whose last activity was before the time (Unix ms), oldest first, after afterID.
func (s *Store) ChatIdleConversations(ctx context.Context, channelID, before, afterActivity, afterID int64, limit int) ([]IdleChat, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, thread_key, last_activity_at FROM conversations
		WHERE channel_id = $1 AND status = 'open' AND last_activity_at < $2 AND trashed_at IS NULL
		AND snoozed_until IS NULL AND (last_activity_at > $3 OR (last_activity_at = $3 AND id > $4))
		ORDER BY last_activity_at, id LIMIT $5`, channelID, before, afterActivity, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("idle chats: %w", err)
	}
	defer rows.Close()
	var out []IdleChat
	for rows.Next() {
		var c IdleChat
		if err := rows.Scan(&c.ConversationID, &c.ThreadKey, &c.LastActivityAt); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// ConversationWaiting reports whether a conversation is on routing's waiting list: nobody was
// eligible for it (ROUTE-4, ROUTE-5).
func (s *Store) ConversationWaiting(ctx context.Context, conversationID int64) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM routing_waiting WHERE conversation_id = $1`, conversationID).Scan(&n)
	return n > 0, mapErr(err)
}
