package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// newBotFixture is newFixture on the given store, with a bot flow instead of a live chat one:
// the chat channel's inbox, an available admin (f.agent) the flow hands off to, and the bot
// saved from def.
func newBotFixture(t *testing.T, s *store.Store, def string) (*fixture, *chat.BotView) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
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
	name := "Front desk"
	b, err := f.chat.CreateBot(ctx, f.agent, chat.BotInput{Name: &name, Definition: json.RawMessage(def)})
	if err != nil {
		t.Fatal(err)
	}
	flow := fmt.Sprintf(`{"name":"Bot","type":"bot","enabled":true,"inbox_id":%d,"availability":{"mode":"always"},
		"bot":{"id":%d,"version":%d},"hand_off":{"assign_to":"users_and_teams","user_ids":[%d],"team_ids":[],
		"only_available":true,"strategy":"round_robin"}}`, in.ID, b.ID, b.Version, f.agent.ID)
	if _, err := f.chat.CreateChatflow(ctx, f.agent, v.Channel.ID, []byte(flow)); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.chat.Handler())
	t.Cleanup(f.srv.Close)
	return f, b
}

// botFrame is a visitor frame with a bot message's fields.
type botFrame struct {
	Type      string `json:"type"`
	Seq       int64  `json:"seq"`
	ClientID  string `json:"client_id"`
	MessageID int64  `json:"message_id"`
	Code      string `json:"code"`
	Message   struct {
		ID           int64  `json:"id"`
		From         string `json:"from"`
		Text         string `json:"text"`
		AuthorName   string `json:"author_name"`
		Input        string `json:"input"`
		QuickReplies []struct {
			Label string `json:"label"`
			Value string `json:"value"`
		} `json:"quick_replies"`
	} `json:"message"`
	Messages []struct {
		From  string `json:"from"`
		Text  string `json:"text"`
		Input string `json:"input"`
	} `json:"messages"`
}

// readBot reads frames until one of type typ whose message text contains text (any text when
// empty) arrives, and returns it.
func readBot(t *testing.T, ws *websocket.Conn, typ, text string) botFrame {
	t.Helper()
	for range 40 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := ws.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("waiting for %s %q: %v", typ, text, err)
		}
		var f botFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Type == "error" {
			t.Fatalf("error frame %s", data)
		}
		if f.Type == typ && strings.Contains(f.Message.Text, text) {
			return f
		}
	}
	t.Fatalf("no %s frame with %q", typ, text)
	return botFrame{}
}

const leadBot = `{"schema":1,"steps":[
 {"id":"hello","type":"send_message","send_message":{"text":"Hi! I'm the front desk."},"next":"email"},
 {"id":"email","type":"ask_question","ask_question":{"kind":"email","prompt":"What's your email?",
  "save_to":{"property":"email"}},"next":"topic"},
 {"id":"topic","type":"ask_question","ask_question":{"kind":"choice","prompt":"What is it about?",
  "choices":[{"label":"Buying","value":"sales"},{"label":"A problem","value":"support"}]},"next":"route"},
 {"id":"route","type":"branch","branch":{"cases":[{"conditions":[{"source":"answer","name":"topic",
  "operator":"equals","value":"sales"}],"next":"ticket"}]},"next":"docs"},
 {"id":"ticket","type":"submit_ticket","submit_ticket":{"subject":"Lead {{answer.email}}","priority":"high"},"next":"handoff"},
 {"id":"handoff","type":"handoff","handoff":{}},
 {"id":"docs","type":"end","end":{"message":"Our docs are at docs.example.com."}}
]}`

// TestBotQualifiesAndHandsOff drives a visitor socket through a bot: it greets on connect
// without storing anything, stores its opening with the first answer, rejects a bad email,
// saves a good one on the contact, branches on a quick reply, files a ticket and hands off to
// routing, which assigns the agent.
func TestBotQualifiesAndHandsOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, b := newBotFixture(t, s, leadBot)
		code, sess, _ := f.session(site, map[string]any{"page_url": site + "/pricing"})
		if code != 200 {
			t.Fatalf("session %d", code)
		}
		ws, _, err := f.dial(site, sess.Token, "")
		if err != nil {
			t.Fatal(err)
		}
		preview := readBot(t, ws, "bot_preview", "")
		if len(preview.Messages) != 2 || preview.Messages[0].Text != "Hi! I'm the front desk." ||
			preview.Messages[1].Input != "email" || preview.Messages[1].From != "bot" {
			t.Fatalf("preview %+v", preview)
		}
		readBot(t, ws, "ready", "")
		if _, err := f.s.ChatConversation(f.ctx, f.view.Channel.ID, fmt.Sprintf("visitor:%d", sess.VisitorID)); err == nil {
			t.Fatal("greeting a visitor must not open a conversation")
		}

		// A first message that is not an email: the opening is stored, then the retry.
		send(t, ws, map[string]any{"type": "message", "client_id": "c1", "text": "hello?"})
		hello := readBot(t, ws, "message", "front desk")
		ack := readBot(t, ws, "ack", "")
		if hello.Message.From != "bot" || hello.Message.AuthorName != "Front desk" || hello.Message.ID >= ack.MessageID {
			t.Fatalf("opening %+v ack %+v", hello, ack)
		}
		retry := readBot(t, ws, "message", "doesn't look like an email")
		if retry.Message.Input != "email" {
			t.Fatalf("retry %+v", retry)
		}
		first, err := f.s.Message(f.ctx, hello.Message.ID)
		if err != nil {
			t.Fatal(err)
		}
		convID := first.ConversationID
		conv, err := f.s.Conversation(f.ctx, convID, 0)
		if err != nil || conv.AssigneeID != nil {
			t.Fatalf("while the bot has it nobody is assigned: %+v %v", conv, err)
		}
		view, err := f.s.BotConversations(f.ctx, nil, 10)
		if err != nil || len(view) != 1 || view[0].Conversation.ID != convID || view[0].BotName != "Front desk" {
			t.Fatalf("bots view %+v %v", view, err)
		}
		msgs, _ := f.s.Messages(f.ctx, convID)
		var order []string
		for _, m := range msgs {
			order = append(order, m.Direction[:2]+":"+m.Text)
		}
		want := "ou:Hi! I'm the front desk.|ou:What's your email?|in:hello?|ou:That doesn't look like an email address. Please check it and try again."
		if strings.Join(order, "|") != want {
			t.Fatalf("timeline %q", order)
		}

		// A good email goes on the contact; the choice question offers quick replies.
		send(t, ws, map[string]any{"type": "message", "client_id": "c2", "text": "Ada@Example.com"})
		topic := readBot(t, ws, "message", "What is it about?")
		if topic.Message.Input != "choice" || len(topic.Message.QuickReplies) != 2 || topic.Message.QuickReplies[0].Value != "sales" {
			t.Fatalf("topic %+v", topic)
		}
		conv, _ = f.s.Conversation(f.ctx, convID, 0)
		contact, err := f.s.Contact(f.ctx, *conv.ContactID)
		if err != nil || !hasEmail(contact, "ada@example.com") {
			t.Fatalf("contact %+v %v", contact, err)
		}

		// The quick reply's value answers; its label is what the conversation shows.
		send(t, ws, map[string]any{"type": "answer", "client_id": "c3", "text": "sales"})
		mine := readBot(t, ws, "message", "Buying")
		if mine.Message.From != "visitor" {
			t.Fatalf("answer %+v", mine)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			conv, _ = f.s.Conversation(f.ctx, convID, 0)
			if conv.AssigneeID != nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if conv.AssigneeID == nil || *conv.AssigneeID != f.agent.ID {
			t.Fatalf("hand-off did not assign the agent: %+v", conv)
		}
		run, err := f.s.BotRun(f.ctx, convID)
		if err != nil || run.Status != store.BotRunHandedOff || run.BotID != b.ID {
			t.Fatalf("run %+v %v", run, err)
		}
		tickets, err := f.s.ConversationTickets(f.ctx, convID)
		if err != nil || len(tickets) != 1 || tickets[0].Name != "Lead ada@example.com" || tickets[0].Priority != "high" {
			t.Fatalf("tickets %+v %v", tickets, err)
		}
		evs, _ := f.s.ConversationEvents(f.ctx, convID)
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		got := strings.Join(types, ",")
		for _, w := range []string{"bot_started", "ticket_created", "bot_handed_off", "assigned"} {
			if !strings.Contains(got, w) {
				t.Fatalf("events %s lack %s", got, w)
			}
		}
		if view, _ := f.s.BotConversations(f.ctx, nil, 10); len(view) != 0 {
			t.Fatalf("handed off, still in the Bots view: %+v", view)
		}
		// Now a message is the people's: the bot says nothing more.
		send(t, ws, map[string]any{"type": "message", "client_id": "c4", "text": "thanks"})
		readBot(t, ws, "ack", "")
		msgs, _ = f.s.Messages(f.ctx, convID)
		if last := msgs[len(msgs)-1]; last.Text != "thanks" {
			t.Fatalf("the bot answered after the hand-off: %+v", last)
		}
	})
}

// TestBotBranchEndsAndAgentTakesOver covers the other branch (the bot ends), the widget's
// "bot" flag, and taking over by replying.
func TestBotAgentTakesOver(t *testing.T) {
	f, _ := newBotFixture(t, storetest.OpenSQLite(t), leadBot)
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readBot(t, ws, "ready", "")
	send(t, ws, map[string]any{"type": "answer", "client_id": "a1", "text": "grace@example.com"})
	ack := readBot(t, ws, "ack", "")
	readBot(t, ws, "message", "What is it about?")
	m, err := f.s.Message(f.ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	convID := m.ConversationID
	if err := f.chat.TakeOver(f.ctx, f.agent, convID); err != nil {
		t.Fatal(err)
	}
	if err := f.chat.TakeOver(f.ctx, f.agent, convID); err == nil || !strings.Contains(err.Error(), "no bot") {
		t.Fatalf("second take-over: %v", err)
	}
	send(t, ws, map[string]any{"type": "message", "client_id": "a2", "text": "support"})
	readBot(t, ws, "ack", "")
	msgs, _ := f.s.Messages(f.ctx, convID)
	if last := msgs[len(msgs)-1]; last.Text != "support" || last.Direction != "inbound" {
		t.Fatalf("the bot answered after the take-over: %+v", last)
	}
}

// TestBotWebhookIsSignedAndFeedsTheBot runs a webhook step through the job runner against a
// receiver that checks the signature and answers with data the bot then uses.
func TestBotWebhookIsSignedAndFeedsTheBot(t *testing.T) {
	var mu sync.Mutex
	var secret string
	var got map[string]any
	var verifyErr error
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable) // tried again
			return
		}
		verifyErr = custom.Verify(secret, r.Method, "http://"+r.Host+r.URL.RequestURI(), body,
			r.Header.Get(chat.HeaderBotTimestamp), r.Header.Get(chat.HeaderBotSignature), time.Now())
		_ = json.Unmarshal(body, &got)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"customer":{"tier":"gold"}}`))
	}))
	t.Cleanup(receiver.Close)
	def := `{"schema":1,"steps":[
	 {"id":"email","type":"ask_question","ask_question":{"kind":"email","prompt":"Your email?","save_to":{"property":"email"}},"next":"look"},
	 {"id":"look","type":"webhook","webhook":{"url":"` + receiver.URL + `/crm?x=1","set_variables":{"tier":"customer.tier"}},"next":"say"},
	 {"id":"say","type":"send_message","send_message":{"text":"You are {{variable.tier | new}}."},"next":"bye"},
	 {"id":"bye","type":"end","end":{}}]}`
	f, b := newBotFixture(t, storetest.OpenSQLite(t), def)
	mu.Lock()
	secret = b.WebhookSecret
	mu.Unlock()
	runner := &jobs.Runner{Store: f.s, Workers: 1, PollInterval: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 10 * time.Millisecond },
		Handlers: map[string]jobs.Handler{chat.JobBotWebhook: f.chat.HandleBotWebhook}}
	f.chat.WakeJobs = runner.Wake
	go runner.Run(f.ctx)

	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readBot(t, ws, "ready", "")
	send(t, ws, map[string]any{"type": "message", "client_id": "w1", "text": "lin@example.com"})
	readBot(t, ws, "message", "You are gold.")
	mu.Lock()
	defer mu.Unlock()
	if verifyErr != nil || calls != 2 {
		t.Fatalf("signature: %v after %d calls", verifyErr, calls)
	}
	if got["event"] != "bot.webhook" || got["answers"].(map[string]any)["email"] != "lin@example.com" {
		t.Fatalf("payload %+v", got)
	}
}

// TestBotRunEndsOnReplyAndClose: an agent's reply takes the conversation over, and a chat
// closed while a bot had it is the people's when the visitor comes back.
func TestBotRunEndsOnReplyAndClose(t *testing.T) {
	f, _ := newBotFixture(t, storetest.OpenSQLite(t), leadBot)
	start := func(client string) (*websocket.Conn, int64) {
		_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
		ws, _, err := f.dial(site, sess.Token, "")
		if err != nil {
			t.Fatal(err)
		}
		readBot(t, ws, "ready", "")
		send(t, ws, map[string]any{"type": "message", "client_id": client, "text": client + "@example.com"})
		ack := readBot(t, ws, "ack", "")
		readBot(t, ws, "message", "What is it about?")
		m, err := f.s.Message(f.ctx, ack.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		return ws, m.ConversationID
	}
	status := func(convID int64) string {
		run, err := f.s.BotRun(f.ctx, convID)
		if err != nil {
			t.Fatal(err)
		}
		return run.Status
	}

	_, replied := start("r1")
	reply, err := f.inbox.Reply(f.ctx, f.agent, replied, inbox.ReplyInput{Text: "I can help right away"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Attempts: 1, MaxAttempts: 5,
		Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, reply.ID))}); err != nil {
		t.Fatal(err)
	}
	if got := status(replied); got != store.BotRunHandedOff {
		t.Fatalf("after an agent's reply the run is %s", got)
	}

	ws, closed := start("c1")
	if status(closed) != store.BotRunActive {
		t.Fatal("the second chat's bot is not running")
	}
	st := "closed"
	if _, err := f.inbox.Update(f.ctx, f.agent, closed, inbox.Patch{Status: &st}); err != nil {
		t.Fatal(err)
	}
	send(t, ws, map[string]any{"type": "answer", "client_id": "c2", "text": "sales"})
	readBot(t, ws, "ack", "")
	if got := status(closed); got != store.BotRunEnded {
		t.Fatalf("a closed chat's run is %s", got)
	}
	msgs, _ := f.s.Messages(f.ctx, closed)
	if last := msgs[len(msgs)-1]; last.Direction != "inbound" || last.Text != "sales" {
		t.Fatalf("the bot answered in a closed chat: %+v", last)
	}
	if tickets, _ := f.s.ConversationTickets(f.ctx, closed); len(tickets) != 0 {
		t.Fatalf("the bot went on: %+v", tickets)
	}
}

// TestBotFirstQuickReplyStoresItsLabel: a bot that opens with a choice offers its quick replies
// in the preview, before anything is stored; the visitor's first answer, sent as the value, is
// stored as the label they saw, as later answers are.
func TestBotFirstQuickReplyStoresItsLabel(t *testing.T) {
	const choiceFirst = `{"schema":1,"steps":[
 {"id":"topic","type":"ask_question","ask_question":{"kind":"choice","prompt":"What is it about?",
  "choices":[{"label":"Buying","value":"sales"},{"label":"A problem","value":"support"}]},"next":"bye"},
 {"id":"bye","type":"end","end":{"message":"Thanks!"}}
]}`
	f, _ := newBotFixture(t, storetest.OpenSQLite(t), choiceFirst)
	_, sess, _ := f.session(site, map[string]any{"page_url": site + "/"})
	ws, _, err := f.dial(site, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	readBot(t, ws, "ready", "")
	send(t, ws, map[string]any{"type": "answer", "client_id": "q1", "text": "sales"})
	ack := readBot(t, ws, "ack", "")
	m, err := f.s.Message(f.ctx, ack.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Buying" {
		t.Fatalf("the first answer is stored as %q, want the label %q", m.Text, "Buying")
	}
}
