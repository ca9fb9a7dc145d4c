package slack

import (
	"strings"
	"unicode/utf8"
)

// maxPostText bounds the text of one posted message: Slack truncates beyond 40,000 characters
// and advises staying under 4,000 for readability; a longer chat message is cut with a link to
// the whole conversation in the parent.
const maxPostText = 3900

// Escape makes text safe for Slack's mrkdwn: &, < and > are control characters there (a visitor
// typing "<!channel>" must not notify the whole channel).
func Escape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// linkText is a Slack link: <url|label>, with the label escaped.
func linkText(url, label string) string {
	return "<" + strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(url) + "|" +
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "¦").Replace(label) + ">"
}

// PlainText turns the text of a Slack message into the plain text a visitor reads: links
// <url|label> become "label (url)", bare <url> the url, user and channel mentions their label
// or a placeholder, special mentions (<!here>) their name, and &amp; &lt; &gt; their character.
func PlainText(text string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(text, '<')
		if open < 0 {
			b.WriteString(unescape(text))
			break
		}
		end := strings.IndexByte(text[open:], '>')
		if end < 0 {
			b.WriteString(unescape(text))
			break
		}
		b.WriteString(unescape(text[:open]))
		b.WriteString(entity(text[open+1 : open+end]))
		text = text[open+end+1:]
	}
	return strings.TrimSpace(b.String())
}

// entity renders what was between < and >.
func entity(s string) string {
	target, label, hasLabel := strings.Cut(s, "|")
	label = unescape(label)
	switch {
	case strings.HasPrefix(target, "@"): // <@U123> or <@U123|ada>
		if hasLabel && label != "" {
			return "@" + label
		}
		return "@someone"
	case strings.HasPrefix(target, "#"): // <#C123|general>
		if hasLabel && label != "" {
			return "#" + label
		}
		return "#channel"
	case strings.HasPrefix(target, "!"): // <!here>, <!channel>, <!subteam^ID|@team>, <!date^…|fallback>
		if hasLabel && label != "" {
			return label
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name
	}
	target = unescape(target)
	if strings.HasPrefix(target, "mailto:") {
		target = strings.TrimPrefix(target, "mailto:")
		if !hasLabel || label == target {
			return target
		}
		return label + " (" + target + ")"
	}
	if !hasLabel || label == "" || label == target || "http://"+label == target || "https://"+label == target {
		return target
	}
	return label + " (" + target + ")"
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
