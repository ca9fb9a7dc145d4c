package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// InsertComment stores an internal note and sets c.ID.
func (tx *Tx) InsertComment(ctx context.Context, c *Comment) error {
	if c.CreatedAt == 0 {
		c.CreatedAt = Now()
	}
	id, err := tx.insert(ctx, `INSERT INTO comments (conversation_id, author_id, body, mentions, created_at)
		VALUES ($1, $2, $3, $4, $5)`, c.ConversationID, c.AuthorID, c.Body, jsonOr(c.Mentions, "{}"), c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert comment: %w", err)
	}
	c.ID = id
	return nil
}

// Comments returns a conversation's comments in timeline order.
func (s *Store) Comments(ctx context.Context, conversationID int64) ([]Comment, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, conversation_id, author_id, body, mentions, created_at
		FROM comments WHERE conversation_id = $1 ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	var list []Comment
	for rows.Next() {
		var c Comment
		var mentions []byte
		if err := rows.Scan(&c.ID, &c.ConversationID, &c.AuthorID, &c.Body, &mentions, &c.CreatedAt); err != nil {
			return nil, err
		}
		c.Mentions = json.RawMessage(mentions)
		list = append(list, c)
	}
	return list, rows.Err()
}
