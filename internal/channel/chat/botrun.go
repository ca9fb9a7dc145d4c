package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/channel/chat/bot"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// The bot runtime (CHAT-9) carries out what the pure interpreter (package bot) decides.
//
// When a bot starts. Like HubSpot's bots, the bot greets a visitor who opens the widget on a
// page whose chatflow is a bot flow: the widget's socket gets a "bot_preview" frame with the
// bot's opening messages, computed but not stored, because most visitors who see a widget never
// write and a conversation for each of them would bury the inbox. The visitor's first message
// starts the run for real: the opening messages are stored first (a conversation opened by the
// bot, in one transaction with the run's state), then the visitor's message is stored as the
// answer to the opening question, with the bot's next step in the same transaction. Replays and
// agents see the conversation in the order the visitor did.
//
// While a run is active the bot has the conversation: routing leaves it alone (inbox.Inbound's
// NoRouting), it shows in the Bots view, and every visitor message is fed to the bot in the
// transaction that stores it, so an answer is never stored without the bot's reply or the other
// way round. A hand-off step, an agent taking over (TakeOver, or replying) or the bot's end gives
// the conversation back to people; a conversation closed while the bot had it is the people's
// when the visitor comes back.
//
// Effects: contact properties and tickets are written in the same transaction; webhooks are
// durable jobs (JobBotWebhook) whose response steps the bot on; team availability is answered at
// once from routing's checks; a hand-off routes the conversation with the chatflow's hand-off
// rule after commit.

// botSender is the sender JSON of a bot's message: who said it (the bot, by name) and what the
// widget offers with it. It is stored with the message so a replay shows the same.
type botSender struct {
	Bot          bool             `json:"bot"`
	Name         string           `json:"name"`
	BotID        int64            `json:"bot_id,omitempty"`
	Step         string           `json:"step,omitempty"`
	QuickReplies []quickReplyJSON `json:"quick_replies,omitempty"`
	Input        string           `json:"input,omitempty"`
	Link         *linkJSON        `json:"link,omitempty"`
}

type quickReplyJSON struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type linkJSON struct {
	URL   string `json:"url"`
	Label string `json:"label,omitempty"`
}

// botRunning is what a run needs from its bot and flow.
type botRunning struct {
	botID  int64
	name   string
	secret string
	def    *bot.Definition
}

// loadBot reads and decodes one version of a bot; the row's version numbers the definition.
func (s *Service) loadBot(ctx context.Context, id, version int64) (*botRunning, error) {
	b, err := s.Store.BotVersion(ctx, id, version)
	if err != nil {
		return nil, fmt.Errorf("bot %d version %d: %w", id, version, err)
	}
	def, err := bot.Decode(b.Definition)
	if err != nil {
		return nil, fmt.Errorf("bot %d version %d: %w", id, version, err)
	}
	def.Version = b.Version
	return &botRunning{botID: b.ID, name: b.Name, secret: b.WebhookSecret, def: def}, nil
}

// visitorFlow is the chatflow of the page the visitor is on, as their latest session recorded
// it (handoff.go).
func (s *Service) visitorFlow(ctx context.Context, w *widget, v *store.ChatVisitor) (*chatflow.Flow, error) {
	f, _, err := s.visitorChatflow(ctx, w.ch.ID, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return f, err
}

// flowBot returns the bot a flow runs now: nil when the flow is not a bot flow, or its bot is
// out of hours (CHAT-9: a bot available only during business hours does not start outside them).
func (s *Service) flowBot(ctx context.Context, f *chatflow.Flow) (*botRunning, error) {
	if f == nil || f.Type != chatflow.TypeBot || f.Bot == nil {
		return nil, nil
	}
	if chatflow.Available(f, s.now(), false).Away() {
		return nil, nil
	}
	b, err := s.loadBot(ctx, f.Bot.ID, int64(f.Bot.Version))
	if errors.Is(err, store.ErrNotFound) {
		s.log().Warn("chat: a bot flow names a bot version that does not exist", "chatflow_id", f.ID, "bot_id", f.Bot.ID,
			"version", f.Bot.Version)
		return nil, nil
	}
	return b, err
}

// botContext is what the bot knows when it starts: the flow's language, the contact's
// properties and the page.
func (s *Service) botContext(ctx context.Context, f *chatflow.Flow, v *store.ChatVisitor) (bot.Context, error) {
	bc := bot.Context{Language: f.Language, Contact: map[string]string{},
		Variables: map[string]string{"page_url": v.PageURL, "referrer": v.Referrer}}
	if v.Name != "" {
		bc.Contact["name"] = v.Name
	}
	if v.Email != "" {
		bc.Contact["email"] = v.Email
	}
	if v.ContactID != nil {
		c, err := s.Store.Contact(ctx, *v.ContactID)
		if errors.Is(err, store.ErrNotFound) {
			return bc, nil
		} else if err != nil {
			return bc, err
		}
		maps.Copy(bc.Contact, contactProperties(c))
	}
	return bc, nil
}

// contactProperties is a contact as a bot reads it: every property as text.
func contactProperties(c *store.Contact) map[string]string {
	out := map[string]string{}
	var props map[string]any
	if json.Unmarshal(c.Properties, &props) == nil {
		for k, v := range props {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				out[k] = strconv.FormatBool(v)
			}
		}
	}
	if c.Name != "" {
		out["name"] = c.Name
		first, last, _ := strings.Cut(c.Name, " ")
		out["first_name"] = first
		if last != "" {
			out["last_name"] = strings.TrimSpace(last)
		}
	}
	if c.Company != "" {
		out["company"] = c.Company
	}
	for _, id := range c.Identities {
		if (id.Kind == "email" || id.Kind == "phone") && out[id.Kind] == "" {
			out[id.Kind] = id.Value
		}
	}
	return out
}

// previewFrame is the bot_preview frame: the messages the bot opens with, not stored yet.
func previewFrame(b *botRunning, outs []bot.Output) []byte {
	msgs := []messageJSON{}
	for i, o := range outs {
		if say, ok := o.(bot.Say); ok {
			snd := senderOf(b, say, outs[i+1:])
			msgs = append(msgs, messageJSON{From: "bot", AuthorName: b.name, Text: say.Text, Status: "sent",
				QuickReplies: snd.QuickReplies, Input: snd.Input, Link: snd.Link})
		}
	}
	out, _ := json.Marshal(map[string]any{"type": "bot_preview", "messages": msgs})
	return out
}

// botPreview is what a visitor without a conversation sees of the bot of their page's flow,
// or nil when there is none.
func (sess *session) botPreview(ctx context.Context) ([]byte, error) {
	s, v := sess.svc, sess.visitor
	f, err := s.visitorFlow(ctx, sess.w, v)
	if err != nil {
		return nil, err
	}
	b, err := s.flowBot(ctx, f)
	if err != nil || b == nil {
		return nil, err
	}
	bc, err := s.botContext(ctx, f, v)
	if err != nil {
		return nil, err
	}
	_, outs := bot.Start(b.def, bc)
	return previewFrame(b, outs), nil
}

// senderOf is the sender JSON of a Say: its quick replies, its link, and the answer kind when
// the bot waits on the same step right after (later is the outputs that follow it).
func senderOf(b *botRunning, say bot.Say, later []bot.Output) botSender {
	snd := botSender{Bot: true, Name: b.name, BotID: b.botID, Step: say.StepID}
	for _, c := range say.QuickReplies {
		v := c.Value
		if v == "" {
			v = c.Label
		}
		snd.QuickReplies = append(snd.QuickReplies, quickReplyJSON{Label: c.Label, Value: v})
	}
	if say.Link != nil {
		snd.Link = &linkJSON{URL: say.Link.URL, Label: say.Link.Label}
	}
	for _, o := range later {
		if _, isSay := o.(bot.Say); isSay {
			break
		}
		if a, ok := o.(bot.AwaitAnswer); ok && a.StepID == say.StepID {
			snd.Input = string(a.Kind)
		}
	}
	return snd
}

// botTurn is one visitor message's work with the bot: prepared before the message is stored,
// carried out in its transaction, finished after commit.
type botTurn struct {
	s       *Service
	visitor int64
	b       *botRunning
	flowID  int64
	answer  string
	// said are the bot's messages stored by this turn, pushed to the visitor after commit.
	said []*store.Message
	// handoff is set when the bot handed the conversation to people.
	handoff *bot.HandoffRequest
	conv    *store.Conversation
	jobs    bool
}

// errBotStarted rolls back a start that lost the race with another of the visitor's tabs.
var errBotStarted = errors.New("chat: the bot has already started")

// botBefore prepares a visitor message for the bot: it starts the bot of the page's flow when
// the visitor has no conversation yet, and when a run is active makes the message its answer
// (in.Stored) and keeps routing off. It returns nil when no bot is involved.
func (sess *session) botBefore(ctx context.Context, f clientFrame, in *inbox.Inbound) (*botTurn, error) {
	s, v := sess.svc, sess.visitor
	for attempt := 0; ; attempt++ {
		conv, err := s.Store.ChatConversation(ctx, sess.w.ch.ID, v.ThreadKey())
		if errors.Is(err, store.ErrNotFound) {
			t, err := sess.startBot(ctx, f, in)
			if errors.Is(err, errBotStarted) && attempt == 0 {
				continue // another tab started it: answer that run
			}
			return t, err
		} else if err != nil {
			return nil, err
		}
		run, err := s.Store.BotRun(ctx, conv.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && run.Status != store.BotRunActive {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if conv.Status == "closed" {
			// The chat was closed while the bot had it: whoever comes back talks to people.
			return nil, s.endRun(ctx, conv.ID, store.BotRunEnded, nil, "bot_ended", map[string]any{"reason": "closed"})
		}
		b, err := s.loadBot(ctx, run.BotID, run.Version)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // deleted with its runs since
		} else if err != nil {
			return nil, err
		}
		t := &botTurn{s: s, visitor: v.ID, b: b, flowID: run.FlowID, answer: f.Text}
		in.Text = t.answerText(run, f.Text)
		in.NoRouting = true
		in.Stored = chainStored(in.Stored, t.stepStored)
		return t, nil
	}
}

// answerText is what is stored of an answer: a quick reply's label rather than its value, so the
// conversation reads as the visitor saw it.
func (t *botTurn) answerText(run *store.BotRun, text string) string {
	var st bot.State
	if json.Unmarshal(run.State, &st) != nil || st.Awaiting != bot.AwaitingAnswer {
		return text
	}
	for _, a := range t.b.def.Steps {
		if a.ID == st.Step && a.AskQuestion != nil {
			for _, c := range a.AskQuestion.Choices {
				if c.Value != "" && c.Value == text {
					return c.Label
				}
			}
		}
	}
	return text
}

func chainStored(first, then func(ctx context.Context, tx *store.Tx, m *store.Message, c *store.Conversation) error) func(ctx context.Context, tx *store.Tx, m *store.Message, c *store.Conversation) error {
	if first == nil {
		return then
	}
	return func(ctx context.Context, tx *store.Tx, m *store.Message, c *store.Conversation) error {
		if err := first(ctx, tx, m, c); err != nil {
			return err
		}
		return then(ctx, tx, m, c)
	}
}

// startBot opens the visitor's conversation with the bot's opening messages and the run, in
// one transaction, when the page's flow runs a bot; the visitor's message then answers it. A
// bot that says nothing before it waits (a webhook first) starts with the visitor's message
// instead, in its transaction.
func (sess *session) startBot(ctx context.Context, f clientFrame, in *inbox.Inbound) (*botTurn, error) {
	s, v := sess.svc, sess.visitor
	flow, err := s.visitorFlow(ctx, sess.w, v)
	if err != nil {
		return nil, err
	}
	b, err := s.flowBot(ctx, flow)
	if err != nil || b == nil {
		return nil, err
	}
	bc, err := s.botContext(ctx, flow, v)
	if err != nil {
		return nil, err
	}
	st, outs := bot.Start(b.def, bc)
	t := &botTurn{s: s, visitor: v.ID, b: b, flowID: flow.ID, answer: f.Text}
	// A quick reply chosen from the preview is stored as the label the visitor saw, as later
	// answers are (botBefore).
	if raw, err := json.Marshal(st); err == nil {
		in.Text = t.answerText(&store.BotRun{State: raw}, f.Text)
	}
	in.NoRouting = true
	first := slices.IndexFunc(outs, func(o bot.Output) bool { _, ok := o.(bot.Say); return ok })
	if first < 0 {
		// Nothing to open with: the visitor's message opens the conversation and starts the bot,
		// without answering anything.
		in.Stored = chainStored(in.Stored, func(ctx context.Context, tx *store.Tx, _ *store.Message, c *store.Conversation) error {
			t.said, t.handoff, t.jobs = nil, nil, false // a retried transaction starts over
			return t.begin(ctx, tx, c, st, outs)
		})
		return t, nil
	}
	say := outs[first].(bot.Say)
	snd, err := json.Marshal(senderOf(b, say, outs[first+1:]))
	if err != nil {
		return nil, err
	}
	open := inbox.Inbound{
		ChannelID:         in.ChannelID,
		Channel:           in.Channel,
		ThreadKey:         in.ThreadKey,
		Direction:         "outbound",
		IdempotencyKey:    "bot:" + in.IdempotencyKey,
		ContactName:       in.ContactName,
		ContactIdentities: in.ContactIdentities,
		ContactID:         in.ContactID,
		Text:              say.Text,
		Sender:            snd,
		NoRouting:         true,
		Stored: func(ctx context.Context, tx *store.Tx, m *store.Message, c *store.Conversation) error {
			t.said, t.handoff, t.jobs = nil, nil, false // a retried transaction starts over
			if _, err := tx.BotRun(ctx, c.ID); err == nil {
				return errBotStarted
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			t.said = append(t.said, m)
			rest := slices.Delete(slices.Clone(outs), first, first+1)
			return t.begin(ctx, tx, c, st, rest)
		},
	}
	_, conv, duplicate, err := s.Inbox.Receive(ctx, open)
	if err != nil {
		return nil, err
	}
	if duplicate {
		// A resent first message whose answer was not stored: the run exists; answer it.
		t.said = nil
	}
	t.conv = conv
	// The opening goes out before the visitor's message is even stored, in the order it has:
	// to this connection directly, ahead of the message's ack, and to the visitor's other tabs.
	for _, m := range t.said {
		sess.conn.Push(outgoing{seq: m.ID, data: messageFrame(m)})
	}
	t.push()
	t.said = nil
	in.Stored = chainStored(in.Stored, t.stepStored)
	return t, nil
}

// begin stores a new run and carries out the bot's first outputs, in the transaction that
// opened the conversation.
func (t *botTurn) begin(ctx context.Context, tx *store.Tx, c *store.Conversation, st bot.State, outs []bot.Output) error {
	run := &store.BotRun{ConversationID: c.ID, BotID: t.b.botID, Version: t.b.def.Version, FlowID: t.flowID,
		Status: store.BotRunActive}
	if err := addBotEvent(ctx, tx, c.ID, nil, "bot_started", map[string]any{"bot_id": t.b.botID,
		"bot_name": t.b.name, "version": t.b.def.Version}); err != nil {
		return err
	}
	return t.apply(ctx, tx, c, run, st, outs)
}

// stepStored feeds the visitor's answer to the active run, in the transaction that stored it.
func (t *botTurn) stepStored(ctx context.Context, tx *store.Tx, _ *store.Message, c *store.Conversation) error {
	t.said, t.handoff, t.jobs = nil, nil, false // a retried transaction starts over
	run, err := tx.BotRun(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if run.Status != store.BotRunActive {
		return nil // taken over meanwhile: the message is the people's
	}
	var st bot.State
	if err := json.Unmarshal(run.State, &st); err != nil {
		return fmt.Errorf("bot state of conversation %d: %w", c.ID, err)
	}
	if run.BotID != t.b.botID || run.Version != t.b.def.Version {
		b, err := t.s.loadBot(ctx, run.BotID, run.Version)
		if err != nil {
			return err
		}
		t.b = b
	}
	st, outs := bot.Step(t.b.def, st, bot.Answer(t.answer))
	return t.apply(ctx, tx, c, run, st, outs)
}

// apply carries out a bot's outputs in tx, answering availability questions at once, and
// stores the run's new state. c is changed in memory (preview, activity); the caller writes it.
func (t *botTurn) apply(ctx context.Context, tx *store.Tx, c *store.Conversation, run *store.BotRun, st bot.State, outs []bot.Output) error {
	status := run.Status
	for range bot.MaxStepsPerInput {
		var next *bot.Input
		for i, o := range outs {
			switch o := o.(type) {
			case bot.Say:
				if err := t.say(ctx, tx, c, senderOf(t.b, o, outs[i+1:]), o.Text); err != nil {
					return err
				}
			case bot.SetContactProperty:
				if err := setContactProperty(ctx, tx, c, o); err != nil {
					return err
				}
			case bot.TicketRequest:
				if err := createTicket(ctx, tx, c, o); err != nil {
					return err
				}
			case bot.WebhookRequest:
				if err := enqueueWebhook(ctx, tx, c.ID, run, o); err != nil {
					return err
				}
				t.jobs = true
			case bot.AvailabilityRequest:
				avail, err := t.s.teamsAvailable(ctx, c.InboxID, o.TeamIDs)
				if err != nil {
					return err
				}
				in := bot.Availability(avail)
				next = &in
			case bot.HandoffRequest:
				h := o
				t.handoff = &h
			case bot.End:
				status = store.BotRunEnded
				typ := "bot_ended"
				if o.Reason == bot.EndHandedOff {
					status, typ = store.BotRunHandedOff, "bot_handed_off"
				}
				if err := addBotEvent(ctx, tx, c.ID, nil, typ, map[string]any{"bot_id": t.b.botID, "bot_name": t.b.name,
					"reason": string(o.Reason), "step": o.StepID}); err != nil {
					return err
				}
			}
		}
		if next == nil {
			break
		}
		st, outs = bot.Step(t.b.def, st, *next)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	run.State, run.Status = raw, status
	t.conv = c
	return tx.UpsertBotRun(ctx, run)
}

// say stores one bot message on the conversation.
func (t *botTurn) say(ctx context.Context, tx *store.Tx, c *store.Conversation, snd botSender, text string) error {
	raw, err := json.Marshal(snd)
	if err != nil {
		return err
	}
	now := store.Now()
	m := &store.Message{ConversationID: c.ID, ChannelID: c.ChannelID, Direction: "outbound", Sender: raw,
		Text: text, Status: "sent", CreatedAt: now}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	events.MessageCreated(tx, m, c.InboxID)
	if err := tx.IndexText(ctx, c.ID, text); err != nil {
		return err
	}
	if p := preview(text); p != "" {
		c.Preview = p
	}
	c.LastActivityAt = max(c.LastActivityAt, now)
	if c.LastOutboundAt == nil || *c.LastOutboundAt < now {
		c.LastOutboundAt = &now
	}
	t.said = append(t.said, m)
	return nil
}

// preview is a message's line in conversation lists, as inbox makes it.
func preview(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	const n = 140
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	return strings.TrimSpace(string([]rune(text)[:n-1])) + "…"
}

// push sends the turn's bot messages to the visitor's connections on this node, after commit.
func (t *botTurn) push() {
	if t.s.Hub == nil {
		return
	}
	for _, m := range t.said {
		if m != nil {
			t.s.Hub.Push(t.visitor, m.ID, messageFrame(m), nil)
		}
	}
}

// after finishes a turn once its transaction committed: the bot's messages go to the visitor,
// a hand-off to routing, webhook jobs to the runner.
func (t *botTurn) after(ctx context.Context) {
	if t == nil {
		return
	}
	t.push()
	if t.jobs && t.s.WakeJobs != nil {
		t.s.WakeJobs()
	}
	if t.handoff != nil && t.conv != nil {
		if err := t.s.botHandOff(ctx, t.conv, t.flowID, *t.handoff); err != nil {
			t.s.log().Warn("chat: hand a conversation from its bot to people", "conversation_id", t.conv.ID, "err", err)
		}
	}
}

func addBotEvent(ctx context.Context, tx *store.Tx, conversationID int64, actorID *int64, typ string, data map[string]any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return tx.InsertConversationEvent(ctx, &store.ConversationEvent{ConversationID: conversationID, Type: typ,
		ActorID: actorID, Data: raw})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// maxContactProperties bounds a contact's properties JSON, as the contacts API does.
const maxContactProperties = 64 << 10

// setContactProperty stores what the bot learnt on the conversation's contact. name and company
// are the contact's own fields; an email or phone number becomes an identity of the contact only
// when no other contact has it — a visitor typing an address proves nothing (CHAT-8), and must
// not take over someone else's history — and is kept as a property either way.
func setContactProperty(ctx context.Context, tx *store.Tx, c *store.Conversation, o bot.SetContactProperty) error {
	if c.ContactID == nil {
		return nil
	}
	ct, err := tx.Contact(ctx, *c.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	props := map[string]any{}
	_ = json.Unmarshal(ct.Properties, &props) // written by the contacts API: an object
	if props == nil {
		props = map[string]any{}
	}
	value := strings.TrimSpace(o.Value)
	switch o.Property {
	case "name":
		ct.Name = value
	case "company":
		ct.Company = value
	default:
		props[o.Property] = value
	}
	if o.Property == "first_name" && ct.Name == "" {
		ct.Name = value
	}
	kind := ""
	switch {
	case o.Kind == bot.EmailAnswer || o.Property == "email":
		kind, value = "email", strings.ToLower(value)
	case o.Kind == bot.PhoneAnswer || o.Property == "phone":
		kind = "phone"
	}
	if kind != "" && (kind == "email" && strings.Contains(value, "@") || kind == "phone" && e164.MatchString(value)) {
		// AddContactIdentity leaves an identity another contact holds alone: then it stays a
		// property of this contact only.
		if _, err := tx.AddContactIdentity(ctx, ct.ID, store.Identity{Kind: kind, Value: value}); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(props)
	if err != nil {
		return err
	}
	if len(raw) > maxContactProperties {
		return nil // full: the answer stays in the conversation and the bot's state
	}
	ct.Properties = raw
	return tx.UpdateContact(ctx, ct)
}

var ticketPriorities = []string{"none", "low", "medium", "high", "urgent"}

// createTicket files a ticket for the conversation and notes it on the timeline.
func createTicket(ctx context.Context, tx *store.Tx, c *store.Conversation, o bot.TicketRequest) error {
	tk := &store.Ticket{Name: o.Subject, Description: o.Description, Priority: o.Priority, ContactID: c.ContactID,
		Source: "bot", ConversationID: &c.ID}
	if !slices.Contains(ticketPriorities, tk.Priority) {
		tk.Priority = "none"
	}
	if o.PipelineID > 0 {
		tk.PipelineID = &o.PipelineID
	}
	if o.StageID > 0 {
		tk.StageID = &o.StageID
	}
	if strings.TrimSpace(tk.Name) == "" {
		tk.Name = "Chat " + strconv.FormatInt(c.Number, 10)
	}
	if err := tx.InsertTicket(ctx, tk); err != nil {
		return err
	}
	return addBotEvent(ctx, tx, c.ID, nil, "ticket_created", map[string]any{"ticket_id": tk.ID, "name": tk.Name,
		"source": "bot"})
}

// teamsAvailable answers a bot's availability branch: whether anyone in each team (0: the
// conversation's inbox) could take a chat now, by routing's checks (capacity aside).
func (s *Service) teamsAvailable(ctx context.Context, inboxID int64, teams []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	now := s.now()
	for _, team := range teams {
		var ids []int64
		if team != 0 {
			ids = []int64{team}
		}
		agents, err := s.Store.ChatAgents(ctx, inboxID, nil, ids)
		if err != nil {
			return nil, fmt.Errorf("bot availability: %w", err)
		}
		for _, a := range agents {
			c := &routing.Candidate{UserID: a.UserID, Role: a.Role, Deactivated: a.Deactivated, InboxMember: a.InboxMember,
				Status: a.Status}
			if a.WorkingHours != nil {
				if w, err := routing.ParseWorkingHours(a.WorkingHours); err == nil {
					c.WorkingHours = w
				}
			}
			if reason, _ := routing.Check(c, true, "", now); reason == "" {
				out[team] = true
				break
			}
		}
	}
	return out, nil
}

// router is the part of inbox.Service a hand-off needs.
type router interface {
	Route(ctx context.Context, conversationID int64, rule *store.RoutingRule) (bool, error)
}

// botHandOff gives a conversation from its bot to people: routing with the chatflow's hand-off
// rule (handOffRule), limited to the users and teams the hand-off step names, if any. The run is
// already marked handed off. When nobody is eligible the visitor gets the away status, as a chat
// routed on arrival does (CHAT-6). A flow deleted since leaves the conversation unassigned.
func (s *Service) botHandOff(ctx context.Context, conv *store.Conversation, flowID int64, req bot.HandoffRequest) error {
	r, ok := s.Inbox.(router)
	if !ok || conv.ChannelID == nil {
		return nil
	}
	flows, err := s.flows(ctx, *conv.ChannelID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(flows, func(f chatflow.Flow) bool { return f.ID == flowID })
	if i < 0 {
		return nil
	}
	flow := &flows[i]
	h := flow.HandOff
	if len(req.UserIDs) > 0 || len(req.TeamIDs) > 0 {
		h.AssignTo, h.UserIDs, h.TeamIDs = routing.AssignUsersAndTeams, req.UserIDs, req.TeamIDs
	}
	assigned, err := r.Route(ctx, conv.ID, handOffRule(*conv.ChannelID, h))
	if err != nil || assigned {
		return err
	}
	visitorID, ok := visitorOf(conv.ThreadKey)
	if !ok || s.Hub == nil {
		return nil
	}
	st, err := s.flowStatus(ctx, flow)
	if err != nil {
		return err
	}
	waiting, err := s.Store.ConversationWaiting(ctx, conv.ID)
	if err != nil || !st.Away() && !waiting {
		return err
	}
	v, err := s.Store.ChatVisitor(ctx, visitorID)
	if err != nil {
		return err
	}
	away, err := s.Store.ChatVisitorAway(ctx, visitorID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.Hub.Push(visitorID, 0, statusFrame(flow, st, emailKnown(v, away)), nil)
	return nil
}

// endRun ends a conversation's active run (status handed_off or ended) with a timeline event.
// It reports nothing when no run is active.
func (s *Service) endRun(ctx context.Context, conversationID int64, status string, actorID *int64, typ string, data map[string]any) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetBotRunStatus(ctx, conversationID, store.BotRunActive, status)
		if err != nil || !ok {
			return err
		}
		if err := addBotEvent(ctx, tx, conversationID, actorID, typ, data); err != nil {
			return err
		}
		return runChanged(ctx, tx, conversationID)
	})
}

// runChanged tells the inboxes, in the transaction that ended a run, that the conversation
// changed hands: it leaves the Bots view for Unassigned (or its assignee's views), and the left
// pane's counts and the lists refresh on conversation.updated. The conversation's row is not
// written; the event carries it as it is.
func runChanged(ctx context.Context, tx *store.Tx, conversationID int64) error {
	c, err := tx.Conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	events.ConversationUpdated(tx, c)
	return nil
}

// TakeOver ends the bot's run of a conversation for an agent (CHAT-9): the conversation is the
// people's from now on. The caller checks that the agent may see it and assigns it. It fails
// with no_active_bot when no bot has the conversation.
func (s *Service) TakeOver(ctx context.Context, actor *store.User, conversationID int64) error {
	var taken bool
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetBotRunStatus(ctx, conversationID, store.BotRunActive, store.BotRunHandedOff)
		if err != nil || !ok {
			return err
		}
		taken = true
		if err := addBotEvent(ctx, tx, conversationID, actorID(actor), "bot_taken_over", map[string]any{}); err != nil {
			return err
		}
		return runChanged(ctx, tx, conversationID)
	})
	if err != nil {
		return err
	}
	if !taken {
		return problem.Conflictf(CodeNoActiveBot, "no bot has conversation %d", conversationID)
	}
	return nil
}

// closeBotRun ends the run of a conversation being closed, in the closing transaction: a chat
// the visitor comes back to is the people's. inbox.Service.Closed (Service.Closed) calls it.
func closeBotRun(ctx context.Context, tx *store.Tx, c *store.Conversation) error {
	ok, err := tx.SetBotRunStatus(ctx, c.ID, store.BotRunActive, store.BotRunEnded)
	if err != nil || !ok {
		return err
	}
	return addBotEvent(ctx, tx, c.ID, nil, "bot_ended", map[string]any{"reason": "closed"})
}

// agentReplied ends a bot's run when an agent replies in its conversation: replying is taking
// over. The chat Sender calls it for every agent message it delivers.
func (s *Service) agentReplied(ctx context.Context, conversationID int64, authorID *int64) {
	if authorID == nil {
		return
	}
	if run, err := s.Store.BotRun(ctx, conversationID); err != nil || run.Status != store.BotRunActive {
		return // most replies: no bot, nothing to write
	}
	if err := s.endRun(ctx, conversationID, store.BotRunHandedOff, authorID, "bot_taken_over",
		map[string]any{"reason": "replied"}); err != nil {
		s.log().Warn("chat: end a bot's run on an agent's reply", "conversation_id", conversationID, "err", err)
	}
}
