package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
	"github.com/parley-inbox/parley/internal/store"
)

// mailFixture is the chat fixture with the inbox's email channel and an SMTP sink, wired the
// way serve.go wires them.
type mailFixture struct {
	*fixture
	email *email.Service
	sink  *mailtest.Server
	ch    *store.Channel
}

func newMailFixture(t *testing.T) *mailFixture {
	f := &mailFixture{fixture: newFixture(t)}
	tr, err := thread.New([]byte("the chat tests' installation secret"))
	if err != nil {
		t.Fatal(err)
	}
	f.sink = mailtest.Start(t)
	relay, err := outbound.NewSender(f.sink.URL)
	if err != nil {
		t.Fatal(err)
	}
	f.email = &email.Service{Store: f.s, Inbox: f.inbox, Files: files.New(f.s, t.TempDir(), "http://parley.test"),
		Filters: f.s, Threader: tr, Domain: "in.parley.test", Relay: relay}
	f.inbox.Senders[email.Kind] = f.email
	f.chat.Email = f.email
	f.inbox.RoutingRuleFor, f.inbox.Closed = f.chat.RoutingRuleFor, f.chat.Closed
	settings := email.DefaultSettings()
	settings.Address = "support@acme.example"
	raw, _ := json.Marshal(settings)
	f.ch = &store.Channel{Kind: email.Kind, InboxID: f.view.Channel.InboxID, Name: settings.Address, Settings: raw,
		AddressType: "email", Address: settings.Address, Authorized: true}
	if err := f.s.InTx(f.ctx, func(tx *store.Tx) error { _, err := tx.InsertChannel(f.ctx, f.ch); return err }); err != nil {
		t.Fatal(err)
	}
	return f
}

// setFlow replaces the fixture's only chatflow with one with these extra fields.
func (f *fixture) setFlow(extra string) int64 {
	f.t.Helper()
	flows, err := f.chat.Chatflows(f.ctx, f.view.Channel.ID)
	if err != nil || len(flows) != 1 {
		f.t.Fatalf("flows %v %v", flows, err)
	}
	body := fmt.Sprintf(`{"name":"Everywhere","enabled":true,"inbox_id":%d,"display":{"welcome_message":"Hi there!","behaviour":"prompt"}%s}`,
		f.view.Channel.InboxID, extra)
	if _, err := f.chat.UpdateChatflow(f.ctx, f.agent, f.view.Channel.ID, flows[0].ID, []byte(body)); err != nil {
		f.t.Fatal(err)
	}
	return flows[0].ID
}

// readRaw reads one frame as a map.
func readRaw(t *testing.T, ws *websocket.Conn, typ string) map[string]any {
	t.Helper()
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := ws.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("read %s: %v", typ, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] == typ {
			return m
		}
	}
	t.Fatalf("no %s frame", typ)
	return nil
}

// jobOf returns the newest queued job of a kind.
func (f *fixture) jobOf(kind string) *store.Job {
	f.t.Helper()
	list, err := f.s.Jobs(f.ctx, "", kind, 0, 10)
	if err != nil || len(list) == 0 {
		f.t.Fatalf("no %s job (%v)", kind, err)
	}
	return list[0]
}

// Away with "collect email": the visitor hears the team is away at connect, leaves an address
// (kept unverified), and the agent's reply, unseen, goes by email; the customer's answer to
// that mail threads back into the same chat conversation.
func TestAwayCollectsEmailAndRepliesThreadBack(t *testing.T) {
	f := newMailFixture(t)
	// Closed all week except a Monday morning long past: away now, back next Monday 09:00.
	f.setFlow(`,"availability":{"mode":"business_hours","business_hours":{"time_zone":"UTC","days":{"mon":[{"start":"09:00","end":"10:00"}]}}},
		"away":{"message":"We are out. Leave your email.","show_back_at":true,"collect_email":true}`)
	wednesday := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.chat.Now = func() time.Time { return wednesday }

	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	if !strings.Contains(string(sess.Availability), `"state":"away"`) {
		t.Fatalf("availability %s", sess.Availability)
	}
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	st := readRaw(t, ws, "status")
	if st["away"] != true || st["message"] != "We are out. Leave your email." || st["collect_email"] != true ||
		st["email_known"] != false || st["back_at"] != "2026-11-30T09:00:00Z" {
		t.Fatalf("status at connect %v", st)
	}
	send(t, ws, map[string]any{"type": "email", "email": "not an address"})
	if e := readRaw(t, ws, "error"); e["code"] != chat.CodeInvalidEmail {
		t.Fatalf("bad email %v", e)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "m1", "text": "Do you ship to Norway?"})
	ack := readUntil(t, ws, "ack")
	// Everyone is away: the message hears it too.
	if st := readRaw(t, ws, "status"); st["away"] != true {
		t.Fatalf("status after message %v", st)
	}
	send(t, ws, map[string]any{"type": "email", "email": "Grace@Example.com"})
	st = readRaw(t, ws, "status")
	if st["email_known"] != true || st["email"] != "grace@example.com" {
		t.Fatalf("status after email %v", st)
	}
	msg, _ := f.s.Message(f.ctx, ack.MessageID)
	conv, _ := f.s.Conversation(f.ctx, msg.ConversationID, 0)
	// Unverified: the visitor is not identified by it, but their contact may hold it.
	v, _ := f.s.ChatVisitor(f.ctx, sess.VisitorID)
	if v.Email != "" {
		t.Fatalf("a collected address became the visitor's identity: %q", v.Email)
	}
	contact, _ := f.s.Contact(f.ctx, *conv.ContactID)
	if !hasEmail(contact, "grace@example.com") {
		t.Fatalf("contact identities %+v", contact.Identities)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	waitDisconnected(t, f.fixture, sess.VisitorID)

	reply, err := f.inbox.Reply(f.ctx, f.agent, conv.ID, inbox.ReplyInput{Text: "Yes, we ship to Norway."})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}); err != nil {
		t.Fatal(err)
	}
	job := f.jobOf(chat.EmailReplyJob)
	if job.RunAt <= time.Now().UnixMilli() {
		t.Fatalf("the email reply does not wait for the visitor to come back: run at %d", job.RunAt)
	}
	if err := f.chat.EmailReply(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	got := f.sink.Next(t)
	if len(got.To) != 1 || got.To[0] != "grace@example.com" || !strings.Contains(got.Body, "Yes, we ship to Norway.") ||
		!strings.Contains(got.Subject, "Website") {
		t.Fatalf("mail to visitor: to %v subject %q body %q", got.To, got.Subject, got.Body)
	}
	messageID := got.Header.Get("Message-Id")
	if messageID == "" {
		t.Fatal("no Message-ID")
	}
	answer := "From: Grace <grace@example.com>\r\nTo: support@acme.example\r\nSubject: Re: " + got.Subject +
		"\r\nMessage-ID: <answer.1@example.com>\r\nIn-Reply-To: " + messageID + "\r\nReferences: " + messageID +
		"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGreat, thanks!\r\n"
	out, err := f.email.Receive(f.ctx, email.Delivery{ChannelID: f.ch.ID, Raw: []byte(answer)})
	if err != nil {
		t.Fatal(err)
	}
	if out.ConversationID != conv.ID {
		t.Fatalf("the emailed answer went to conversation %d, want the chat %d", out.ConversationID, conv.ID)
	}

	// A reply the widget delivered is not emailed: the visitor came back in time.
	back, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, f.fixture, reply.ID, "delivered")
	if err := f.chat.EmailReply(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	f.sink.None(t, 200*time.Millisecond)
	back.Close(websocket.StatusNormalClosure, "")
}

// waitDisconnected waits until the hub has let go of the visitor's last connection.
func waitDisconnected(t *testing.T, f *fixture, visitorID int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.chat.Hub.Stats().Connections > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the visitor's connection is still registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
