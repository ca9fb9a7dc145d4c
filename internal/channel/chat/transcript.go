package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Transcripts (CHAT-11): when a chat closes and the visitor's email is known, and when an agent
// asks (POST /api/v1/conversations/{id}/transcript), the conversation's messages — names and
// times, never internal comments, which are not messages — go by email from the inbox's email
// channel, in plain text and simple HTML, through a durable job.

// TranscriptJob emails one conversation's transcript.
const TranscriptJob = "chat.transcript"

// Error codes of transcripts.
const (
	CodeNoTranscriptAddress = "no_transcript_address"
	CodeInvalidRecipient    = "invalid_recipient"
)

// maxTranscriptMessages bounds one transcript; a chat longer than that sends its latest ones.
const maxTranscriptMessages = 2000

type transcriptPayload struct {
	ConversationID int64  `json:"conversation_id"`
	To             string `json:"to"`
}

func enqueueTranscript(ctx context.Context, tx *store.Tx, conversationID int64, to string) error {
	_, err := tx.EnqueueJob(ctx, store.NewJob{Kind: TranscriptJob, Payload: transcriptPayload{ConversationID: conversationID, To: to},
		OrderingKey: "chat-transcript:" + strconv.FormatInt(conversationID, 10)})
	return err
}

// Closed is inbox.Service.Closed: a chat that closes tells the visitor ({"type":"closed"}) and,
// when their email is known, is sent to them as a transcript.
func (s *Service) Closed(ctx context.Context, tx *store.Tx, c *store.Conversation) error {
	visitorID, ok := visitorOf(c.ThreadKey)
	if !ok || c.ChannelID == nil {
		return nil
	}
	ch, err := tx.Channel(ctx, *c.ChannelID)
	if err != nil || ch.Kind != Kind {
		return err
	}
	// A closed chat is no longer the bot's: reopened by hand, it is the team's.
	if err := closeBotRun(ctx, tx, c); err != nil {
		return err
	}
	// Before commit, but a close that then fails only makes the widget offer a new chat early,
	// and the visitor's next message continues this one.
	s.pushEverywhere(visitorID, []byte(`{"type":"closed"}`))
	if s.Email == nil {
		return nil
	}
	to, err := s.visitorEmail(ctx, visitorID)
	if err != nil || to == "" {
		return err
	}
	if err := enqueueTranscript(ctx, tx, c.ID, to); err != nil {
		return err
	}
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
	return nil
}

// RequestTranscript emails a chat's transcript to an address an agent gives, or to the
// visitor's when to is empty. The caller has checked that actor may see the conversation.
func (s *Service) RequestTranscript(ctx context.Context, actor *store.User, conversationID int64, to string) (string, error) {
	conv, err := s.Store.Conversation(ctx, conversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem.NotFoundf("conversation_not_found", "no conversation %d", conversationID)
	} else if err != nil {
		return "", err
	}
	// Any conversation's messages can be sent to an address an agent gives; only a chat has a
	// visitor whose address is the default.
	visitorID, isChat := visitorOf(conv.ThreadKey)
	if isChat && conv.ChannelID != nil {
		ch, err := s.Store.Channel(ctx, *conv.ChannelID)
		if err != nil {
			return "", err
		}
		isChat = ch.Kind == Kind
	}
	switch {
	case strings.TrimSpace(to) != "":
		if to = parseEmail(to); to == "" {
			return "", problem.Field(CodeInvalidRecipient, "to", "must be an email address")
		}
	case !isChat:
		return "", problem.Field(CodeNoTranscriptAddress, "to", "is required: the conversation is not a live chat")
	default:
		if to, err = s.visitorEmail(ctx, visitorID); err != nil {
			return "", err
		} else if to == "" {
			return "", problem.Field(CodeNoTranscriptAddress, "to", "the visitor left no email address; give one")
		}
	}
	if s.Email == nil {
		return "", problem.New(problem.Unavailable, "email_unavailable", "this server sends no email")
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := enqueueTranscript(ctx, tx, conv.ID, to); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"conversation_id": conv.ID, "to": to})
		e := &store.AuditEntry{Action: "conversation.transcript", TargetType: "conversation", TargetID: &conv.ID, Data: b}
		if actor != nil {
			e.ActorID = &actor.ID
		}
		return tx.AddAuditEntry(ctx, e)
	})
	if err == nil && s.WakeJobs != nil {
		s.WakeJobs()
	}
	return to, err
}

// Transcript is the jobs.Handler of TranscriptJob.
func (s *Service) Transcript(ctx context.Context, job *store.Job) error {
	var p transcriptPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.ConversationID <= 0 || p.To == "" {
		return channel.Permanent(fmt.Errorf("chat transcript job %d: bad payload", job.ID))
	}
	conv, err := s.Store.Conversation(ctx, p.ConversationID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if s.Email == nil {
		return channel.Permanent(errors.New("chat transcript: this server sends no email"))
	}
	ch, err := s.emailChannel(ctx, conv.InboxID)
	if err != nil {
		return err
	}
	if ch == nil {
		return channel.Permanent(fmt.Errorf("chat transcript: inbox %d has no email channel", conv.InboxID))
	}
	msgs, err := s.Store.ChatMessagesAfter(ctx, conv.ID, 0, maxTranscriptMessages)
	if err != nil {
		return err
	}
	visitorID, _ := visitorOf(conv.ThreadKey)
	subject, err := s.chatSubject(ctx, visitorID, conv)
	if err != nil {
		return err
	}
	lang := s.visitorLanguage(ctx, visitorID)
	text, htm := renderTranscript(msgs, lang)
	return s.Email.SendNotice(ctx, ch, p.To, subject, text, htm)
}

// transcriptWords are a transcript's few words, by the flow's language.
var transcriptWords = map[string]struct{ subject, you, agent string }{
	"en": {"Your conversation with %s", "You", "Agent"},
	"sv": {"Din konversation med %s", "Du", "Handläggare"},
	"nb": {"Samtalen din med %s", "Du", "Saksbehandler"},
	"da": {"Din samtale med %s", "Du", "Medarbejder"},
}

// visitorLanguage is the language of the visitor's chatflow, else English.
func (s *Service) visitorLanguage(ctx context.Context, visitorID int64) string {
	v, err := s.Store.ChatVisitor(ctx, visitorID)
	if err != nil {
		return "en"
	}
	if f, _, err := s.visitorChatflow(ctx, v.ChannelID, visitorID); err == nil && f != nil {
		if _, ok := transcriptWords[f.Language]; ok {
			return f.Language
		}
	}
	return "en"
}

// chatSubject is the subject of mail about a chat that has none: "Your conversation with <inbox>".
func (s *Service) chatSubject(ctx context.Context, visitorID int64, conv *store.Conversation) (string, error) {
	if conv.Subject != "" {
		return conv.Subject, nil
	}
	ib, err := s.Store.Inbox(ctx, conv.InboxID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(transcriptWords[s.visitorLanguage(ctx, visitorID)].subject, ib.Name), nil
}

// renderTranscript writes the messages the visitor saw as plain text and simple HTML.
func renderTranscript(msgs []store.Message, lang string) (text, htm string) {
	words, ok := transcriptWords[lang]
	if !ok {
		words = transcriptWords["en"]
	}
	var t, h strings.Builder
	h.WriteString(`<div style="font-family:sans-serif;font-size:14px">`)
	for i := range msgs {
		m := &msgs[i]
		if !visible(m) {
			continue
		}
		var sender struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(m.Sender, &sender)
		name := words.you
		if m.Direction == "outbound" {
			name = firstName(sender.Name)
			if name == "" {
				name = words.agent
			}
		}
		at := time.UnixMilli(m.CreatedAt).UTC().Format("2006-01-02 15:04 UTC")
		body := strings.TrimSpace(m.Text)
		fmt.Fprintf(&t, "%s, %s\n%s\n\n", name, at, body)
		fmt.Fprintf(&h, `<p><strong>%s</strong> <span style="color:#6b7280">%s</span><br>%s</p>`,
			html.EscapeString(name), html.EscapeString(at), strings.ReplaceAll(html.EscapeString(body), "\n", "<br>"))
	}
	h.WriteString(`</div>`)
	return t.String(), h.String()
}
