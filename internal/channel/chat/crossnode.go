package chat

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// Several nodes (PostgreSQL): a visitor's sockets live on whichever node their widget reached,
// while an agent's reply is sent by any node's job worker and an agent types on any node. Two
// paths carry what the visitor must see to the node that holds their sockets:
//
//   - Messages follow the event log. Every node's realtime tailer hands message.created and
//     message.updated events to MessageEvent; a node where the conversation's visitor is
//     connected reads the message and pushes it, unless this node pushed that message already
//     (Send, the visitor's own message, a bot's). A reply is pushed once it is no longer queued,
//     so an undone or scheduled reply never shows early. The log is durable: a node that was
//     briefly behind still delivers, and a visitor who reconnects gets the replay anyway.
//   - Frames that are not messages (an agent typing, and pushEverywhere's callers) go through
//     the ephemeral bus: best effort, like agents' own typing.
//
// Read receipts need neither: realtime.Hub.OnConversationRead already runs on every node.

// crossNode is a Service's share of the cross-node delivery.
type crossNode struct {
	bus *events.Bus

	once  sync.Once
	queue chan int64 // message ids to look at, from the tailer

	mu            sync.Mutex
	conversations map[int64]int64 // conversation id → visitor id; 0 for other channels
}

// maxCrossNodeQueue bounds the messages waiting to be looked at. The tailer never waits on it;
// a message dropped here reaches the visitor at their next reconnect (the replay).
const maxCrossNodeQueue = 4096

// maxConversationCache bounds the conversations whose visitor is remembered.
const maxConversationCache = 10_000

// UseBus connects the service to the other nodes' visitor hubs through the ephemeral bus. Call
// it once, before serving.
func (s *Service) UseBus(b *events.Bus) {
	s.cross.bus = b
	b.Subscribe(s.remoteFrame)
}

// relayJSON is what one node asks the others to push to a visitor's sockets.
type relayJSON struct {
	Kind      string          `json:"kind"` // relayKind
	VisitorID int64           `json:"visitor_id"`
	Frame     json.RawMessage `json:"frame"`
}

const relayKind = "chat.visitor_frame"

// pushEverywhere queues a frame that is not a message (seq 0) to a visitor's sockets on this
// node and, through the bus, on every other node.
func (s *Service) pushEverywhere(visitorID int64, frame []byte) {
	if s.Hub != nil {
		s.Hub.Push(visitorID, 0, frame, nil)
	}
	if s.cross.bus == nil {
		return
	}
	b, err := json.Marshal(relayJSON{Kind: relayKind, VisitorID: visitorID, Frame: frame})
	if err != nil {
		return // frames are JSON; cannot happen
	}
	s.cross.bus.PublishEphemeral(b)
}

// remoteFrame pushes a frame another node relayed to a visitor connected here. Payloads of
// other kinds (agents' presence and typing) are not chat's.
func (s *Service) remoteFrame(payload []byte) {
	var r relayJSON
	if err := json.Unmarshal(payload, &r); err != nil || r.Kind != relayKind || r.VisitorID <= 0 || len(r.Frame) == 0 {
		return
	}
	if s.Hub == nil || !s.Hub.connected(r.VisitorID) {
		return
	}
	s.Hub.Push(r.VisitorID, 0, r.Frame, nil)
}

// messageEventJSON is the part of a message event's data (view.Message) that decides whether a
// visitor connected here needs it.
type messageEventJSON struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	ChannelID      *int64 `json:"channel_id"`
	Direction      string `json:"direction"`
	Status         string `json:"status"`
}

// MessageEvent hears a message.created or message.updated event from the agents' realtime
// tailer (realtime.Hub.OnMessage), on every node. It returns at once: the lookups run on the
// service's own goroutine.
func (s *Service) MessageEvent(e *store.Event) {
	h := s.Hub
	if h == nil || h.stats.connections.Load() == 0 {
		return // nobody connected here to push to
	}
	var m messageEventJSON
	if err := json.Unmarshal(e.Data, &m); err != nil || m.ID <= 0 || m.ChannelID == nil {
		return
	}
	if m.Direction == "outbound" && (m.Status == "queued" || m.Status == "failed") {
		return // not sent yet, or never will be
	}
	if h.recent.has(m.ID) {
		return // this node pushed it already
	}
	c := &s.cross
	c.once.Do(func() {
		c.queue = make(chan int64, maxCrossNodeQueue)
		go s.crossNodeLoop()
	})
	select {
	case c.queue <- m.ID:
	default:
		s.log().Warn("chat: too many messages to relay at once; the visitor gets this one when they reconnect", "message_id", m.ID)
	}
}

// crossNodeLoop looks at the queued messages until the hub stops.
func (s *Service) crossNodeLoop() {
	for {
		select {
		case <-s.Hub.stopped:
			return
		case id := <-s.cross.queue:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.relayMessage(ctx, id); err != nil {
				s.log().Warn("chat: push a message stored elsewhere", "message_id", id, "err", err)
			}
			cancel()
		}
	}
}

// relayMessage pushes a message to its visitor's sockets on this node, if they are connected
// here and this node has not pushed it already.
func (s *Service) relayMessage(ctx context.Context, id int64) error {
	h := s.Hub
	if h.recent.has(id) {
		return nil
	}
	m, err := s.Store.Message(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !visible(m) || (m.Direction == "outbound" && m.Status == "queued") {
		return nil
	}
	visitorID, err := s.visitorOfConversation(ctx, m.ConversationID)
	if err != nil || visitorID == 0 || !h.connected(visitorID) {
		return err
	}
	var written func()
	if m.Direction == "outbound" && m.Status == "sent" {
		written = func() { s.markDelivered(id) }
	}
	h.Push(visitorID, m.ID, messageFrame(m), written)
	return nil
}

// visitorOfConversation returns the visitor of a chat conversation, 0 for conversations of other
// channels. Both never change, so the answer is remembered.
func (s *Service) visitorOfConversation(ctx context.Context, conversationID int64) (int64, error) {
	c := &s.cross
	c.mu.Lock()
	v, ok := c.conversations[conversationID]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	conv, err := s.Store.Conversation(ctx, conversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if id, isVisitor := visitorOf(conv.ThreadKey); isVisitor && conv.ChannelID != nil {
		ch, err := s.Store.Channel(ctx, *conv.ChannelID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
		if err == nil && ch.Kind == Kind {
			v = id
		}
	}
	c.mu.Lock()
	if c.conversations == nil || len(c.conversations) >= maxConversationCache {
		c.conversations = map[int64]int64{}
	}
	c.conversations[conversationID] = v
	c.mu.Unlock()
	return v, nil
}

// recentSet remembers the last message ids a hub pushed, so that the event that follows a push
// on the same node does not push the message again.
type recentSet struct {
	mu   sync.Mutex
	ids  map[int64]struct{}
	ring [recentSize]int64
	next int
}

const recentSize = 4096

func (r *recentSet) add(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = make(map[int64]struct{}, recentSize)
	}
	if _, ok := r.ids[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != 0 {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % recentSize
	r.ids[id] = struct{}{}
}

func (r *recentSet) has(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}
