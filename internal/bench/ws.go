package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// frame is the part of a realtime frame the benchmarks read.
type frame struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// wsURL turns the server's http URL into its realtime WebSocket URL.
func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/realtime"
}

// dialRealtime connects to the realtime endpoint with a bearer token. client, when set, dials
// (from a chosen source address, for example).
func dialRealtime(ctx context.Context, t *Target, token string, client *http.Client) (*websocket.Conn, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	c, resp, err := websocket.Dial(ctx, wsURL(t.URL), &websocket.DialOptions{HTTPHeader: h, HTTPClient: client})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("realtime: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("realtime: %w", err)
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

// errNoRealtime means the server has no realtime endpoint (yet).
var errNoRealtime = errors.New("the server has no realtime endpoint (GET /api/v1/realtime)")

// openRealtime connects and waits for the "ready" frame that follows the replay, so that what is
// published afterwards arrives as live events.
func openRealtime(ctx context.Context, t *Target, token string) (*websocket.Conn, error) {
	c, _, err := openRealtimeAt(ctx, t, token)
	return c, err
}

// openRealtimeAt is openRealtime that also returns the seq the ready frame reported.
func openRealtimeAt(ctx context.Context, t *Target, token string) (*websocket.Conn, int64, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := dialRealtime(dctx, t, token, nil)
	if err != nil {
		if strings.Contains(err.Error(), "HTTP 404") || strings.Contains(err.Error(), "HTTP 405") {
			return nil, 0, errNoRealtime
		}
		return nil, 0, err
	}
	for {
		_, b, err := c.Read(dctx)
		if err != nil {
			c.CloseNow()
			return nil, 0, fmt.Errorf("realtime: waiting for the ready frame: %w", err)
		}
		var f frame
		if json.Unmarshal(b, &f) == nil && f.Type == "ready" {
			return c, f.Seq, nil
		}
	}
}

// sourceClients dial from 127.0.0.1, 127.0.0.2, … so that many connections to one server port do
// not run out of ephemeral ports (each source address has its own range).
func sourceClients(n int) []*http.Client {
	out := make([]*http.Client, min(max(n, 1), 250))
	for i := range out {
		d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}}
		out[i] = &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	return out
}

// resumingClient is a realtime client that, when the server drops it (slow clients are dropped
// and resume), reconnects with the last seq it saw, as a real client does, and counts each event
// once.
type resumingClient struct {
	t          *Target
	token      string
	ctx        context.Context
	cancel     context.CancelFunc
	conn       *websocket.Conn
	lastSeq    int64
	reconnects atomic.Int64
	done       chan struct{}
}

func newResumingClient(ctx context.Context, t *Target, token string) (*resumingClient, error) {
	c, seq, err := openRealtimeAt(ctx, t, token)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	return &resumingClient{t: t, token: token, ctx: cctx, cancel: cancel, conn: c, lastSeq: seq, done: make(chan struct{})}, nil
}

// run reads frames until close, passing each event frame (with a seq not seen before) to fn.
func (r *resumingClient) run(fn func(frame []byte)) {
	defer close(r.done)
	for {
		_, b, err := r.conn.Read(r.ctx)
		if err != nil {
			r.conn.CloseNow()
			if r.ctx.Err() != nil {
				return
			}
			// Dropped: resume after the last event seen.
			for r.ctx.Err() == nil {
				h := http.Header{}
				h.Set("Authorization", "Bearer "+r.token)
				u := wsURL(r.t.URL) + "?since=" + strconv.FormatInt(r.lastSeq, 10)
				c, _, err := websocket.Dial(r.ctx, u, &websocket.DialOptions{HTTPHeader: h})
				if err == nil {
					c.SetReadLimit(1 << 20)
					r.conn = c
					r.reconnects.Add(1)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		var f frame
		if json.Unmarshal(b, &f) != nil || f.Seq == 0 || f.Type == "ready" || f.Type == "resync_required" {
			continue
		}
		if f.Seq <= r.lastSeq {
			continue // replayed twice
		}
		r.lastSeq = f.Seq
		fn(b)
	}
}

func (r *resumingClient) close() {
	r.cancel()
	<-r.done
}
