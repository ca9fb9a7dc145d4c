package thread

import (
	"slices"
	"strings"
)

// Message-IDs are kept and compared in their bare form, without the angle brackets:
// "abc@example.com" for <abc@example.com>. FormatIDList puts the brackets back for a header.

const (
	// MaxIDLength drops ids longer than this; real ones are well under 200 characters, and the
	// bound keeps the seen-Message-ID index and lookups small whatever a sender writes.
	MaxIDLength = 250
	// MaxParsedIDs bounds how many ids one header yields. A References header of a long thread
	// holds a few dozen; a hostile one could hold thousands. The first and the newest are kept.
	MaxParsedIDs = 100
	// maxReferences and maxReferencesLength cap the References we write: the thread's first
	// message and the newest ones, in at most maxReferencesLength characters, so the header
	// fits the 998-character line limit even before folding.
	maxReferences       = 20
	maxReferencesLength = 900
)

// ParseIDList reads the Message-IDs of an In-Reply-To, References or Message-ID header value,
// leniently: comments in parentheses and free text around the ids are skipped (old mailers
// wrote `<id> (Ana's message of Monday)` and `Your message of ... <id>`), whitespace folded
// into an id is removed, and ids written without angle brackets are taken when they contain
// an @. Duplicates are dropped (first occurrence kept) and at most MaxParsedIDs are returned:
// the first one and the newest ones.
func ParseIDList(value string) []string {
	value = stripComments(value)
	var ids []string
	if strings.Contains(value, "<") {
		rest := value
		for {
			open := strings.IndexByte(rest, '<')
			if open < 0 {
				break
			}
			rest = rest[open+1:]
			end := strings.IndexAny(rest, "<>")
			var inner string
			if end < 0 {
				inner, rest = rest, ""
			} else {
				inner = rest[:end]
				if rest[end] == '>' {
					rest = rest[end+1:]
				} else {
					rest = rest[end:] // a second '<' before any '>': the first was stray
				}
			}
			if id := cleanID(inner); id != "" {
				ids = append(ids, id)
			}
		}
	} else {
		for _, f := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || isSpace(r) }) {
			if strings.Contains(f, "@") {
				if id := cleanID(f); id != "" {
					ids = append(ids, id)
				}
			}
		}
	}
	return capIDs(dedupe(ids), MaxParsedIDs)
}

// NormalizeID returns the bare form of one Message-ID ("<a@b>" → "a@b"), or "" when value
// holds none.
func NormalizeID(value string) string {
	ids := ParseIDList(value)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// FormatIDList writes ids as a header value: "<a@b> <c@d>".
func FormatIDList(ids []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('<')
		b.WriteString(id)
		b.WriteByte('>')
	}
	return b.String()
}

// ReplyIDs returns In-Reply-To and References for a message answering parent (RFC 5322
// §3.6.4): In-Reply-To is the parent's Message-ID; References is the parent's References
// (or, when it has none, its single In-Reply-To id) followed by the parent's Message-ID,
// capped to the thread's first id and the newest ones. parentID, parentReferences and
// parentInReplyTo are header values or bare ids. For a conversation's reply the parent is its
// last inbound message (else its last message); with no parent both results are empty.
func ReplyIDs(parentID, parentReferences, parentInReplyTo string) (inReplyTo string, references []string) {
	parent := NormalizeID(parentID)
	if parent == "" {
		return "", nil
	}
	refs := ParseIDList(parentReferences)
	if len(refs) == 0 {
		if irt := ParseIDList(parentInReplyTo); len(irt) == 1 {
			refs = irt
		}
	}
	// The parent goes last even when a broken client already listed it.
	refs = slices.DeleteFunc(dedupe(refs), func(id string) bool { return id == parent })
	return parent, CapReferences(append(refs, parent))
}

// CapReferences keeps the first id (the thread's root, which clients use to group) and as
// many of the newest as fit maxReferences ids and maxReferencesLength characters.
func CapReferences(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	size := func(id string) int { return len(id) + 3 } // brackets and a space
	budget := maxReferencesLength - size(ids[0])
	var tail []string
	for i := len(ids) - 1; i > 0 && len(tail) < maxReferences-1; i-- {
		if size(ids[i]) > budget {
			break
		}
		budget -= size(ids[i])
		tail = append(tail, ids[i])
	}
	out := make([]string, 0, len(tail)+1)
	out = append(out, ids[0])
	for i := len(tail) - 1; i >= 0; i-- {
		out = append(out, tail[i])
	}
	return out
}

// cleanID removes whitespace and stray brackets from an id, and rejects empty, overlong and
// control-character ids.
func cleanID(s string) string {
	s = strings.Map(func(r rune) rune {
		if isSpace(r) || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
	if s == "" || len(s) > MaxIDLength {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return ""
		}
	}
	return s
}

// stripComments removes RFC 5322 comments (nested parentheses, backslash escapes) that are
// outside angle brackets.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth, inAngle := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth > 0 && c == '\\':
			i++
		case depth > 0 && c == '(':
			depth++
		case depth > 0 && c == ')':
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case c == '(' && !inAngle:
			depth = 1
		default:
			if c == '<' {
				inAngle = true
			} else if c == '>' {
				inAngle = false
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// capIDs keeps the first id and the last n-1.
func capIDs(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	out := make([]string, 0, n)
	out = append(out, ids[0])
	return append(out, ids[len(ids)-(n-1):]...)
}
