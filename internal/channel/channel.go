// Package channel is the contract between the inbox domain and each kind of channel (custom,
// email, chat, Messenger, WhatsApp…). A channel package turns provider input into inbox.Inbound
// and implements Sender to deliver agent replies. Nothing outside channel packages switches on
// a channel's kind: the domain looks the Sender up by kind and reads its Capabilities.
package channel

import (
	"context"
	"errors"

	"github.com/parley-inbox/parley/internal/store"
)

// Outbound is one agent message to deliver, with what a channel needs to address it.
type Outbound struct {
	Message      *store.Message
	Conversation *store.Conversation
	Channel      *store.Channel
	Contact      *store.Contact // may be nil
	Author       *store.User    // may be nil for automatic messages
}

// Sender delivers outbound messages for one channel kind.
type Sender interface {
	// Send delivers the message and returns the provider's id for it. A failure that retrying
	// cannot fix is wrapped with Permanent; any other error is retried with backoff.
	Send(ctx context.Context, out *Outbound) (externalID string, err error)
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent lets the job runner see the classification without importing this package.
func (e permanentError) Permanent() bool { return true }

// Permanent marks err as not worth retrying (a 4xx from the provider, a bad address…).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ReplyChecker is implemented by Senders whose channel restricts what agents may send (no
// outgoing messages, no attachments, plain text only…). The domain calls it before queueing a
// reply so the agent gets a clear error instead of a delivery that can only fail.
type ReplyChecker interface {
	CheckReply(ctx context.Context, ch *store.Channel, out *Outbound) error
}

// Addressable is implemented by Senders whose replies may name their own recipients (To, Cc,
// Bcc) and forward a message to a third party, as email does. Other channels always answer the
// conversation's contact, and the domain refuses recipients for them.
type Addressable interface {
	Addressable() bool
}
