package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
)

// IngestOptions bound the ingest scenario.
type IngestOptions struct {
	Messages int           // messages to publish
	Clients  int           // concurrent publishing clients
	Threads  int           // conversations (integration thread ids) the messages spread over
	Duration time.Duration // stop publishing after this long even if Messages are not all sent
	// Realtime connects an admin's WebSocket during the run and counts the message.created
	// events it receives (the "pushed to connected agents" of PERF-1).
	Realtime bool
	// Routing turns on automatic assignment for the channel, so new conversations are routed.
	Routing bool
}

// publishBody is a custom channels publish request (HubSpot's shape).
type publishBody struct {
	ChannelAccountID         string            `json:"channelAccountId"`
	MessageDirection         string            `json:"messageDirection"`
	IntegrationThreadID      string            `json:"integrationThreadId"`
	IntegrationIdempotencyID string            `json:"integrationIdempotencyId"`
	Text                     string            `json:"text"`
	Timestamp                string            `json:"timestamp"`
	Senders                  []participant     `json:"senders"`
	Recipients               []participant     `json:"recipients"`
	Attachments              []json.RawMessage `json:"attachments"`
}

type participant struct {
	Name               string            `json:"name"`
	DeliveryIdentifier map[string]string `json:"deliveryIdentifier"`
}

// publisher builds and sends publish requests for one channel fixture.
type publisher struct {
	t      *Target
	c      *http.Client
	f      *channelFixture
	run    string
	words  []string
	thread func(i int) int
}

// body returns message i's JSON. marker, when not empty, is put in the text so a realtime frame
// can be matched to its publish.
func (p *publisher) body(i int, marker string, r *rand.Rand) []byte {
	th := p.thread(i)
	var sb strings.Builder
	for k := range 6 + r.IntN(14) {
		if k > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(p.words[r.IntN(len(p.words))])
	}
	sb.WriteString(". ")
	sb.WriteString(marker)
	b, _ := json.Marshal(publishBody{ // a struct of strings always marshals
		ChannelAccountID:         p.f.AccountID,
		MessageDirection:         "INCOMING",
		IntegrationThreadID:      "bench-" + p.run + "-" + strconv.Itoa(th),
		IntegrationIdempotencyID: "bench-" + p.run + "-" + strconv.Itoa(i),
		Text:                     sb.String(),
		Timestamp:                time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Senders: []participant{{Name: "Bench customer " + strconv.Itoa(th),
			DeliveryIdentifier: map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "bench-customer-" + p.run + "-" + strconv.Itoa(th)}}},
		Recipients: []participant{{Name: "Bench account",
			DeliveryIdentifier: map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": p.f.AccountAddress}}},
		Attachments: []json.RawMessage{},
	})
	return b
}

// publish sends one message and returns the stored message's id.
func (p *publisher) publish(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", p.t.URL+"/api/v1/custom-channels/"+p.f.CustomChannelID+"/messages", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+p.t.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", &apiError{resp.StatusCode, buf.String()}
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("publish: unexpected answer %s", buf.String())
	}
	return m.ID, nil
}

func (o *IngestOptions) check() error {
	if o.Messages < 1 || o.Messages > 10_000_000 {
		return errors.New("messages: want 1 to 10,000,000")
	}
	if o.Clients < 1 || o.Clients > 1024 {
		return errors.New("clients: want 1 to 1,024")
	}
	if o.Threads < 1 {
		return errors.New("threads: want at least 1")
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		return errors.New("duration: want more than 0 and at most 1h")
	}
	return nil
}

// Ingest publishes messages through the custom channels API from concurrent clients, each
// message with its own idempotency id, spread over many threads (SPEC PERF-1). It checks at the
// end that every acknowledged message is stored (and, with Realtime, was pushed).
func Ingest(ctx context.Context, t *Target, o IngestOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "ingest", Goal: "PERF-1: inbound messages through the API, durably stored, routed and pushed: ≥ 5,000/s on PostgreSQL, ≥ 3,000/s on SQLite"}
	res.Params = Environment(ctx, t)
	res.param("messages", o.Messages)
	res.param("clients", o.Clients)
	res.param("threads", o.Threads)
	res.param("max duration", o.Duration)

	c := newClient(o.Clients)
	run := runID()
	f, err := newChannel(ctx, t, c, run)
	if err != nil {
		return nil, err
	}
	res.param("channel", fmt.Sprintf("custom channel %s, account %s (inbox %d)", f.CustomChannelID, f.AccountID, f.InboxID))
	routing := "off"
	if o.Routing && t.AgentID > 0 {
		on, err := enableRouting(ctx, t, c, f.AccountID, []int64{t.AgentID})
		if err != nil {
			return nil, err
		}
		routing = "round robin to the bench agent"
		if !on {
			routing = "not available on this server"
		}
	}
	res.param("routing", routing)

	var ws *resumingClient
	if o.Realtime {
		ws, err = newResumingClient(ctx, t, t.AdminToken)
		if errors.Is(err, errNoRealtime) {
			res.note("realtime: %v; messages were not pushed to a connected client", err)
			o.Realtime = false
		} else if err != nil {
			return nil, err
		}
	}
	res.param("realtime", map[bool]string{true: "one admin WebSocket connected, counting message.created", false: "no client connected"}[o.Realtime])
	marker := []byte("bench-" + run)
	var pushed atomic.Int64
	if ws != nil {
		defer ws.close()
		go ws.run(func(b []byte) {
			if bytes.Contains(b, []byte(`"message.created"`)) && bytes.Contains(b, marker) {
				pushed.Add(1)
			}
		})
	}

	p := &publisher{t: t, c: c, f: f, run: run, words: seed.Vocabulary(),
		thread: func(i int) int { return i % o.Threads }}
	var lat latencies
	ids := make([]string, o.Messages)
	var next, failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var attempted atomic.Int64 // publishes begun (each ends acknowledged or failed)
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for w := range o.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				// The deadline is checked before a number is taken: a number taken and never
				// published would count as sent.
				if time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= o.Messages {
					return
				}
				attempted.Add(1)
				body := p.body(i, string(marker), r)
				t0 := time.Now()
				id, err := p.publish(ctx, body)
				lat.add(time.Since(t0))
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	sent := int(attempted.Load())
	acked := sent - int(failed.Load())

	res.figure("published", fmt.Sprintf("%d acknowledged (201), %d failed, in %s", acked, failed.Load(), wall.Round(time.Millisecond)))
	res.figure("throughput", rate(acked, wall))
	res.figure("latency", lat.summary().String())
	if firstErr != nil {
		res.note("first error: %v", firstErr)
	}

	stored, how, err := verifyStored(ctx, t, c, f, ids)
	if err != nil {
		return nil, err
	}
	res.figure("stored", fmt.Sprintf("%d of %d acknowledged (%s)", stored, acked, how))
	if stored != int64(acked) {
		res.note("MISMATCH: %d acknowledged but %d stored", acked, stored)
	}
	if o.Realtime {
		wait := time.Now().Add(10 * time.Second)
		for pushed.Load() < int64(acked) && time.Now().Before(wait) {
			time.Sleep(20 * time.Millisecond)
		}
		res.figure("pushed", fmt.Sprintf("%d of %d message.created events received by the WebSocket client (%d reconnects)",
			pushed.Load(), acked, ws.reconnects.Load()))
		ws.close()
	}
	return res, nil
}

// verifyStored counts the messages stored for the fixture's account: in the database when the
// benchmark can reach it, else by reading every acknowledged message back through the API.
func verifyStored(ctx context.Context, t *Target, c *http.Client, f *channelFixture, ids []string) (int64, string, error) {
	if t.Store != nil {
		id, err := strconv.ParseInt(f.AccountID, 10, 64)
		if err != nil {
			return 0, "", fmt.Errorf("account id %q: %w", f.AccountID, err)
		}
		n, err := t.Store.CountChannelMessages(ctx, id)
		return n, "counted in the database", err
	}
	var n int64
	for _, id := range ids {
		if id == "" {
			continue
		}
		if err := call(ctx, c, "GET", t.URL+"/api/v1/custom-channels/"+f.CustomChannelID+"/messages/"+id, t.AdminToken, nil, nil); err == nil {
			n++
		}
	}
	return n, "read back through the API", nil
}
