package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// EphemeralChannel is the PostgreSQL NOTIFY channel for ephemeral messages (presence, typing).
const EphemeralChannel = "parley_ephemeral"

// maxEphemeral bounds one ephemeral payload; PostgreSQL refuses NOTIFY payloads of 8000 bytes
// or more.
const maxEphemeral = 7000

// Bus wakes this process's realtime hub when new events may exist, and carries ephemeral
// messages between nodes. On SQLite (one process) it is purely in-process: a commit wakes the hub.
// On PostgreSQL a commit wakes this node's sequencer, which numbers the new events
// (store.SequenceEvents) and wakes the hub; the sequencer's NOTIFY wakes the other nodes, whose
// dedicated LISTEN connection reconnects when it breaks and then wakes the hub to catch up on
// anything it missed meanwhile. The sequencer also runs every second, for events written by
// processes that run none (the command line) or that died between commit and numbering.
type Bus struct {
	store *store.Store
	log   *slog.Logger
	// Node names this process in ephemeral messages, so it ignores its own.
	Node string

	wake     chan struct{} // the hub's tailer
	sequence chan struct{} // the sequencer (PostgreSQL)

	mu          sync.Mutex
	onEphemeral func(payload []byte)
	subscribers []func(payload []byte)
	publish     chan []byte
}

// NewBus returns the bus of one process and hooks it to the store's commits.
func NewBus(s *store.Store, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{store: s, log: log, Node: newNodeID(), wake: make(chan struct{}, 1), sequence: make(chan struct{}, 1),
		publish: make(chan []byte, 256)}
	s.OnEventsCommitted(b.committed)
	return b
}

func newNodeID() string {
	buf := make([]byte, 6)
	_, _ = rand.Read(buf) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(buf)
}

// Wake signals that new events may exist. It never blocks: wake-ups coalesce.
func (b *Bus) Wake() { signal(b.wake) }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// committed runs after every local commit that wrote events.
func (b *Bus) committed() {
	if b.store.Dialect() == store.Postgres {
		signal(b.sequence)
		return
	}
	b.Wake()
}

// sequenceInterval is how often the sequencer looks for events nobody woke it for.
const sequenceInterval = time.Second

// sequenceLoop numbers committed events (see store.SequenceEvents) whenever this node commits
// some, and every second.
func (b *Bus) sequenceLoop(ctx context.Context) {
	t := time.NewTicker(sequenceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.sequence:
		case <-t.C:
		}
		for {
			_, n, err := b.store.SequenceEvents(ctx)
			if err != nil {
				if ctx.Err() == nil {
					b.log.Warn("number events", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
			b.Wake()
		}
	}
}

// Woken delivers the coalesced wake-ups. One reader (the hub's tailer) consumes them.
func (b *Bus) Woken() <-chan struct{} { return b.wake }

// OnEphemeral sets the function that receives ephemeral payloads published by other nodes.
func (b *Bus) OnEphemeral(fn func(payload []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onEphemeral = fn
}

// Subscribe adds a function that also receives every ephemeral payload published by other
// nodes, besides OnEphemeral's (the agents' realtime hub): live chat's visitor hub relays frames
// to visitors connected elsewhere this way. Each subscriber ignores payloads that are not its own.
func (b *Bus) Subscribe(fn func(payload []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subscribers = append(b.subscribers, fn)
}

// envelope wraps an ephemeral payload with the node that sent it.
type envelope struct {
	Node    string          `json:"node"`
	Payload json.RawMessage `json:"payload"`
}

// PublishEphemeral sends a payload to the other nodes (best effort: presence and typing are
// ephemeral, and a full queue drops rather than slows the caller). This node's own subscribers
// are not called; the caller delivers locally itself.
func (b *Bus) PublishEphemeral(payload []byte) {
	if b.store.Dialect() != store.Postgres {
		return
	}
	select {
	case b.publish <- payload:
	default:
		b.log.Warn("ephemeral queue full; dropping a presence or typing message")
	}
}

// Run keeps the bus going until ctx ends: on PostgreSQL it listens (reconnecting with backoff)
// and publishes ephemeral messages; on SQLite it only waits.
func (b *Bus) Run(ctx context.Context) error {
	if b.store.Dialect() != store.Postgres {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { b.publishLoop(ctx) })
	wg.Go(func() { b.sequenceLoop(ctx) })
	defer wg.Wait()
	backoff := 100 * time.Millisecond
	for {
		started := time.Now()
		err := b.store.Listen(ctx, []string{store.EventsChannel, EphemeralChannel}, b.Wake, b.notified)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		b.log.Warn("event listener disconnected; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// notified handles one PostgreSQL notification.
func (b *Bus) notified(channel, payload string) {
	switch channel {
	case store.EventsChannel:
		// The payload is the highest seq the commit wrote; the hub reads from where it is, so
		// the number itself only says "there is more".
		b.Wake()
	case EphemeralChannel:
		var env envelope
		if err := json.Unmarshal([]byte(payload), &env); err != nil || env.Node == b.Node {
			return
		}
		b.mu.Lock()
		fn, subs := b.onEphemeral, b.subscribers
		b.mu.Unlock()
		if fn != nil {
			fn(env.Payload)
		}
		for _, sub := range subs {
			sub(env.Payload)
		}
	}
}

func (b *Bus) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.publish:
			raw, err := json.Marshal(envelope{Node: b.Node, Payload: p})
			if err != nil {
				b.log.Warn("ephemeral message", "err", err)
				continue
			}
			if len(raw) > maxEphemeral {
				b.log.Warn("ephemeral message too large; dropped", "bytes", len(raw))
				continue
			}
			if err := b.store.Notify(ctx, EphemeralChannel, string(raw)); err != nil && !errors.Is(err, context.Canceled) {
				b.log.Warn("publish ephemeral message", "err", err)
			}
		}
	}
}
