package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// The hub's parts driven synchronously, without sockets: shards and presence are plain state
// machines fed through their channels, so these tests step them by hand. The end-to-end behaviour
// over real WebSockets is tested in internal/web/api/realtime_test.go and cmd/parley.

// testHub is a hub whose goroutines are not running; step delivers what is queued.
func testHub(t *testing.T, opts Options) *Hub {
	t.Helper()
	opts.Shards = 1
	return New(nil, nil, nil, opts)
}

// step runs every message queued for the shards.
func (h *Hub) step() {
	for _, sh := range h.shards {
		for {
			select {
			case m := <-sh.in:
				sh.handle(m)
				continue
			default:
			}
			break
		}
	}
}

// fakeConn registers a connection without a socket for a user who sees the given inboxes.
func fakeConn(t *testing.T, h *Hub, userID int64, queue int, inboxes ...int64) *conn {
	t.Helper()
	st := h.users[userID]
	if st == nil {
		a := &access{active: true, inboxes: map[int64]bool{}}
		for _, id := range inboxes {
			a.inboxes[id] = true
		}
		st = &userState{id: userID}
		st.access.Store(a)
		h.users[userID] = st
	}
	st.refs++
	c := newConn(h, nil, st, queue)
	ack := make(chan struct{})
	h.shards[0].handle(shardMsg{kind: msgRegister, conn: c, ack: ack})
	<-ack
	return c
}

// received returns the frames queued for c.
func received(c *conn) []string {
	var out []string
	for _, o := range c.Take(nil) {
		out = append(out, string(o.data))
	}
	return out
}

func code(c *conn) int {
	code, _ := c.CloseStatus()
	return code
}

func isClosed(c *conn) bool {
	select {
	case <-c.Closing():
		return true
	default:
		return false
	}
}

// TestSlowClientIsDisconnected: a connection whose queue is full is closed and dropped by its
// shard without the shard ever waiting; the others keep receiving.
func TestSlowClientIsDisconnected(t *testing.T) {
	h := testHub(t, Options{})
	fast := fakeConn(t, h, 1, 100, 10)
	slow := fakeConn(t, h, 2, 2, 10)
	sh := h.shards[0]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			sh.deliver(&frame{seq: int64(i + 1), inbox: 10, data: []byte(`{"seq":1}`)})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the shard blocked on a slow connection")
	}
	if !isClosed(slow) || code(slow) != statusTooSlow {
		t.Fatalf("slow connection: closed %v with %d, want %d", isClosed(slow), code(slow), statusTooSlow)
	}
	if _, still := sh.users[2]; still {
		t.Error("the shard still holds the slow connection")
	}
	if got := len(received(fast)); got != 5 {
		t.Errorf("fast connection got %d frames, want 5", got)
	}
	if got := h.Stats().Dropped; got != 1 {
		t.Errorf("dropped %d, want 1", got)
	}
}

// TestShardAuthorizesEveryFrame: a frame reaches exactly the users who may see its inbox; a
// per-user frame only that user; a typing frame everyone but the typist.
func TestShardAuthorizesEveryFrame(t *testing.T) {
	h := testHub(t, Options{})
	a := fakeConn(t, h, 1, 10, 10)
	b := fakeConn(t, h, 2, 10, 20)
	both := fakeConn(t, h, 3, 10, 10, 20)
	sh := h.shards[0]
	sh.deliver(&frame{seq: 1, inbox: 10, data: []byte("in 10")})
	sh.deliver(&frame{seq: 2, inbox: 20, data: []byte("in 20")})
	sh.deliver(&frame{seq: 3, inbox: 10, user: 3, data: []byte("for 3")})
	sh.deliver(&frame{inbox: 10, except: 1, data: []byte("typing by 1")})
	sh.deliver(&frame{seq: 4, data: []byte("internal")})
	for _, c := range []struct {
		c    *conn
		want []string
	}{
		{a, []string{"in 10"}},
		{b, []string{"in 20"}},
		{both, []string{"in 10", "in 20", "for 3", "typing by 1"}},
	} {
		if got := received(c.c); !slices.Equal(got, c.want) {
			t.Errorf("user %d got %q, want %q", c.c.user.id, got, c.want)
		}
	}
	// Access changes apply to the next frame.
	b.user.access.Store(&access{active: true, inboxes: map[int64]bool{10: true}})
	sh.deliver(&frame{seq: 5, inbox: 20, data: []byte("in 20 again")})
	sh.deliver(&frame{seq: 6, inbox: 10, data: []byte("in 10 again")})
	if got := received(b); !slices.Equal(got, []string{"in 10 again"}) {
		t.Errorf("after the change user 2 got %q", got)
	}
	// Kicking a user closes all their connections.
	sh.handle(shardMsg{kind: msgKickUser, userID: 3, code: statusAccessRevoked, reason: "access revoked"})
	if !isClosed(both) || code(both) != statusAccessRevoked {
		t.Error("kicked user's connection is open")
	}
}

// TestPresenceAcrossNodes: presence lists merge this node's viewers with other nodes', go to
// those who may see the inbox only, and follow leaving, closing, access changes and silence.
func TestPresenceAcrossNodes(t *testing.T) {
	h := testHub(t, Options{})
	ctx := context.Background()
	now := time.Unix(1000, 0)
	h.presence.now = func() time.Time { return now }
	viewer := fakeConn(t, h, 1, 50, 10)
	other := fakeConn(t, h, 2, 50, 10)
	outsider := fakeConn(t, h, 3, 50, 20)
	p := h.presence
	lastPresence := func(c *conn) []int64 {
		t.Helper()
		h.step()
		var users []int64
		found := false
		for _, f := range received(c) {
			var pf presenceJSON
			if err := json.Unmarshal([]byte(f), &pf); err != nil || pf.Type != "presence" {
				continue
			}
			users, found = pf.UserIDs, true
		}
		if !found {
			return nil
		}
		return users
	}

	p.handle(ctx, presenceOp{kind: opView, conn: viewer, conv: 5, inbox: 10})
	if got := lastPresence(other); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after a view: %v", got)
	}
	p.handle(ctx, presenceOp{kind: opRemote, node: "n2", conv: 5, inbox: 10, users: []int64{7, 2}})
	if got := lastPresence(other); !slices.Equal(got, []int64{1, 2, 7}) {
		t.Fatalf("with another node's viewers: %v", got)
	}
	if got := lastPresence(outsider); got != nil {
		t.Fatalf("the outsider got presence %v", got)
	}
	p.handle(ctx, presenceOp{kind: opRemote, node: "n2", conv: 5, inbox: 10, users: nil})
	if got := lastPresence(other); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after the other node's viewers left: %v", got)
	}
	// A silent node's list expires.
	p.handle(ctx, presenceOp{kind: opRemote, node: "n3", conv: 5, inbox: 10, users: []int64{9}})
	lastPresence(other)
	now = now.Add(presenceExpiry + time.Second)
	p.heartbeat(ctx)
	if got := lastPresence(other); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after the silent node expired: %v", got)
	}
	// The viewer loses access to the inbox: they stop being present.
	viewer.user.access.Store(&access{active: true, inboxes: map[int64]bool{}})
	p.handle(ctx, presenceOp{kind: opRevalidate})
	if got := lastPresence(other); got == nil || len(got) != 0 {
		t.Fatalf("after the viewer lost access: %v", got)
	}
	// Closing ends presence.
	p.handle(ctx, presenceOp{kind: opView, conn: other, conv: 6, inbox: 10})
	lastPresence(other)
	p.handle(ctx, presenceOp{kind: opGone, conn: other})
	if len(p.convs) != 0 || len(p.byConn) != 0 {
		t.Errorf("presence kept state after everyone left: %v %v", p.convs, p.byConn)
	}
	// A connection may view only so many conversations at once.
	for i := range h.opts.MaxViews + 1 {
		p.handle(ctx, presenceOp{kind: opView, conn: other, conv: int64(100 + i), inbox: 10})
	}
	h.step()
	if got := received(other); !strings.Contains(strings.Join(got, "\n"), "too_many_views") {
		t.Errorf("viewing %d conversations: no too_many_views error", h.opts.MaxViews+1)
	}
}

func TestParseClientFrame(t *testing.T) {
	for _, c := range []struct {
		in   string
		want clientFrame
		ok   bool
	}{
		{`{"type":"view","conversation_id":7}`, clientFrame{Type: "view", ConversationID: 7}, true},
		{`{"type":"leave","conversation_id":7}`, clientFrame{Type: "leave", ConversationID: 7}, true},
		{`{"type":"typing","conversation_id":7,"mode":"reply"}`, clientFrame{Type: "typing", ConversationID: 7, Mode: "reply"}, true},
		{` {"type":"typing","conversation_id":7,"mode":"comment"} `, clientFrame{Type: "typing", ConversationID: 7, Mode: "comment"}, true},
		{`{"type":"typing","conversation_id":7}`, clientFrame{}, false},
		{`{"type":"typing","conversation_id":7,"mode":"shout"}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":7,"mode":"reply"}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":0}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":-3}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":"7"}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":7.5}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":7,"extra":1}`, clientFrame{}, false},
		{`{"type":"view","conversation_id":7}{}`, clientFrame{}, false},
		{`{"type":"subscribe","conversation_id":7}`, clientFrame{}, false},
		{`[]`, clientFrame{}, false},
		{``, clientFrame{}, false},
		{`{"type":"view","conversation_id":7,` + strings.Repeat(" ", maxClientFrame) + `}`, clientFrame{}, false},
	} {
		got, err := parseClientFrame([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseClientFrame(%.60q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzParseClientFrame: the parser of what clients send never panics, and what it accepts is
// a well-formed frame that survives a round trip.
func FuzzParseClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"view","conversation_id":7}`,
		`{"type":"typing","conversation_id":1,"mode":"reply"}`,
		`{"type":"leave","conversation_id":9223372036854775807}`,
		`{"type":"typing","conversation_id":1,"mode":"comment","mode":"reply"}`,
		`{"type":"view","conversation_id":1e3}`,
		`{"TYPE":"view","Conversation_ID":7}`,
		`null`, `{}`, `"view"`, `{"type":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseClientFrame(b)
		if err != nil {
			if fr != (clientFrame{}) {
				t.Fatalf("an error with a non-empty frame %+v", fr)
			}
			return
		}
		if fr.ConversationID <= 0 || !slices.Contains([]string{frameView, frameLeave, frameTyping}, fr.Type) ||
			(fr.Type == frameTyping) != (fr.Mode != "") {
			t.Fatalf("accepted a bad frame %+v from %q", fr, b)
		}
		again, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		if fr2, err := parseClientFrame(again); err != nil || fr2 != fr {
			t.Fatalf("round trip of %+v: %+v, %v", fr, fr2, err)
		}
	})
}

// FuzzParseEphemeral: messages from other nodes are parsed defensively too.
func FuzzParseEphemeral(f *testing.F) {
	f.Add([]byte(`{"node":"a","kind":"presence","conversation_id":1,"inbox_id":2,"user_ids":[1,2]}`))
	f.Add([]byte(`{"node":"a","kind":"typing","conversation_id":1,"inbox_id":2,"user_id":3,"mode":"reply"}`))
	f.Add([]byte(`{"node":"a","kind":"typing","conversation_id":1,"inbox_id":2,"from":"visitor","mode":"reply"}`))
	f.Add([]byte(`{"kind":"typing"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEphemeral(b)
		if err != nil {
			return
		}
		if e.Node == "" || e.ConversationID <= 0 || e.InboxID <= 0 || len(e.UserIDs) > maxRemoteViewers {
			t.Fatalf("accepted %+v", e)
		}
	})
}

func TestEventFrameIsJSON(t *testing.T) {
	inbox := int64(3)
	e := &store.Event{Seq: 42, Type: `message.created`, InboxID: &inbox, Data: json.RawMessage(`{"id":1,"text":"h\u00e9 \"x\""}`)}
	var got struct {
		Seq  int64
		Type string
		Data map[string]any
	}
	if err := json.Unmarshal(eventFrame(e), &got); err != nil {
		t.Fatalf("%s: %v", eventFrame(e), err)
	}
	if got.Seq != 42 || got.Type != "message.created" || got.Data["text"] != `hé "x"` {
		t.Errorf("decoded %+v", got)
	}
}
