package store

import "encoding/json"

// The row types shared by the store's methods. JSON columns are json.RawMessage so callers decide
// their shape; the store only carries them.

// Team is a group of users; membership may be primary or secondary.
type Team struct {
	ID        int64
	Name      string
	CreatedAt int64
	UpdatedAt int64
}

// TeamMember is one user's membership of a team.
type TeamMember struct {
	TeamID    int64
	UserID    int64
	IsPrimary bool
}

// Inbox groups conversations and decides who sees them.
type Inbox struct {
	ID   int64
	Name string
	// Slug names the inbox's receiving address, <slug>@<inbound domain>; set once at creation.
	Slug      string
	Access    string // everyone | specific
	UserIDs   []int64
	TeamIDs   []int64
	CreatedAt int64
	UpdatedAt int64
}

// CustomChannel is a registered custom channel type (HubSpot's "channel").
type CustomChannel struct {
	ID                 int64
	Name               string
	Capabilities       json.RawMessage
	WebhookURL         string
	ConnectRedirectURL string
	Description        string
	LogoURL            string
	Secret             string
	CreatedBy          *int64
	ArchivedAt         *int64
	CreatedAt          int64
	UpdatedAt          int64
}

// Channel is a channel connected to an inbox. For kind "custom" it is a channel account of
// CustomChannelID, addressed by (AddressType, Address) — its delivery identifier.
type Channel struct {
	ID        int64
	InboxID   int64
	Kind      string
	Name      string
	Status    string // active | paused | broken
	LastError string
	Settings  json.RawMessage
	// State is what the channel itself records while it runs (never written by settings edits).
	State           json.RawMessage
	CustomChannelID *int64
	AddressType     string
	Address         string
	Authorized      bool
	ArchivedAt      *int64
	CreatedAt       int64
	UpdatedAt       int64
}

// Contact is a customer.
type Contact struct {
	ID         int64
	Name       string
	Company    string
	OwnerID    *int64
	Blocked    bool
	Properties json.RawMessage
	Identities []Identity
	CreatedAt  int64
	UpdatedAt  int64
}

// Identity is one way to reach a contact: kind "email" (lower-case), "phone" (E.164) or
// "custom:<custom channel id>" (an integration's opaque id).
type Identity struct {
	Kind  string
	Value string
}

// Conversation is one thread with a contact in an inbox.
type Conversation struct {
	ID           int64
	Number       int64
	InboxID      int64
	ChannelID    *int64
	ContactID    *int64
	ThreadKey    string
	Subject      string
	Preview      string
	Status       string // open | closed
	SnoozedUntil *int64
	Spam         bool
	// Filtered files the conversation under the Filtered view (automated mail, EMAIL-8); it is
	// stored in the spam column as 2 (0 inbox, 1 spam), so every "not spam" condition leaves it out.
	Filtered           bool
	TrashedAt          *int64
	AssigneeID         *int64
	PreviousAssigneeID *int64
	TeamID             *int64
	Priority           string // none | low | medium | high | urgent
	Tags               []string
	CreatedAt          int64
	UpdatedAt          int64
	ClosedAt           *int64
	LastActivityAt     int64
	LastInboundAt      *int64
	LastOutboundAt     *int64
	// Unread is set by reads made for a particular user.
	Unread bool
}

// Message is an inbound or outbound message on a conversation's timeline.
type Message struct {
	ID             int64
	ConversationID int64
	ChannelID      *int64
	Direction      string // inbound | outbound
	AuthorID       *int64
	Sender         json.RawMessage
	Recipients     json.RawMessage
	Text           string
	HTML           string
	Attachments    json.RawMessage
	Status         string // received | queued | sent | delivered | read | failed
	FailureReason  string
	ExternalID     *string
	IdempotencyKey *string
	InReplyToID    *int64
	CreatedAt      int64
	UpdatedAt      int64
}

// Comment is an internal note on a conversation, never sent to the customer.
type Comment struct {
	ID             int64
	ConversationID int64
	AuthorID       int64
	Body           string
	Mentions       json.RawMessage // {"user_ids": [...], "team_ids": [...]}
	CreatedAt      int64
}

// ConversationEvent is a timeline event: a status change, an assignment and why, a move…
type ConversationEvent struct {
	ID             int64
	ConversationID int64
	Type           string
	ActorID        *int64
	Data           json.RawMessage
	CreatedAt      int64
}

// AuditEntry records an admin action.
type AuditEntry struct {
	ID         int64
	ActorID    *int64
	Action     string
	TargetType string
	TargetID   *int64
	Data       json.RawMessage
	CreatedAt  int64
}

// Job is a durable unit of background work.
type Job struct {
	ID          int64
	Kind        string
	Payload     json.RawMessage
	OrderingKey string
	State       string // queued | running | done | failed
	Attempts    int
	MaxAttempts int
	RunAt       int64
	LockedBy    string
	LockedUntil *int64
	LastError   string
	CreatedAt   int64
	UpdatedAt   int64
}
