package inbox

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/store"
)

// DeliverJob is the job kind that delivers one outbound message through its channel's Sender.
const DeliverJob = "message.deliver"

// Service is the inbox domain.
type Service struct {
	Store *store.Store
	Log   *slog.Logger
	// Senders deliver outbound messages, by channel kind.
	Senders map[string]channel.Sender
	// WakeJobs, when set, is called after a commit that enqueued jobs so that a worker in this
	// process starts on them at once instead of at its next poll.
	WakeJobs func()
	// Now, when set, is the clock routing decides by (working hours, availability); tests fix it.
	Now func() time.Time
}

// wakeJobs nudges the job runner; it is safe when no runner is wired (tests, CLI).
func (s *Service) wakeJobs() {
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
}

// Inbound is one message that arrived on a channel, in the channel-neutral shape every adapter
// produces. Receive stores it exactly once.
type Inbound struct {
	ChannelID int64
	// ThreadKey threads messages: those on one channel with the same key share a conversation.
	ThreadKey string
	// Direction is "inbound" (from the customer) or "outbound" (a business message sent outside
	// Parley that the integration mirrors in).
	Direction string
	// IdempotencyKey and ExternalID make receiving idempotent per channel; either may be empty.
	IdempotencyKey string
	ExternalID     string
	// Contact identifies the customer; Receive finds the contact by any identity or creates one.
	ContactName       string
	ContactIdentities []store.Identity
	// ContactID, when set, names an existing contact directly (pre-resolved by the integration).
	ContactID *int64

	Subject     string
	Text        string
	HTML        string // sanitized by Receive
	Sender      json.RawMessage
	Recipients  json.RawMessage
	Attachments json.RawMessage
	InReplyToID *int64
	At          int64 // when it was sent, unix ms; 0 means now
}
