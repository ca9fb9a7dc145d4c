package chat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/store"
)

var _ channel.Sender = (*Service)(nil)

// visitorOf returns the visitor id a chat conversation's thread key names.
func visitorOf(threadKey string) (int64, bool) {
	rest, ok := strings.CutPrefix(threadKey, "visitor:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// Send delivers an agent's reply to the visitor's connections on this node (connections on
// other nodes get it from the event log: crossnode.go) and returns at once: the message is "sent" when this returns (the job worker records it), "delivered" when
// a connection has written it, "read" when the visitor says so. A visitor who is offline gets
// it when they next connect (the replay), so there is nothing to retry.
func (s *Service) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	if out == nil || out.Message == nil || out.Conversation == nil {
		return "", channel.Permanent(errors.New("chat: nothing to send"))
	}
	visitorID, ok := visitorOf(out.Conversation.ThreadKey)
	if !ok {
		return "", channel.Permanent(fmt.Errorf("chat: conversation %d has no visitor", out.Conversation.ID))
	}
	// An agent's reply takes the conversation over from its bot, if one still has it (botrun.go).
	s.agentReplied(ctx, out.Conversation.ID, out.Message.AuthorID)
	m := *out.Message
	if m.Status == "queued" {
		m.Status = "sent" // what it is once this returns
	}
	if s.Hub != nil {
		id := m.ID
		s.Hub.Push(visitorID, m.ID, messageFrame(&m), func() { s.markDelivered(id) })
	}
	// A visitor who is gone and left an address gets it by email too, unless they come back
	// for it first (away.go).
	if err := s.queueEmailReply(ctx, visitorID, &m); err != nil {
		return "", err
	}
	return "chat-" + strconv.FormatInt(m.ID, 10), nil
}

// markDelivered records that a connection got an agent's message. It runs off the writer's
// goroutine: a slow database must not hold up the socket.
func (s *Service) markDelivered(messageID int64) {
	go func() {
		ctx := context.Background()
		if err := s.Inbox.UpdateMessageStatus(ctx, messageID, "delivered", ""); err != nil {
			s.log().Warn("chat: record a delivery", "message_id", messageID, "err", err)
		}
	}()
}

// AgentTyping tells the visitor of a conversation that an agent is typing. Agents' realtime
// calls it (realtime.Hub.OnReplyTyping) for typing frames in reply mode: a comment is internal,
// the visitor must not know of it. Conversations of other channels are ignored.
func (s *Service) AgentTyping(ctx context.Context, conversationID, userID int64) {
	if s.Hub == nil {
		return
	}
	conv, err := s.Store.Conversation(ctx, conversationID, 0)
	if err != nil || conv.ChannelID == nil {
		return
	}
	visitorID, ok := visitorOf(conv.ThreadKey)
	if !ok {
		return
	}
	ch, err := s.Store.Channel(ctx, *conv.ChannelID)
	if err != nil || ch.Kind != Kind {
		return
	}
	u, err := s.Store.User(ctx, userID)
	if err != nil {
		return
	}
	s.pushEverywhere(visitorID, typingFrame(u.Name)) // the visitor may be connected to another node
}

// maxReadLookups bounds the read receipts AgentRead looks up at once; more are dropped (the
// visitor misses a "read" tick, nothing else).
const maxReadLookups = 16

// AgentRead tells the visitor of a conversation, if connected to this node, that an agent read
// their messages: {"type":"read","message_id":<their latest message at the time of the read>}.
// Agents' realtime calls it (realtime.Hub.OnConversationRead) for every conversation.read event,
// on every node and after commit, so whichever node holds the visitor's socket tells them. It
// returns at once: the tailer that calls it must not wait on the database. Who read it is not
// the visitor's business, so userID is unused.
func (s *Service) AgentRead(conversationID, userID, at int64) {
	if s.Hub == nil {
		return
	}
	s.readsOnce.Do(func() { s.reads = make(chan struct{}, maxReadLookups) })
	select {
	case s.reads <- struct{}{}:
	default:
		s.log().Warn("chat: too many read receipts at once; dropping one", "conversation_id", conversationID)
		return
	}
	go func() {
		defer func() { <-s.reads }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.agentRead(ctx, conversationID, at); err != nil {
			s.log().Warn("chat: tell the visitor of a read", "conversation_id", conversationID, "err", err)
		}
	}()
}

func (s *Service) agentRead(ctx context.Context, conversationID, at int64) error {
	conv, err := s.Store.Conversation(ctx, conversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	visitorID, ok := visitorOf(conv.ThreadKey)
	if !ok || conv.ChannelID == nil || !s.Hub.connected(visitorID) {
		return nil // not a chat conversation, or its visitor is not connected here
	}
	ch, err := s.Store.Channel(ctx, *conv.ChannelID)
	if err != nil || ch.Kind != Kind {
		return err
	}
	id, err := s.Store.ChatLastVisitorMessage(ctx, conv.ID, at)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the agent read only their own side
	} else if err != nil {
		return err
	}
	s.Hub.Push(visitorID, 0, readFrame(id), nil)
	return nil
}
