package mime

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Split is a message body cut into what the sender wrote now and what the
// timeline folds away.
type Split struct {
	Body      string // the new text
	Signature string // the sender's signature, empty when none was found
	Quoted    string // quoted history (reply or forward), empty when none was found
	Forward   bool   // Quoted is a forwarded message, not reply history
}

var (
	// "On Mon, 1 Jan 2024 at 10:00, Jane <jane@x> wrote:" and its
	// translations; Apple Mail and Gmail both write this line.
	attributionLine = regexp.MustCompile(`(?i)^(on|am|le|el|il|den|op|em|w dniu|dne)\b.*\b(wrote|schrieb|a écrit|escribió|ha scritto|skrev|schreef|escreveu|napisał|napsal)(\s*:?|\b.*:)\s*$`)
	// Date-first forms: "ons. 3. jan. 2024 kl. 10:00 skrev Ola <ola@x>:".
	// They must carry a time so "As I wrote:" is not taken for one.
	attributionLoose  = regexp.MustCompile(`(?i)^.*\b\d{1,2}[:.]\d{2}\b.*\b(wrote|schrieb|a écrit|escribió|skrev|schreef|escreveu)(\s*:|\b.*:)\s*$`)
	originalMessage   = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|originalmeddelande|opprinnelig melding|oprindelig meddelelse|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$`)
	forwardMarker     = regexp.MustCompile(`(?i)^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|vidarebefordrat meddelande|videresendt melding|videresendt meddelelse|message transféré|mensaje reenviado)\s*-{2,}|begin forwarded message:|start of forwarded message|anfang der weitergeleiteten nachricht:|början på vidarebefordrat meddelande:)\s*$`)
	outlookFrom       = regexp.MustCompile(`(?i)^\*?(from|von|från|fra|de|van)\s*:\*?\s+\S`)
	outlookSent       = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|datum|skickat|sendt|dato|envoyé|enviado|verzonden)\s*:\*?\s+\S`)
	outlookSentInline = regexp.MustCompile(`(?i)\b(sent|gesendet|skickat|sendt|envoyé|enviado|verzonden|date|datum|dato)\s*:`)
	underscoreLine    = regexp.MustCompile(`^\s*_{10,}\s*$`)
	mobileSignature   = regexp.MustCompile(`(?i)^(sent from my \w+|skickat från min \w+|sendt fra min \w+|von meinem \w+ gesendet|get outlook for \w+)`)
)

// SplitText separates plain text into new text, signature and quoted
// history. Interleaved replies (answers between quoted lines) stay whole:
// only a trailing quote block is folded.
func SplitText(text string) Split {
	text = normalizeNewlines(text)
	lines := strings.Split(text, "\n")
	quote, forward := findTextQuote(lines)
	var s Split
	s.Forward = forward
	end := len(lines)
	if quote >= 0 {
		s.Quoted = strings.TrimSpace(strings.Join(lines[quote:], "\n"))
		end = quote
	}
	sig := -1
	for i := 0; i < end; i++ {
		if lines[i] == "-- " || lines[i] == "--" {
			sig = i
			break
		}
	}
	if sig < 0 {
		// "Sent from my iPhone" as the last non-empty line is a signature.
		for i := end - 1; i >= 0; i-- {
			l := strings.TrimSpace(lines[i])
			if l == "" {
				continue
			}
			if mobileSignature.MatchString(l) {
				sig = i
			}
			break
		}
	}
	if sig < 0 && quote >= 0 {
		// Top-posted replies from Thunderbird and others put the
		// signature under the quote: a "-- " line after the last quoted line.
		for k := len(lines) - 1; k > quote; k-- {
			l := strings.TrimSpace(lines[k])
			if strings.HasPrefix(l, ">") {
				break
			}
			if lines[k] == "-- " || lines[k] == "--" {
				s.Quoted = strings.TrimSpace(strings.Join(lines[quote:k], "\n"))
				s.Signature = strings.TrimSpace(strings.Join(lines[k+1:], "\n"))
				break
			}
		}
	}
	if sig >= 0 {
		s.Signature = strings.TrimSpace(strings.Join(lines[sig:end], "\n"))
		s.Signature = strings.TrimSpace(strings.TrimPrefix(s.Signature, "--"))
		end = sig
	}
	s.Body = strings.TrimRight(strings.Join(lines[:end], "\n"), " \t\n")
	s.Body = strings.TrimLeft(s.Body, "\n")
	return s
}

// findTextQuote returns the index of the line where quoted history starts,
// or -1, and whether it is a forward.
func findTextQuote(lines []string) (int, bool) {
	// Only a trailing block of ">" lines is history: find where the last
	// unquoted line is once instead of scanning ahead from every line.
	lastUnquoted := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, ">") {
			lastUnquoted = i
			break
		}
	}
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, ">") {
			// A quoted line starts history only as part of the trailing block.
			if i > lastUnquoted {
				return i, false
			}
			continue
		}
		switch {
		case forwardMarker.MatchString(l):
			return i, true
		case originalMessage.MatchString(l):
			return i, false
		case hasAttributionVerb(l) && (attributionLine.MatchString(l) || attributionLoose.MatchString(l)):
			return i, false
		case i+1 < len(lines) && len(l) < 200 && strings.HasPrefix(strings.ToLower(l), "on ") &&
			hasAttributionVerb(lines[i+1]) && attributionLine.MatchString(l+" "+strings.TrimSpace(lines[i+1])):
			// Gmail wraps long attributions over two lines.
			return i, false
		case outlookFrom.MatchString(l) && outlookBlockFollows(lines, i):
			start := i
			for start > 0 && (strings.TrimSpace(lines[start-1]) == "" || underscoreLine.MatchString(lines[start-1])) {
				start--
			}
			if start > 0 || underscoreLine.MatchString(lines[start]) {
				return start, false
			}
			return i, false
		}
	}
	return -1, false
}

// attributionVerbs prefilter lines before the attribution regexps, which
// are too slow to run on every line of a long mail.
var attributionVerbs = []string{"wrote", "schrieb", "écrit", "escribió", "scritto", "skrev", "schreef", "escreveu", "napisał", "napsal"}

func hasAttributionVerb(l string) bool {
	if len(l) > 600 {
		return false
	}
	l = strings.ToLower(l)
	for _, v := range attributionVerbs {
		if strings.Contains(l, v) {
			return true
		}
	}
	return false
}

// outlookBlockFollows reports whether a "From:" line at i starts Outlook's
// header block: a "Sent:"/"Date:" line within the next few lines.
func outlookBlockFollows(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if outlookSent.MatchString(strings.TrimSpace(lines[j])) {
			return true
		}
	}
	return false
}

// The markers are comments placed where the HTML is cut; they cannot occur
// in sanitized HTML because the policy drops comments.
const (
	quoteMarker = "parley-quote"
	sigMarker   = "parley-signature"
)

// SplitHTML does for sanitized HTML (the output of Sanitize) what SplitText
// does for text, using the markers mail clients leave: Gmail's gmail_quote
// and gmail_signature, blockquote type=cite (Apple Mail, Thunderbird),
// Thunderbird's moz-cite-prefix and moz-signature, Outlook's divRplyFwdMsg
// with the <hr> before it. Each returned piece is balanced HTML.
func SplitHTML(s string) Split {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return Split{Body: s}
	}
	body := findElement(doc, func(n *html.Node) bool { return n.DataAtom == atom.Body })
	if body == nil {
		return Split{Body: s}
	}
	var out Split
	quote := findElement(body, isQuoteStart)
	if quote != nil {
		out.Forward = hasClass(quote, "moz-forward-container") ||
			strings.Contains(strings.ToLower(textOf(quote)), "forwarded message")
		// Thunderbird's "On … wrote:" line sits just before the blockquote.
		if prev := prevElement(quote); prev != nil && hasClass(prev, "moz-cite-prefix") {
			quote = prev
		}
		// Outlook puts an <hr> before its header block.
		if prev := prevElement(quote); prev != nil && prev.DataAtom == atom.Hr && strings.HasSuffix(idOf(quote), "divRplyFwdMsg") {
			quote = prev
		}
	}
	sig := findElement(body, func(n *html.Node) bool { return isSignatureStart(n) && !insideQuote(n) })
	if quote == nil && sig == nil {
		return Split{Body: s}
	}
	for _, m := range []struct {
		n    *html.Node
		mark string
	}{{quote, quoteMarker}, {sig, sigMarker}} {
		if m.n != nil {
			m.n.Parent.InsertBefore(&html.Node{Type: html.CommentNode, Data: m.mark}, m.n)
		}
	}
	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		_ = html.Render(&b, c)
	}
	rendered := b.String()
	qi := strings.Index(rendered, "<!--"+quoteMarker+"-->")
	si := strings.Index(rendered, "<!--"+sigMarker+"-->")
	piece := func(from, to int, mark string) string {
		if to < 0 {
			to = len(rendered)
		}
		return normalizeFragment(rendered[from+len("<!--"+mark+"-->") : to])
	}
	switch {
	case qi >= 0 && si >= 0 && si < qi:
		out.Body = normalizeFragment(rendered[:si])
		out.Signature = piece(si, qi, sigMarker)
		out.Quoted = piece(qi, -1, quoteMarker)
	case qi >= 0 && si >= 0:
		out.Body = normalizeFragment(rendered[:qi])
		out.Quoted = piece(qi, si, quoteMarker)
		out.Signature = piece(si, -1, sigMarker)
	case qi >= 0:
		out.Body = normalizeFragment(rendered[:qi])
		out.Quoted = piece(qi, -1, quoteMarker)
	default:
		out.Body = normalizeFragment(rendered[:si])
		out.Signature = piece(si, -1, sigMarker)
	}
	return out
}

// insideQuote reports whether n is within quoted history (a signature
// there belongs to an earlier message).
func insideQuote(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && (p.DataAtom == atom.Blockquote || isQuoteStart(p)) {
			return true
		}
	}
	return false
}

func isQuoteStart(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch {
	case hasClass(n, "gmail_quote") || hasClass(n, "gmail_quote_container") || hasClass(n, "yahoo_quoted") || hasClass(n, "protonmail_quote") || hasClass(n, "moz-forward-container"):
		return true
	case n.DataAtom == atom.Blockquote && attr(n, "type") == "cite":
		return true
	case idOf(n) == "divRplyFwdMsg" || idOf(n) == "x_divRplyFwdMsg" || idOf(n) == "appendonsend":
		return true
	case hasClass(n, "OutlookMessageHeader"):
		return true
	case n.DataAtom == atom.Div && strings.Contains(attr(n, "style"), "border-top"):
		// Desktop Outlook: a div with a top border holding the
		// "From: … Sent: …" block of the message replied to.
		return outlookHeaderText(textOf(n))
	}
	return false
}

// outlookHeaderText reports whether text starts like Outlook's header block.
func outlookHeaderText(text string) bool {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(text, "\u00a0", " ")), "\n")
	if len(lines) == 0 || !outlookFrom.MatchString(strings.TrimSpace(lines[0])) {
		return false
	}
	for _, l := range lines[1:] {
		if outlookSent.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	// Without <br> newlines in the text, look for the label inline.
	return outlookSentInline.MatchString(text)
}

func isSignatureStart(n *html.Node) bool {
	return n.Type == html.ElementNode && (hasClass(n, "gmail_signature") || hasClass(n, "moz-signature") || hasClass(n, "protonmail_signature_block") || idOf(n) == "Signature")
}

// normalizeFragment parses an HTML fragment in a <div> context and renders
// it again, closing what the cut left open and dropping stray end tags.
func normalizeFragment(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return s
	}
	var b strings.Builder
	for _, n := range nodes {
		_ = html.Render(&b, n)
	}
	return strings.TrimSpace(b.String())
}

func findElement(n *html.Node, match func(*html.Node) bool) *html.Node {
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, match); f != nil {
			return f
		}
	}
	return nil
}

func prevElement(n *html.Node) *html.Node {
	for p := n.PrevSibling; p != nil; p = p.PrevSibling {
		if p.Type == html.ElementNode {
			return p
		}
		if p.Type == html.TextNode && strings.TrimSpace(p.Data) != "" {
			return nil
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func idOf(n *html.Node) string { return attr(n, "id") }

func hasClass(n *html.Node, class string) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil && b.Len() < 2000; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
