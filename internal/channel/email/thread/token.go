package thread

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Signatures are HMAC-SHA256 with the installation's secret, truncated to 8 bytes (64 bits:
// far beyond what anyone can guess by sending mail) and written in lower-case base32, so a
// mail server that changes the case of an address or a Message-ID does not break them.
// Each kind of token signs under its own label, so one kind cannot stand in for another.
const (
	sigBytes = 8
	sigLen   = 13 // base32 characters for sigBytes, unpadded

	labelConversation = "parley/email/conversation\x00"
	labelMessageID    = "parley/email/message-id\x00"
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// MinSecretLength is the shortest installation secret New accepts.
const MinSecretLength = 16

// Threader signs and verifies the tokens of one installation.
type Threader struct {
	secret []byte
}

// New returns a Threader signing with the installation secret (at least MinSecretLength
// bytes; the same secret must be used for as long as replies to old mail should thread).
func New(secret []byte) (*Threader, error) {
	if len(secret) < MinSecretLength {
		return nil, errors.New("thread: the installation secret is too short")
	}
	return &Threader{secret: append([]byte(nil), secret...)}, nil
}

func (t *Threader) sign(label, payload string) string {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(label))
	m.Write([]byte(payload))
	return b32.EncodeToString(m.Sum(nil)[:sigBytes])
}

// verify compares in constant time; sig is lower-cased first.
func (t *Threader) verify(label, payload, sig string) bool {
	return hmac.Equal([]byte(t.sign(label, payload)), []byte(strings.ToLower(sig)))
}

// ConversationToken is the signed token naming a conversation, "c42.{signature}", used in
// the plus address and the hidden marker.
func (t *Threader) ConversationToken(conversationID int64) string {
	p := "c" + strconv.FormatInt(conversationID, 10)
	return p + "." + t.sign(labelConversation, p)
}

// ParseConversationToken returns the conversation a token names, or ok=false when it is not a
// well-formed token with a valid signature. Case is ignored.
func (t *Threader) ParseConversationToken(token string) (conversationID int64, ok bool) {
	token = strings.ToLower(token)
	p, sig, found := strings.Cut(token, ".")
	if !found || len(sig) != sigLen || len(p) < 2 || p[0] != 'c' {
		return 0, false
	}
	id, ok := parseID(p[1:])
	if !ok || !t.verify(labelConversation, p, sig) {
		return 0, false
	}
	return id, true
}

// ReplyAddress returns the plus address replies to a conversation should go to:
// "support@example.com" → "support+c42.{signature}@example.com". A base without an @ is
// returned unchanged.
func (t *Threader) ReplyAddress(base string, conversationID int64) string {
	local, domain, ok := cutAddress(base)
	if !ok {
		return base
	}
	return local + "+" + t.ConversationToken(conversationID) + "@" + domain
}

// ParseReplyAddress returns the conversation named by a plus address's token (the part after
// the last '+' of the local part). The domain is not checked: the signature is what counts,
// and the address may be the company's own, forwarded to us. Angle brackets and a display
// name around the address are tolerated.
func (t *Threader) ParseReplyAddress(addr string) (conversationID int64, ok bool) {
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = addr[i+1:]
		if j := strings.IndexByte(addr, '>'); j >= 0 {
			addr = addr[:j]
		}
	}
	local, _, ok := cutAddress(strings.TrimSpace(addr))
	if !ok {
		return 0, false
	}
	plus := strings.LastIndexByte(local, '+')
	if plus < 0 {
		return 0, false
	}
	return t.ParseConversationToken(local[plus+1:])
}

func cutAddress(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	return addr[:at], addr[at+1:], true
}

// MessageID returns a new Message-ID (bare, without angle brackets) for our outbound message
// messageID of conversation conversationID, on the sending domain. The random part keeps it
// unique across installations and a database restored from backup; the signature lets
// ParseMessageID trust it even when the seen-Message-ID table has lost it.
func (t *Threader) MessageID(conversationID, messageID int64, domain string) string {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	p := "c" + strconv.FormatInt(conversationID, 10) + ".m" + strconv.FormatInt(messageID, 10) + "." + b32.EncodeToString(r[:])
	return "parley." + p + "." + t.sign(labelMessageID, p) + "@" + domain
}

// ParseMessageID reads back a Message-ID made by MessageID (with or without angle brackets,
// in any case). ok is false for anyone else's Message-ID and for a forged or altered one.
func (t *Threader) ParseMessageID(id string) (conversationID, messageID int64, ok bool) {
	id = strings.ToLower(NormalizeID(id))
	local, _, found := cutAddress(id)
	if !found {
		return 0, 0, false
	}
	rest, found := strings.CutPrefix(local, "parley.")
	if !found {
		return 0, 0, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 4 || len(parts[0]) < 2 || parts[0][0] != 'c' || len(parts[1]) < 2 || parts[1][0] != 'm' {
		return 0, 0, false
	}
	conv, ok1 := parseID(parts[0][1:])
	msg, ok2 := parseID(parts[1][1:])
	if !ok1 || !ok2 || len(parts[3]) != sigLen {
		return 0, 0, false
	}
	if !t.verify(labelMessageID, strings.Join(parts[:3], "."), parts[3]) {
		return 0, 0, false
	}
	return conv, msg, true
}

// IsOurMessageID reports whether id is a valid Message-ID of this installation (for loop
// detection: mail carrying our own Message-ID came from us).
func (t *Threader) IsOurMessageID(id string) bool {
	_, _, ok := t.ParseMessageID(id)
	return ok
}

// parseID reads a positive decimal id without sign or leading zeros, so that each id has one
// spelling and a signature cannot be replayed under another.
func parseID(s string) (int64, bool) {
	if s == "" || s[0] == '0' || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// The hidden marker carries the conversation token in the HTML body, in a block mail clients
// do not show but keep when they quote the message in a reply. It is plain text inside the
// element, so it survives clients that strip attributes and comments, and replies quoted as
// plain text.
var markerRE = regexp.MustCompile(`(?i)\{#parley:(c[0-9]{1,19}\.[a-z2-7]{13})#\}`)

// Marker returns the hidden HTML block to put at the end of an outbound HTML body.
func (t *Threader) Marker(conversationID int64) string {
	return `<div style="display:none;max-height:0;overflow:hidden;font-size:0;line-height:0;color:transparent;mso-hide:all" aria-hidden="true">{#parley:` +
		t.ConversationToken(conversationID) + `#}</div>`
}

// FindMarker returns the conversation named by the first valid hidden marker in body (HTML or
// text, as quoted by the customer's client).
func (t *Threader) FindMarker(body string) (conversationID int64, ok bool) {
	if !strings.Contains(body, "{#") {
		return 0, false
	}
	for _, m := range markerRE.FindAllStringSubmatch(body, 10) {
		if id, ok := t.ParseConversationToken(m[1]); ok {
			return id, true
		}
	}
	return 0, false
}

// Subject tokens name a conversation by its display number: "[#1042]". They are easy to guess,
// so Resolve trusts one only when the sender already takes part in that conversation.
var subjectTokenRE = regexp.MustCompile(`\[#([0-9]{1,18})\]`)

// SubjectToken returns "[#1042]".
func SubjectToken(number int64) string { return "[#" + strconv.FormatInt(number, 10) + "]" }

// WithSubjectToken adds the token to the end of subject (Zammad's default position, where it
// reads least like part of the customer's words), unless subject already carries it.
func WithSubjectToken(subject string, number int64) string {
	tok := SubjectToken(number)
	if strings.Contains(subject, tok) {
		return subject
	}
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return tok
	}
	return subject + " " + tok
}

// SubjectTokens returns the conversation numbers of the tokens in subject, in order.
func SubjectTokens(subject string) []int64 {
	var out []int64
	for _, m := range subjectTokenRE.FindAllStringSubmatch(subject, 5) {
		if n, ok := parseID(m[1]); ok {
			out = append(out, n)
		}
	}
	return out
}

// replyPrefixRE matches the reply prefixes clients add, including localised ones
// (AW: German, SV: Scandinavian, VS: Finnish, Antw: Dutch, Odp: Polish) and counters (Re[2]:).
var replyPrefixRE = regexp.MustCompile(`(?i)^\s*(re|aw|sv|vs|antw|odp|ynt|r)\s*(\[[0-9]+\]|\([0-9]+\))?\s*:\s*`)

// ReplySubject returns the subject of a reply: "Re: " before the original unless it already
// starts with a reply prefix.
func ReplySubject(subject string) string {
	subject = strings.TrimSpace(subject)
	if replyPrefixRE.MatchString(subject) {
		return subject
	}
	return "Re: " + subject
}
