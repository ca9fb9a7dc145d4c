package inbox

import (
	"context"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// The realtime event log is written by the operations themselves, next to each write, through
// package events (events.ConversationUpdated(tx, c) right after tx.UpdateConversation(ctx, c)…).
// This helper covers the writes that change a message without holding it.

// messageChanged records that a message's delivery state changed, reading it back as the
// transaction wrote it.
func messageChanged(ctx context.Context, tx *store.Tx, messageID int64) error {
	m, err := tx.Message(ctx, messageID)
	if err != nil {
		return err
	}
	inboxID, err := tx.ConversationInbox(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	events.MessageUpdated(tx, m, inboxID)
	return nil
}
