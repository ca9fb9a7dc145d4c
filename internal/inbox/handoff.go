package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// Route routes an open conversation now with rule, as a new conversation is routed: a chat bot
// hands the conversation to people with its chatflow's rule once it is done (CHAT-9). An
// assigned, closed or filed conversation, or a disabled rule, is left as it is. It reports
// whether someone was assigned; false with no error means the conversation waits (ROUTE-5).
func (s *Service) Route(ctx context.Context, conversationID int64, rule *store.RoutingRule) (assigned bool, err error) {
	if rule == nil {
		return false, errors.New("route: no rule")
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, conversationID)
		if errors.Is(err, store.ErrNotFound) {
			return conversationNotFound(conversationID)
		} else if err != nil {
			return err
		}
		if !waitable(c) || c.ChannelID == nil || !rule.Enabled {
			assigned = c.AssigneeID != nil
			return nil
		}
		ch, err := tx.Channel(ctx, *c.ChannelID)
		if err != nil {
			return fmt.Errorf("route: channel of conversation %d: %w", c.ID, err)
		}
		if err := tx.LockRouting(ctx); err != nil {
			return err
		}
		before := store.CopyConversation(c)
		changed, err := s.route(ctx, tx, rule, ch, c, nil, s.now())
		if err != nil || !changed {
			return err
		}
		if err := tx.UpdateConversationFrom(ctx, before, c); err != nil {
			return err
		}
		events.ConversationUpdated(tx, c)
		assigned = c.AssigneeID != nil
		return nil
	})
	return assigned, err
}

// CloseIdle closes an open conversation for the system when nothing happened in it since
// idleSince (Unix ms): live chat's auto-close (CHAT-10). The timeline's "closed" event has no
// actor and data's reason. It reports false when the conversation is no longer open and idle
// (someone wrote, or closed or snoozed it, since it was picked). Closing frees its assignee's
// slot as a person's close does, and runs Closed.
func (s *Service) CloseIdle(ctx context.Context, conversationID, idleSince int64, data map[string]any) (closed bool, err error) {
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, conversationID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if c.Status != "open" || c.SnoozedUntil != nil || c.TrashedAt != nil || c.LastActivityAt > idleSince {
			return nil
		}
		before := store.CopyConversation(c)
		now := store.Now()
		c.Status, c.ClosedAt = "closed", &now
		if err := addEvent(ctx, tx, c.ID, nil, "closed", data); err != nil {
			return err
		}
		if err := tx.UpdateConversationFrom(ctx, before, c); err != nil {
			return err
		}
		events.ConversationUpdated(tx, c)
		closed = true
		return s.routeAfterUpdate(ctx, tx, before, c)
	})
	return closed, err
}
