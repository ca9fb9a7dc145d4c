package ui

// Agents and bots (SPEC CHAT-9): while a bot has a chat conversation the header says so and
// offers "Take over", which ends the bot's run and assigns the conversation to the agent; the
// conversation then leaves the Bots view (inbox.go, view=bots) and is the people's. Replying
// takes over too (the chat Service notices the agent's message).

import (
	"context"
	"errors"
	"net/http"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) takeoverRoutes() []route {
	return []route{
		{pattern: "POST /conversations/{id}/bot/takeover", handle: s.takeOver},
	}
}

// activeBot is the bot that still has a conversation, for the header.
type activeBot struct {
	BotID int64
	Name  string
}

// activeBot returns the bot whose run of c is active, or nil: for conversations of other
// channels, on a server without live chat, and once the bot has handed off or ended.
func (s *Server) activeBot(ctx context.Context, c *store.Conversation, ch *store.Channel) (*activeBot, error) {
	if s.Chat == nil || ch == nil || ch.Kind != chat.Kind {
		return nil, nil
	}
	run, err := s.Store.BotRun(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if run.Status != store.BotRunActive {
		return nil, nil
	}
	a := &activeBot{BotID: run.BotID}
	// The bot may have been renamed or deleted since; the run still says it is a bot's.
	if b, err := s.Store.Bot(ctx, run.BotID); err == nil {
		a.Name = b.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return a, nil
}

// takeOver ends the bot's run and assigns the conversation to the agent.
func (s *Server) takeOver(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatConversation(r)
	if err != nil {
		return err
	}
	u := user(r)
	if err := c.TakeOver(r.Context(), u, id); err != nil {
		return err
	}
	if _, err := s.Inbox.Update(r.Context(), u, id, inbox.Patch{AssigneeID: &u.ID}); err != nil {
		return actionError(err)
	}
	return s.afterAction(w, r, id)
}
