package chat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/realtime"
)

// agentSocket runs the agents' realtime hub over the fixture's store, wired to live chat as
// cmd/parley wires them, and opens the agent's WebSocket to it (signed in as f.agent).
func (f *fixture) agentSocket() *websocket.Conn {
	f.t.Helper()
	bus := events.NewBus(f.s, nil)
	go bus.Run(f.ctx)
	hub := realtime.New(f.s, bus, nil, realtime.Options{Shards: 2, PollInterval: 50 * time.Millisecond})
	hub.OnReplyTyping = f.chat.AgentTyping
	hub.OnConversationRead = f.chat.AgentRead
	f.chat.VisitorTyping = hub.RelayVisitorTyping
	go hub.Run(f.ctx)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		hub.Serve(r.Context(), ws, f.agent.ID, nil)
	}))
	f.t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// agentFrame is a frame of the agents' realtime protocol.
type agentFrame struct {
	Type           string          `json:"type"`
	ConversationID int64           `json:"conversation_id"`
	UserID         *int64          `json:"user_id"`
	From           string          `json:"from"`
	Mode           string          `json:"mode"`
	Raw            json.RawMessage `json:"-"`
}

func readAgent(t *testing.T, ws *websocket.Conn, typ string) agentFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no %s frame: %v", typ, err)
		}
		var f agentFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Type == typ {
			f.Raw = data
			return f
		}
	}
}

// TestTypingAndReadingAcrossTheCounter: a visitor's typing reaches the agent's realtime socket
// as a typing frame from "visitor"; an agent reading the conversation tells the visitor's
// connections which of their messages was read (the latest at the time of reading).
func TestTypingAndReadingAcrossTheCounter(t *testing.T) {
	f := newFixture(t)
	agent := f.agentSocket()
	readAgent(t, agent, "ready")

	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "m-1", "text": "Anyone there?"})
	first := readUntil(t, ws, "ack")
	msg, err := f.s.Message(f.ctx, first.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	conv := msg.ConversationID
	b, _ := json.Marshal(map[string]any{"type": "view", "conversation_id": conv})
	if err := agent.Write(f.ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}

	// Visitor → agents: typing.
	send(t, ws, map[string]any{"type": "typing"})
	ty := readAgent(t, agent, "typing")
	if ty.ConversationID != conv || ty.From != "visitor" || ty.UserID != nil || ty.Mode != "reply" {
		t.Fatalf("agent got typing %s", ty.Raw)
	}

	// Agent → visitor: reading. Two tabs of the visitor both hear of it.
	tab2, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, tab2, "ready")
	send(t, ws, map[string]any{"type": "message", "client_id": "m-2", "text": "Hello?"})
	second := readUntil(t, ws, "ack")
	readUntil(t, tab2, "message")
	if err := f.inbox.MarkRead(f.ctx, f.agent, conv); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{ws, tab2} {
		if r := readUntil(t, c, "read"); r.MessageID != second.MessageID {
			t.Fatalf("read frame %+v, want message_id %d", r, second.MessageID)
		}
	}

	// Replying reads the conversation too; the receipt names the visitor's latest message, not
	// the agent's reply.
	send(t, ws, map[string]any{"type": "message", "client_id": "m-3", "text": "Still there?"})
	third := readUntil(t, ws, "ack")
	if _, err := f.inbox.Reply(f.ctx, f.agent, conv, inbox.ReplyInput{Text: "Yes!"}); err != nil {
		t.Fatal(err)
	}
	if r := readUntil(t, ws, "read"); r.MessageID != third.MessageID {
		t.Fatalf("read frame after a reply %+v, want message_id %d", r, third.MessageID)
	}
}
