package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// vocabulary is words without repeats, in order of first appearance (most common first).
var vocabulary = func() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}()

// Vocabulary returns the distinct words generated text is drawn from, most common first.
func Vocabulary() []string { return append([]string(nil), vocabulary...) }

func sentence(sb *strings.Builder, r *rand.Rand, z *rand.Zipf, n int) {
	for i := range n {
		w := vocabulary[z.Uint64()]
		if i == 0 {
			first, size := utf8.DecodeRuneInString(w)
			sb.WriteRune(unicode.ToUpper(first))
			sb.WriteString(w[size:])
			continue
		}
		sb.WriteByte(' ')
		sb.WriteString(w)
	}
	if r.IntN(5) == 0 {
		sb.WriteByte('?')
	} else {
		sb.WriteByte('.')
	}
}

// message returns one to four sentences of four to fourteen words; one in ten also quotes a
// reference number, the kind of rare token people search for.
func message(r *rand.Rand, z *rand.Zipf) string {
	var sb strings.Builder
	for i := range 1 + r.IntN(4) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sentence(&sb, r, z, 4+r.IntN(11))
	}
	if r.IntN(10) == 0 {
		fmt.Fprintf(&sb, " My reference is %d.", 1_000_000+r.IntN(9_000_000))
	}
	return sb.String()
}

// subject returns three to seven words without a full stop.
func subject(r *rand.Rand, z *rand.Zipf) string {
	var sb strings.Builder
	sentence(&sb, r, z, 3+r.IntN(5))
	return strings.TrimRight(sb.String(), ".?")
}

// previewOf shortens text the way the inbox makes a conversation's preview.
func previewOf(text string) string {
	const n = 140
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	rs := []rune(text)
	return strings.TrimSpace(string(rs[:n-1])) + "…"
}
