package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/store"
)

// SendNotice sends one automatic message that is no reply — a chat transcript (CHAT-11) — from
// an email channel's team address to one recipient, through the channel's relay. It is marked
// automatic (RFC 3834) so that out-of-office robots do not answer it, and has a Message-ID of
// its own that threads nothing. Errors wrapped by channel.Permanent will not go away by retrying.
func (s *Service) SendNotice(ctx context.Context, ch *store.Channel, to, subject, text, html string) error {
	settings, err := ChannelSettings(ch)
	if err != nil {
		return channel.Permanent(err)
	}
	if settings.Address == "" {
		return channel.Permanent(errors.New("the email channel has no team address"))
	}
	relay, err := s.relayFor(settings)
	if err != nil {
		return channel.Permanent(err)
	}
	ib, err := s.Store.Inbox(ctx, ch.InboxID)
	if err != nil {
		return fmt.Errorf("inbox of channel: %w", err)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	og := outbound.Outgoing{
		From: outbound.Identity{Email: settings.Address, CompanyName: settings.CompanyName, InboxName: ib.Name,
			NameMode: outbound.NameMode(settings.FromName)},
		To:          []outbound.Address{{Email: to}},
		Subject:     subject,
		MessageID:   "parley.notice." + hex.EncodeToString(b[:]) + "@" + domainOf(settings.Address),
		Text:        text,
		HTML:        html,
		NoSignature: true,
		AutoReply:   true,
	}
	raw, err := outbound.Compose(og)
	if err != nil {
		return channel.Permanent(err)
	}
	_, err = relay.Send(ctx, outbound.Envelope{From: settings.Address, To: og.Recipients()}, raw)
	return err
}
