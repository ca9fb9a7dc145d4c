package mime

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// markerClass and markerID keep the classes and ids mail clients use to mark
// quoted history and signatures (SplitHTML needs them) and nothing else: an
// arbitrary class or id could collide with the agent app's own.
var (
	markerClass = regexp.MustCompile(`^\s*((gmail_quote|gmail_quote_container|gmail_attr|gmail_signature|gmail_extra|moz-cite-prefix|moz-signature|moz-forward-container|yahoo_quoted|protonmail_quote|protonmail_signature_block|OutlookMessageHeader|x_gmail_quote|x_gmail_signature)\s*)+$`)
	markerID    = regexp.MustCompile(`^(divRplyFwdMsg|x_divRplyFwdMsg|appendonsend|Signature|x_Signature)$`)

	// cssValue admits plain words, numbers, colours, quoted font names and
	// rgb()/rgba(); no url(), expression(), var(), escapes or semicolons.
	cssValue   = regexp.MustCompile(`^(?i)([a-z0-9#%.,\s"'!\-]|rgba?\([\d.%\s,]*\))+$`)
	cssLength  = `(0|auto|\d{1,4}(\.\d{1,3})?(px|pt|em|rem|%|ex|ch)?)`
	cssLength1 = regexp.MustCompile(`^(?i)` + cssLength + `$`)
	// Up to four non-negative lengths: negative margins are how content
	// escapes its box.
	cssLength4 = regexp.MustCompile(`^(?i)` + cssLength + `(\s+` + cssLength + `){0,3}$`)
)

// policy is the email HTML policy: formatting, tables, lists, images and
// links survive; scripts, event handlers, forms, frames, objects, <style>
// sheets and any CSS that positions, transforms or loads something are
// removed.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("a", "abbr", "address", "article", "b", "bdi", "bdo", "big", "blockquote", "br",
		"caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt",
		"em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
		"hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
		"small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
		"thead", "tr", "tt", "u", "ul", "var", "wbr")

	p.AllowAttrs("dir", "lang", "title").Globally()
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(?i)(left|right|center|justify|top|middle|bottom)$`)).Globally()
	p.AllowAttrs("class").Matching(markerClass).Globally()
	p.AllowAttrs("id").Matching(markerID).Globally()
	p.AllowAttrs("width", "height").Matching(cssLength1).OnElements("table", "td", "th", "img", "col", "colgroup", "hr")
	p.AllowAttrs("valign").Matching(regexp.MustCompile(`^(?i)(top|middle|bottom|baseline)$`)).OnElements("td", "th", "tr", "tbody", "thead", "tfoot", "col")
	p.AllowAttrs("bgcolor", "color").Matching(bluemonday.Paragraph).OnElements("table", "td", "th", "tr", "font", "body")
	p.AllowAttrs("border", "cellpadding", "cellspacing", "colspan", "rowspan").Matching(bluemonday.Integer).OnElements("table", "td", "th", "img")
	p.AllowAttrs("nowrap").OnElements("td", "th")
	p.AllowAttrs("face", "size").Matching(bluemonday.Paragraph).OnElements("font")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^(?i)(1|a|i|disc|circle|square)$`)).OnElements("ol", "ul")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^cite$`)).OnElements("blockquote")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")

	// Links and images: only these schemes, no relative or
	// protocol-relative URLs (they would resolve against our app).
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	p.AllowDataURIImages()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)

	// A small CSS whitelist. Nothing that positions (position, float with
	// negative margins, transform, z-index), hides, or fetches (url(),
	// background-image, @import, behaviour).
	p.AllowStyles("color", "background-color", "font-family", "font-size", "font-weight",
		"font-style", "font-variant", "text-decoration", "text-transform", "line-height",
		"letter-spacing", "vertical-align", "white-space", "word-break", "word-wrap",
		"overflow-wrap", "list-style-type", "border-collapse", "border-style", "border-color",
		"border-width", "border", "border-top", "border-bottom", "border-left", "border-right",
		"direction").Matching(cssValue).Globally()
	p.AllowStyles("text-align").MatchingEnum("left", "right", "center", "justify", "start", "end").Globally()
	p.AllowStyles("width", "max-width", "min-width", "height", "max-height", "min-height", "text-indent").Matching(cssLength1).Globally()
	p.AllowStyles("margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
		"padding", "padding-top", "padding-bottom", "padding-left", "padding-right").Matching(cssLength4).Globally()
	return p
}

// Sanitize makes untrusted email HTML safe to show (see the package doc):
// the policy above, then remote images parked in data-src, then balanced.
func Sanitize(s string) string {
	return Balance(postProcess(policy.Sanitize(s)))
}

// Balance returns HTML as a browser reads it inside a <div>: what it leaves open is closed,
// and end tags it never opened are dropped. The policy keeps markup as written, so a mail
// could end with an open <a href> (the browser then makes every later text on the page that
// link) or with stray </div></li></ol> that close the message's box and the timeline around
// it, and go on to draw under them.
func Balance(s string) string {
	if s == "" {
		return s
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return html.EscapeString(s)
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := html.Render(&b, n); err != nil {
			return html.EscapeString(s)
		}
	}
	return b.String()
}

// postProcess turns <body> into <div> and renames the src of every remote image to data-src so the
// browser fetches nothing (no tracking pixels, no leaked IP) until the agent
// asks for it. cid: and data: images keep their src.
func postProcess(s string) string {
	if !strings.Contains(s, "<img") && !strings.Contains(s, "<body") && !strings.Contains(s, `\`) {
		return s
	}
	var b bytes.Buffer
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		if tt == html.EndTagToken {
			if name, _ := z.TagName(); string(name) == "body" {
				b.WriteString("</div>")
				continue
			}
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(raw)
			continue
		}
		tok := z.Token()
		if tok.Data == "body" {
			// A <body> inside our page would merge its attributes into
			// the app's own body; keep its styling on a div instead.
			tok.Data, tok.DataAtom = "div", atom.Div
			b.WriteString(tok.String())
			continue
		}
		if tok.Data != "img" && !bytes.Contains(raw, []byte(`\`)) {
			b.Write(raw)
			continue
		}
		attrs := tok.Attr[:0]
		for _, a := range tok.Attr {
			switch {
			case a.Key == "style" && strings.Contains(a.Val, `\`):
				// bluemonday checks CSS values with escapes removed but
				// keeps them in its output; drop such styles entirely.
				continue
			case tok.Data == "img" && a.Key == "src" && isRemote(a.Val):
				a.Key = "data-src"
			}
			attrs = append(attrs, a)
		}
		tok.Attr = attrs
		b.WriteString(tok.String())
	}
	return b.String()
}

func isRemote(u string) bool {
	u = strings.ToLower(strings.TrimSpace(u))
	return strings.HasPrefix(u, "http:") || strings.HasPrefix(u, "https:") || strings.HasPrefix(u, "//")
}

// LoadRemoteImages turns parked remote images (data-src) of HTML produced by
// Sanitize back into normal images, for when the agent chooses to load them.
func LoadRemoteImages(s string) string {
	if !strings.Contains(s, "data-src") {
		return s
	}
	var b bytes.Buffer
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(raw)
			continue
		}
		tok := z.Token()
		if tok.Data != "img" {
			b.Write(raw)
			continue
		}
		for i, a := range tok.Attr {
			if a.Key == "data-src" && isRemote(a.Val) && !strings.HasPrefix(strings.TrimSpace(a.Val), "//") {
				tok.Attr[i].Key = "src"
			}
		}
		b.WriteString(tok.String())
	}
	return b.String()
}
