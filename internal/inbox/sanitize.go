package inbox

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// Message HTML comes from customers' mail clients, chat widgets and integrations: anything that
// could run script or restyle the agent's page is removed before it is stored, so nothing that
// reaches the database can execute (SEC-2).
var (
	ugcPolicy   = sync.OnceValue(bluemonday.UGCPolicy)
	stripPolicy = sync.OnceValue(bluemonday.StrictPolicy)
)

// sanitizeHTML returns HTML safe to render in the agent's page.
func sanitizeHTML(s string) string {
	s = cleanText(s)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return strings.TrimSpace(ugcPolicy().Sanitize(s))
}

// htmlToText returns the readable text of an HTML fragment (for previews and search when a
// message has no plain-text part).
func htmlToText(s string) string {
	// A space before each tag keeps words of adjacent blocks (<p>a</p><p>b</p>) apart.
	s = stripPolicy().Sanitize(strings.ReplaceAll(cleanText(s), "<", " <"))
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// cleanText makes text storable on both engines: PostgreSQL refuses NUL and invalid UTF-8.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// cleanJSON returns raw if it is valid JSON and def otherwise. PostgreSQL's JSONB also refuses
// the escaped NUL character, which is replaced.
func cleanJSON(raw json.RawMessage, def string) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || !json.Valid(raw) {
		return json.RawMessage(def)
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		raw = bytes.ReplaceAll(raw, []byte(`\u0000`), []byte(`\ufffd`))
	}
	return raw
}

// previewLength is how many characters of a message a conversation list shows.
const previewLength = 140

// preview is the first characters of a message's text on one line.
func preview(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= previewLength {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:previewLength-1])) + "…"
}

// messageText is the text of a message for previews and search: its text part, or its HTML's.
func messageText(text, html string) string {
	if strings.TrimSpace(text) != "" {
		return text
	}
	return htmlToText(html)
}
