package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestSeveralNodes is SPEC OPS-4 with two real `parley serve` processes started at the same
// moment on one fresh PostgreSQL database: migrations are safe when nodes start together; a
// WebSocket client on node B receives, within moments, the events of messages published on node
// A; a client that disconnects from one node, misses 100 events and resumes on the other node
// gets exactly those 100, in order, then live ones; and agent replies accepted by either node
// are delivered to the integration's webhook exactly once while both nodes run workers.
func TestSeveralNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	env := []string{
		"PARLEY_DATABASE_URL=" + storetest.NewPostgresDatabase(t),
		"PARLEY_ADMIN_EMAIL=owner@example.com", "PARLEY_ADMIN_PASSWORD=correct-horse-battery",
		"PARLEY_WORKERS=3",
	}
	parleyBinary(t) // built before the clock starts
	started := time.Now()
	nodes := startTogether(t, env, 2)
	t.Logf("two nodes started together on an empty database in %v", time.Since(started).Round(time.Millisecond))
	a, b := nodes[0], nodes[1]
	token := strings.TrimSpace(cli(t, env, "token", "create", "--email", "owner@example.com", "--name", "several-nodes"))

	hook := newDeliveryCounter(t)
	var inboxResp struct{ ID int64 }
	mustCall(t, "POST", a.url("/api/v1/inboxes"), token, map[string]any{"name": "Support", "access": "everyone"}, &inboxResp)
	var channelResp struct{ ID string }
	mustCall(t, "POST", a.url("/api/v1/custom-channels"), token, map[string]any{
		"name": "Several nodes",
		"capabilities": map[string]any{
			"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
			"threadingModel":          "INTEGRATION_THREAD_ID",
			"allowOutgoingMessages":   true,
		},
		"webhookUrl": hook.srv.URL + "/webhook",
	}, &channelResp)
	var accountResp struct{ ID string }
	mustCall(t, "POST", a.url("/api/v1/custom-channels/"+channelResp.ID+"/channel-accounts"), token, map[string]any{
		"inboxId": fmt.Sprint(inboxResp.ID), "name": "Account", "authorized": true,
		"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business-1"},
	}, &accountResp)
	publish := func(node *server, n int) {
		t.Helper()
		thread := fmt.Sprintf("thread-%d", n%4)
		mustCall(t, "POST", node.url("/api/v1/custom-channels/"+channelResp.ID+"/messages"), token, map[string]any{
			"channelAccountId": accountResp.ID, "messageDirection": "INCOMING",
			"integrationThreadId": thread, "integrationIdempotencyId": fmt.Sprintf("msg-%d", n),
			"text": fmt.Sprintf("message %d", n), "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
			"senders": []map[string]any{{"name": "Customer " + thread,
				"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "customer-" + thread}}},
			"recipients": []map[string]any{{"name": "Acme",
				"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business-1"}}},
			"attachments": []any{},
		}, nil)
	}

	// 1. Published on A, seen on B.
	onB := dialNode(t, b, token, "")
	onB.waitFor(t, "ready", nil)
	var latencies []time.Duration
	var convID int64
	for n := range 20 {
		start := time.Now()
		publish(a, n)
		f := onB.waitFor(t, "message.created", func(f nodeFrame) bool {
			return strings.Contains(string(f.Data), fmt.Sprintf(`"text":"message %d"`, n))
		})
		latencies = append(latencies, time.Since(start))
		var m struct {
			ConversationID int64 `json:"conversation_id"`
		}
		if err := json.Unmarshal(f.Data, &m); err != nil {
			t.Fatal(err)
		}
		convID = m.ConversationID
	}
	slices.Sort(latencies)
	t.Logf("publish on A → WebSocket on B (including the HTTP publish): median %v, max %v", latencies[len(latencies)/2], latencies[len(latencies)-1])

	// 2. Disconnect from B, miss 100 events, resume on A.
	onB.drain()
	last := onB.last
	onB.ws.Close(websocket.StatusNormalClosure, "")
	for i := range 100 {
		node := []*server{a, b}[i%2]
		mustCall(t, "POST", node.url(fmt.Sprintf("/api/v1/conversations/%d/comments", convID)), token,
			map[string]any{"body": fmt.Sprintf("missed %d", i)}, nil)
	}
	onA := dialNode(t, a, token, fmt.Sprintf("?since=%d", last))
	// Events are numbered a moment after their commit, so the last few may come right after
	// "ready", as live events; either way each comes once and in order.
	prev, ready := last, false
	for i := 0; i < 100; {
		f := onA.next(t)
		if f.Type == "ready" && !ready && f.Seq >= prev {
			ready = true
			continue
		}
		if f.Type != "comment.created" || f.Seq <= prev || !strings.Contains(string(f.Data), fmt.Sprintf(`"body":"missed %d"`, i)) {
			t.Fatalf("replayed frame %d after seq %d: %s seq %d %s", i, prev, f.Type, f.Seq, f.Data)
		}
		prev = f.Seq
		i++
	}
	if !ready {
		if f := onA.next(t); f.Type != "ready" || f.Seq < prev {
			t.Fatalf("after the replay: %+v", f)
		}
	}
	publish(b, 1000)
	onA.waitFor(t, "message.created", func(f nodeFrame) bool { return strings.Contains(string(f.Data), `"text":"message 1000"`) })

	// 3. Replies through both nodes, delivered once each by the two nodes' workers.
	const replies = 30
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() {
			node := []*server{a, b}[i%2]
			if _, err := call("POST", node.url(fmt.Sprintf("/api/v1/conversations/%d/messages", convID)), token,
				map[string]any{"text": fmt.Sprintf("reply %d", i)}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for hook.distinct() < replies && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	counts := hook.snapshot()
	if len(counts) != replies {
		t.Fatalf("the webhook got %d distinct replies, want %d\nA:\n%s\nB:\n%s", len(counts), replies, a.output(), b.output())
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("reply %s delivered %d times", id, n)
		}
	}
	// Each delivery's status change is an event too, seen on both nodes' clients.
	onA.waitFor(t, "message.updated", func(f nodeFrame) bool { return strings.Contains(string(f.Data), `"status":"sent"`) })
}

// startTogether starts n `parley serve` processes on the same database at the same moment and
// waits until all are ready.
func startTogether(t *testing.T, env []string, n int) []*server {
	t.Helper()
	servers := make([]*server, n)
	for i := range servers {
		s := &server{t: t, addr: freeAddr(t), env: append([]string{"PARLEY_DATA_DIR=" + t.TempDir()}, env...), log: &bytes.Buffer{}}
		cmd := exec.Command(parleyBinary(t), "serve")
		cmd.Env = append(os.Environ(), append([]string{"PARLEY_ADDR=" + s.addr, "PARLEY_LOG_LEVEL=warn"}, s.env...)...)
		cmd.Stdout = &lockedWriter{w: s.log, mu: &s.mu}
		cmd.Stderr = cmd.Stdout
		s.cmd = cmd
		servers[i] = s
		t.Cleanup(s.kill)
	}
	for _, s := range servers {
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range servers {
		for {
			resp, err := http.Get(s.url("/readyz"))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				for _, o := range servers {
					t.Logf("node %s:\n%s", o.addr, o.output())
				}
				t.Fatalf("node %s did not become ready", s.addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return servers
}

// deliveryCounter is an integration's webhook that counts deliveries of agent replies.
type deliveryCounter struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int // eventId → deliveries
}

func newDeliveryCounter(t *testing.T) *deliveryCounter {
	d := &deliveryCounter{counts: map[string]int{}}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var ev struct {
			Type    string `json:"type"`
			EventID string `json:"eventId"`
		}
		if json.Unmarshal(body, &ev) == nil && ev.Type == "OUTGOING_CHANNEL_MESSAGE_CREATED" {
			d.mu.Lock()
			d.counts[ev.EventID]++
			d.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *deliveryCounter) distinct() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.counts)
}

func (d *deliveryCounter) snapshot() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

// nodeFrame is a realtime frame as a client sees it.
type nodeFrame struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type nodeClient struct {
	ws     *websocket.Conn
	frames chan nodeFrame
	errc   chan error
	last   int64
}

func dialNode(t *testing.T, node *server, token, query string) *nodeClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+node.addr+"/api/v1/realtime"+query,
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatalf("dial %s: %v", node.addr, err)
	}
	ws.SetReadLimit(1 << 20)
	c := &nodeClient{ws: ws, frames: make(chan nodeFrame, 4096), errc: make(chan error, 1)}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				c.errc <- err
				return
			}
			var f nodeFrame
			if err := json.Unmarshal(data, &f); err != nil {
				c.errc <- fmt.Errorf("%v: %s", err, data)
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { ws.CloseNow() })
	return c
}

func (c *nodeClient) next(t *testing.T) nodeFrame {
	t.Helper()
	select {
	case f := <-c.frames:
		c.last = max(c.last, f.Seq)
		return f
	case err := <-c.errc:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no frame within 10s")
	}
	return nodeFrame{}
}

// drain reads what has arrived until the connection is quiet for a moment.
func (c *nodeClient) drain() {
	for {
		select {
		case f := <-c.frames:
			c.last = max(c.last, f.Seq)
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// waitFor skips frames until one of the type (matching ok, if given) arrives.
func (c *nodeClient) waitFor(t *testing.T, typ string, ok func(nodeFrame) bool) nodeFrame {
	t.Helper()
	for {
		f := c.next(t)
		if f.Type == typ && (ok == nil || ok(f)) {
			return f
		}
	}
}
