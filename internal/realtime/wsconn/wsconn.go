// Package wsconn is the WebSocket plumbing that the agents' hub (package realtime) and the
// live chat visitors' hub (package chat) share: a connection's bounded send queue and its
// writer with keepalive pings, close-once with a code and reason, strict decoding of one JSON
// client frame, a token-bucket frame limiter and the socket options with their defaults.
//
// It knows nothing of either protocol or of who may see what: each hub keeps its frames, its
// replay and its authorization, and uses a Conn for the socket side only.
package wsconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// StatusTooSlow closes a connection whose send queue filled up; the client reconnects and
// resumes from the last seq it saw.
const StatusTooSlow = 4001

// Options tune the socket side of a hub's connections. Zero values take the defaults given to
// WithDefaults.
type Options struct {
	// SendQueue is each connection's queue of frames waiting to be written. A client whose
	// queue is full is disconnected; it resumes with its last seq.
	SendQueue int
	// PingInterval and PongTimeout keep connections alive and find dead ones (25 s, 15 s).
	PingInterval time.Duration
	PongTimeout  time.Duration
	// WriteTimeout bounds one frame's write (10 s).
	WriteTimeout time.Duration
	// FrameRate and FrameBurst bound the client frames a connection (or a client) may send.
	FrameRate  float64
	FrameBurst float64
}

// WithDefaults fills the zero fields of o from def, and the keepalive and write bounds that def
// leaves zero too from this package's defaults.
func (o Options) WithDefaults(def Options) Options {
	def.PingInterval = or(def.PingInterval, 25*time.Second)
	def.PongTimeout = or(def.PongTimeout, 15*time.Second)
	def.WriteTimeout = or(def.WriteTimeout, 10*time.Second)
	o.SendQueue = or(o.SendQueue, def.SendQueue)
	o.PingInterval = or(o.PingInterval, def.PingInterval)
	o.PongTimeout = or(o.PongTimeout, def.PongTimeout)
	o.WriteTimeout = or(o.WriteTimeout, def.WriteTimeout)
	o.FrameRate = or(o.FrameRate, def.FrameRate)
	o.FrameBurst = or(o.FrameBurst, def.FrameBurst)
	return o
}

// or returns v, or def when v is not positive.
func or[T int | float64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Limiter returns a fresh token bucket at the options' frame rate.
func (o *Options) Limiter() Limiter { return Limiter{Rate: o.FrameRate, Burst: o.FrameBurst} }

// Limiter is a token bucket for client frames. It is not safe for concurrent use.
type Limiter struct {
	Rate, Burst float64
	tokens      float64
	last        time.Time
}

// Allow takes a token at now, reporting false when there is none.
func (l *Limiter) Allow(now time.Time) bool {
	if l.last.IsZero() {
		l.tokens = l.Burst
	} else {
		l.tokens = min(l.Burst, l.tokens+now.Sub(l.last).Seconds()*l.Rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// DecodeFrame decodes a client frame of at most limit bytes into v strictly: exactly one JSON
// value, known fields only, nothing after it. The caller checks the fields.
func DecodeFrame(b []byte, limit int, v any) error {
	if len(b) > limit {
		return fmt.Errorf("frame longer than %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a frame object: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the frame")
	}
	return nil
}

// Conn is the socket side of one connection: a bounded send queue of T that never blocks the
// pusher, a writer that drains it and pings the peer, and a close that happens once with the
// first code and reason asked for. A hub embeds it in its connection type and calls Init before
// use.
type Conn[T any] struct {
	ws      *websocket.Conn
	opts    *Options
	dropped *atomic.Int64

	// The send queue: items waiting for the writer, at most maxQueue. A slice rather than a
	// buffered channel so that an idle connection holds no buffer (PERF-3: many idle sockets).
	mu       sync.Mutex
	queue    []T
	maxQueue int
	queued   chan struct{} // signalled (capacity 1) when the queue is no longer empty

	closing chan struct{}
	once    sync.Once
	// Set once, before closing is closed.
	code   int
	reason string
	abrupt bool // the peer is gone: skip the close handshake
}

// Init readies c for ws (nil in tests that drive a connection without a socket). opts must
// outlive c; dropped, when set, counts connections closed for a full queue.
func (c *Conn[T]) Init(ws *websocket.Conn, opts *Options, maxQueue int, dropped *atomic.Int64) {
	c.ws, c.opts, c.maxQueue, c.dropped = ws, opts, maxQueue, dropped
	c.queued = make(chan struct{}, 1)
	c.closing = make(chan struct{})
}

// Close asks the connection's writer to close the socket with code and reason. It never
// blocks, so a shard may call it. Only the first close counts.
func (c *Conn[T]) Close(code int, reason string) { c.CloseWith(code, reason, false) }

// CloseWith is Close that skips the close handshake when abrupt (the peer is gone).
func (c *Conn[T]) CloseWith(code int, reason string, abrupt bool) {
	c.once.Do(func() {
		c.code, c.reason, c.abrupt = code, reason, abrupt
		close(c.closing)
	})
}

// Shutdown closes the connection because the server is stopping; the client reconnects, to
// this node or another, and resumes.
func (c *Conn[T]) Shutdown() {
	c.Close(int(websocket.StatusGoingAway), "server shutting down; reconnect and resume")
}

// Closing is closed once the connection is asked to close.
func (c *Conn[T]) Closing() <-chan struct{} { return c.closing }

// CloseStatus is the code and reason the connection closes with, once Closing is closed.
func (c *Conn[T]) CloseStatus() (code int, reason string) { return c.code, c.reason }

// Finish waits until the connection is asked to close, then closes the socket with its code and
// reason, without the handshake when the peer is gone.
func (c *Conn[T]) Finish() {
	<-c.closing
	if c.abrupt {
		return
	}
	_ = c.ws.Close(websocket.StatusCode(c.code), c.reason) // the peer may be gone; nothing to do about it
}

// Push queues v without blocking. A full queue means the client does not keep up: the
// connection is closed with StatusTooSlow (the client resumes from its last seq) and Push
// reports false, as it does once the connection is closing.
func (c *Conn[T]) Push(v T) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	c.mu.Lock()
	if len(c.queue) >= c.maxQueue {
		c.mu.Unlock()
		if c.dropped != nil {
			c.dropped.Add(1)
		}
		c.Close(StatusTooSlow, "too slow: reconnect and resume from your last seq")
		return false
	}
	c.queue = append(c.queue, v)
	c.mu.Unlock()
	select {
	case c.queued <- struct{}{}:
	default:
	}
	return true
}

// Take empties the queue into buf (reused between calls) and returns the items.
func (c *Conn[T]) Take(buf []T) []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf = append(buf[:0], c.queue...)
	if cap(c.queue) > 16 {
		c.queue = nil // give a burst's buffer back
	} else {
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	return buf
}

// Write sends one text frame, bounded by the write timeout.
func (c *Conn[T]) Write(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// Read reads the peer's next frame.
func (c *Conn[T]) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	return c.ws.Read(ctx)
}

// ReadFailed closes the connection after a read error: with the close handshake when the peer
// closed, without it when the peer vanished.
func (c *Conn[T]) ReadFailed(err error) {
	c.CloseWith(int(websocket.StatusNormalClosure), "", websocket.CloseStatus(err) == -1)
}

// GoRead runs read in its own goroutine, on a context that the request's end does not cancel
// (the writer decides when the connection ends), and returns a function that stops it and
// waits for it.
func GoRead(ctx context.Context, read func(context.Context)) (stop func()) {
	readCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		read(readCtx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// WriteLoop hands queued items to send until the connection closes, stopped is closed or ctx
// ends (then it closes the connection with Shutdown), and pings the peer every PingInterval.
// send writes an item (with Write) or skips it; an error from it closes the connection without
// the handshake. A ping unanswered within PongTimeout closes it too.
func (c *Conn[T]) WriteLoop(ctx context.Context, stopped <-chan struct{}, send func(T) error) {
	ping := time.NewTicker(c.opts.PingInterval)
	defer ping.Stop()
	var pinging atomic.Bool
	var batch []T
	var zero T
	for {
		select {
		case <-c.queued:
			batch = c.Take(batch)
			for i, v := range batch {
				batch[i] = zero // drop the reference for the garbage collector
				if err := send(v); err != nil {
					c.CloseWith(int(websocket.StatusGoingAway), "write failed", true)
					return
				}
			}
			if cap(batch) > 64 {
				batch = nil
			}
		case <-ping.C:
			// One ping at a time: the writer must not wait for a pong.
			if pinging.CompareAndSwap(false, true) {
				go func() {
					defer pinging.Store(false)
					pctx, cancel := context.WithTimeout(ctx, c.opts.PongTimeout)
					defer cancel()
					if err := c.ws.Ping(pctx); err != nil {
						c.CloseWith(int(websocket.StatusGoingAway), "no pong", true)
					}
				}()
			}
		case <-c.closing:
			return
		case <-stopped:
			c.Shutdown()
			return
		case <-ctx.Done():
			c.Shutdown()
			return
		}
	}
}
