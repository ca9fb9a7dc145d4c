package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/email/mime"
	"github.com/parley-inbox/parley/internal/store"
)

// testHeader carries the token of a channel's test mail, so that the mail coming back through
// the team's forwarding is recognised and never becomes a conversation.
const testHeader = "X-Parley-Test"

// updateState changes a channel's state in one transaction, the row locked against a
// concurrent change.
func (s *Service) updateState(ctx context.Context, channelID int64, change func(*State) bool) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		ch, err := tx.ChannelForUpdate(ctx, channelID)
		if err != nil {
			return err
		}
		st, err := ChannelState(ch)
		if err != nil {
			// A state we cannot read is replaced rather than blocking every mail.
			s.log().Warn("email: channel state unreadable; starting afresh", "channel", channelID, "err", err)
			st = State{}
		}
		if !change(&st) {
			return nil
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return tx.SetChannelState(ctx, channelID, raw)
	})
}

func (s *Service) recordConfirmation(ctx context.Context, channelID int64, fc *mime.ForwardingConfirmation) error {
	s.log().Info("email: forwarding confirmation received", "channel", channelID, "from", fc.From)
	return s.updateState(ctx, channelID, func(st *State) bool {
		st.ForwardingConfirmation = &Confirmation{Code: fc.Code, Link: fc.Link, From: fc.From, ReceivedAt: s.now().UnixMilli()}
		return true
	})
}

// recordTestArrival marks the channel's test mail as arrived when token is its token.
func (s *Service) recordTestArrival(ctx context.Context, channelID int64, token string) (matched bool, err error) {
	err = s.updateState(ctx, channelID, func(st *State) bool {
		if st.Test == nil || st.Test.Token != token {
			return false
		}
		matched = true
		if st.Test.ReceivedAt != 0 {
			return false
		}
		st.Test.ReceivedAt = s.now().UnixMilli()
		return true
	})
	return matched, err
}

func (s *Service) recordQuarantine(ctx context.Context, channelID int64, sender string) error {
	return s.updateState(ctx, channelID, func(st *State) bool {
		for _, q := range st.Quarantined {
			if q.Sender == sender {
				return false
			}
		}
		s.log().Warn("email: runaway sender quarantined", "channel", channelID, "sender", sender)
		st.Quarantined = append([]Quarantine{{Sender: sender, At: s.now().UnixMilli()}}, st.Quarantined...)
		if len(st.Quarantined) > maxQuarantined {
			st.Quarantined = st.Quarantined[:maxQuarantined]
		}
		return true
	})
}

func newToken() string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// forwardedSender finds the original sender in a forwarded block that a mail program wrote
// into the text ("---------- Forwarded message ---------" then "From: Ana <ana@example.com>",
// Outlook's "From: … Sent: …", Apple Mail's "Begin forwarded message:").
func forwardedSender(text string) (party, bool) {
	// The markers are ASCII, so only ASCII letters are folded: strings.ToLower can change a
	// string's length (Ⱥ grows, invalid bytes become U+FFFD), and an index into a longer lower-
	// case copy sliced text out of range.
	lower := asciiLower(text)
	start := -1
	for _, marker := range []string{"forwarded message", "begin forwarded message", "original message", "videresendt", "vidarebefordrat", "videresendte"} {
		if i := strings.Index(lower, marker); i >= 0 && (start < 0 || i < start) {
			start = i
		}
	}
	if start < 0 {
		return party{}, false
	}
	for _, line := range strings.Split(text[start:], "\n") {
		line = strings.TrimSpace(strings.TrimLeft(line, "> "))
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.Trim(name, "* ")) {
		case "from", "fra", "från":
		default:
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), "*")
		if addr, err := normalizeAddress(value); err == nil {
			p := party{Address: addr}
			if i := strings.Index(value, "<"); i > 0 {
				p.Name = strings.Trim(strings.TrimSpace(value[:i]), `"`)
			}
			return p, true
		}
		// Outlook writes "From: Ana Berg [mailto:ana@example.com]".
		if i := strings.Index(strings.ToLower(value), "mailto:"); i >= 0 {
			addr := strings.TrimRight(value[i+len("mailto:"):], "]> ")
			if a, err := normalizeAddress(addr); err == nil {
				return party{Name: strings.TrimSpace(strings.Trim(value[:i], "[ ")), Address: a}, true
			}
		}
	}
	return party{}, false
}

// asciiLower folds A–Z only, keeping every byte where it was.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
