package wsconn

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := Limiter{Rate: 10, Burst: 3}
	now := time.Unix(0, 0)
	for i := range 3 {
		if !l.Allow(now) {
			t.Fatalf("frame %d of the burst refused", i)
		}
	}
	if l.Allow(now) {
		t.Fatal("the burst was exceeded")
	}
	if !l.Allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("a token did not come back after 1/rate")
	}
	if l.Allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("two tokens after 1/rate")
	}
}

func TestWithDefaults(t *testing.T) {
	got := Options{PongTimeout: time.Second, FrameBurst: 2}.WithDefaults(Options{SendQueue: 64, FrameRate: 5, FrameBurst: 10})
	want := Options{SendQueue: 64, PingInterval: 25 * time.Second, PongTimeout: time.Second,
		WriteTimeout: 10 * time.Second, FrameRate: 5, FrameBurst: 2}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if lim := got.Limiter(); lim.Rate != 5 || lim.Burst != 2 {
		t.Errorf("limiter %+v", lim)
	}
}

func TestDecodeFrame(t *testing.T) {
	type frame struct {
		Type string `json:"type"`
	}
	for in, wantErr := range map[string]string{
		`{"type":"x"}`:             "",
		` {"type":"x"} `:           "",
		`{"type":"x","other":1}`:   "not a frame object",
		`{"type":"x"}{"type":"y"}`: "trailing data",
		`{"type":"x"} 1`:           "trailing data",
		`[1]`:                      "not a frame object",
		`{"type":"` + strings.Repeat("x", 40) + `"}`: "longer than 32 bytes",
	} {
		var f frame
		err := DecodeFrame([]byte(in), 32, &f)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case wantErr == "" && f.Type != "x":
			t.Errorf("%s: decoded %+v", in, f)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want %q", in, err, wantErr)
		}
	}
}

func closed[T any](c *Conn[T]) bool {
	select {
	case <-c.Closing():
		return true
	default:
		return false
	}
}

// TestQueueFullCloses: a push beyond the queue closes the connection as too slow, counts it
// once, and later pushes and closes change nothing.
func TestQueueFullCloses(t *testing.T) {
	var dropped atomic.Int64
	var c Conn[int]
	c.Init(nil, &Options{}, 2, &dropped)
	if !c.Push(1) || !c.Push(2) {
		t.Fatal("a push within the queue failed")
	}
	if closed(&c) {
		t.Fatal("closed early")
	}
	if c.Push(3) {
		t.Fatal("a push beyond the queue succeeded")
	}
	if !closed(&c) {
		t.Fatal("a full queue did not close the connection")
	}
	c.Shutdown() // the first close wins
	if code, reason := c.CloseStatus(); code != StatusTooSlow || !strings.HasPrefix(reason, "too slow") {
		t.Errorf("closed with %d %q, want %d", code, reason, StatusTooSlow)
	}
	if c.Push(4) {
		t.Error("a push to a closing connection succeeded")
	}
	if n := dropped.Load(); n != 1 {
		t.Errorf("dropped %d, want 1", n)
	}
	if got := c.Take(nil); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("took %v", got)
	}
	if got := c.Take(nil); len(got) != 0 {
		t.Errorf("took %v from an empty queue", got)
	}
}

// TestShardHelpers: Send gives up once the hub stops or done closes instead of waiting on a
// full inbox; RunShard handles messages in order and shuts its connections down when ctx ends.
func TestShardHelpers(t *testing.T) {
	in := make(chan int, 1)
	stopped, done := make(chan struct{}), make(chan struct{})
	if !Send(in, 1, stopped, nil) {
		t.Fatal("send to an inbox with room failed")
	}
	close(done)
	if Send(in, 2, stopped, done) {
		t.Fatal("send to a full inbox succeeded")
	}
	close(stopped)
	if Send(in, 2, stopped, nil) {
		t.Fatal("send after the hub stopped succeeded")
	}

	ctx, cancel := context.WithCancel(context.Background())
	var got []int
	shutdown := make(chan struct{})
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		RunShard(ctx, in, func(m int) {
			got = append(got, m)
			if m == 3 {
				cancel()
			}
		}, func() { close(shutdown) })
	}()
	in <- 3
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("RunShard did not end with its context")
	}
	select {
	case <-shutdown:
	default:
		t.Error("RunShard ended without shutting its connections down")
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("handled %v, want [1 3]", got)
	}
}
