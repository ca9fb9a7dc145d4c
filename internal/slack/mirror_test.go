package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

const (
	site          = "https://www.example.com"
	signingSecret = "0123456789abcdef0123456789abcdef"
)

// mirrorFixture is an inbox with a chat channel mirrored to the fake Slack: the real inbox
// domain, chat service with its hub and visitor endpoints, the Slack service with its events
// endpoint, and a job runner running deliveries and Slack's jobs.
type mirrorFixture struct {
	t       *testing.T
	ctx     context.Context
	s       *store.Store
	inbox   *inbox.Service
	chat    *chat.Service
	slack   *slack.Service
	fs      *fakeSlack
	agent   *store.User
	inboxID int64
	view    *chat.View
	widget  *httptest.Server
	events  *httptest.Server
	runner  *jobs.Runner
}

func newMirrorFixture(t *testing.T, s *store.Store) *mirrorFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &mirrorFixture{t: t, ctx: ctx, s: s, fs: newFakeSlack(t)}
	f.inbox = &inbox.Service{Store: s, Senders: map[string]channel.Sender{}}
	hub := chat.NewHub(nil, chat.HubOptions{Shards: 2})
	go hub.Run(ctx)
	f.chat = &chat.Service{Store: s, Inbox: f.inbox, Hub: hub, BaseURL: "https://parley.example"}
	f.inbox.Senders[chat.Kind] = f.chat
	f.slack = &slack.Service{Store: s, Inbox: f.inbox, Client: &slack.Client{BaseURL: f.fs.srv.URL}, BaseURL: "https://parley.example"}

	in := &store.Inbox{Name: "Website", Access: "everyone"}
	f.agent = &store.User{Email: "ada@parley.example", Name: "Ada Lovelace", Role: "admin", Locale: "en", TimeZone: "UTC"}
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		return tx.CreateUser(ctx, f.agent)
	}); err != nil {
		t.Fatal(err)
	}
	f.inboxID = in.ID
	origins := []string{site + "/"}
	v, err := f.chat.CreateChannel(ctx, f.agent, chat.ChannelInput{InboxID: in.ID, AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	f.view = v
	flow := fmt.Sprintf(`{"name":"Everywhere","enabled":true,"inbox_id":%d}`, in.ID)
	if _, err := f.chat.CreateChatflow(ctx, f.agent, v.Channel.ID, []byte(flow)); err != nil {
		t.Fatal(err)
	}

	on, ch, tok, sec := true, fakeChanID, fakeToken, signingSecret
	if _, err := f.slack.SaveSettings(ctx, f.agent, in.ID, slack.SettingsInput{Enabled: &on, ChannelID: &ch, BotToken: &tok, SigningSecret: &sec}); err != nil {
		t.Fatal(err)
	}
	if res, err := f.slack.TestConnection(ctx, f.agent, in.ID); err != nil || res.TeamID != fakeTeam {
		t.Fatalf("test connection: %+v %v", res, err)
	}

	f.runner = &jobs.Runner{Store: s, Workers: 2, PollInterval: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
		Handlers: map[string]jobs.Handler{
			inbox.DeliverJob: f.inbox.Deliver,
			slack.MirrorJob:  f.slack.HandleMirrorJob,
			slack.EventJob:   f.slack.HandleEventJob,
		}}
	f.inbox.WakeJobs, f.slack.WakeJobs = f.runner.Wake, f.runner.Wake
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.runner.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	f.widget = httptest.NewServer(f.chat.Handler())
	t.Cleanup(f.widget.Close)
	f.events = httptest.NewServer(f.slack.EventsHandler())
	t.Cleanup(f.events.Close)
	return f
}

// mirror runs one pass of the tailer, numbering committed events first on PostgreSQL (the
// server's bus does that on its own).
func (f *mirrorFixture) mirror() int {
	f.t.Helper()
	if err := f.s.SequenceAllEvents(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	n, err := f.slack.MirrorOnce(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// visitor opens a session and a socket, and says something.
func (f *mirrorFixture) visitor(text string) (*websocket.Conn, int64) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]any{"page_url": site + "/pricing"})
	req, _ := http.NewRequest("POST", f.widget.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", site)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var sess struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil || sess.Token == "" {
		f.t.Fatalf("session: %d %v", res.StatusCode, err)
	}
	u := strings.Replace(f.widget.URL, "http", "ws", 1) + "/widget/v1/" + f.view.Chat.PublicID + "/ws?token=" + sess.Token
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {site}}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { ws.CloseNow() })
	out, _ := json.Marshal(map[string]any{"type": "message", "client_id": "c-1", "text": text})
	if err := ws.Write(f.ctx, websocket.MessageText, out); err != nil {
		f.t.Fatal(err)
	}
	for {
		fr := readFrame(f.t, ws)
		if fr.Type == "ack" {
			msg, err := f.s.Message(f.ctx, fr.MessageID)
			if err != nil {
				f.t.Fatal(err)
			}
			return ws, msg.ConversationID
		}
	}
}

type frame struct {
	Type      string `json:"type"`
	MessageID int64  `json:"message_id"`
	Message   struct {
		ID         int64  `json:"id"`
		From       string `json:"from"`
		Text       string `json:"text"`
		AuthorName string `json:"author_name"`
	} `json:"message"`
}

func readFrame(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var fr frame
	if err := json.Unmarshal(data, &fr); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return fr
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postEvent signs and posts an Events API body as Slack does.
func (f *mirrorFixture) postEvent(body string, retry int, sign func(ts string, body []byte) string) (int, string) {
	f.t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", f.events.URL+slack.EventsPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	if sign == nil {
		sign = func(ts string, b []byte) string { return slack.Sign(signingSecret, ts, b) }
	}
	req.Header.Set("X-Slack-Signature", sign(ts, []byte(body)))
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func replyEvent(eventID, user, text, ts, threadTS string) string {
	b, _ := json.Marshal(map[string]any{
		"token": "legacy-unused", "team_id": fakeTeam, "api_app_id": "A0PARLEY", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "message", "channel": fakeChanID, "channel_type": "channel", "user": user,
			"text": text, "ts": ts, "thread_ts": threadTS},
	})
	return string(b)
}

func (f *mirrorFixture) jobCount(kind string) int {
	f.t.Helper()
	n := 0
	for _, state := range []string{"queued", "running", "done", "failed"} {
		list, err := f.s.Jobs(f.ctx, state, kind, 0, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		n += len(list)
	}
	return n
}

func TestChatMirroredToSlackAndRepliesReachTheVisitor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newMirrorFixture(t, s)
		f.fs.set(func(fs *fakeSlack) {
			fs.users["U0ADA"] = "Ada@Parley.example" // Slack keeps the case people typed
			fs.users["U0EVE"] = "eve@elsewhere.example"
			fs.users["U0HIDDEN"] = ""
		})
		ws, convID := f.visitor("Do you ship to <Norway> & Iceland?")

		// The tailer enqueues a mirror job; the job opens the thread and posts the message in it.
		f.mirror()
		// (Other messages — a welcome, an away note — may be mirrored too; these two must be.)
		var first fakePost
		waitFor(t, "the parent and the visitor's message", func() bool {
			for _, p := range f.fs.Posts() {
				if strings.Contains(p.Text, "Do you ship to") {
					first = p
					return true
				}
			}
			return false
		})
		parent := f.fs.Posts()[0]
		if parent.ThreadTS != "" || !strings.Contains(parent.Text, "New chat from") || !strings.Contains(parent.Text, site+"/pricing") ||
			!strings.Contains(parent.Text, "<https://parley.example/inbox/"+strconv.FormatInt(convID, 10)+"|") || len(parent.Blocks) == 0 {
			t.Fatalf("parent %+v", parent)
		}
		if first.ThreadTS != parent.TS || first.Text != "*Visitor:* Do you ship to &lt;Norway&gt; &amp; Iceland?" {
			t.Fatalf("visitor's message %+v", first)
		}
		th, err := s.SlackThread(f.ctx, convID)
		if err != nil || th.TS != parent.TS || th.ChannelID != fakeChanID {
			t.Fatalf("thread %+v %v", th, err)
		}

		// A retried mirror job (its lease ran out after it posted) posts nothing twice.
		msgs, err := s.Messages(f.ctx, convID)
		if err != nil {
			t.Fatal(err)
		}
		var visitorMsg int64
		for _, m := range msgs {
			if m.Direction == "inbound" {
				visitorMsg = m.ID
			}
		}
		waitFor(t, "the visitor's message linked to its ts", func() bool {
			m, err := s.SlackMessage(f.ctx, visitorMsg)
			return err == nil && m.TS == first.TS && m.Origin == store.SlackFromParley
		})
		job := &store.Job{ID: 99, Attempts: 2, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, visitorMsg))}
		if err := f.slack.HandleMirrorJob(f.ctx, job); err != nil {
			t.Fatal(err)
		}
		copies := 0
		for _, p := range f.fs.Posts() {
			if strings.Contains(p.Text, "Do you ship to") {
				copies++
			}
		}
		if copies != 1 {
			t.Fatalf("a retried job posted again: %+v", f.fs.Posts())
		}

		// Ada answers in the thread, from Slack; it reaches the visitor as Ada's reply.
		body := replyEvent("Ev0001", "U0ADA", "Yes &amp; we ship <https://example.com/ship|worldwide>", "1700000100.000100", parent.TS)
		if code, out := f.postEvent(body, 0, nil); code != 200 {
			t.Fatalf("event: %d %s", code, out)
		}
		var got frame
		for got.Type != "message" || got.Message.From != "agent" {
			got = readFrame(t, ws)
		}
		if got.Message.Text != "Yes & we ship worldwide (https://example.com/ship)" || got.Message.AuthorName != "Ada" {
			t.Fatalf("visitor got %+v", got)
		}
		reply, err := s.Message(f.ctx, got.Message.ID)
		if err != nil || reply.AuthorID == nil || *reply.AuthorID != f.agent.ID || reply.Direction != "outbound" {
			t.Fatalf("reply %+v %v", reply, err)
		}
		conv, err := s.Conversation(f.ctx, convID, 0)
		if err != nil || conv.AssigneeID == nil || *conv.AssigneeID != f.agent.ID {
			t.Fatalf("replying from Slack assigns like replying in Parley: %+v %v", conv, err)
		}
		waitFor(t, "the event to be done", func() bool {
			ev, err := s.SlackEvent(f.ctx, f.inboxID, "Ev0001")
			return err == nil && ev.DoneAt != nil && ev.MessageID != nil && *ev.MessageID == reply.ID
		})

		// Slack retries the delivery (our answer was slow): it is stored once.
		if code, _ := f.postEvent(body, 1, nil); code != 200 {
			t.Fatalf("retried event: %d", code)
		}
		if n := f.jobCount(slack.EventJob); n != 1 {
			t.Fatalf("%d event jobs for one event", n)
		}

		// The reply is not posted back into the thread it came from.
		f.mirror()
		waitFor(t, "the reply's mirror job", func() bool {
			list, _ := s.Jobs(f.ctx, "done", slack.MirrorJob, 0, 100)
			return len(list) >= 2
		})
		for _, p := range f.fs.Posts() {
			if strings.Contains(p.Text, "worldwide") {
				t.Fatalf("Slack's own reply was posted back: %+v", p)
			}
		}

		// An agent replying in Parley is mirrored under their name.
		if _, err := f.inbox.Reply(f.ctx, f.agent, convID, inbox.ReplyInput{Text: "Shipping takes 3 days."}); err != nil {
			t.Fatal(err)
		}
		f.mirror()
		waitFor(t, "the agent's reply in Slack", func() bool {
			for _, p := range f.fs.Posts() {
				if p.ThreadTS == parent.TS && p.Text == "*Ada Lovelace (agent):* Shipping takes 3 days." {
					return true
				}
			}
			return false
		})

		// Someone whose Slack email is no Parley user is told so, privately; nothing is sent.
		before := len(f.fs.Ephemeral())
		if code, _ := f.postEvent(replyEvent("Ev0002", "U0EVE", "I can help!", "1700000200.000100", parent.TS), 0, nil); code != 200 {
			t.Fatalf("eve's event: %d", code)
		}
		waitFor(t, "the ephemeral note", func() bool { return len(f.fs.Ephemeral()) > before })
		note := f.fs.Ephemeral()[before]
		if note.User != "U0EVE" || note.ThreadTS != parent.TS || !strings.Contains(note.Text, "not the email of a Parley user") {
			t.Fatalf("note %+v", note)
		}
		if code, _ := f.postEvent(replyEvent("Ev0003", "U0HIDDEN", "Me too", "1700000300.000100", parent.TS), 0, nil); code != 200 {
			t.Fatal("hidden email event refused")
		}
		waitFor(t, "the scope note", func() bool {
			e := f.fs.Ephemeral()
			return len(e) > before+1 && strings.Contains(e[before+1].Text, "users:read.email")
		})
		waitFor(t, "events done", func() bool {
			for _, id := range []string{"Ev0002", "Ev0003"} {
				if ev, err := s.SlackEvent(f.ctx, f.inboxID, id); err != nil || ev.DoneAt == nil || ev.MessageID != nil {
					return false
				}
			}
			return true
		})
		msgs, err = s.Messages(f.ctx, convID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Text == "I can help!" || m.Text == "Me too" {
				t.Fatalf("an unmatched Slack user's reply was stored: %+v", m)
			}
		}
	})
}

func TestEventsEndpoint(t *testing.T) {
	f := newMirrorFixture(t, storetest.OpenSQLite(t))
	_, convID := f.visitor("Hello")
	f.mirror()
	waitFor(t, "the thread", func() bool { return len(f.fs.Posts()) >= 2 })
	parent := f.fs.Posts()[0]

	// url_verification: Slack checks the URL with a signed challenge.
	challenge := `{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	code, out := f.postEvent(challenge, 0, nil)
	if code != 200 || !strings.Contains(out, `"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"`) {
		t.Fatalf("challenge: %d %s", code, out)
	}
	// Wrong secret, no signature, a stale or future timestamp: refused.
	wrong := func(ts string, b []byte) string { return slack.Sign("ffffffffffffffffffffffffffffffff", ts, b) }
	if code, _ := f.postEvent(challenge, 0, wrong); code != 401 {
		t.Fatalf("wrong secret: %d", code)
	}
	if code, _ := f.postEvent(challenge, 0, func(string, []byte) string { return "" }); code != 401 {
		t.Fatalf("unsigned: %d", code)
	}
	for _, age := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		ts := strconv.FormatInt(time.Now().Add(age).Unix(), 10)
		req, _ := http.NewRequest("POST", f.events.URL+slack.EventsPath, strings.NewReader(challenge))
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Sign(signingSecret, ts, []byte(challenge)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("timestamp %v away: %d", age, res.StatusCode)
		}
	}
	// A signed body that is no event is a bad request; an unsigned one learns nothing more.
	if code, _ := f.postEvent(`{"type":`, 0, nil); code != 400 {
		t.Fatalf("broken body: %d", code)
	}
	if code, _ := f.postEvent(`{"type":`, 0, wrong); code != 401 {
		t.Fatalf("broken unsigned body: %d", code)
	}
	res, err := http.Get(f.events.URL + slack.EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Fatalf("GET: %d", res.StatusCode)
	}

	// Events that are no person's reply in a mirrored thread are acknowledged and dropped.
	ignored := []string{
		replyEvent("EvA", "U0ADA", "top level", "1700000400.000100", ""),
		replyEvent("EvB", "U0ADA", "elsewhere", "1700000401.000100", "1600000000.000001"),
		replyEvent("EvC", fakeBotID, "our own words", "1700000402.000100", parent.TS),
		strings.Replace(replyEvent("EvD", "U0ADA", "edited", "1700000403.000100", parent.TS), `"type":"message"`, `"type":"message","subtype":"message_changed"`, 1),
		strings.Replace(replyEvent("EvE", "U0ADA", "a bot", "1700000404.000100", parent.TS), `"type":"message"`, `"type":"message","bot_id":"B0OTHER"`, 1),
		`{"type":"app_rate_limited","team_id":"T0PARLEY","minute_rate_limited":1518467820}`,
	}
	for i, body := range ignored {
		if code, out := f.postEvent(body, 0, nil); code != 200 {
			t.Fatalf("ignored event %d: %d %s", i, code, out)
		}
	}
	if n := f.jobCount(slack.EventJob); n != 0 {
		t.Fatalf("%d event jobs for events that are no replies", n)
	}
	// An event from another workspace, signed with our secret (one app in two workspaces),
	// is not taken as ours once auth.test named our workspace.
	other := strings.Replace(replyEvent("EvF", "U0ADA", "hi", "1700000405.000100", parent.TS), fakeTeam, "T0OTHER", 1)
	if code, _ := f.postEvent(other, 0, nil); code != 401 {
		t.Fatalf("other workspace: %d", code)
	}

	// Several retries arriving together store the event once.
	body := replyEvent("EvG", "U0ADA", "On it", "1700000406.000100", parent.TS)
	f.fs.set(func(fs *fakeSlack) { fs.users["U0ADA"] = "ada@parley.example" })
	errs := make(chan int, 4)
	for i := range 4 {
		go func() { c, _ := f.postEvent(body, i, nil); errs <- c }()
	}
	for range 4 {
		if c := <-errs; c != 200 {
			t.Fatalf("concurrent delivery: %d", c)
		}
	}
	if n := f.jobCount(slack.EventJob); n != 1 {
		t.Fatalf("%d event jobs for one event delivered 4 times", n)
	}
	waitFor(t, "the reply", func() bool {
		msgs, _ := f.s.Messages(f.ctx, convID)
		n := 0
		for _, m := range msgs {
			if m.Text == "On it" {
				n++
			}
		}
		return n == 1
	})
}

// TestEventJobFindsAnEarlierAttemptsReply: a job attempt that stored the reply and died before
// linking it is followed by one that links the reply instead of sending it again.
func TestEventJobFindsAnEarlierAttemptsReply(t *testing.T) {
	f := newMirrorFixture(t, storetest.OpenSQLite(t))
	f.fs.set(func(fs *fakeSlack) { fs.users["U0ADA"] = "ada@parley.example" })
	_, convID := f.visitor("Hello")
	f.mirror()
	waitFor(t, "the thread", func() bool { return len(f.fs.Posts()) >= 2 })
	parent := f.fs.Posts()[0]

	// Record the event as the handler does, then play the dead attempt by hand: replying
	// marked, reply stored, no link.
	var recorded bool
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error {
		var err error
		recorded, err = tx.InsertSlackEvent(f.ctx, &store.SlackEvent{InboxID: f.inboxID, EventID: "EvX", ConversationID: convID})
		return err
	}); err != nil || !recorded {
		t.Fatal(recorded, err)
	}
	if err := f.s.MarkSlackEventReplying(f.ctx, f.inboxID, "EvX", f.agent.ID, store.Now()-10); err != nil {
		t.Fatal(err)
	}
	stored, err := f.inbox.Reply(f.ctx, f.agent, convID, inbox.ReplyInput{Text: "Thanks!"})
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile the mirror holds the reply back: it may be the one from Slack.
	f.mirror()
	time.Sleep(200 * time.Millisecond)
	for _, p := range f.fs.Posts() {
		if strings.Contains(p.Text, "Thanks!") {
			t.Fatalf("posted back while the Slack reply was pending: %+v", p)
		}
	}
	payload, _ := json.Marshal(map[string]any{"inbox_id": f.inboxID, "event_id": "EvX", "channel": fakeChanID,
		"user": "U0ADA", "text": "Thanks!", "ts": "1700000500.000100", "thread_ts": parent.TS})
	if err := f.slack.HandleEventJob(f.ctx, &store.Job{ID: 1, Attempts: 2, MaxAttempts: 12, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	ev, err := f.s.SlackEvent(f.ctx, f.inboxID, "EvX")
	if err != nil || ev.DoneAt == nil || ev.MessageID == nil || *ev.MessageID != stored.ID {
		t.Fatalf("event %+v %v", ev, err)
	}
	msgs, _ := f.s.Messages(f.ctx, convID)
	n := 0
	for _, m := range msgs {
		if m.Text == "Thanks!" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d copies of the reply", n)
	}
	if f.fs.Calls("users.info") != 0 {
		t.Fatal("looked the user up again")
	}
	// The held-back mirror job now sees the link and posts nothing.
	waitFor(t, "the mirror job to finish", func() bool {
		list, _ := f.s.Jobs(f.ctx, "done", slack.MirrorJob, 0, 100)
		return len(list) >= 2
	})
	for _, p := range f.fs.Posts() {
		if strings.Contains(p.Text, "Thanks!") {
			t.Fatalf("posted back: %+v", p)
		}
	}
}

func TestMirrorSkipsWhatItMustNot(t *testing.T) {
	f := newMirrorFixture(t, storetest.OpenSQLite(t))
	// Switched off: nothing is enqueued, and the cursor still moves on.
	off := false
	if _, err := f.slack.SaveSettings(f.ctx, f.agent, f.inboxID, slack.SettingsInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	f.visitor("Nobody in Slack sees this")
	if n := f.mirror(); n == 0 {
		t.Fatal("read no events")
	}
	if n := f.jobCount(slack.MirrorJob); n != 0 {
		t.Fatalf("%d mirror jobs while off", n)
	}
	if n := f.mirror(); n != 0 {
		t.Fatalf("read %d events again", n)
	}
	// Two passes from the same cursor (two nodes) enqueue one window once.
	on := true
	if _, err := f.slack.SaveSettings(f.ctx, f.agent, f.inboxID, slack.SettingsInput{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	other := &slack.Service{Store: f.s, Inbox: f.inbox, Client: f.slack.Client}
	f.visitor("Hello again")
	cursor, _ := f.s.SlackMirrorCursor(f.ctx)
	results := make(chan error, 2)
	for _, svc := range []*slack.Service{f.slack, other} {
		go func() { _, err := svc.MirrorOnce(f.ctx); results <- err }()
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := f.s.SlackMirrorCursor(f.ctx); after <= cursor {
		t.Fatalf("cursor %d → %d", cursor, after)
	}
	if n := f.jobCount(slack.MirrorJob); n != 1 {
		t.Fatalf("%d mirror jobs for one message read by two nodes", n)
	}
}

// TestChatKind keeps the mirror's idea of a chat channel in step with package chat's.
func TestChatKind(t *testing.T) {
	if slack.ChatKind != chat.Kind {
		t.Fatalf("slack mirrors %q, chat channels are %q", slack.ChatKind, chat.Kind)
	}
}
