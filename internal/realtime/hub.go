package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/realtime/wsconn"
	"github.com/parley-inbox/parley/internal/store"
)

// Options tune a Hub. Zero values take the defaults.
type Options struct {
	// Shards is the number of shard goroutines (default GOMAXPROCS).
	Shards int
	// Options are the sockets' send queue (default 256 frames), keepalive, write bound and
	// client frame rate (per connection: 10/s, burst 20).
	wsconn.Options
	// PollInterval is how often the tailer reads the log without being woken (2 s): a safety
	// net for a lost notification; wake-ups make delivery immediate.
	PollInterval time.Duration
	// ReplayPage is how many events one replay query reads (500).
	ReplayPage int
	// MaxReplay is the largest gap between a client's seq and the latest that is replayed
	// (100,000); beyond it the client is told to resync, which is cheaper for both sides.
	MaxReplay int64
	// MaxViews bounds the conversations one connection may view at once (16).
	MaxViews int
}

func (o Options) withDefaults() Options {
	if o.Shards <= 0 {
		o.Shards = runtime.GOMAXPROCS(0)
	}
	o.Options = o.Options.WithDefaults(wsconn.Options{SendQueue: 256, FrameRate: 10, FrameBurst: 20})
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.ReplayPage <= 0 {
		o.ReplayPage = 500
	}
	if o.MaxReplay <= 0 {
		o.MaxReplay = 100_000
	}
	if o.MaxViews <= 0 {
		o.MaxViews = 16
	}
	return o
}

// Hub serves the realtime connections of one process.
type Hub struct {
	store *store.Store
	bus   *events.Bus
	log   *slog.Logger
	opts  Options

	shards   []*shard
	presence *presence
	nextConn atomic.Uint64

	// users caches each connected user's visibility, shared by their connections.
	usersMu  sync.Mutex
	usersGen uint64 // bumped by every access change, so a load that raced one is redone
	users    map[int64]*userState

	ready   chan struct{} // closed once Run has started the shards and knows the head
	stopped chan struct{} // closed when Run ends
	head    atomic.Int64  // the last seq the tailer dispatched

	stats struct {
		connections, dropped, delivered atomic.Int64
	}

	// OnReplyTyping, when set before Run, hears a user of this node typing a reply (never a
	// comment) in a conversation they may see: live chat tells the visitor.
	OnReplyTyping func(ctx context.Context, conversationID, userID int64)
	// OnConversationRead, when set before Run, hears every conversation.read event (a user read
	// a conversation up to at, in Unix milliseconds) as the tailer dispatches it — on every node,
	// after commit, once per event: live chat tells the visitor connected here. It runs on the
	// tailer's goroutine, so it must not block.
	OnConversationRead func(conversationID, userID, at int64)
	// OnMessage, when set before Run, hears every message.created and message.updated event as
	// the tailer dispatches it — on every node, after commit, in seq order: live chat pushes
	// messages to visitors connected to this node whatever node stored or sent them. It runs on
	// the tailer's goroutine, so it must not block.
	OnMessage func(e *store.Event)
}

// New returns a hub over the store and bus; call Run.
func New(s *store.Store, bus *events.Bus, log *slog.Logger, opts Options) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{store: s, bus: bus, log: log, opts: opts.withDefaults(),
		users: map[int64]*userState{}, ready: make(chan struct{}), stopped: make(chan struct{})}
	for i := 0; i < h.opts.Shards; i++ {
		h.shards = append(h.shards, &shard{hub: h, in: make(chan shardMsg, 1024), users: map[int64]*shardUser{}})
	}
	h.presence = newPresence(h)
	return h
}

// Stats are counters for tests, benchmarks and metrics.
type Stats struct {
	// Connections open now.
	Connections int64
	// Dropped counts connections closed because their send queue was full.
	Dropped int64
	// Delivered counts event frames queued to connections.
	Delivered int64
	// Head is the last seq the hub dispatched.
	Head int64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{Connections: h.stats.connections.Load(), Dropped: h.stats.dropped.Load(),
		Delivered: h.stats.delivered.Load(), Head: h.head.Load()}
}

// Run runs the hub until ctx ends; then every connection is closed with "going away" (clients
// reconnect, to this node or another, and resume).
func (h *Hub) Run(ctx context.Context) error {
	defer close(h.stopped)
	var head int64
	for {
		_, latest, err := h.store.EventBounds(ctx)
		if err == nil {
			head = latest
			break
		}
		h.log.Warn("realtime: read the event log head", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	h.head.Store(head)
	var wg sync.WaitGroup
	for _, sh := range h.shards {
		wg.Go(func() { sh.run(ctx) })
	}
	wg.Go(func() { h.presence.run(ctx) })
	if h.bus != nil {
		h.bus.OnEphemeral(func(p []byte) { h.remoteEphemeral(ctx, p) })
	}
	close(h.ready)
	h.tail(ctx, head)
	wg.Wait()
	return nil
}

// waitReady waits until Run has started.
func (h *Hub) waitReady(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-h.stopped:
		return errors.New("realtime hub stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tailBatch is how many events the tailer reads at a time.
const tailBatch = 1000

// tail reads the event log in seq order from head and dispatches every event, woken by the bus
// and polling as a safety net. Events committed on this node and on others take the same path.
func (h *Hub) tail(ctx context.Context, head int64) {
	poll := time.NewTicker(h.opts.PollInterval)
	defer poll.Stop()
	var woken <-chan struct{}
	if h.bus != nil {
		woken = h.bus.Woken()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-woken:
		case <-poll.C:
		}
		for {
			evs, err := h.store.EventsAfter(ctx, head, tailBatch)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("realtime: read events", "after", head, "err", err)
				}
				break
			}
			for i := range evs {
				h.dispatch(ctx, &evs[i])
				head = evs[i].Seq
			}
			h.head.Store(head)
			if len(evs) < tailBatch {
				break
			}
		}
	}
}

// dispatch hands one event to every shard, or applies an access change.
func (h *Hub) dispatch(ctx context.Context, e *store.Event) {
	if e.Type == events.TypeAccessChanged {
		h.accessChanged(ctx, e)
		return
	}
	if e.InboxID == nil {
		return // internal: no client receives it
	}
	if e.Type == events.TypeConversationRead && e.ConversationID != nil && e.UserID != nil && h.OnConversationRead != nil {
		h.OnConversationRead(*e.ConversationID, *e.UserID, e.CreatedAt)
	}
	if (e.Type == events.TypeMessageCreated || e.Type == events.TypeMessageUpdated) && h.OnMessage != nil {
		h.OnMessage(e)
	}
	if e.Type == events.TypeConversationUpdated && e.ConversationID != nil {
		h.presence.send(ctx, presenceOp{kind: opInbox, conv: *e.ConversationID, inbox: *e.InboxID})
	}
	f := &frame{seq: e.Seq, inbox: *e.InboxID, data: eventFrame(e)}
	if e.UserID != nil {
		f.user = *e.UserID
	}
	h.broadcast(ctx, f)
}

// broadcast hands a frame to every shard.
func (h *Hub) broadcast(ctx context.Context, f *frame) {
	for _, sh := range h.shards {
		sh.send(ctx, shardMsg{kind: msgFrame, frame: f})
	}
}

// access is what one user may see, at one moment.
type access struct {
	active  bool // false: deactivated or deleted; sees nothing
	admin   bool
	inboxes map[int64]bool
}

func (a *access) canSee(inboxID int64) bool {
	return a != nil && a.active && (a.admin || a.inboxes[inboxID])
}

// userState is one connected user, shared by their connections on this node.
type userState struct {
	id     int64
	refs   int // guarded by Hub.usersMu
	access atomic.Pointer[access]
}

func (u *userState) canSee(inboxID int64) bool { return u.access.Load().canSee(inboxID) }

// canSeeEvent checks one event for this user: its inbox, and its recipient if it has one.
func (u *userState) canSeeEvent(e *store.Event) bool {
	if e.InboxID == nil || (e.UserID != nil && *e.UserID != u.id) {
		return false
	}
	return u.canSee(*e.InboxID)
}

// loadAccess reads what the user may see now.
func (h *Hub) loadAccess(ctx context.Context, userID int64) (*access, error) {
	u, inboxes, err := h.store.UserAccess(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return &access{}, nil
	} else if err != nil {
		return nil, err
	}
	a := &access{active: u.DeactivatedAt == nil, admin: u.IsAdmin(), inboxes: make(map[int64]bool, len(inboxes))}
	for _, id := range inboxes {
		a.inboxes[id] = true
	}
	return a, nil
}

// acquireUser returns the shared state of a user, loading their visibility if no connection of
// theirs holds it yet. A load that raced an access change is redone, so a new connection never
// keeps visibility older than the last change the tailer applied.
func (h *Hub) acquireUser(ctx context.Context, userID int64) (*userState, error) {
	for {
		h.usersMu.Lock()
		if st, ok := h.users[userID]; ok {
			st.refs++
			h.usersMu.Unlock()
			return st, nil
		}
		gen := h.usersGen
		h.usersMu.Unlock()
		a, err := h.loadAccess(ctx, userID)
		if err != nil {
			return nil, err
		}
		h.usersMu.Lock()
		if h.usersGen != gen {
			h.usersMu.Unlock()
			continue
		}
		if _, ok := h.users[userID]; ok {
			h.usersMu.Unlock()
			continue // another connection of the user got there first; share theirs
		}
		st := &userState{id: userID, refs: 1}
		st.access.Store(a)
		h.users[userID] = st
		h.usersMu.Unlock()
		return st, nil
	}
}

func (h *Hub) releaseUser(st *userState) {
	h.usersMu.Lock()
	defer h.usersMu.Unlock()
	st.refs--
	if st.refs <= 0 && h.users[st.id] == st {
		delete(h.users, st.id)
	}
}

// accessChanged applies an access.changed event: it reloads the visibility of the affected users
// connected here before the tailer delivers anything later, closes the sockets of users who may
// no longer sign in, and drops presence in conversations people can no longer see.
func (h *Hub) accessChanged(ctx context.Context, e *store.Event) {
	var d events.AccessData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		h.log.Warn("realtime: bad access.changed event; recomputing everyone", "seq", e.Seq, "err", err)
		d.All = true
	}
	h.usersMu.Lock()
	h.usersGen++
	var affected []*userState
	if d.All {
		for _, st := range h.users {
			affected = append(affected, st)
		}
	} else {
		for _, id := range d.UserIDs {
			if st, ok := h.users[id]; ok {
				affected = append(affected, st)
			}
		}
	}
	h.usersMu.Unlock()
	for _, st := range affected {
		a, err := h.loadAccess(ctx, st.id)
		if err != nil {
			// Fail closed: without knowing what they may see, they see nothing; their sockets
			// close and they reconnect (and resume) once the database answers again.
			h.log.Warn("realtime: reload access; closing the user's connections", "user_id", st.id, "err", err)
			a = &access{}
		}
		st.access.Store(a)
		if !a.active {
			h.kickUser(ctx, st.id, statusAccessRevoked, "access revoked")
		}
	}
	if len(affected) > 0 {
		h.presence.send(ctx, presenceOp{kind: opRevalidate})
	}
}

// kickUser closes every connection of a user on this node.
func (h *Hub) kickUser(ctx context.Context, userID int64, code int, reason string) {
	for _, sh := range h.shards {
		sh.send(ctx, shardMsg{kind: msgKickUser, userID: userID, code: code, reason: reason})
	}
}

// remoteEphemeral handles presence and typing from another node.
func (h *Hub) remoteEphemeral(ctx context.Context, payload []byte) {
	e, err := parseEphemeral(payload)
	if err != nil {
		h.log.Debug("realtime: ignoring an ephemeral message", "err", err)
		return
	}
	switch e.Kind {
	case "presence":
		h.presence.send(ctx, presenceOp{kind: opRemote, conv: e.ConversationID, inbox: e.InboxID, users: e.UserIDs, node: e.Node})
	case "typing":
		data := typingFrame(e.ConversationID, e.UserID, e.Mode)
		if e.From == fromVisitor {
			data = visitorTypingFrame(e.ConversationID)
		}
		h.broadcast(ctx, &frame{inbox: e.InboxID, except: e.UserID, data: data})
	}
}

// RelayVisitorTyping tells the agents who may see inboxID, on every node, that the visitor of a
// live chat conversation is typing: the same ephemeral typing frame a colleague's typing makes,
// with "from": "visitor" instead of a user_id. The caller vouches that the conversation is in
// inboxID. Before Run has started it does nothing; it never waits on a connection.
func (h *Hub) RelayVisitorTyping(conversationID, inboxID int64) {
	if conversationID <= 0 || inboxID <= 0 {
		return
	}
	select {
	case <-h.ready:
	default:
		return
	}
	h.broadcast(context.Background(), &frame{inbox: inboxID, data: visitorTypingFrame(conversationID)})
	h.publish(ephemeral{Kind: "typing", ConversationID: conversationID, InboxID: inboxID, From: fromVisitor, Mode: modeReply})
}

// publish sends an ephemeral message to the other nodes.
func (h *Hub) publish(e ephemeral) {
	if h.bus == nil {
		return
	}
	e.Node = h.bus.Node
	b, err := json.Marshal(e)
	if err != nil {
		h.log.Warn("realtime: encode ephemeral message", "err", err)
		return
	}
	h.bus.PublishEphemeral(b)
}
