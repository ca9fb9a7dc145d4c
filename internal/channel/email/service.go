package email

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
)

// Inbox is what the channel needs of the inbox domain (*inbox.Service implements it).
type Inbox interface {
	Receive(ctx context.Context, in inbox.Inbound) (*store.Message, *store.Conversation, bool, error)
	UpdateMessageStatus(ctx context.Context, messageID int64, status, failureReason string) error
}

// FilterLists answers an inbox's allow and deny lists (EMAIL-6): "allow", "deny" or "".
type FilterLists interface {
	EmailFilterVerdict(ctx context.Context, inboxID int64, address string) (string, error)
}

// Service receives and sends the mail of every email channel. Set the fields, then use it.
type Service struct {
	Store *store.Store
	Inbox Inbox
	Files *files.Store
	// Filters are the inboxes' allow and deny lists; nil treats every list as empty.
	Filters  FilterLists
	Threader *thread.Threader
	// Domain is the inbound domain of receiving addresses (<inbox slug>@Domain).
	Domain string
	// Relay is the installation-wide SMTP relay (PARLEY_SMTP_RELAY); nil when none is set, and
	// then only channels with their own relay can send.
	Relay *outbound.Sender
	// NotificationFrom is the address Parley's own notifications come from: mail from it is a
	// loop, never a customer.
	NotificationFrom string
	// NewRelay builds a channel's own relay; tests set it to trust their certificates. Nil
	// uses relayFor's defaults.
	NewRelay func(SMTPSettings) (*outbound.Sender, error)
	// WakeJobs nudges the job runner after a commit that enqueued jobs.
	WakeJobs func()
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// ReceivingAddress is an inbox's own address, <slug>@<inbound domain>; "" without a domain.
func (s *Service) ReceivingAddress(in *store.Inbox) string {
	if s.Domain == "" || in == nil || in.Slug == "" {
		return ""
	}
	return in.Slug + "@" + s.Domain
}

// InboxForRecipient returns the inbox a receiving address (or one of its plus addresses)
// belongs to, or ErrNotFound. Only addresses at the inbound domain are ours.
func (s *Service) InboxForRecipient(ctx context.Context, rcpt string) (*store.Inbox, error) {
	addr, err := normalizeAddress(rcpt)
	if err != nil || s.Domain == "" || domainOf(addr) != strings.ToLower(s.Domain) {
		return nil, store.ErrNotFound
	}
	local := addr[:strings.LastIndexByte(addr, '@')]
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	if local == "" {
		return nil, store.ErrNotFound
	}
	return s.Store.InboxBySlug(ctx, local)
}
