package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/store"
)

// Auto-close (CHAT-10): a chat in which nothing happened for its chatflow's auto_close_minutes
// is closed by the system — a "closed" timeline event without actor, reason "auto_close" — and
// the visitor's widget is told ({"type":"closed"}, from Closed) and gets the transcript when
// their email is known. A chat whose visitor has no flow (none matched, or it was deleted) is
// left open: only a flow says how long its chats may idle.

// autoClosePage is how many idle chats one query reads.
const autoClosePage = 200

// AutoClose closes the chats idle past their flow's limit and returns how many it closed.
//
// Several nodes may sweep at once: each close re-reads the conversation under its row lock
// (inbox.Service.CloseIdle) and closes it only if it is still open and idle, so a chat is
// closed once and a message that arrives meanwhile keeps it open.
func (s *Service) AutoClose(ctx context.Context) (int, error) {
	channels, err := s.Store.ChatChannelIDs(ctx)
	if err != nil {
		return 0, err
	}
	closed := 0
	for _, chID := range channels {
		n, err := s.autoCloseChannel(ctx, chID)
		closed += n
		if err != nil {
			return closed, err
		}
	}
	return closed, nil
}

func (s *Service) autoCloseChannel(ctx context.Context, channelID int64) (int, error) {
	flows, err := s.flows(ctx, channelID)
	if err != nil {
		return 0, err
	}
	byID := make(map[int64]*chatflow.Flow, len(flows))
	shortest := 0
	for i := range flows {
		f := &flows[i]
		byID[f.ID] = f
		if m := f.AutoCloseMinutes; m > 0 && (shortest == 0 || m < shortest) {
			shortest = m
		}
	}
	if shortest == 0 {
		return 0, nil // every flow keeps its chats open
	}
	now := s.now()
	cutoff := now.Add(-time.Duration(shortest) * time.Minute).UnixMilli()
	closed := 0
	var afterActivity, afterID int64 = -1, 0
	for {
		page, err := s.Store.ChatIdleConversations(ctx, channelID, cutoff, afterActivity, afterID, autoClosePage)
		if err != nil {
			return closed, err
		}
		for _, c := range page {
			afterActivity, afterID = c.LastActivityAt, c.ConversationID
			visitorID, ok := visitorOf(c.ThreadKey)
			if !ok {
				continue
			}
			a, err := s.Store.ChatVisitorAway(ctx, visitorID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return closed, err
			}
			if a.FlowID == nil || byID[*a.FlowID] == nil || byID[*a.FlowID].AutoCloseMinutes <= 0 {
				continue
			}
			minutes := byID[*a.FlowID].AutoCloseMinutes
			idleSince := now.Add(-time.Duration(minutes) * time.Minute).UnixMilli()
			if c.LastActivityAt > idleSince {
				continue
			}
			ok, err = s.Inbox.CloseIdle(ctx, c.ConversationID, idleSince,
				map[string]any{"reason": "auto_close", "idle_minutes": minutes})
			if err != nil {
				return closed, err
			}
			if ok {
				closed++
			}
		}
		if len(page) < autoClosePage {
			return closed, nil
		}
	}
}

// RunAutoClose calls AutoClose every interval until ctx ends.
func (s *Service) RunAutoClose(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.AutoClose(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("chat: auto-close", "err", err)
		} else if n > 0 {
			s.log().Info("chat: auto-closed idle chats", "count", n)
		}
	}
}
