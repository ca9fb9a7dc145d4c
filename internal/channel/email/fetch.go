package email

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/problem"
)

// Mailboxes lists the IMAP mailboxes of every connected email channel, for the supervisor.
func (s *Service) Mailboxes(ctx context.Context) ([]imapsync.Mailbox, error) {
	channels, err := s.Store.ChannelsOfKind(ctx, Kind)
	if err != nil {
		return nil, err
	}
	var out []imapsync.Mailbox
	for _, ch := range channels {
		if ch.Status == "paused" {
			continue
		}
		settings, err := ChannelSettings(ch)
		if err != nil {
			s.log().Warn("email: channel settings unreadable; not fetching", "channel", ch.ID, "err", err)
			continue
		}
		if settings.IMAP == nil {
			continue
		}
		out = append(out, imapsync.Mailbox{ChannelID: ch.ID, Config: IMAPConfig(*settings.IMAP)})
	}
	return out, nil
}

// IMAPConfig turns a channel's IMAP settings into the fetcher's configuration.
func IMAPConfig(c IMAPSettings) imapsync.Config {
	return imapsync.Config{Host: c.Host, Port: c.Port, Security: c.Security, Username: c.Username,
		Password: c.Password, Mailbox: c.Mailbox, Backfill: time.Duration(c.BackfillDays) * 24 * time.Hour}
}

// DeliverFetched takes in one message fetched from a channel's mailbox. Mail that is not email
// at all is skipped (logged) rather than retried forever, which would stop the mailbox.
//
// A panic while taking the message in becomes this mailbox's error: nothing recovers panics in
// the fetchers' goroutines, so one message that trips a bug would otherwise end the server,
// and again after every restart, since the message is fetched again.
func (s *Service) DeliverFetched(ctx context.Context, channelID int64, raw []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log().Error("email: panic taking in a fetched message", "channel", channelID, "bytes", len(raw),
				"panic", p, "stack", string(debug.Stack()))
			err = &panicError{value: p}
		}
	}()
	_, err = s.Receive(ctx, Delivery{ChannelID: channelID, Raw: raw})
	if p, ok := problem.As(err); ok && p.Code == "unreadable_email" {
		s.log().Warn("email: skipped a fetched message that is not email", "channel", channelID, "bytes", len(raw))
		return nil
	}
	return err
}

// panicError is a recovered panic, reported as the mailbox's error.
type panicError struct{ value any }

func (e *panicError) Error() string {
	return fmt.Sprintf("internal error taking in the message: %v", e.value)
}
