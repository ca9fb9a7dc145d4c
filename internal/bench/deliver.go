package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
)

// DeliverOptions bound the deliver scenario.
type DeliverOptions struct {
	Rate     int           // messages per second
	Duration time.Duration // how long to publish
	Clients  int           // publishing clients
	Threads  int           // conversations the messages spread over
}

func (o *DeliverOptions) check() error {
	if o.Rate < 1 || o.Rate > 100_000 {
		return errors.New("rate: want 1 to 100,000 per second")
	}
	if o.Duration <= 0 || o.Duration > 10*time.Minute {
		return errors.New("duration: want more than 0 and at most 10m")
	}
	if o.Clients < 1 || o.Clients > 1024 {
		return errors.New("clients: want 1 to 1,024")
	}
	if o.Threads < 1 {
		return errors.New("threads: want at least 1")
	}
	return nil
}

// Deliver publishes at a fixed rate while an admin's WebSocket is connected to the realtime
// endpoint and measures, for each message, the time from when it was due to be published to when
// its message.created frame arrived (SPEC PERF-2). Timing from the schedule rather than from the
// actual send keeps a stalled server from hiding its stall (coordinated omission).
func Deliver(ctx context.Context, t *Target, o DeliverOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "deliver", Goal: "PERF-2: inbound message → agent WebSocket at 1,000 msg/s: p99 ≤ 25 ms"}
	res.Params = Environment(ctx, t)
	n := int(float64(o.Rate) * o.Duration.Seconds())
	res.param("rate", fmt.Sprintf("%d msg/s for %s (%d messages)", o.Rate, o.Duration, n))
	res.param("clients", o.Clients)
	res.param("threads", o.Threads)

	c := newClient(o.Clients)
	run := runID()
	f, err := newChannel(ctx, t, c, run)
	if err != nil {
		return nil, err
	}
	ws, err := newResumingClient(ctx, t, t.AdminToken)
	if errors.Is(err, errNoRealtime) {
		res.figure("delivery latency", "not measured: "+err.Error())
		return res, nil
	} else if err != nil {
		return nil, err
	}
	defer ws.close()
	res.param("receiver", "one admin WebSocket on /api/v1/realtime (resuming from its last seq if dropped)")

	marker := "dlv" + strconv.FormatInt(time.Now().UnixNano(), 36) + "n"
	start := time.Now().Add(50 * time.Millisecond)
	interval := time.Second / time.Duration(o.Rate)
	due := func(i int) time.Time { return start.Add(time.Duration(i) * interval) }
	received := make([]atomic.Int64, n) // unix nanoseconds of the frame's arrival; 0 = not yet
	acked := make([]int64, n)           // unix nanoseconds of the publish's 201; 0 = failed
	var got atomic.Int64
	mk := []byte(marker)
	go ws.run(func(b []byte) {
		now := time.Now().UnixNano()
		if !bytes.Contains(b, []byte(`"message.created"`)) {
			return
		}
		k := bytes.Index(b, mk)
		if k < 0 {
			return
		}
		rest := b[k+len(mk):]
		e := bytes.IndexByte(rest, 'e')
		if e < 0 {
			return
		}
		i, err := strconv.Atoi(string(rest[:e]))
		if err != nil || i < 0 || i >= n {
			return
		}
		if received[i].CompareAndSwap(0, now) {
			got.Add(1)
		}
	})

	p := &publisher{t: t, c: c, f: f, run: run, words: seed.Vocabulary(), thread: func(i int) int { return i % o.Threads }}
	jobs := make(chan int, o.Clients)
	var publish latencies
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for w := range o.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 11))
			for i := range jobs {
				body := p.body(i, marker+strconv.Itoa(i)+"e", r)
				t0 := time.Now()
				if _, err := p.publish(ctx, body); err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
				} else {
					acked[i] = time.Now().UnixNano()
				}
				publish.add(time.Since(t0))
			}
		})
	}
	late := 0
	for i := range n {
		if d := time.Until(due(i)); d > 0 {
			time.Sleep(d)
		} else if d < -5*time.Millisecond {
			late++
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	published := time.Since(start)
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() < int64(n)-failed.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ws.close()

	var d, push []time.Duration
	for i := range n {
		if at := received[i].Load(); at != 0 {
			d = append(d, time.Duration(at-due(i).UnixNano()))
			if acked[i] != 0 {
				// The frame may beat the HTTP answer to the client: that counts as no delay.
				push = append(push, time.Duration(max(at-acked[i], 0)))
			}
		}
	}
	sum := summarize(d)
	res.figure("achieved publish rate", fmt.Sprintf("%s (%d sent in %s; %d sends started more than 5 ms late)",
		rate(n, published), n, published.Round(time.Millisecond), late))
	res.figure("publish request latency", publish.summary().String())
	res.figure("received", fmt.Sprintf("%d of %d frames (%d publishes failed, %d reconnects)", sum.N, n, failed.Load(), ws.reconnects.Load()))
	res.figure("publish → frame latency", sum.String())
	res.figure("acknowledged → frame", summarize(push).String())
	if firstErr != nil {
		res.note("first error: %v", firstErr)
	}
	res.note("publish → frame runs from when each publish was due (its slot at the fixed rate) to when its frame arrived; " +
		"acknowledged → frame from the publish's 201 to the frame (0 when the frame came first)")
	return res, nil
}
