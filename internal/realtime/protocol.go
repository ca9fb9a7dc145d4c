package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/parley-inbox/parley/internal/realtime/wsconn"
	"github.com/parley-inbox/parley/internal/store"
)

// Server frames are JSON objects. Events carry a seq; the others (ready, resync_required,
// presence, typing, error) do not.
//
//	{"seq": 42, "type": "message.created", "data": {...}}
//	{"type": "ready", "seq": 42}
//	{"type": "resync_required", "oldest_seq": 17, "seq": 42}
//	{"type": "presence", "conversation_id": 7, "user_ids": [1, 3]}
//	{"type": "typing", "conversation_id": 7, "user_id": 3, "mode": "reply"}
//	{"type": "typing", "conversation_id": 7, "from": "visitor", "mode": "reply"}    a live chat visitor
//	{"type": "error", "code": "conversation_not_found", "detail": "…", "conversation_id": 7}

// eventFrame encodes an event once; every recipient shares the bytes.
func eventFrame(e *store.Event) []byte {
	typ, _ := json.Marshal(e.Type) // a string always marshals
	b := make([]byte, 0, len(e.Data)+len(typ)+40)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"type":`...)
	b = append(b, typ...)
	b = append(b, `,"data":`...)
	b = append(b, e.Data...)
	return append(b, '}')
}

func readyFrame(seq int64) []byte {
	return []byte(`{"type":"ready","seq":` + strconv.FormatInt(seq, 10) + `}`)
}

func resyncFrame(oldest, latest int64) []byte {
	return []byte(`{"type":"resync_required","oldest_seq":` + strconv.FormatInt(oldest, 10) +
		`,"seq":` + strconv.FormatInt(latest, 10) + `}`)
}

type presenceJSON struct {
	Type           string  `json:"type"`
	ConversationID int64   `json:"conversation_id"`
	UserIDs        []int64 `json:"user_ids"`
}

func presenceFrame(conversationID int64, userIDs []int64) []byte {
	if userIDs == nil {
		userIDs = []int64{}
	}
	b, _ := json.Marshal(presenceJSON{Type: "presence", ConversationID: conversationID, UserIDs: userIDs})
	return b
}

type typingJSON struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	UserID         int64  `json:"user_id,omitempty"`
	From           string `json:"from,omitempty"`
	Mode           string `json:"mode"`
}

// fromVisitor names a typist who is not a user: the visitor of a live chat conversation.
const fromVisitor = "visitor"

func typingFrame(conversationID, userID int64, mode string) []byte {
	b, _ := json.Marshal(typingJSON{Type: "typing", ConversationID: conversationID, UserID: userID, Mode: mode})
	return b
}

// visitorTypingFrame is typing by a conversation's visitor. What a visitor writes is always a
// message the agents see, so its mode is reply.
func visitorTypingFrame(conversationID int64) []byte {
	b, _ := json.Marshal(typingJSON{Type: "typing", ConversationID: conversationID, From: fromVisitor, Mode: modeReply})
	return b
}

type errorJSON struct {
	Type           string `json:"type"`
	Code           string `json:"code"`
	Detail         string `json:"detail"`
	ConversationID int64  `json:"conversation_id,omitempty"`
}

func errorFrame(code, detail string, conversationID int64) []byte {
	b, _ := json.Marshal(errorJSON{Type: "error", Code: code, Detail: detail, ConversationID: conversationID})
	return b
}

// Client frames.
const (
	frameView   = "view"   // I am looking at this conversation
	frameLeave  = "leave"  // I stopped looking at it
	frameTyping = "typing" // I am typing a reply or a comment on it
)

// Typing modes.
const (
	modeReply   = "reply"
	modeComment = "comment"
)

// maxClientFrame bounds one client frame; the largest valid one is well under 200 bytes.
const maxClientFrame = 1024

// clientFrame is one frame a client sent.
type clientFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	Mode           string `json:"mode,omitempty"`
}

// parseClientFrame decodes and checks a client frame strictly: one JSON object, known fields
// only, a known type, a positive conversation id, and a mode exactly for typing.
func parseClientFrame(b []byte) (clientFrame, error) {
	var f clientFrame
	if err := wsconn.DecodeFrame(b, maxClientFrame, &f); err != nil {
		return clientFrame{}, err
	}
	switch f.Type {
	case frameView, frameLeave:
		if f.Mode != "" {
			return clientFrame{}, fmt.Errorf("%s takes no mode", f.Type)
		}
	case frameTyping:
		if f.Mode != modeReply && f.Mode != modeComment {
			return clientFrame{}, errors.New(`typing needs mode "reply" or "comment"`)
		}
	default:
		return clientFrame{}, fmt.Errorf("unknown frame type %q (want view, leave or typing)", f.Type)
	}
	if f.ConversationID <= 0 {
		return clientFrame{}, errors.New("conversation_id must be a positive whole number")
	}
	return f, nil
}

// ephemeral is what nodes tell each other about presence and typing (through events.Bus).
type ephemeral struct {
	Node           string  `json:"node"` // the sending node, which keys its presence list
	Kind           string  `json:"kind"` // presence | typing
	ConversationID int64   `json:"conversation_id"`
	InboxID        int64   `json:"inbox_id"`
	UserIDs        []int64 `json:"user_ids,omitempty"` // presence: this node's viewers
	UserID         int64   `json:"user_id,omitempty"`  // typing by a user
	From           string  `json:"from,omitempty"`     // typing by a visitor: "visitor", and no user_id
	Mode           string  `json:"mode,omitempty"`     // typing
}

// maxRemoteViewers bounds a presence list from another node.
const maxRemoteViewers = 200

func parseEphemeral(b []byte) (ephemeral, error) {
	var e ephemeral
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	if e.Node == "" || e.ConversationID <= 0 || e.InboxID <= 0 {
		return e, errors.New("ephemeral message without conversation or inbox")
	}
	switch e.Kind {
	case "presence":
		if len(e.UserIDs) > maxRemoteViewers {
			return e, errors.New("too many viewers")
		}
	case "typing":
		byUser := e.From == "" && e.UserID > 0
		byVisitor := e.From == fromVisitor && e.UserID == 0
		if !(byUser || byVisitor) || (e.Mode != modeReply && e.Mode != modeComment) {
			return e, errors.New("bad typing message")
		}
	default:
		return e, fmt.Errorf("unknown ephemeral kind %q", e.Kind)
	}
	return e, nil
}
