package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

const site = "https://www.example.com"

// fixture is a chat channel on a real store with the inbox domain, a running hub and the
// visitor endpoints on a test server.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     *store.Store
	inbox *inbox.Service
	chat  *chat.Service
	view  *chat.View
	agent *store.User
	srv   *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := storetest.OpenSQLite(t)
	f := &fixture{t: t, ctx: ctx, s: s}
	f.inbox = &inbox.Service{Store: s, Senders: map[string]channel.Sender{}}
	hub := chat.NewHub(nil, chat.HubOptions{Shards: 2})
	go hub.Run(ctx)
	f.chat = &chat.Service{Store: s, Inbox: f.inbox, Hub: hub, BaseURL: "https://parley.example"}
	f.inbox.Senders[chat.Kind] = f.chat
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
	origins := []string{site + "/"}
	v, err := f.chat.CreateChannel(ctx, f.agent, chat.ChannelInput{InboxID: in.ID, AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	f.view = v
	flow := fmt.Sprintf(`{"name":"Everywhere","enabled":true,"inbox_id":%d,"display":{"welcome_message":"Hi there!","behaviour":"prompt"}}`, in.ID)
	if _, err := f.chat.CreateChatflow(ctx, f.agent, v.Channel.ID, []byte(flow)); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.chat.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

type sessionAnswer struct {
	VisitorID      int64           `json:"visitor_id"`
	Token          string          `json:"token"`
	Identified     bool            `json:"identified"`
	Chatflow       json.RawMessage `json:"chatflow"`
	Availability   json.RawMessage `json:"availability"`
	ConversationID *int64          `json:"conversation_id"`
}

// session posts a session request from origin and returns the status and answer.
func (f *fixture) session(origin string, body map[string]any) (int, sessionAnswer, http.Header) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var a sessionAnswer
	if res.StatusCode == 200 {
		if err := json.Unmarshal(raw, &a); err != nil {
			f.t.Fatalf("session answer %s: %v", raw, err)
		}
	}
	return res.StatusCode, a, res.Header
}

// dial opens a visitor WebSocket.
func (f *fixture) dial(origin, token, since string) (*websocket.Conn, *http.Response, error) {
	u := strings.Replace(f.srv.URL, "http", "ws", 1) + "/widget/v1/" + f.view.Chat.PublicID + "/ws?token=" + token
	if since != "" {
		u += "&since=" + since
	}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
	if ws != nil {
		f.t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, res, err
}

type frame struct {
	Type      string `json:"type"`
	Seq       int64  `json:"seq"`
	ClientID  string `json:"client_id"`
	MessageID int64  `json:"message_id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Message   struct {
		ID         int64  `json:"id"`
		From       string `json:"from"`
		Text       string `json:"text"`
		AuthorName string `json:"author_name"`
		Status     string `json:"status"`
	} `json:"message"`
}

func read(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// readUntil reads frames until one of the type arrives.
func readUntil(t *testing.T, ws *websocket.Conn, typ string) frame {
	t.Helper()
	for range 20 {
		if f := read(t, ws); f.Type == typ {
			return f
		}
	}
	t.Fatalf("no %s frame", typ)
	return frame{}
}

func send(t *testing.T, ws *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func TestVisitorChatsWithAnAgent(t *testing.T) {
	f := newFixture(t)
	code, sess, hdr := f.session(site, map[string]any{"page_url": site + "/pricing", "language": "sv"})
	if code != 200 || sess.Token == "" || sess.VisitorID == 0 || sess.ConversationID != nil {
		t.Fatalf("session: %d %+v", code, sess)
	}
	if hdr.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("CORS header %q", hdr.Get("Access-Control-Allow-Origin"))
	}
	// An admin is available by default: the flow is open and prompts with its welcome message.
	if !strings.Contains(string(sess.Chatflow), `"action":"prompt"`) || !strings.Contains(string(sess.Availability), `"state":"open"`) {
		t.Fatalf("chatflow %s availability %s", sess.Chatflow, sess.Availability)
	}

	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := read(t, ws); r.Type != "ready" {
		t.Fatalf("first frame %+v", r)
	}
	tab2, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, tab2, "ready")

	send(t, ws, map[string]any{"type": "message", "client_id": "c-1", "text": "Do you ship to Norway?"})
	ack := readUntil(t, ws, "ack")
	if ack.ClientID != "c-1" || ack.MessageID == 0 {
		t.Fatalf("ack %+v", ack)
	}
	echo := readUntil(t, tab2, "message")
	if echo.Seq != ack.MessageID || echo.Message.From != "visitor" || echo.Message.Text != "Do you ship to Norway?" {
		t.Fatalf("other tab got %+v", echo)
	}
	// A retry of the same client_id is the same message, stored once.
	send(t, ws, map[string]any{"type": "message", "client_id": "c-1", "text": "Do you ship to Norway?"})
	if again := readUntil(t, ws, "ack"); again.MessageID != ack.MessageID {
		t.Fatalf("retry stored another message: %+v", again)
	}
	msg, err := f.s.Message(f.ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.s.Messages(f.ctx, msg.ConversationID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %d %v", len(msgs), err)
	}

	// The agent replies; the deliver job's handler pushes it to both tabs.
	reply, err := f.inbox.Reply(f.ctx, f.agent, msg.ConversationID, inbox.ReplyInput{Text: "Yes, we do!"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{ws, tab2} {
		got := readUntil(t, c, "message")
		if got.Seq != reply.ID || got.Message.From != "agent" || got.Message.Text != "Yes, we do!" || got.Message.AuthorName != "Ada" {
			t.Fatalf("reply frame %+v", got)
		}
	}
	waitStatus(t, f, reply.ID, "delivered")

	// The visitor reads it.
	send(t, ws, map[string]any{"type": "read", "message_id": reply.ID})
	waitStatus(t, f, reply.ID, "read")

	// Agent typing reaches the visitor under the agent's first name.
	f.chat.AgentTyping(f.ctx, msg.ConversationID, f.agent.ID)
	if ty := readUntil(t, ws, "typing"); ty.Name != "Ada" {
		t.Fatalf("typing %+v", ty)
	}

	// A new session of the same visitor finds the conversation.
	_, again, _ := f.session(site, map[string]any{"token": sess.Token, "page_url": site + "/"})
	if again.VisitorID != sess.VisitorID || again.Token != "" || again.ConversationID == nil || *again.ConversationID != msg.ConversationID {
		t.Fatalf("resumed session %+v", again)
	}

	// Resume: since the visitor's own message replays only the reply.
	ws.Close(websocket.StatusNormalClosure, "")
	resumed, _, err := f.dial(site, sess.Token, fmt.Sprint(ack.MessageID))
	if err != nil {
		t.Fatal(err)
	}
	first := read(t, resumed)
	if first.Type != "message" || first.Seq != reply.ID {
		t.Fatalf("replay %+v", first)
	}
	if r := read(t, resumed); r.Type != "ready" || r.Seq != reply.ID {
		t.Fatalf("after replay %+v", r)
	}
	// Without since the whole conversation replays.
	full, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, full), read(t, full); a.Seq != ack.MessageID || b.Seq != reply.ID {
		t.Fatalf("full replay %+v %+v", a, b)
	}
}

func waitStatus(t *testing.T, f *fixture, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := f.s.Message(f.ctx, id)
		if err == nil && m.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d: status %q, want %q (%v)", id, m.Status, want, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOfflineVisitorGetsTheReplyOnConnect(t *testing.T) {
	f := newFixture(t)
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "x", "text": "Hello?"})
	ack := readUntil(t, ws, "ack")
	ws.Close(websocket.StatusNormalClosure, "")
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	reply, err := f.inbox.Reply(f.ctx, f.agent, msg.ConversationID, inbox.ReplyInput{Text: "Sorry for the wait"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, f, reply.ID, "sent")
	back, _, err := f.dial(site, sess.Token, fmt.Sprint(ack.MessageID))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, back); got.Seq != reply.ID || got.Message.Text != "Sorry for the wait" {
		t.Fatalf("replay %+v", got)
	}
	waitStatus(t, f, reply.ID, "delivered")
}

func TestVisitorEndpointsRefuseStrangers(t *testing.T) {
	f := newFixture(t)
	// A page on another site cannot start a session, nor can a request without an Origin.
	for _, origin := range []string{"https://evil.example", ""} {
		if code, _, hdr := f.session(origin, map[string]any{"page_url": "https://evil.example/"}); code != 403 || hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("origin %q: %d, CORS %q", origin, code, hdr.Get("Access-Control-Allow-Origin"))
		}
	}
	// Preflight: allowed origin yes, others no.
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := pre(site); res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != site {
		t.Errorf("preflight from the site: %d %v", res.StatusCode, res.Header)
	}
	if res := pre("https://evil.example"); res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from elsewhere: %d %v", res.StatusCode, res.Header)
	}
	// An unknown widget.
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/nosuchwidget/session", strings.NewReader(`{}`))
	req.Header.Set("Origin", site)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 404 {
		t.Errorf("unknown widget: %v %v", res, err)
	}

	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	// Wrong origin on the WebSocket.
	if _, res, err := f.dial("https://evil.example", sess.Token, ""); err == nil || res == nil || res.StatusCode != 403 {
		t.Errorf("websocket from elsewhere: %v %v", res, err)
	}
	// A bad token.
	if _, res, err := f.dial(site, "not-a-token", ""); err == nil || res == nil || res.StatusCode != 401 {
		t.Errorf("bad token: %v %v", res, err)
	}
	// Bad frames get an error frame, and the connection stays.
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "text": "no client id"})
	if e := readUntil(t, ws, "error"); e.Code != "invalid_frame" {
		t.Fatalf("error frame %+v", e)
	}
	// Reading a message that is not the visitor's.
	send(t, ws, map[string]any{"type": "read", "message_id": 999999})
	if e := readUntil(t, ws, "error"); e.Code != "message_not_found" {
		t.Fatalf("error frame %+v", e)
	}
	// Too large a frame closes the connection.
	big := strings.Repeat("x", 20<<10)
	_ = ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"message","client_id":"a","text":"`+big+`"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig && !errors.Is(err, io.EOF) {
				t.Logf("closed with %v", err)
			}
			break
		}
	}
}

func TestVisitorRateLimit(t *testing.T) {
	f := newFixture(t)
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	for range 15 {
		send(t, ws, map[string]any{"type": "typing"})
	}
	if e := readUntil(t, ws, "error"); e.Code != chat.CodeVisitorRateLimited {
		t.Fatalf("want rate limiting, got %+v", e)
	}
}

func TestIdentityNeedsAValidHash(t *testing.T) {
	f := newFixture(t)
	good := chat.IdentityHash(f.view.Chat.IdentitySecret, "grace@example.com")
	// A bad hash claims nothing: the visitor stays anonymous.
	_, anon, _ := f.session(site, map[string]any{"page_url": site + "/",
		"identity": map[string]any{"email": "grace@example.com", "name": "Grace", "hash": strings.Repeat("0", 64)}})
	if anon.Identified {
		t.Fatal("a bad hash identified the visitor")
	}
	v, err := f.s.ChatVisitor(f.ctx, anon.VisitorID)
	if err != nil || v.Email != "" || v.Name != "" {
		t.Fatalf("anonymous visitor %+v %v", v, err)
	}
	// The hash of another email does not work either.
	_, other, _ := f.session(site, map[string]any{"page_url": site + "/",
		"identity": map[string]any{"email": "mallory@example.com", "hash": good}})
	if other.Identified {
		t.Fatal("a hash for another email identified the visitor")
	}
	// A valid one does, and the visitor's messages join the contact with that email.
	_, known, _ := f.session(site, map[string]any{"page_url": site + "/",
		"identity": map[string]any{"email": "grace@example.com", "name": "Grace Hopper", "hash": good}})
	if !known.Identified {
		t.Fatal("a valid hash did not identify the visitor")
	}
	ws, _, err := f.dial(site, known.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "k", "text": "It's Grace"})
	ack := readUntil(t, ws, "ack")
	m, _ := f.s.Message(f.ctx, ack.MessageID)
	conv, err := f.s.Conversation(f.ctx, m.ConversationID, 0)
	if err != nil || conv.ContactID == nil {
		t.Fatalf("conversation %+v %v", conv, err)
	}
	contact, err := f.s.Contact(f.ctx, *conv.ContactID)
	if err != nil || contact.Name != "Grace Hopper" || !hasEmail(contact, "grace@example.com") {
		t.Fatalf("contact %+v %v", contact, err)
	}
	// The same browser coming back without the identity (the user signed out) gets a new,
	// anonymous visitor that cannot read Grace's conversation.
	_, after, _ := f.session(site, map[string]any{"token": known.Token, "page_url": site + "/"})
	if after.VisitorID == known.VisitorID || after.Token == "" || after.ConversationID != nil || after.Identified {
		t.Fatalf("signed-out session %+v", after)
	}
}

func hasEmail(c *store.Contact, email string) bool {
	for _, id := range c.Identities {
		if id.Kind == "email" && id.Value == email {
			return true
		}
	}
	return false
}
