package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ChatOptions tune the chat scenario.
type ChatOptions struct {
	// Messages is how many visitor messages are sent in all.
	Messages int
	// Visitors is how many visitors send them at once, each over their own widget socket.
	Visitors int
	// Rate is each visitor's messages per second: the server bounds a visitor's frames (5/s), as
	// a person typing would never reach.
	Rate float64
}

func (o *ChatOptions) check() error {
	if o.Messages <= 0 || o.Messages > 100_000 {
		return errors.New("chat: -messages must be 1 to 100000")
	}
	if o.Visitors <= 0 || o.Visitors > 1000 {
		return errors.New("chat: -visitors must be 1 to 1000")
	}
	if o.Rate <= 0 || o.Rate > 5 {
		return errors.New("chat: -rate must be above 0 and at most 5 (messages per second per visitor)")
	}
	return nil
}

// benchSite is the origin the benchmark's widget pages claim; the channel allows only it.
const benchSite = "http://bench.parley.invalid"

// Chat measures live chat: the widget script's gzipped size as the server sends it (PERF-7), and
// how long a visitor's message takes to reach an agent's screen — from the visitor writing the
// frame on their widget socket to an admin's realtime socket (/api/v1/realtime) receiving its
// message.created event — with several visitors sending at once. It also reports how long the
// visitor waits for the "ack" (the message is committed).
func Chat(ctx context.Context, t *Target, o ChatOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "chat", Goal: "PERF-7: widget script gzipped ≤ 30 KB; visitor message → agent screen latency (recorded, no SPEC bound)"}
	res.Params = Environment(ctx, t)
	res.param("messages", o.Messages)
	res.param("visitors", fmt.Sprintf("%d concurrent widget sockets, %.1f msg/s each", o.Visitors, o.Rate))
	c := newClient(o.Visitors + 4)
	run := runID()

	var inbox struct{ ID int64 }
	if err := call(ctx, c, "POST", t.URL+"/api/v1/inboxes", t.AdminToken,
		map[string]any{"name": "Bench chat " + run, "access": "everyone"}, &inbox); err != nil {
		return nil, fmt.Errorf("chat: create an inbox: %w", err)
	}
	var ch struct {
		ID   int64 `json:"id"`
		Chat struct {
			PublicID string `json:"public_id"`
		} `json:"chat"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/channels", t.AdminToken, map[string]any{"kind": "chat",
		"inbox_id": inbox.ID, "name": "Bench chat " + run, "allowed_origins": []string{benchSite}}, &ch); err != nil {
		return nil, fmt.Errorf("chat: create a chat channel: %w", err)
	}
	pid := ch.Chat.PublicID

	size, encoding, err := widgetSize(ctx, c, t.URL+"/widget/"+pid+".js")
	if err != nil {
		return nil, err
	}
	res.figure("widget script, as sent to a browser accepting gzip", fmt.Sprintf("%d bytes (%.1f KB, %s)", size, float64(size)/1024, encoding))
	// The widget's frame (which holds the visitor token) loads its own script: PERF-7 counts both.
	frame, _, err := widgetSize(ctx, c, t.URL+"/widget/frame.js")
	if err != nil {
		return nil, err
	}
	res.figure("widget frame script, gzipped", fmt.Sprintf("%d bytes", frame))
	res.figure("widget in all (PERF-7 ≤ 30 KB)", fmt.Sprintf("%d bytes (%.1f KB)", size+frame, float64(size+frame)/1024))

	agent, err := newResumingClient(ctx, t, t.AdminToken)
	if errors.Is(err, errNoRealtime) {
		res.figure("visitor → agent latency", "not measured: "+err.Error())
		return res, nil
	} else if err != nil {
		return nil, err
	}
	defer agent.close()
	res.param("agent", "one admin WebSocket on /api/v1/realtime")

	visitors := make([]*benchVisitor, o.Visitors)
	for i := range visitors {
		v, err := openVisitor(ctx, c, t.URL, pid, i)
		if err != nil {
			for _, o := range visitors[:i] {
				o.ws.CloseNow()
			}
			return nil, err
		}
		visitors[i] = v
	}
	defer func() {
		for _, v := range visitors {
			v.ws.Close(websocket.StatusNormalClosure, "")
		}
	}()

	// Message k is sent by visitor k % Visitors; its text carries the marker and k.
	marker := "cht" + strconv.FormatInt(time.Now().UnixNano(), 36) + "n"
	sent := make([]atomic.Int64, o.Messages)     // unix ns the frame was written; 0 = not yet
	received := make([]atomic.Int64, o.Messages) // unix ns the agent got it
	var got atomic.Int64
	all := make(chan struct{})
	mk := []byte(marker)
	go agent.run(func(b []byte) {
		now := time.Now().UnixNano()
		if !bytes.Contains(b, []byte(`"message.created"`)) {
			return
		}
		i := bytes.Index(b, mk)
		if i < 0 {
			return
		}
		rest := b[i+len(mk):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		k, err := strconv.Atoi(string(rest[:j]))
		if err != nil || k < 0 || k >= len(received) || !received[k].CompareAndSwap(0, now) {
			return
		}
		if got.Add(1) == int64(len(received)) {
			close(all)
		}
	})

	var acks latencies
	var failed atomic.Int64
	interval := time.Duration(float64(time.Second) / o.Rate)
	started := time.Now()
	var wg sync.WaitGroup
	for vi, v := range visitors {
		wg.Go(func() {
			// Visitors start spread over one interval, as people do.
			next := time.Now().Add(time.Duration(vi) * interval / time.Duration(len(visitors)))
			for k := vi; k < o.Messages; k += len(visitors) {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				ack, err := v.send(ctx, k, marker, &sent[k])
				if err != nil {
					failed.Add(1)
					if ctx.Err() != nil {
						return
					}
					continue
				}
				acks.add(ack)
			}
		})
	}
	wg.Wait()
	sendTime := time.Since(started)
	select {
	case <-all:
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	var lat []time.Duration
	for k := range received {
		if r, s := received[k].Load(), sent[k].Load(); r != 0 && s != 0 {
			lat = append(lat, time.Duration(r-s))
		}
	}
	res.figure("visitor → agent (message.created on /api/v1/realtime)", summarize(lat).String())
	res.figure("visitor → ack (committed)", acks.summary().String())
	res.figure("throughput", rate(len(lat), sendTime))
	res.figure("received by the agent", fmt.Sprintf("%d of %d", len(lat), o.Messages))
	if n := failed.Load(); n > 0 {
		res.note("%d messages were refused or not acknowledged", n)
	}
	if len(lat) < o.Messages {
		res.note("%d messages did not reach the agent's socket within 30 s of the last send", o.Messages-len(lat))
	}
	return res, nil
}

// widgetSize fetches the widget script as a browser that accepts gzip and returns the bytes on
// the wire and their encoding.
func widgetSize(ctx context.Context, c *http.Client, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return 0, "", err
	}
	// Set by hand, the transport does not decompress: the body is what was sent.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("chat: fetch the widget: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("chat: GET %s: HTTP %d", u, resp.StatusCode)
	}
	enc := resp.Header.Get("Content-Encoding")
	if enc == "" {
		enc = "not compressed"
	}
	return len(b), enc, nil
}

// benchVisitor is one visitor's widget socket.
type benchVisitor struct {
	ws     *websocket.Conn
	frames chan benchVisitorFrame
}

type benchVisitorFrame struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
}

// openVisitor starts a widget session for a new visitor and opens their socket.
func openVisitor(ctx context.Context, c *http.Client, base, pid string, i int) (*benchVisitor, error) {
	body, _ := json.Marshal(map[string]any{"page_url": benchSite + "/pricing", "language": "en", "time_zone": "UTC",
		"title": "Bench page"})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/widget/v1/"+pid+"/session", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", benchSite)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("chat: visitor %d session: %w", i, err)
	}
	var sess struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &sess) != nil || sess.Token == "" {
		return nil, fmt.Errorf("chat: visitor %d session: HTTP %d %s", i, resp.StatusCode, b)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/widget/v1/" + pid + "/ws?token=" + sess.Token
	ws, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {benchSite}}})
	if err != nil {
		return nil, fmt.Errorf("chat: visitor %d socket: %w", i, err)
	}
	v := &benchVisitor{ws: ws, frames: make(chan benchVisitorFrame, 16)}
	go v.read(ctx)
	for {
		select {
		case f, ok := <-v.frames:
			if !ok {
				return nil, fmt.Errorf("chat: visitor %d socket closed before ready", i)
			}
			if f.Type == "ready" {
				return v, nil
			}
		case <-dctx.Done():
			ws.CloseNow()
			return nil, fmt.Errorf("chat: visitor %d: no ready frame: %w", i, dctx.Err())
		}
	}
}

// read passes the socket's ready, ack and error frames on, until it closes.
func (v *benchVisitor) read(ctx context.Context) {
	defer close(v.frames)
	for {
		_, b, err := v.ws.Read(ctx)
		if err != nil {
			return
		}
		var f benchVisitorFrame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		switch f.Type {
		case "ready", "ack", "error":
			select {
			case v.frames <- f:
			case <-ctx.Done():
				return
			}
		}
	}
}

// send writes message k, stores the moment in sent, and waits for its ack.
func (v *benchVisitor) send(ctx context.Context, k int, marker string, sent *atomic.Int64) (time.Duration, error) {
	id := "b-" + strconv.Itoa(k)
	b, _ := json.Marshal(map[string]any{"type": "message", "client_id": id, "text": "Bench question " + marker + strconv.Itoa(k) + " please"})
	start := time.Now()
	sent.Store(start.UnixNano())
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.ws.Write(wctx, websocket.MessageText, b); err != nil {
		return 0, err
	}
	for {
		select {
		case f, ok := <-v.frames:
			if !ok {
				return 0, errors.New("socket closed")
			}
			if f.ClientID != id {
				continue
			}
			if f.Type == "error" {
				return 0, fmt.Errorf("refused: %s", f.Code)
			}
			if f.Type == "ack" {
				return time.Since(start), nil
			}
		case <-wctx.Done():
			return 0, wctx.Err()
		}
	}
}
