package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/store"
)

// Away (CHAT-5, CHAT-6): when the visitor's chatflow says the team is away, or a hand-off found
// nobody eligible, the visitor gets a "status" frame with the flow's away message, when the
// team is back and whether to leave an email address. An address left that way is unverified:
// it is kept on the visitor, offered to their contact only when no other contact holds it, and
// never becomes an identity that opens someone's conversations (CHAT-8). While the visitor is
// gone, agents' replies also go to it by email through the inbox's email channel, threaded so
// the customer's answer comes back into the same chat conversation (channel/email/thread).

// Mailer sends chat mail through the email channel (*email.Service implements it).
type Mailer interface {
	// Send delivers an agent's message through an email channel, threaded by Message-ID.
	Send(ctx context.Context, out *channel.Outbound) (string, error)
	// SendNotice sends an automatic message that threads nothing: a transcript.
	SendNotice(ctx context.Context, ch *store.Channel, to, subject, text, html string) error
}

// EmailReplyJob emails an agent's chat reply to a visitor who was not there to see it.
const EmailReplyJob = "chat.email_reply"

// emailReplyDelay is how long a reply waits before it goes by email: a visitor who only
// reloaded the page or came back soon reads it in the widget (it is then delivered) instead.
const emailReplyDelay = 2 * time.Minute

// frameEmail is the visitor's frame with an address for replies while away.
const frameEmail = "email"

// CodeInvalidEmail refuses an email frame whose address is not one.
const CodeInvalidEmail = "invalid_email"

const maxEmail = 254

// flowStatus is the flow's availability now.
func (s *Service) flowStatus(ctx context.Context, f *chatflow.Flow) (chatflow.Status, error) {
	anyone, err := s.anyoneAvailable(ctx, f)
	if err != nil {
		return chatflow.Status{}, err
	}
	return chatflow.Available(f, s.now(), anyone), nil
}

// emailKnown says whether replies can reach the visitor by email.
func emailKnown(v *store.ChatVisitor, a *store.ChatVisitorAway) bool {
	return v.Email != "" || (a != nil && a.CollectedEmail != "")
}

type statusJSON struct {
	Type         string `json:"type"`
	Away         bool   `json:"away"`
	Message      string `json:"message,omitempty"`
	BackAt       string `json:"back_at,omitempty"`
	CollectEmail bool   `json:"collect_email"`
	EmailKnown   bool   `json:"email_known"`
	// Email is the address the visitor just left, in the answer to their email frame.
	Email string `json:"email,omitempty"`
}

// statusFrame tells the visitor the team is away: the flow's message (empty: the widget's own
// text in the flow's language), when they are back (if the flow shows it and has a schedule),
// and whether to ask for an email address.
func statusFrame(f *chatflow.Flow, st chatflow.Status, known bool) []byte {
	j := statusJSON{Type: "status", Away: true, Message: f.Away.Message, CollectEmail: f.Away.CollectEmail, EmailKnown: known}
	if f.Away.ShowBackAt && st.BackAt != nil {
		j.BackAt = st.BackAt.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(j)
	return b
}

// tellAway pushes the away status to the visitor's connections: when the flow is away, or
// always when nobody took the chat (nobody).
func (s *Service) tellAway(ctx context.Context, visitorID int64, f *chatflow.Flow, nobody bool) {
	if s.Hub == nil {
		return
	}
	st, err := s.flowStatus(ctx, f)
	if err != nil {
		s.log().Warn("chat: flow availability", "chatflow_id", f.ID, "err", err)
		return
	}
	if !st.Away() && !nobody {
		return
	}
	v, err := s.Store.ChatVisitor(ctx, visitorID)
	if err != nil {
		return
	}
	a, _ := s.Store.ChatVisitorAway(ctx, visitorID)
	s.pushEverywhere(visitorID, statusFrame(f, st, emailKnown(v, a)))
}

// connected tells a visitor who just connected whether the team is away.
func (sess *session) connected(ctx context.Context) {
	s := sess.svc
	f, a, err := s.visitorChatflow(ctx, sess.w.ch.ID, sess.visitor.ID)
	if err != nil || f == nil {
		return
	}
	st, err := s.flowStatus(ctx, f)
	if err != nil {
		s.log().Warn("chat: flow availability", "chatflow_id", f.ID, "err", err)
		return
	}
	if st.Away() {
		sess.conn.Push(outgoing{data: statusFrame(f, st, emailKnown(sess.visitor, a))})
	}
}

// parseEmail returns the normalised address of an email frame, or "".
func parseEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmail {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return ""
	}
	return strings.ToLower(s)
}

// checkAway checks an email or consent frame (protocol.go calls it).
func (f *clientFrame) checkAway() error {
	if f.ClientID != "" || f.Text != "" || f.MessageID != 0 {
		return fmt.Errorf("%s takes no other fields", f.Type)
	}
	switch f.Type {
	case frameEmail:
		if len(f.Email) > maxEmail {
			return fmt.Errorf("email must be at most %d bytes", maxEmail)
		}
	case frameConsent:
		if f.FlowID <= 0 {
			return errors.New("consent needs a positive flow_id")
		}
	}
	return nil
}

// email stores the address a visitor left and answers with the status, now knowing it.
func (sess *session) email(ctx context.Context, raw string) {
	s, v := sess.svc, sess.visitor
	addr := parseEmail(raw)
	if addr == "" {
		sess.conn.Push(outgoing{data: errorFrame(CodeInvalidEmail, "that is not an email address", "")})
		return
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetChatVisitorCollectedEmail(ctx, v.ID, addr, s.now().UnixMilli()); err != nil {
			return err
		}
		c, err := tx.ConversationByThread(ctx, sess.w.ch.ID, v.ThreadKey())
		if errors.Is(err, store.ErrNotFound) || err == nil && c.ContactID == nil {
			return nil // the first message offers it to the contact (prepareMessage)
		} else if err != nil {
			return err
		}
		_, err = tx.AddContactIdentity(ctx, *c.ContactID, store.Identity{Kind: "email", Value: addr})
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("chat: store a visitor's email", "visitor_id", v.ID, "err", err)
		}
		sess.conn.Push(outgoing{data: errorFrame("internal", "the address could not be saved; send it again", "")})
		return
	}
	j := statusJSON{Type: "status", EmailKnown: true, Email: addr}
	if f, _, err := s.visitorChatflow(ctx, sess.w.ch.ID, v.ID); err == nil && f != nil {
		if st, err := s.flowStatus(ctx, f); err == nil && st.Away() {
			var b statusJSON
			_ = json.Unmarshal(statusFrame(f, st, true), &b)
			b.Email = addr
			j = b
		}
	}
	b, _ := json.Marshal(j)
	s.pushEverywhere(v.ID, b) // every tab shows it
}

// visitorEmail is where mail for the visitor goes: their verified address, else the one they left.
func (s *Service) visitorEmail(ctx context.Context, visitorID int64) (string, error) {
	v, err := s.Store.ChatVisitor(ctx, visitorID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if v.Email != "" {
		return v.Email, nil
	}
	a, err := s.Store.ChatVisitorAway(ctx, visitorID)
	if err != nil {
		return "", err
	}
	return a.CollectedEmail, nil
}

// queueEmailReply enqueues EmailReplyJob for an agent's reply when the visitor is not connected
// here and has an address. Sender.Send calls it; the job checks again, later, whether the
// widget got the reply in the meantime.
func (s *Service) queueEmailReply(ctx context.Context, visitorID int64, m *store.Message) error {
	if s.Email == nil || m.Direction != "outbound" || (s.Hub != nil && s.Hub.connected(visitorID)) {
		return nil
	}
	to, err := s.visitorEmail(ctx, visitorID)
	if err != nil || to == "" {
		return err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.EnqueueJob(ctx, store.NewJob{Kind: EmailReplyJob, Payload: map[string]int64{"message_id": m.ID},
			OrderingKey: "chat-email:" + strconv.FormatInt(m.ConversationID, 10),
			RunAt:       s.now().Add(emailReplyDelay).UnixMilli()})
		return err
	})
	if err == nil && s.WakeJobs != nil {
		s.WakeJobs()
	}
	return err
}

// emailChannel returns the inbox's first email channel that is not archived, or nil.
func (s *Service) emailChannel(ctx context.Context, inboxID int64) (*store.Channel, error) {
	list, err := s.Store.ChannelsByInbox(ctx, inboxID)
	if err != nil {
		return nil, err
	}
	for _, ch := range list {
		if ch.Kind == "email" && ch.ArchivedAt == nil {
			return ch, nil
		}
	}
	return nil, nil
}

// EmailReply is the jobs.Handler of EmailReplyJob: it emails an agent's reply that the widget
// has not delivered, through the inbox's email channel. The email channel records the mail's
// Message-ID against the chat conversation, so the customer's reply threads back into it.
func (s *Service) EmailReply(ctx context.Context, job *store.Job) error {
	var p struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.MessageID <= 0 {
		return channel.Permanent(fmt.Errorf("chat email reply job %d: bad payload", job.ID))
	}
	msg, err := s.Store.Message(ctx, p.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if msg.Status != "sent" && msg.Status != "queued" {
		return nil // delivered or read in the widget, or failed
	}
	conv, err := s.Store.Conversation(ctx, msg.ConversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	visitorID, ok := visitorOf(conv.ThreadKey)
	if !ok || s.Email == nil {
		return nil
	}
	to, err := s.visitorEmail(ctx, visitorID)
	if err != nil || to == "" {
		return err
	}
	ch, err := s.emailChannel(ctx, conv.InboxID)
	if err != nil {
		return err
	}
	if ch == nil {
		s.log().Info("chat: no email channel in the inbox; the reply waits for the visitor", "conversation_id", conv.ID)
		return nil
	}
	m := *msg
	m.Recipients, _ = json.Marshal([]map[string]string{{"kind": "to", "email": to}})
	m.Attachments = json.RawMessage("[]") // chat files are the widget's; the email says so in text
	c := *conv
	if c.Subject == "" {
		c.Subject, err = s.chatSubject(ctx, visitorID, conv)
		if err != nil {
			return err
		}
	}
	out := &channel.Outbound{Message: &m, Conversation: &c, Channel: ch}
	if msg.AuthorID != nil {
		if u, err := s.Store.User(ctx, *msg.AuthorID); err == nil {
			out.Author = u
		}
	}
	_, err = s.Email.Send(ctx, out)
	if channel.IsPermanent(err) {
		s.log().Warn("chat: email a reply", "message_id", msg.ID, "err", err)
	}
	return err
}
