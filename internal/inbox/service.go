package inbox

import (
	"context"
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
	// RoutingRuleFor, when set, gives the rule that routes a conversation later — waiting for
	// someone, or reopened by hand — instead of its channel's; nil from it means the channel's.
	// Live chat routes by the conversation's chatflow (chatflow.HandOff).
	RoutingRuleFor func(ctx context.Context, tx *store.Tx, ch *store.Channel, c *store.Conversation) (*store.RoutingRule, error)
	// Closed, when set, runs in the transaction that closes a conversation, by a person or by the
	// system (CloseIdle): live chat tells the visitor and sends the transcript from there.
	Closed func(ctx context.Context, tx *store.Tx, c *store.Conversation) error
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

	// ConversationID, when set, appends the message to that conversation: the channel's own
	// threading chose it (an email reply). It wins over ThreadKey and may belong to another
	// channel or inbox of the same installation.
	ConversationID int64
	// Automated marks a message no person wrote (an auto-reply, a bounce): it is stored, but it
	// neither reopens nor wakes a conversation nor is it routed (EMAIL-7).
	Automated bool
	// File, for a message that opens a conversation, files the conversation under FileFiltered
	// or FileSpam instead of the inbox, explained by FileReason (and FileRule, a short stable
	// name of the rule that decided, e.g. "auto_reply" or "deny_list").
	File       string
	FileReason string
	FileRule   string
	// SearchText, when set, is what the conversation's search index and preview take from the
	// message instead of its whole text: email's new part, without the quoted history that
	// earlier messages already put in the index.
	SearchText string
	// SanitizeHTML, when set, sanitizes HTML instead of the default policy: email keeps remote
	// images parked until an agent loads them and keeps cid: references to its inline parts.
	SanitizeHTML func(string) string
	// Stored, when set, runs inside the receive transaction once a new message is stored (never
	// for a duplicate): a channel's own bookkeeping that must commit with the message, such as
	// email's seen Message-IDs and received files.
	Stored func(ctx context.Context, tx *store.Tx, msg *store.Message, conv *store.Conversation) error

	// Channel, when set, is the channel ChannelID names as the caller just read it; Receive then
	// does not read it again on the serial write path.
	Channel *store.Channel
	// FindByIdempotencyKey, when set, finds the message already stored under IdempotencyKey
	// instead of looking on this channel only: a channel whose keys are unique across several
	// accounts (a custom channel's) looks on all of them.
	FindByIdempotencyKey func(ctx context.Context, tx *store.Tx) (*store.Message, error)
	// RoutingRule, when set, routes a conversation this message opens or reopens instead of the
	// channel's rule: a chat is handed off by its chatflow's rule (chatflow.HandOff).
	RoutingRule *store.RoutingRule
	// NoRouting leaves a conversation this message opens or reopens unrouted: a chat bot has it
	// (CHAT-9) and hands it off itself (Service.Route).
	NoRouting bool
}

// Where Inbound.File files a new conversation.
const (
	FileFiltered = "filtered"
	FileSpam     = "spam"
)
