package slack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxClockSkew is how old (or how far ahead) a request's X-Slack-Request-Timestamp may be:
// Slack's own advice, against replayed requests.
const MaxClockSkew = 5 * time.Minute

// Verification errors.
var (
	ErrNoSignature  = errors.New("slack: no signature or timestamp")
	ErrStale        = errors.New("slack: request timestamp is too old or in the future")
	ErrBadSignature = errors.New("slack: signature does not match")
)

// Sign returns Slack's request signature of body at timestamp: "v0=" and the hex HMAC-SHA256,
// under the signing secret, of "v0:" + timestamp + ":" + body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// CheckTimestamp checks X-Slack-Request-Timestamp (unix seconds) against now.
func CheckTimestamp(timestamp string, now time.Time) error {
	if timestamp == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > MaxClockSkew || d < -MaxClockSkew {
		return ErrStale
	}
	return nil
}

// Verify checks a request's X-Slack-Signature against the signing secret, in constant time.
// Check the timestamp first (CheckTimestamp): the signature covers it.
func Verify(secret, timestamp, signature string, body []byte) error {
	if signature == "" || timestamp == "" {
		return ErrNoSignature
	}
	if secret == "" || !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Envelope is an Events API request body: a url_verification challenge or an event_callback
// wrapping one event. Fields Parley does not use are not read.
type Envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	TeamID    string `json:"team_id"`
	APIAppID  string `json:"api_app_id"`
	EventID   string `json:"event_id"`
	EventTime int64  `json:"event_time"`
	Event     Event  `json:"event"`
}

// Event is the inner event of an event_callback; for message events, the message.
type Event struct {
	Type     string `json:"type"`
	Subtype  string `json:"subtype"`
	Channel  string `json:"channel"`
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
}

// Envelope types.
const (
	TypeURLVerification = "url_verification"
	TypeEventCallback   = "event_callback"
)

// MaxEventBody bounds an Events API request; Slack's are a few kilobytes (a message is at most
// 40,000 characters).
const MaxEventBody = 256 << 10

// ParseEnvelope reads an Events API body. It is strict about what Parley relies on — a JSON
// object with a type; a challenge for url_verification; an event_id and an event type for
// event_callback — and ignores everything else, since Slack adds fields over time.
func ParseEnvelope(body []byte) (*Envelope, error) {
	if len(body) > MaxEventBody {
		return nil, fmt.Errorf("slack: event body over %d bytes", MaxEventBody)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errors.New("slack: event body is not a JSON object")
	}
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("slack: event body: %w", err)
	}
	switch e.Type {
	case TypeURLVerification:
		if e.Challenge == "" || len(e.Challenge) > 1024 || !printable(e.Challenge) {
			return nil, errors.New("slack: url_verification without a usable challenge")
		}
	case TypeEventCallback:
		if e.EventID == "" || len(e.EventID) > 128 || !printable(e.EventID) {
			return nil, errors.New("slack: event_callback without an event_id")
		}
		if e.Event.Type == "" {
			return nil, errors.New("slack: event_callback without an event type")
		}
	case "":
		return nil, errors.New("slack: event body has no type")
	}
	return &e, nil
}

// printable reports whether s has no control characters (ids and challenges are ASCII tokens).
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Reply reports whether the event is a person's reply in a thread that Parley should carry to
// the visitor: a plain message (or one also sent to the channel) with a thread_ts other than its
// own ts, written by a user rather than a bot. Edits, deletions, joins and other subtypes are not.
func (e *Event) Reply() bool {
	if e.Type != "message" || e.BotID != "" || e.User == "" || e.Channel == "" || e.TS == "" {
		return false
	}
	if e.Subtype != "" && e.Subtype != "thread_broadcast" {
		return false
	}
	return e.ThreadTS != "" && e.ThreadTS != e.TS
}
