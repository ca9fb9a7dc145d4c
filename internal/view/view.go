// Package view renders the domain's objects as the public JSON of the REST API. The API's
// handlers and the realtime event log both use it, so a client that receives a conversation in
// an event sees exactly what GET /api/v1/conversations/{id} would answer. It holds no logic
// beyond the shape: no access checks, no database.
package view

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// Time renders a unix-millisecond time as RFC 3339 in UTC with milliseconds.
func Time(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// TimePtr is Time for optional times: nil stays null.
func TimePtr(ms *int64) *string {
	if ms == nil {
		return nil
	}
	s := Time(*ms)
	return &s
}

// RawOr keeps a stored JSON column renderable even if it is empty.
func RawOr(raw json.RawMessage, def string) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(def)
	}
	return raw
}

// Conversation is a conversation as the API renders it.
type Conversation struct {
	ID                 int64    `json:"id"`
	Number             int64    `json:"number"`
	InboxID            int64    `json:"inbox_id"`
	ChannelID          *int64   `json:"channel_id"`
	ContactID          *int64   `json:"contact_id"`
	Subject            string   `json:"subject"`
	Preview            string   `json:"preview"`
	Status             string   `json:"status"`
	SnoozedUntil       *string  `json:"snoozed_until"`
	Spam               bool     `json:"spam"`
	Filtered           bool     `json:"filtered"`
	Trashed            bool     `json:"trashed"`
	TrashedAt          *string  `json:"trashed_at"`
	AssigneeID         *int64   `json:"assignee_id"`
	PreviousAssigneeID *int64   `json:"previous_assignee_id"`
	TeamID             *int64   `json:"team_id"`
	Priority           string   `json:"priority"`
	Tags               []string `json:"tags"`
	// Unread is per user: the API always sets it for the caller; events, which every member
	// of the inbox receives alike, leave it out.
	Unread         *bool   `json:"unread,omitempty"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	ClosedAt       *string `json:"closed_at"`
	LastActivityAt string  `json:"last_activity_at"`
	LastInboundAt  *string `json:"last_inbound_at"`
	LastOutboundAt *string `json:"last_outbound_at"`
}

// NewConversation renders c for a reader, with its unread marker for them.
func NewConversation(c *store.Conversation) Conversation {
	v := SharedConversation(c)
	unread := c.Unread
	v.Unread = &unread
	return v
}

// SharedConversation renders c without the per-user unread marker, for events.
func SharedConversation(c *store.Conversation) Conversation {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	return Conversation{
		ID: c.ID, Number: c.Number, InboxID: c.InboxID, ChannelID: c.ChannelID, ContactID: c.ContactID,
		Subject: c.Subject, Preview: c.Preview, Status: c.Status, SnoozedUntil: TimePtr(c.SnoozedUntil),
		Spam: c.Spam, Filtered: c.Filtered, Trashed: c.TrashedAt != nil, TrashedAt: TimePtr(c.TrashedAt),
		AssigneeID: c.AssigneeID, PreviousAssigneeID: c.PreviousAssigneeID, TeamID: c.TeamID,
		Priority: c.Priority, Tags: tags,
		CreatedAt: Time(c.CreatedAt), UpdatedAt: Time(c.UpdatedAt), ClosedAt: TimePtr(c.ClosedAt),
		LastActivityAt: Time(c.LastActivityAt), LastInboundAt: TimePtr(c.LastInboundAt),
		LastOutboundAt: TimePtr(c.LastOutboundAt),
	}
}

// Message is a message as the API renders it.
type Message struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	ChannelID      *int64          `json:"channel_id"`
	Direction      string          `json:"direction"`
	AuthorID       *int64          `json:"author_id"`
	Sender         json.RawMessage `json:"sender"`
	Recipients     json.RawMessage `json:"recipients"`
	Text           string          `json:"text"`
	HTML           string          `json:"html"`
	Attachments    json.RawMessage `json:"attachments"`
	Status         string          `json:"status"`
	FailureReason  string          `json:"failure_reason"`
	ExternalID     *string         `json:"external_id"`
	InReplyToID    *int64          `json:"in_reply_to_id"`
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
}

// NewMessage renders m.
func NewMessage(m *store.Message) Message {
	return Message{
		ID: m.ID, ConversationID: m.ConversationID, ChannelID: m.ChannelID, Direction: m.Direction,
		AuthorID: m.AuthorID, Sender: RawOr(m.Sender, "{}"), Recipients: RawOr(m.Recipients, "[]"),
		Text: m.Text, HTML: m.HTML, Attachments: RawOr(m.Attachments, "[]"), Status: m.Status,
		FailureReason: m.FailureReason, ExternalID: m.ExternalID, InReplyToID: m.InReplyToID,
		CreatedAt: Time(m.CreatedAt), UpdatedAt: Time(m.UpdatedAt),
	}
}

// Comment is an internal note as the API renders it.
type Comment struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	AuthorID       int64           `json:"author_id"`
	Body           string          `json:"body"`
	Mentions       json.RawMessage `json:"mentions"`
	CreatedAt      string          `json:"created_at"`
}

// NewComment renders c.
func NewComment(c *store.Comment) Comment {
	return Comment{ID: c.ID, ConversationID: c.ConversationID, AuthorID: c.AuthorID, Body: c.Body,
		Mentions: RawOr(c.Mentions, "{}"), CreatedAt: Time(c.CreatedAt)}
}
