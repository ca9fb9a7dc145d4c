package api

// The realtime WebSocket (SPEC API-3, CONV-10, ACCESS-9) through the real handler on a real
// listener and a real store, on both engines: resume after missing events, per-event
// authorization (including access removed while connected), presence and typing relayed only to
// those who may see the conversation, resync, and the upgrade's own checks.

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/parley-inbox/parley/internal/web/session"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/realtime"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// rtWait bounds how long a test waits for a frame that must come.
const rtWait = 10 * time.Second

// rtQuiet is how long a test listens for a frame that must not come. Frames are delivered in
// seq order, so most "never receives" checks instead wait for a later frame that must come.
const rtQuiet = 300 * time.Millisecond

// startRealtime wires a hub and a bus into the test server, as serve.go does.
func startRealtime(t *testing.T, ts *testServer, opts realtime.Options) *realtime.Hub {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	bus := events.NewBus(ts.Store, log)
	hub := realtime.New(ts.Store, bus, log, opts)
	ts.API.Realtime = hub
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = bus.Run(ctx) })
	wg.Go(func() { _ = hub.Run(ctx) })
	ts.URL(t) // the listener's cleanup must run after the hub's
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		ts.Store.OnEventsCommitted(nil)
	})
	return hub
}

// rtFrame is any server frame.
type rtFrame struct {
	Seq            int64           `json:"seq"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	OldestSeq      int64           `json:"oldest_seq"`
	ConversationID int64           `json:"conversation_id"`
	UserIDs        []int64         `json:"user_ids"`
	UserID         int64           `json:"user_id"`
	Mode           string          `json:"mode"`
	Code           string          `json:"code"`
	Detail         string          `json:"detail"`
}

// rtClient is a WebSocket client that reads every frame into a channel.
type rtClient struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan rtFrame
	done   chan struct{}
	err    error // why reading stopped; valid after done is closed
	last   int64 // the highest seq received (events and ready)
}

// dialRealtime connects with a bearer token (or a session cookie for session tokens).
func dialRealtime(t *testing.T, ts *testServer, token, query string, header http.Header) (*rtClient, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	if strings.HasPrefix(token, auth.SessionPrefix) {
		h.Set("Cookie", session.Cookie+"="+token)
	} else if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	url := "ws" + strings.TrimPrefix(ts.URL(t), "http") + "/api/v1/realtime" + query
	ctx, cancel := context.WithTimeout(context.Background(), rtWait)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	c := &rtClient{t: t, ws: ws, frames: make(chan rtFrame, 10000), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { c.ws.CloseNow() })
	return c, resp, nil
}

func connect(t *testing.T, ts *testServer, token, query string) *rtClient {
	t.Helper()
	c, _, err := dialRealtime(t, ts, token, query, nil)
	if err != nil {
		t.Fatalf("dial realtime%s: %v", query, err)
	}
	return c
}

func (c *rtClient) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var f rtFrame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("frame is not JSON: %v: %s", err, data)
			return
		}
		c.frames <- f
	}
}

// next returns the next frame, failing the test if none comes in time.
func (c *rtClient) next() rtFrame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		if f.Seq > c.last {
			c.last = f.Seq
		}
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("the connection closed while a frame was expected: %v", c.err)
	case <-time.After(rtWait):
		c.t.Fatal("no frame came in time")
	}
	return rtFrame{}
}

// nextOf skips frames until one of the given type comes, returning it; skipped frames must be
// of the types allowed.
func (c *rtClient) nextOf(typ string, skippable ...string) rtFrame {
	c.t.Helper()
	for {
		f := c.next()
		if f.Type == typ {
			return f
		}
		if !slices.Contains(skippable, f.Type) {
			c.t.Fatalf("got a %s frame (%s) while waiting for %s", f.Type, f.Data, typ)
		}
	}
}

// quiet checks that no frame arrives for a while.
func (c *rtClient) quiet() {
	c.t.Helper()
	select {
	case f := <-c.frames:
		c.t.Fatalf("unexpected frame: %+v (data %s)", f, f.Data)
	case <-time.After(rtQuiet):
	}
}

// closed waits for the server to close the connection and returns the close status.
func (c *rtClient) closed() websocket.StatusCode {
	c.t.Helper()
	deadline := time.After(rtWait)
	for {
		select {
		case <-c.frames:
		case <-c.done:
			return websocket.CloseStatus(c.err)
		case <-deadline:
			c.t.Fatal("the server did not close the connection")
		}
	}
}

func (c *rtClient) sendFrame(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rtWait)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// rtFixture has two inboxes: A (agents memberA1, memberA2) and B (agent outsider), each with a
// channel and a conversation, and an admin.
type rtFixture struct {
	t                                   *testing.T
	ts                                  *testServer
	hub                                 *realtime.Hub
	admin, memberA1, memberA2, outsider *testUser
	inboxA, inboxB                      *store.Inbox
	chA, chB                            *store.Channel
	convA, convB                        *store.Conversation
	n                                   int
}

func newRTFixture(t *testing.T, s *store.Store, opts realtime.Options) *rtFixture {
	t.Helper()
	f := &rtFixture{t: t, ts: newTestServer(t, s)}
	f.hub = startRealtime(t, f.ts, opts)
	f.admin = f.ts.admin(t)
	f.memberA1, f.memberA2, f.outsider = f.ts.agent(t), f.ts.agent(t), f.ts.agent(t)
	f.inboxA = f.ts.inbox(t, "A", []*testUser{f.memberA1, f.memberA2}, nil)
	f.inboxB = f.ts.inbox(t, "B", []*testUser{f.outsider}, nil)
	f.chA, f.chB = f.channel(f.inboxA), f.channel(f.inboxB)
	f.convA = f.receive(f.chA, "thread-a", "hello A")
	f.convB = f.receive(f.chB, "thread-b", "hello B")
	settle(t, s) // the fixture's own events come before anything a test connects for
	return f
}

func (f *rtFixture) channel(in *store.Inbox) *store.Channel {
	f.t.Helper()
	ch := &store.Channel{InboxID: in.ID, Kind: "test", Name: "Test " + in.Name, Authorized: true}
	if err := f.ts.Store.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.InsertChannel(context.Background(), ch)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return ch
}

func (f *rtFixture) receive(ch *store.Channel, thread, text string) *store.Conversation {
	f.t.Helper()
	f.n++
	_, conv, _, err := f.ts.Inbox.Receive(context.Background(), inbox.Inbound{
		ChannelID: ch.ID, ThreadKey: thread, ContactName: "Customer",
		ContactIdentities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("c%d-%s@example.net", f.n, thread)}},
		Subject:           "Subject " + thread, Text: text,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return conv
}

// comment writes one comment: exactly one event (comment.created) in the conversation's inbox.
func (f *rtFixture) comment(by *testUser, conv *store.Conversation, body string) {
	f.t.Helper()
	if _, err := f.ts.Inbox.Comment(context.Background(), by.User, conv.ID, inbox.CommentInput{Body: body}); err != nil {
		f.t.Fatal(err)
	}
}

func commentBody(t *testing.T, fr rtFrame) string {
	t.Helper()
	if fr.Type != "comment.created" {
		t.Fatalf("got %s, want comment.created: %s", fr.Type, fr.Data)
	}
	var c struct{ Body string }
	if err := json.Unmarshal(fr.Data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Body
}

// TestRealtimeResume is the "done when": a client that disconnects, misses 100 events
// and reconnects with its last seq receives exactly the 100 it missed, in order, then live
// events. Events of an inbox the client may not see are written in between and never arrive.
func TestRealtimeResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRTFixture(t, s, realtime.Options{ReplayPage: 7}) // small pages: the replay pages
		c := connect(t, f.ts, f.memberA1.Token, "")
		ready := c.nextOf("ready")
		f.comment(f.memberA2, f.convA, "before the disconnect")
		got := c.next()
		if commentBody(t, got) != "before the disconnect" || got.Seq <= ready.Seq {
			t.Fatalf("live event %+v after ready %d", got, ready.Seq)
		}
		last := got.Seq
		c.ws.Close(websocket.StatusNormalClosure, "")
		<-c.done

		for i := range 100 {
			f.comment(f.memberA2, f.convA, fmt.Sprintf("missed %d", i))
			if i%10 == 0 {
				f.comment(f.outsider, f.convB, "inbox B only") // never for memberA1
			}
		}

		c2 := connect(t, f.ts, f.memberA1.Token, fmt.Sprintf("?since=%d", last))
		// On PostgreSQL events are numbered a moment after their commit: the last few may not
		// be numbered yet when the replay reads, and come right after "ready" as live events.
		// Either way each comes once, in order, and ready comes once.
		prev := last
		var r rtFrame
		for i := 0; i < 100; {
			fr := c2.next()
			if fr.Type == "ready" {
				if r.Type != "" || fr.Seq < prev {
					t.Fatalf("ready %+v after seq %d (an earlier ready: %+v)", fr, prev, r)
				}
				r = fr
				continue
			}
			if fr.Seq <= prev {
				t.Fatalf("replayed event %d has seq %d after %d: out of order or repeated", i, fr.Seq, prev)
			}
			prev = fr.Seq
			if body := commentBody(t, fr); body != fmt.Sprintf("missed %d", i) {
				t.Fatalf("replayed event %d is %q, want %q", i, body, fmt.Sprintf("missed %d", i))
			}
			i++
		}
		if r.Type == "" {
			r = c2.next()
			if r.Type != "ready" || r.Seq < prev {
				t.Fatalf("after the replay got %+v, want ready with seq >= %d", r, prev)
			}
		}
		f.comment(f.memberA2, f.convA, "live again")
		live := c2.next()
		if commentBody(t, live) != "live again" || live.Seq <= r.Seq {
			t.Fatalf("live event %+v after ready %d", live, r.Seq)
		}
		c2.quiet()

		// Resuming from the latest seq replays nothing and is ready at once.
		c3 := connect(t, f.ts, f.memberA1.Token, fmt.Sprintf("?since=%d", live.Seq))
		if r := c3.next(); r.Type != "ready" || r.Seq != live.Seq {
			t.Fatalf("resume from the head: got %+v, want ready %d", r, live.Seq)
		}
	})
}

// TestRealtimeLiveDuringReplay: events committed while a client is being replayed to arrive
// exactly once, in order, whether the replay or the live stream carries them.
func TestRealtimeLiveDuringReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRTFixture(t, s, realtime.Options{ReplayPage: 3})
		c := connect(t, f.ts, f.memberA1.Token, "")
		start := c.nextOf("ready").Seq
		c.ws.Close(websocket.StatusNormalClosure, "")
		for i := range 30 {
			f.comment(f.memberA2, f.convA, fmt.Sprintf("old %d", i))
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 30 {
				if _, err := f.ts.Inbox.Comment(context.Background(), f.memberA2.User, f.convA.ID, inbox.CommentInput{Body: fmt.Sprintf("new %d", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		c2 := connect(t, f.ts, f.memberA1.Token, fmt.Sprintf("?since=%d", start))
		var bodies []string
		prev := start
		for len(bodies) < 60 {
			fr := c2.next()
			if fr.Type == "ready" {
				continue
			}
			if fr.Seq <= prev {
				t.Fatalf("seq %d after %d", fr.Seq, prev)
			}
			prev = fr.Seq
			bodies = append(bodies, commentBody(t, fr))
		}
		<-done
		for i := range 30 {
			if bodies[i] != fmt.Sprintf("old %d", i) || bodies[30+i] != fmt.Sprintf("new %d", i) {
				t.Fatalf("got %v", bodies)
			}
		}
		c2.quiet()
	})
}

// TestRealtimeAuthorization: every event is checked against what the user may see when it is
// sent. An agent never receives another inbox's events; an agent removed from an inbox stops
// receiving its events at once; a deactivated agent's socket is closed; admins see everything.
func TestRealtimeAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRTFixture(t, s, realtime.Options{})
		a1 := connect(t, f.ts, f.memberA1.Token, "")
		out := connect(t, f.ts, f.outsider.Token, "")
		adm := connect(t, f.ts, f.admin.Token, "")
		for _, c := range []*rtClient{a1, out, adm} {
			c.nextOf("ready")
		}

		f.comment(f.memberA2, f.convA, "secret of A")
		f.comment(f.outsider, f.convB, "note in B")
		if b := commentBody(t, a1.next()); b != "secret of A" {
			t.Fatalf("member of A got %q", b)
		}
		if b := commentBody(t, out.next()); b != "note in B" {
			t.Fatalf("outsider got %q first: inbox A's event reached them", b)
		}
		if b := commentBody(t, adm.next()); b != "secret of A" {
			t.Fatalf("admin got %q", b)
		}
		if b := commentBody(t, adm.next()); b != "note in B" {
			t.Fatalf("admin got %q", b)
		}
		a1.quiet()

		// A message, a reply and a status change each reach the member with the data the REST
		// API renders, and never the outsider.
		f.receive(f.chA, "thread-a", "a second message")
		upd := a1.nextOf("message.created", "conversation.updated")
		var msg struct {
			Text           string
			ConversationID int64 `json:"conversation_id"`
		}
		if err := json.Unmarshal(upd.Data, &msg); err != nil || msg.Text != "a second message" || msg.ConversationID != f.convA.ID {
			t.Fatalf("message.created data %s", upd.Data)
		}
		closed := "closed"
		if _, err := f.ts.Inbox.Update(context.Background(), f.memberA1.User, f.convA.ID, inbox.Patch{Status: &closed}); err != nil {
			t.Fatal(err)
		}
		cu := a1.nextOf("conversation.updated", "conversation.updated", "message.created")
		for cu.Type == "conversation.updated" && !strings.Contains(string(cu.Data), `"status":"closed"`) {
			cu = a1.nextOf("conversation.updated")
		}
		var conv map[string]any
		if err := json.Unmarshal(cu.Data, &conv); err != nil {
			t.Fatal(err)
		}
		if conv["id"] != float64(f.convA.ID) || conv["status"] != "closed" || conv["inbox_id"] != float64(f.inboxA.ID) {
			t.Fatalf("conversation.updated data %s", cu.Data)
		}
		if _, has := conv["unread"]; has {
			t.Errorf("conversation.updated carries the per-user unread marker: %s", cu.Data)
		}
		// Everything the REST API answers is in the event, with the same values.
		_, rest := f.ts.do(t, "GET", fmt.Sprintf("/api/v1/conversations/%d", f.convA.ID), f.memberA1.Token, nil)
		delete(rest, "unread")
		for k, v := range rest {
			if fmt.Sprint(conv[k]) != fmt.Sprint(v) {
				t.Errorf("event field %s = %v, REST answers %v", k, conv[k], v)
			}
		}

		// Remove memberA1 from inbox A. The very next event of inbox A must not reach them; an
		// event they may see, written after it, proves the first one was not just slow.
		drain(a1)
		drain(out)
		users := []int64{f.memberA2.ID}
		if _, err := f.ts.WS.UpdateInbox(context.Background(), nil, f.inboxA.ID, workspace.InboxPatch{UserIDs: &users}); err != nil {
			t.Fatal(err)
		}
		f.comment(f.memberA2, f.convA, "after the removal")
		everyone := f.ts.inbox(t, "Everyone", nil, nil)
		chE := f.channel(everyone)
		f.receive(chE, "thread-e", "open to all")
		fr := a1.next()
		if fr.Type == "comment.created" {
			t.Fatalf("removed member still got inbox A's comment: %s", fr.Data)
		}
		if !strings.Contains(string(fr.Data), `"inbox_id":`+fmt.Sprint(everyone.ID)) {
			t.Fatalf("removed member got %s %s, want the open inbox's event", fr.Type, fr.Data)
		}

		// Deactivating a user closes their sockets.
		deactivate := true
		if _, err := f.ts.WS.UpdateUser(context.Background(), nil, f.outsider.ID, workspace.UserPatch{Deactivated: &deactivate}); err != nil {
			t.Fatal(err)
		}
		if code := out.closed(); code != 4003 {
			t.Errorf("deactivated user's socket closed with %d, want 4003", code)
		}
		if _, resp, err := dialRealtime(t, f.ts, f.outsider.Token, "", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("deactivated user could connect again: %v %v", err, resp)
		}
	})
}

// settle numbers every committed event now (PostgreSQL numbers them a moment after commit).
func settle(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.SequenceAllEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// drain discards frames already delivered.
func drain(c *rtClient) {
	for {
		select {
		case <-c.frames:
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// TestRealtimePresenceAndTyping: presence and typing reach only those who may see the
// conversation, the typist does not get their own typing back, and presence ends when the
// socket closes.
func TestRealtimePresenceAndTyping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRTFixture(t, s, realtime.Options{})
		a1 := connect(t, f.ts, f.memberA1.Token, "")
		a2 := connect(t, f.ts, f.memberA2.Token, "")
		out := connect(t, f.ts, f.outsider.Token, "")
		for _, c := range []*rtClient{a1, a2, out} {
			c.nextOf("ready")
		}

		a1.sendFrame(map[string]any{"type": "view", "conversation_id": f.convA.ID})
		for _, c := range []*rtClient{a1, a2} {
			p := c.nextOf("presence")
			if p.ConversationID != f.convA.ID || !slices.Equal(p.UserIDs, []int64{f.memberA1.ID}) {
				t.Fatalf("presence %+v, want memberA1 viewing conversation %d", p, f.convA.ID)
			}
		}
		a2.sendFrame(map[string]any{"type": "typing", "conversation_id": f.convA.ID, "mode": "comment"})
		ty := a1.nextOf("typing")
		if ty.UserID != f.memberA2.ID || ty.Mode != "comment" || ty.ConversationID != f.convA.ID {
			t.Fatalf("typing %+v", ty)
		}
		// The outsider may neither see nor claim presence in inbox A's conversation: their
		// attempt is answered like a conversation that does not exist.
		out.sendFrame(map[string]any{"type": "view", "conversation_id": f.convA.ID})
		e := out.next()
		if e.Type != "error" || e.Code != "conversation_not_found" {
			t.Fatalf("outsider viewing inbox A's conversation: got %+v", e)
		}
		out.sendFrame(map[string]any{"type": "typing", "conversation_id": 987654321, "mode": "reply"})
		if e := out.next(); e.Type != "error" || e.Code != "conversation_not_found" {
			t.Fatalf("typing on a missing conversation: got %+v", e)
		}
		out.sendFrame(map[string]any{"type": "shout", "conversation_id": f.convA.ID})
		if e := out.next(); e.Type != "error" || e.Code != "invalid_frame" {
			t.Fatalf("unknown frame: got %+v", e)
		}
		out.quiet() // no presence or typing of inbox A ever reached the outsider
		a2.quiet()  // memberA2 does not get their own typing back

		// Presence ends with the socket.
		a1.ws.Close(websocket.StatusNormalClosure, "")
		p := a2.nextOf("presence")
		if p.ConversationID != f.convA.ID || len(p.UserIDs) != 0 {
			t.Fatalf("after the viewer left: %+v, want nobody", p)
		}
		out.quiet()
	})
}

// TestRealtimeResyncRequired: a since older than what is retained, or newer than anything
// written, is answered with resync_required, then ready at the latest seq; live events follow.
func TestRealtimeResyncRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRTFixture(t, s, realtime.Options{})
		for i := range 5 {
			f.comment(f.memberA2, f.convA, fmt.Sprintf("old %d", i))
		}
		settle(t, s)
		if _, err := s.DeleteEventsBefore(context.Background(), store.Now()+1); err != nil {
			t.Fatal(err)
		}
		oldest, latest, err := s.EventBounds(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, since := range []int64{0, latest - 1, latest + 5} {
			c := connect(t, f.ts, f.memberA1.Token, fmt.Sprintf("?since=%d", since))
			r := c.next()
			if r.Type != "resync_required" || r.OldestSeq != oldest || r.Seq != latest {
				t.Fatalf("since=%d: got %+v, want resync_required oldest %d latest %d", since, r, oldest, latest)
			}
			if rd := c.next(); rd.Type != "ready" || rd.Seq != latest {
				t.Fatalf("since=%d: got %+v after resync_required, want ready %d", since, rd, latest)
			}
		}
		c := connect(t, f.ts, f.memberA1.Token, fmt.Sprintf("?since=%d", latest))
		if rd := c.next(); rd.Type != "ready" {
			t.Fatalf("resume at the head: %+v", rd)
		}
		f.comment(f.memberA2, f.convA, "new")
		if b := commentBody(t, c.next()); b != "new" {
			t.Fatal(b)
		}
	})
}

// TestRealtimeUpgradeChecks: the endpoint's own refusals.
func TestRealtimeUpgradeChecks(t *testing.T) {
	s := storetest.OpenSQLite(t)
	f := newRTFixture(t, s, realtime.Options{})
	session := f.ts.signIn(t, f.memberA1)

	if _, resp, err := dialRealtime(t, f.ts, "", "", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %v %v", err, resp)
	}
	_, resp, err := dialRealtime(t, f.ts, f.memberA1.Token, "?since=-1", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("since=-1: %v %v", err, resp)
	}
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), "invalid_since") {
		t.Errorf("since=-1 answered %s", body)
	}
	// A cookie-authenticated WebSocket from another site is cross-site WebSocket hijacking.
	_, resp, err = dialRealtime(t, f.ts, session, "", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cookie from another origin: %v %v", err, resp)
	}
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), "cross_origin_websocket") {
		t.Errorf("cross-origin answer %s", body)
	}
	// From the installation's own pages (its base URL) the cookie works.
	c, _, err := dialRealtime(t, f.ts, session, "", http.Header{"Origin": {"http://parley.test"}})
	if err != nil {
		t.Fatalf("cookie from the base URL's origin: %v", err)
	}
	c.nextOf("ready")
	// A bearer token is not sent by browsers on their own: any origin may use one.
	c2, _, err := dialRealtime(t, f.ts, f.memberA1.Token, "", http.Header{"Origin": {"https://integration.example"}})
	if err != nil {
		t.Fatalf("bearer token from another origin: %v", err)
	}
	c2.nextOf("ready")
	// A plain GET is not an upgrade.
	rec := f.ts.send(t, testRequest{Method: "GET", Path: "/api/v1/realtime", Token: f.memberA1.Token})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "websocket_required") {
		t.Errorf("plain GET: %d %s", rec.Code, rec.Body.String())
	}
}

// TestRealtimeShutdownClosesSockets: when the hub stops, clients are told to go away (and
// resume elsewhere).
func TestRealtimeShutdownClosesSockets(t *testing.T) {
	s := storetest.OpenSQLite(t)
	ts := newTestServer(t, s)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := events.NewBus(s, log)
	hub := realtime.New(s, bus, log, realtime.Options{})
	ts.API.Realtime = hub
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = hub.Run(ctx); close(stopped) }()
	agent := ts.agent(t)
	c := connect(t, ts, agent.Token, "")
	c.nextOf("ready")
	if n := hub.Stats().Connections; n != 1 {
		t.Errorf("hub counts %d connections, want 1", n)
	}
	cancel()
	if code := c.closed(); code != websocket.StatusGoingAway {
		t.Errorf("closed with %d, want going away", code)
	}
	<-stopped
}
