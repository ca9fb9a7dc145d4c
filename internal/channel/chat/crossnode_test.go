package chat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/realtime"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// chatNode is one server process's share of live chat, wired as cmd/parley wires it: its own
// database pool, event bus, agents' realtime hub, visitors' hub and widget endpoints.
type chatNode struct {
	s     *store.Store
	inbox *inbox.Service
	chat  *chat.Service
	srv   *httptest.Server
}

func newChatNode(t *testing.T, ctx context.Context, url string) *chatNode {
	t.Helper()
	s, err := store.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	n := &chatNode{s: s, inbox: &inbox.Service{Store: s, Senders: map[string]channel.Sender{}}}
	bus := events.NewBus(s, nil)
	rt := realtime.New(s, bus, nil, realtime.Options{Shards: 2, PollInterval: 200 * time.Millisecond})
	hub := chat.NewHub(nil, chat.HubOptions{Shards: 2})
	n.chat = &chat.Service{Store: s, Inbox: n.inbox, Hub: hub, BaseURL: "https://parley.example"}
	n.inbox.Senders[chat.Kind] = n.chat
	rt.OnReplyTyping = n.chat.AgentTyping
	rt.OnConversationRead = n.chat.AgentRead
	rt.OnMessage = n.chat.MessageEvent
	n.chat.VisitorTyping = rt.RelayVisitorTyping
	n.chat.UseBus(bus)
	go bus.Run(ctx)
	go rt.Run(ctx)
	go hub.Run(ctx)
	n.srv = httptest.NewServer(n.chat.Handler())
	t.Cleanup(n.srv.Close)
	return n
}

// TestVisitorOnAnotherNode: with two nodes on one PostgreSQL database, a visitor connected to
// node B gets an agent's reply sent by node A's worker (once, and it is then marked delivered),
// hears the agent typing on node A, and a reply sent by node B itself reaches them exactly once
// although node B also sees its event.
func TestVisitorOnAnotherNode(t *testing.T) {
	if os.Getenv("PARLEY_TEST_POSTGRES_URL") == "" {
		t.Skip("several nodes share a PostgreSQL database; set PARLEY_TEST_POSTGRES_URL")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url := storetest.NewPostgresDatabase(t)
	a := newChatNode(t, ctx, url)
	b := newChatNode(t, ctx, url)

	in := &store.Inbox{Name: "Website", Access: "everyone"}
	agent := &store.User{Email: "ada@parley.example", Name: "Ada Lovelace", Role: "admin", Locale: "en", TimeZone: "UTC"}
	if err := a.s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		return tx.CreateUser(ctx, agent)
	}); err != nil {
		t.Fatal(err)
	}
	origins := []string{site + "/"}
	v, err := a.chat.CreateChannel(ctx, agent, chat.ChannelInput{InboxID: in.ID, AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	flow := fmt.Sprintf(`{"name":"Everywhere","enabled":true,"inbox_id":%d,"display":{"welcome_message":"Hi!","behaviour":"prompt"}}`, in.ID)
	if _, err := a.chat.CreateChatflow(ctx, agent, v.Channel.ID, []byte(flow)); err != nil {
		t.Fatal(err)
	}

	// The visitor's session and socket are on node B.
	body, _ := json.Marshal(map[string]any{"page_url": site + "/"})
	req, _ := http.NewRequest("POST", b.srv.URL+"/widget/v1/"+v.Chat.PublicID+"/session", bytes.NewReader(body))
	req.Header.Set("Origin", site)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess sessionAnswer
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil || res.StatusCode != 200 {
		t.Fatalf("session on B: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, strings.Replace(b.srv.URL, "http", "ws", 1)+"/widget/v1/"+v.Chat.PublicID+"/ws?token="+sess.Token,
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {site}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "m-1", "text": "Hello from node B"})
	ack := readUntil(t, ws, "ack")
	msg, err := a.s.Message(ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	conv := msg.ConversationID

	deliver := func(n *chatNode, text string) int64 {
		t.Helper()
		reply, err := n.inbox.Reply(ctx, agent, conv, inbox.ReplyInput{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		job := &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}
		if err := n.inbox.Deliver(ctx, job); err != nil {
			t.Fatal(err)
		}
		return reply.ID
	}

	// 1. A reply sent by node A reaches the visitor on node B, and B marks it delivered.
	fromA := deliver(a, "Answered from node A")
	if f := readAgentMessage(t, ws); f.Seq != fromA || f.Message.Text != "Answered from node A" || f.Message.From != "agent" {
		t.Fatalf("the visitor on B got %+v, want the reply %d", f, fromA)
	}
	waitStoreStatus(t, a.s, fromA, "delivered")

	// 2. The agent typing on node A: the visitor on B hears it.
	a.chat.AgentTyping(ctx, conv, agent.ID)
	if f := readUntil(t, ws, "typing"); f.Name != "Ada" {
		t.Fatalf("typing frame %+v", f)
	}

	// 3. A reply sent by node B itself: pushed by Send, and not again when B's tailer sees its
	// events (sent, then delivered). Another message afterwards proves nothing else came between.
	fromB := deliver(b, "Answered from node B")
	if f := readAgentMessage(t, ws); f.Seq != fromB {
		t.Fatalf("the visitor got %+v, want the reply %d", f, fromB)
	}
	waitStoreStatus(t, a.s, fromB, "delivered")
	last := deliver(a, "And once more from A")
	for {
		f := readAgentMessage(t, ws)
		if f.Seq == fromB || f.Seq == fromA {
			t.Fatalf("message %d pushed twice", f.Seq)
		}
		if f.Seq == last {
			break
		}
	}
}

// readAgentMessage reads frames until an agent's message arrives (the visitor's own come back
// to them too).
func readAgentMessage(t *testing.T, ws *websocket.Conn) frame {
	t.Helper()
	for range 20 {
		if f := read(t, ws); f.Type == "message" && f.Message.From == "agent" {
			return f
		}
	}
	t.Fatal("no agent message")
	return frame{}
}

// waitStoreStatus waits until a message has the status.
func waitStoreStatus(t *testing.T, s *store.Store, id int64, status string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := s.Message(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d is %s, want %s", id, m.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
