package outbound

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSubjectRunes keeps an unencodable (long pure-ASCII) subject inside SMTP's 998-byte line limit.
const maxSubjectRunes = 900

// cleanText makes a string safe to put in a header: invalid UTF-8 is replaced, every control
// character (CR and LF above all — they are what header injection needs) becomes a space, and
// runs of spaces collapse. The result is trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// encodeText encodes cleaned text for an unstructured header (Subject, a display name inside
// an encoded word): ASCII stays as it is, anything else becomes RFC 2047 encoded words, which
// mime splits into pieces short enough to fold between.
func encodeText(s string) string {
	if strings.Contains(s, "=?") {
		// Text that merely looks like an encoded word would be decoded by the reader into
		// something else (even line breaks); encoding it all keeps it literal.
		return forceEncode(s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// forceEncode writes s as base64 encoded words of at most 45 bytes of text each (60 encoded,
// 72 with the wrapper), split at rune boundaries.
func forceEncode(s string) string {
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > 45 {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// headerField is one header line before folding.
type headerField struct{ name, value string }

// writeHeader writes name: value folded at spaces so lines stay near 78 characters. Values are
// produced by this package only (cleaned and encoded), so they hold no CR or LF; the check here
// is a last line of defence that turns a bug into an error rather than an injected header.
func writeHeader(b *strings.Builder, f headerField) error {
	if strings.ContainsAny(f.value, "\r\n") || strings.ContainsAny(f.name, "\r\n: ") {
		return fmt.Errorf("header %q: line break in value", f.name)
	}
	line := f.name + ":"
	col := len(line)
	b.WriteString(line)
	words := strings.Split(f.value, " ")
	for i, w := range words {
		if w == "" && i > 0 {
			continue
		}
		if col+1+len(w) > 78 && col > len(f.name)+1 {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		col += 1 + len(w)
	}
	b.WriteString("\r\n")
	return nil
}

// Address is one mailbox: a display name (may be empty) and an addr-spec.
type Address struct {
	Name  string
	Email string
}

var errBadAddress = errors.New("not a valid email address")

// checkEmail validates a bare addr-spec and returns it trimmed.
func checkEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return "", fmt.Errorf("%q: %w", s, errBadAddress)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", fmt.Errorf("%q: %w", s, errBadAddress)
	}
	return s, nil
}

// format renders the address for a header with its name quoted or encoded as needed.
func (a Address) format() (string, error) {
	email, err := checkEmail(a.Email)
	if err != nil {
		return "", err
	}
	name := cleanText(a.Name)
	if name == "" {
		return email, nil
	}
	return displayName(name) + " <" + email + ">", nil
}

// displayName renders a cleaned name as a phrase: a quoted string when it is printable ASCII,
// base64 encoded words otherwise. (net/mail's own formatter Q-encodes, which lets characters
// such as a backslash through raw and yields names its own parser then refuses.)
func displayName(name string) string {
	ascii := !strings.Contains(name, "=?")
	for i := 0; i < len(name) && ascii; i++ {
		ascii = name[i] >= ' ' && name[i] <= '~'
	}
	if !ascii {
		return forceEncode(name)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

func formatList(as []Address) (string, error) {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		s, err := a.format()
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", "), nil
}

// replyPrefix matches one reply prefix as mail clients write it in several languages:
// Re:, RE:, Re[2]:, Re(3):, AW: (German), SV: (Scandinavian), VS:, Antw:, Réf:, Ref:.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|aw|sv|vs|antw|réf|ref)\s*(\[\d+\]|\(\d+\))?\s*:\s*`)

var forwardPrefix = regexp.MustCompile(`(?i)^\s*(fwd?|wg|vs|vb|tr|rv)\s*(\[\d+\]|\(\d+\))?\s*:\s*`)

// ReplySubject returns the subject for a reply: "Re: " once in front of the subject with every
// leading reply prefix (in any of the common languages) removed, so prefixes never stack.
func ReplySubject(s string) string {
	s = cleanText(s)
	for {
		t := replyPrefix.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	return strings.TrimSpace("Re: " + s)
}

// ForwardSubject returns "Fwd: " plus the subject without leading forward prefixes.
func ForwardSubject(s string) string {
	s = cleanText(s)
	for {
		t := forwardPrefix.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	return strings.TrimSpace("Fwd: " + s)
}

// encodeSubject cleans, caps and encodes a subject.
func encodeSubject(s string) string {
	s = cleanText(s)
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		s = string([]rune(s)[:maxSubjectRunes])
	}
	return encodeText(s)
}

// ValidMessageID reports whether id can be written as a Message-ID, In-Reply-To or References
// entry. Ids received from others are not all such: callers leave the others out.
func ValidMessageID(id string) bool {
	_, err := msgID(id)
	return err == nil
}

// msgID normalises a Message-ID to <left@right> and rejects anything that is not one.
func msgID(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 900 {
		return "", fmt.Errorf("message id %q: want left@right", s)
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == ',' || r == '(' || r == ')' || r == '\\' {
			return "", fmt.Errorf("message id %q: invalid character", s)
		}
	}
	return "<" + s + ">", nil
}

// maxReferences bounds the References header: the first id (the thread root) and the newest
// ones are what readers use; a conversation with hundreds of messages must not grow a header
// without limit.
const maxReferences = 30

// references normalises, dedupes and bounds a References list, adding inReplyTo at the end
// when it is missing (RFC 5322 §3.6.4: parent's References followed by the parent's id).
func references(refs []string, inReplyTo string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(r string) error {
		id, err := msgID(r)
		if err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
		return nil
	}
	for _, r := range refs {
		// A caller may hand over a raw header value with several ids.
		for f := range strings.FieldsSeq(strings.NewReplacer("><", "> <").Replace(r)) {
			if err := add(f); err != nil {
				return nil, err
			}
		}
	}
	if inReplyTo != "" {
		id, err := msgID(inReplyTo)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			// Keep the parent last, where readers look for it.
			for i, r := range out {
				if r == id {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
		}
		out = append(out, id)
	}
	if len(out) > maxReferences {
		out = append(out[:1:1], out[len(out)-(maxReferences-1):]...)
	}
	return out, nil
}
