package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/realtime/wsconn"
	"github.com/parley-inbox/parley/internal/store"
)

// The visitor WebSocket's frames are JSON objects.
//
// Visitor → server:
//
//	{"type": "message", "client_id": "c-1", "text": "Hello"}   stored once per client_id
//	    optional "files": ["<handle>", …] from POST …/files (files.go); text may then be empty
//	{"type": "answer", "client_id": "c-2", "text": "sales"}    a bot's quick reply or a typed answer (botrun.go);
//	    stored like a message; a plain message while a bot waits is an answer too
//	{"type": "typing"}
//	{"type": "read", "message_id": 42}                          read up to an agent's message
//	{"type": "email", "email": "ada@example.com"}               an address for replies while away (away.go)
//	{"type": "consent", "flow_id": 3}                           explicit consent to the flow's text (consent.go)
//
// Server → visitor:
//
//	{"type": "message", "seq": 42, "message": {...}}            agents' replies and the visitor's own
//	    a bot's message has "from": "bot" and may have "quick_replies": [{"label","value"}],
//	    "input" (the answer kind the bot waits for) and "link": {"url","label"}
//	{"type": "ack", "client_id": "c-1", "message_id": 41}       the visitor's message is committed
//	{"type": "typing", "from": "agent", "name": "Ada"}
//	{"type": "read", "message_id": 41}                          an agent read up to the visitor's message 41
//	{"type": "bot_preview", "messages": [{...}, …]}             before "ready", to a visitor without a conversation
//	    on a bot flow's page: the bot's opening messages (message objects without id), not stored
//	    yet; the visitor's first message (the answer) stores them, and they then arrive as message
//	    frames before that message's ack — the widget replaces the preview with them (botrun.go)
//	{"type": "ready", "seq": 42}                                replay done; live from here
//	{"type": "resync_required", "seq": 42}                      reload the conversation
//	{"type": "error", "code": "…", "detail": "…", "client_id": "c-1"}
//	{"type": "status", "away": true, "message": "…", "back_at": "…", "collect_email": true,
//	    "email_known": false}                                  the team is away (away.go), at connect too
//	{"type": "consent", "flow_id": 3, "given": true}            a consent frame was recorded (consent.go)
//	{"type": "closed"}                                          the conversation was closed (autoclose.go)
//
// A visitor who moves to another page (a single-page site) says so:
//
//	{"type": "page", "url": "https://…", "title": "Pricing"}
//
// seq is a message id: a widget resumes with ?since=<the highest seq it saw>.

// Client frame types.
const (
	frameMessage = "message"
	frameAnswer  = "answer"
	frameTyping  = "typing"
	frameRead    = "read"
)

// Limits of client frames.
const (
	// maxClientFrame bounds one visitor frame: a message of maxText bytes plus its envelope
	// and up to maxFilesPerMessage file handles.
	maxClientFrame = maxText + 1024
	maxText        = 8 << 10
	maxClientID    = 64
)

// clientFrame is one frame a visitor sent.
type clientFrame struct {
	Type      string `json:"type"`
	ClientID  string `json:"client_id,omitempty"`
	Text      string `json:"text,omitempty"`
	MessageID int64  `json:"message_id,omitempty"`
	// Files are handles of the visitor's uploads (message only).
	Files []string `json:"files,omitempty"`
	// URL and Title are a page frame's (visitor_context.go).
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	// Email is an email frame's address (away.go); FlowID a consent frame's flow (consent.go).
	Email  string `json:"email,omitempty"`
	FlowID int64  `json:"flow_id,omitempty"`
}

// parseClientFrame decodes and checks a visitor frame strictly: one JSON object, known fields
// only, a known type with exactly its fields.
func parseClientFrame(b []byte) (clientFrame, error) {
	var f clientFrame
	if err := wsconn.DecodeFrame(b, maxClientFrame, &f); err != nil {
		return clientFrame{}, err
	}
	if f.Files != nil && f.Type != frameMessage {
		return clientFrame{}, errors.New("only a message takes files")
	}
	if f.Type != framePage && (f.URL != "" || f.Title != "") {
		return clientFrame{}, errors.New("only a page frame takes url and title")
	}
	if (f.Email != "") != (f.Type == frameEmail) {
		return clientFrame{}, errors.New("an email frame takes email, and only it")
	}
	if (f.FlowID != 0) != (f.Type == frameConsent) {
		return clientFrame{}, errors.New("a consent frame takes flow_id, and only it")
	}
	switch f.Type {
	case frameEmail, frameConsent:
		if err := f.checkAway(); err != nil {
			return clientFrame{}, err
		}
	case framePage:
		if err := f.checkPage(); err != nil {
			return clientFrame{}, err
		}
	case frameMessage:
		if f.ClientID == "" || len(f.ClientID) > maxClientID || !printable(f.ClientID) {
			return clientFrame{}, fmt.Errorf("a message needs a client_id of 1 to %d printable characters", maxClientID)
		}
		if strings.TrimSpace(f.Text) == "" && len(f.Files) == 0 {
			return clientFrame{}, errors.New("a message needs text or files")
		}
		if len(f.Files) > maxFilesPerMessage {
			return clientFrame{}, fmt.Errorf("a message carries at most %d files", maxFilesPerMessage)
		}
		for _, h := range f.Files {
			if h == "" || len(h) > 100 || !printable(h) {
				return clientFrame{}, errors.New("files must be the ids the upload answered")
			}
		}
		if len(f.Files) == 0 {
			f.Files = nil // "files": [] is none
		}
		if len(f.Text) > maxText || !utf8.ValidString(f.Text) {
			return clientFrame{}, fmt.Errorf("text must be valid UTF-8 of at most %d bytes", maxText)
		}
		if f.MessageID != 0 {
			return clientFrame{}, errors.New("a message takes no message_id")
		}
	case frameAnswer:
		if f.ClientID == "" || len(f.ClientID) > maxClientID || !printable(f.ClientID) {
			return clientFrame{}, fmt.Errorf("an answer needs a client_id of 1 to %d printable characters", maxClientID)
		}
		if strings.TrimSpace(f.Text) == "" || len(f.Text) > maxText || !utf8.ValidString(f.Text) {
			return clientFrame{}, fmt.Errorf("an answer needs text: valid UTF-8 of at most %d bytes", maxText)
		}
		if f.MessageID != 0 {
			return clientFrame{}, errors.New("an answer takes no message_id")
		}
	case frameTyping:
		if f.ClientID != "" || f.Text != "" || f.MessageID != 0 {
			return clientFrame{}, errors.New("typing takes no other fields")
		}
	case frameRead:
		if f.MessageID <= 0 {
			return clientFrame{}, errors.New("read needs a positive message_id")
		}
		if f.ClientID != "" || f.Text != "" {
			return clientFrame{}, errors.New("read takes only message_id")
		}
	default:
		return clientFrame{}, fmt.Errorf("unknown frame type %q (want message, answer, typing, read, page, email or consent)", f.Type)
	}
	return f, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// messageJSON is a message as a visitor sees it: no internal ids of agents, no delivery
// failure reasons.
type messageJSON struct {
	ID int64 `json:"id"`
	// From is "visitor", "agent" or "bot".
	From       string `json:"from"`
	AuthorName string `json:"author_name,omitempty"`
	Text       string `json:"text"`
	ClientID   string `json:"client_id,omitempty"`
	// Files are the message's attachments (files.go).
	Files     []fileJSON `json:"files,omitempty"`
	Status    string     `json:"status"`
	CreatedAt string     `json:"created_at"`
	// A bot's message: the quick replies it offers, the kind of answer it waits for, a link.
	QuickReplies []quickReplyJSON `json:"quick_replies,omitempty"`
	Input        string           `json:"input,omitempty"`
	Link         *linkJSON        `json:"link,omitempty"`
}

type messageFrameJSON struct {
	Type    string      `json:"type"`
	Seq     int64       `json:"seq"`
	Message messageJSON `json:"message"`
}

// visible reports whether the visitor sees a message: every message of their conversation
// except agents' messages that failed (never reached them) — internal notes are comments, not
// messages, so they never get here.
func visible(m *store.Message) bool {
	return !(m.Direction == "outbound" && m.Status == "failed")
}

func messageFrame(m *store.Message) []byte {
	j := messageJSON{ID: m.ID, From: "visitor", Text: m.Text, Status: m.Status,
		CreatedAt: time.UnixMilli(m.CreatedAt).UTC().Format(time.RFC3339Nano), Files: messageFiles(m.Attachments)}
	if m.Direction == "outbound" {
		j.From = "agent"
		var sender botSender
		_ = json.Unmarshal(m.Sender, &sender) // a missing name shows none
		j.AuthorName = firstName(sender.Name)
		if sender.Bot {
			j.From, j.AuthorName = "bot", sender.Name
			j.QuickReplies, j.Input, j.Link = sender.QuickReplies, sender.Input, sender.Link
		}
	} else if m.IdempotencyKey != nil {
		j.ClientID = *m.IdempotencyKey
	}
	b, _ := json.Marshal(messageFrameJSON{Type: "message", Seq: m.ID, Message: j})
	return b
}

// firstName is what visitors see of an agent: their first name, as chat widgets do.
func firstName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, ' '); i > 0 {
		return name[:i]
	}
	return name
}

func ackFrame(clientID string, messageID int64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "ack", "client_id": clientID, "message_id": messageID})
	return b
}

func typingFrame(name string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "typing", "from": "agent", "name": firstName(name)})
	return b
}

func readFrame(messageID int64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "read", "message_id": messageID})
	return b
}

func readyFrame(seq int64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "ready", "seq": seq})
	return b
}

func resyncFrame(seq int64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "resync_required", "seq": seq})
	return b
}

func errorFrame(code, detail, clientID string) []byte {
	m := map[string]any{"type": "error", "code": code, "detail": detail}
	if clientID != "" {
		m["client_id"] = clientID
	}
	b, _ := json.Marshal(m)
	return b
}
