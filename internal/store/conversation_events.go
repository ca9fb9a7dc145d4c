package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// InsertConversationEvent appends a timeline event and sets e.ID.
func (tx *Tx) InsertConversationEvent(ctx context.Context, e *ConversationEvent) error {
	if e.CreatedAt == 0 {
		e.CreatedAt = Now()
	}
	id, err := tx.insert(ctx, `INSERT INTO conversation_events (conversation_id, type, actor_id, data, created_at)
		VALUES ($1, $2, $3, $4, $5)`, e.ConversationID, e.Type, e.ActorID, jsonOr(e.Data, "{}"), e.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert conversation event: %w", err)
	}
	e.ID = id
	return nil
}

// ConversationEvents returns a conversation's timeline events in order.
func (s *Store) ConversationEvents(ctx context.Context, conversationID int64) ([]ConversationEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, conversation_id, type, actor_id, data, created_at
		FROM conversation_events WHERE conversation_id = $1 ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list conversation events: %w", err)
	}
	defer rows.Close()
	var list []ConversationEvent
	for rows.Next() {
		var e ConversationEvent
		var actor sql.NullInt64
		var data []byte
		if err := rows.Scan(&e.ID, &e.ConversationID, &e.Type, &actor, &data, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.ActorID = nullInt(actor)
		e.Data = json.RawMessage(data)
		list = append(list, e)
	}
	return list, rows.Err()
}
