package chat

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/realtime/wsconn"
)

// HubOptions tune a Hub. Zero values take the defaults.
type HubOptions struct {
	// Shards is the number of shard goroutines (default GOMAXPROCS).
	Shards int
	// Options are the sockets' send queue (default 64 frames), keepalive, write bound and
	// frame rate, which bounds one visitor over all their connections (5/s, burst 10).
	wsconn.Options
	// MaxReplay is how many messages a reconnect replays at most (1000); a widget further
	// behind is told to resync.
	MaxReplay int
}

func (o HubOptions) withDefaults() HubOptions {
	if o.Shards <= 0 {
		o.Shards = runtime.GOMAXPROCS(0)
	}
	o.Options = o.Options.WithDefaults(wsconn.Options{SendQueue: 64, FrameRate: 5, FrameBurst: 10})
	if o.MaxReplay <= 0 {
		o.MaxReplay = 1000
	}
	return o
}

// statusTooSlow closes a connection whose send queue filled up.
const statusTooSlow = wsconn.StatusTooSlow

// Hub holds the visitor connections of one process. Each visitor's connections live in one
// shard (by visitor id), a goroutine that owns them and never blocks on a socket.
type Hub struct {
	log      *slog.Logger
	opts     HubOptions
	shards   []*shard
	nextConn atomic.Uint64
	started  chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once

	limitsMu sync.Mutex
	limits   map[int64]*visitorLimit

	stats struct{ connections, dropped, delivered atomic.Int64 }
	// recent are the message ids pushed lately, which the cross-node path skips (crossnode.go).
	recent recentSet
}

// NewHub returns a hub; call Run.
func NewHub(log *slog.Logger, opts HubOptions) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{log: log, opts: opts.withDefaults(), started: make(chan struct{}), stopped: make(chan struct{}),
		limits: map[int64]*visitorLimit{}}
	for i := 0; i < h.opts.Shards; i++ {
		h.shards = append(h.shards, &shard{hub: h, in: make(chan shardMsg, 1024), visitors: map[int64]map[*conn]struct{}{}})
	}
	return h
}

// HubStats are counters for tests and metrics.
type HubStats struct {
	Connections, Dropped, Delivered int64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	return HubStats{Connections: h.stats.connections.Load(), Dropped: h.stats.dropped.Load(), Delivered: h.stats.delivered.Load()}
}

// Run runs the shards until ctx ends, then closes every connection with "going away" (widgets
// reconnect and resume).
func (h *Hub) Run(ctx context.Context) {
	defer h.stopOnce.Do(func() { close(h.stopped) })
	var wg sync.WaitGroup
	for _, sh := range h.shards {
		wg.Go(func() { sh.run(ctx) })
	}
	close(h.started)
	wg.Wait()
}

func (h *Hub) shardOf(visitorID int64) *shard {
	return h.shards[uint64(visitorID)%uint64(len(h.shards))]
}

// Push queues a frame to every connection of a visitor on this node without blocking on any of
// them. seq is the message id of a message frame (0 for others); written, when set, runs after
// the frame reached a connection's socket (once per connection).
func (h *Hub) Push(visitorID, seq int64, data []byte, written func()) {
	if seq != 0 {
		h.recent.add(seq)
	}
	h.shardOf(visitorID).send(shardMsg{kind: msgFrame, visitor: visitorID, out: outgoing{seq: seq, data: data, written: written}})
}

// connected reports whether the visitor has a connection on this node now: every connection
// holds the visitor's frame budget while it lives.
func (h *Hub) connected(visitorID int64) bool {
	h.limitsMu.Lock()
	defer h.limitsMu.Unlock()
	return h.limits[visitorID] != nil
}

// visitorLimit is one visitor's frame budget, shared by their connections.
type visitorLimit struct {
	mu   sync.Mutex
	lim  wsconn.Limiter
	refs int
}

func (h *Hub) acquireLimit(visitorID int64) *visitorLimit {
	h.limitsMu.Lock()
	defer h.limitsMu.Unlock()
	l := h.limits[visitorID]
	if l == nil {
		l = &visitorLimit{lim: h.opts.Limiter()}
		h.limits[visitorID] = l
	}
	l.refs++
	return l
}

func (h *Hub) releaseLimit(visitorID int64, l *visitorLimit) {
	h.limitsMu.Lock()
	defer h.limitsMu.Unlock()
	l.refs--
	if l.refs <= 0 && h.limits[visitorID] == l {
		delete(h.limits, visitorID)
	}
}

func (l *visitorLimit) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lim.Allow(now)
}

type msgKind int

const (
	msgRegister msgKind = iota
	msgUnregister
	msgFrame
)

type shardMsg struct {
	kind    msgKind
	conn    *conn
	ack     chan struct{}
	visitor int64
	out     outgoing
}

// shard owns the connections of a share of the visitors.
type shard struct {
	hub      *Hub
	in       chan shardMsg
	visitors map[int64]map[*conn]struct{}
}

// send hands a message to the shard; it gives up once the hub has stopped.
func (sh *shard) send(m shardMsg) bool {
	return wsconn.Send(sh.in, m, sh.hub.stopped, nil)
}

// run handles the shard's messages until ctx ends, then closes its connections.
func (sh *shard) run(ctx context.Context) {
	wsconn.RunShard(ctx, sh.in, sh.handle, func() {
		for _, conns := range sh.visitors {
			for c := range conns {
				c.Shutdown()
			}
		}
	})
}

func (sh *shard) handle(m shardMsg) {
	switch m.kind {
	case msgRegister:
		conns := sh.visitors[m.conn.visitor]
		if conns == nil {
			conns = map[*conn]struct{}{}
			sh.visitors[m.conn.visitor] = conns
		}
		conns[m.conn] = struct{}{}
		close(m.ack)
	case msgUnregister:
		sh.remove(m.conn)
	case msgFrame:
		var slow []*conn
		for c := range sh.visitors[m.visitor] {
			if !c.Push(m.out) {
				slow = append(slow, c)
			}
		}
		for _, c := range slow {
			sh.remove(c)
		}
	}
}

func (sh *shard) remove(c *conn) {
	conns := sh.visitors[c.visitor]
	delete(conns, c)
	if len(conns) == 0 {
		delete(sh.visitors, c.visitor)
	}
}
