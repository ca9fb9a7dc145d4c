package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// A chat is handed off by its chatflow's rule, not the chat channel's (which is off here).
func TestHandOffByTheChatflowsRule(t *testing.T) {
	f := newFixture(t)
	f.inbox.RoutingRuleFor = f.chat.RoutingRuleFor
	bob := &store.User{Email: "bob@parley.example", Name: "Bob Builder", Role: "agent", Locale: "en", TimeZone: "UTC"}
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error { return tx.CreateUser(f.ctx, bob) }); err != nil {
		t.Fatal(err)
	}
	f.setFlow(fmt.Sprintf(`,"hand_off":{"user_ids":[%d]}`, bob.ID))
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "a", "text": "Hi"})
	ack := readUntil(t, ws, "ack")
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	conv, _ := f.s.Conversation(f.ctx, msg.ConversationID, 0)
	if conv.AssigneeID == nil || *conv.AssigneeID != bob.ID {
		t.Fatalf("assignee %v, want Bob %d", conv.AssigneeID, bob.ID)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// Bob goes away: a second visitor's chat waits, and they are told nobody is there; when Bob
	// is back, the waiting chat is routed by the flow's rule again.
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error {
		return tx.SetAvailabilityStatus(f.ctx, bob.ID, "away", &bob.ID, store.Now())
	}); err != nil {
		t.Fatal(err)
	}
	_, sess2, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws2, _, err := f.dial(site, sess2.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	send(t, ws2, map[string]any{"type": "message", "client_id": "b", "text": "Anyone?"})
	ack2 := readUntil(t, ws2, "ack")
	if st := readRaw(t, ws2, "status"); st["away"] != true {
		t.Fatalf("status %v", st)
	}
	msg2, _ := f.s.Message(f.ctx, ack2.MessageID)
	if waiting, err := f.s.ConversationWaiting(f.ctx, msg2.ConversationID); err != nil || !waiting {
		t.Fatalf("waiting %v %v", waiting, err)
	}
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error {
		return tx.SetAvailabilityStatus(f.ctx, bob.ID, "available", &bob.ID, store.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.inbox.RouteWaiting(f.ctx); err != nil || n != 1 {
		t.Fatalf("route waiting: %d %v", n, err)
	}
	conv2, _ := f.s.Conversation(f.ctx, msg2.ConversationID, 0)
	if conv2.AssigneeID == nil || *conv2.AssigneeID != bob.ID {
		t.Fatalf("waiting chat assignee %v", conv2.AssigneeID)
	}
}

// Explicit consent: messages wait for {"type":"consent"}; the record keeps the exact text and
// lands on the contact. Implicit consent is recorded by the first message.
func TestConsent(t *testing.T) {
	f := newFixture(t)
	flowID := f.setFlow(`,"consent":{"mode":"explicit","text":"We keep this chat for 90 days.","privacy_url":"https://www.example.com/privacy"}`)
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	var full struct {
		ConsentGiven bool `json:"consent_given"`
	}
	raw := f.rawSession(map[string]any{"page_url": site + "/", "token": sess.Token})
	if err := json.Unmarshal(raw, &full); err != nil || full.ConsentGiven {
		t.Fatalf("consent_given before consent: %s", raw)
	}
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "a", "text": "Hi"})
	if e := readUntil(t, ws, "error"); e.Code != chat.CodeConsentRequired || e.ClientID != "a" {
		t.Fatalf("message before consent: %+v", e)
	}
	send(t, ws, map[string]any{"type": "consent", "flow_id": flowID + 1})
	if e := readUntil(t, ws, "error"); e.Code != chat.CodeChatflowNotFound {
		t.Fatalf("consent to another flow: %+v", e)
	}
	send(t, ws, map[string]any{"type": "consent", "flow_id": flowID})
	if c := readRaw(t, ws, "consent"); c["given"] != true {
		t.Fatalf("consent answer %v", c)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "a", "text": "Hi"})
	ack := readUntil(t, ws, "ack")
	raw = f.rawSession(map[string]any{"page_url": site + "/", "token": sess.Token})
	if err := json.Unmarshal(raw, &full); err != nil || !full.ConsentGiven {
		t.Fatalf("consent_given after consent: %s", raw)
	}
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	conv, _ := f.s.Conversation(f.ctx, msg.ConversationID, 0)
	list, err := f.s.ContactConsents(f.ctx, *conv.ContactID)
	if err != nil || len(list) != 1 {
		t.Fatalf("consents %+v %v", list, err)
	}
	if c := list[0]; c.Mode != store.ConsentExplicit || c.Text != "We keep this chat for 90 days." ||
		c.PrivacyURL != "https://www.example.com/privacy" || c.FlowID != flowID || c.GivenAt == 0 {
		t.Fatalf("consent %+v", c)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// A new wording needs consent again; implicit consent is taken by the first message, once.
	f.setFlow(`,"consent":{"mode":"implicit","text":"By chatting you agree to our terms."}`)
	ws, _, err = f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "c"} {
		send(t, ws, map[string]any{"type": "message", "client_id": id, "text": "More"})
		readUntil(t, ws, "ack")
	}
	list, _ = f.s.ContactConsents(f.ctx, *conv.ContactID)
	if len(list) != 2 || list[0].Mode != store.ConsentImplicit || list[0].Text != "By chatting you agree to our terms." {
		t.Fatalf("consents after implicit %+v", list)
	}
}

// rawSession posts a session request and returns the answer's body.
func (f *fixture) rawSession(body map[string]any) []byte {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/v1/"+f.view.Chat.PublicID+"/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", site)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		f.t.Fatalf("session %d %s", res.StatusCode, raw)
	}
	return raw
}

// A chat idle past its flow's auto_close_minutes is closed by the system; the visitor is told
// and, their email known, gets the transcript. Activity since keeps a chat open.
func TestAutoCloseAndTranscript(t *testing.T) {
	f := newMailFixture(t)
	f.setFlow(`,"auto_close_minutes":10`)
	now := time.Now()
	f.chat.Now = func() time.Time { return now }
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "a", "text": "Where is my order?"})
	ack := readUntil(t, ws, "ack")
	send(t, ws, map[string]any{"type": "email", "email": "ada@example.com"})
	readRaw(t, ws, "status")
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	if _, err := f.inbox.Reply(f.ctx, f.agent, msg.ConversationID, inbox.ReplyInput{Text: "It ships today."}); err != nil {
		t.Fatal(err)
	}

	if n, err := f.chat.AutoClose(f.ctx); err != nil || n != 0 {
		t.Fatalf("auto-close of a fresh chat: %d %v", n, err)
	}
	now = now.Add(11 * time.Minute)
	if n, err := f.chat.AutoClose(f.ctx); err != nil || n != 1 {
		t.Fatalf("auto-close after 11 minutes: %d %v", n, err)
	}
	if c := readRaw(t, ws, "closed"); c == nil {
		t.Fatal("no closed frame")
	}
	conv, _ := f.s.Conversation(f.ctx, msg.ConversationID, 0)
	if conv.Status != "closed" {
		t.Fatalf("status %s", conv.Status)
	}
	evs, _ := f.s.ConversationEvents(f.ctx, conv.ID)
	last := evs[len(evs)-1]
	if last.Type != "closed" || last.ActorID != nil || !strings.Contains(string(last.Data), `"reason":"auto_close"`) {
		t.Fatalf("close event %+v %s", last, last.Data)
	}
	if n, err := f.chat.AutoClose(f.ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep: %d %v", n, err)
	}

	job := f.jobOf(chat.TranscriptJob)
	if err := f.chat.Transcript(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	got := f.sink.Next(t)
	body := string(got.Raw)
	if got.To[0] != "ada@example.com" || !strings.Contains(got.Subject, "Your conversation with Website") ||
		!strings.Contains(body, "Where is my order?") || !strings.Contains(body, "It ships today.") || !strings.Contains(body, "Ada,") {
		t.Fatalf("transcript to %v subject %q:\n%s", got.To, got.Subject, body)
	}

	// On demand, to another address; a bad one is refused.
	if _, err := f.chat.RequestTranscript(f.ctx, f.agent, conv.ID, "nope"); err == nil {
		t.Fatal("a bad address was accepted")
	}
	to, err := f.chat.RequestTranscript(f.ctx, f.agent, conv.ID, "")
	if err != nil || to != "ada@example.com" {
		t.Fatalf("transcript to the visitor: %q %v", to, err)
	}
}
