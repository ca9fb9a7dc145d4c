package outbound

import (
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
)

// Agent is who the reply is from, for the From name and the signature tokens.
type Agent struct {
	FirstName string
	LastName  string
	FullName  string // defaults to FirstName + " " + LastName
	Email     string
	JobTitle  string
}

func (a *Agent) fullName() string {
	if a == nil {
		return ""
	}
	if strings.TrimSpace(a.FullName) != "" {
		return a.FullName
	}
	return strings.TrimSpace(a.FirstName + " " + a.LastName)
}

func (a *Agent) firstName() string {
	if a == nil {
		return ""
	}
	if strings.TrimSpace(a.FirstName) != "" {
		return a.FirstName
	}
	first, _, _ := strings.Cut(strings.TrimSpace(a.FullName), " ")
	return first
}

// tokenPattern matches {{ name }} tokens (SPEC EMAIL-2), spaces inside the braces allowed.
var tokenPattern = regexp.MustCompile(`\{\{\s*([a-zA-Z_.]+)\s*\}\}`)

// tokenValues are the signature and From-name tokens of SPEC EMAIL-2. agent.name is accepted
// as another spelling of agent.full_name.
func tokenValues(a *Agent, company, inbox string) map[string]string {
	v := map[string]string{
		"agent.first_name": a.firstName(),
		"agent.full_name":  a.fullName(),
		"agent.name":       a.fullName(),
		"company.name":     company,
		"inbox.name":       inbox,
	}
	if a != nil {
		v["agent.last_name"] = a.LastName
		v["agent.email"] = a.Email
		v["agent.job_title"] = a.JobTitle
	}
	return v
}

// renderTokens replaces every token with its value passed through esc. An unknown token renders
// empty: a customer should never see "{{agent.nickname}}" in a signature.
func renderTokens(tmpl string, values map[string]string, esc func(string) string) string {
	return tokenPattern.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := strings.ToLower(tokenPattern.FindStringSubmatch(m)[1])
		return esc(cleanText(values[name]))
	})
}

// renderTextTokens renders a plain-text template and drops lines that only held tokens which
// all came out empty (an agent without a job title gets no blank line for it).
func renderTextTokens(tmpl string, values map[string]string) string {
	lines := strings.Split(strings.ReplaceAll(tmpl, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		r := renderTokens(l, values, func(s string) string { return s })
		if strings.TrimSpace(r) == "" && strings.TrimSpace(l) != "" && tokenPattern.MatchString(l) &&
			strings.TrimSpace(tokenPattern.ReplaceAllString(l, "")) == "" {
			continue
		}
		out = append(out, r)
	}
	return strings.Join(out, "\n")
}

// signaturePolicy is what an admin-written HTML signature may contain: formatting, links and
// images, never scripts, handlers or forms.
var signaturePolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("style").OnElements("p", "div", "span", "table", "td", "tr", "img", "a")
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	return p
}()

// Signature is the team signature template (SPEC EMAIL-2). HTML is rich text written by an
// admin; Text is its plain-text form, derived from HTML when empty.
type Signature struct {
	HTML string
	Text string
}

// render returns the signature with tokens filled in: HTML-escaped in the HTML form, sanitized
// afterwards as well, so neither a token value nor the template can carry markup that runs.
func (s Signature) render(values map[string]string) (text, htm string) {
	if strings.TrimSpace(s.HTML) != "" {
		htm = signaturePolicy.Sanitize(renderTokens(s.HTML, values, html.EscapeString))
	}
	if strings.TrimSpace(s.Text) != "" {
		text = renderTextTokens(s.Text, values)
	} else if htm != "" {
		text = htmlToText(htm)
	}
	if htm == "" && text != "" {
		htm = textToHTML(text)
	}
	return strings.TrimSpace(text), htm
}

// htmlToText turns HTML into readable plain text: block elements and <br> break lines, links
// keep their target, everything else is its text.
func htmlToText(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	var href string
	linkStart := 0
	skip := 0
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return collapseBlankLines(b.String())
		case xhtml.TextToken:
			if skip == 0 {
				t := strings.Join(strings.Fields(string(z.Text())), " ")
				if t != "" {
					if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") && !strings.HasSuffix(b.String(), " ") &&
						startsWithSpace(z.Raw()) {
						b.WriteByte(' ')
					}
					b.WriteString(t)
					if endsWithSpace(z.Raw()) {
						b.WriteByte(' ')
					}
				}
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch tag {
			case "script", "style", "head", "title":
				if tt == xhtml.StartTagToken {
					skip++
				} else if tt == xhtml.EndTagToken && skip > 0 {
					skip--
				}
			case "br":
				b.WriteByte('\n')
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "hr":
				newline()
			case "a":
				if tt == xhtml.StartTagToken {
					href, linkStart = "", b.Len()
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = string(v)
						}
					}
				} else if tt == xhtml.EndTagToken && href != "" {
					if !strings.Contains(b.String()[min(linkStart, b.Len()):], strings.TrimPrefix(href, "mailto:")) {
						b.WriteString(" <" + href + ">")
					}
					href = ""
				}
			}
		}
	}
}

func startsWithSpace(b []byte) bool { return len(b) > 0 && strings.ContainsRune(" \t\r\n", rune(b[0])) }
func endsWithSpace(b []byte) bool {
	return len(b) > 0 && strings.ContainsRune(" \t\r\n", rune(b[len(b)-1]))
}

func collapseBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// textToHTML renders plain text as HTML: escaped, paragraphs on blank lines, <br> on single
// line breaks.
func textToHTML(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for p := range strings.SplitSeq(strings.TrimSpace(s), "\n\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(strings.Trim(p, "\n")), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return b.String()
}

// Quoted is the previous message, quoted below the reply (SPEC EMAIL-3 "quotes the history").
type Quoted struct {
	From Address
	Date time.Time
	Text string
	// HTML must already be sanitized (the inbound pipeline stores it so); it is placed inside a
	// blockquote as it is. When empty, Text is quoted instead.
	HTML string
}

// attribution is the "On …, Ana <ana@example.com> wrote:" line.
func (q *Quoted) attribution() string {
	who := cleanText(q.From.Name)
	if who == "" {
		who = q.From.Email
	} else if q.From.Email != "" {
		who += " <" + q.From.Email + ">"
	}
	if q.Date.IsZero() {
		return who + " wrote:"
	}
	return "On " + q.Date.Format("Mon, 2 Jan 2006 at 15:04") + ", " + who + " wrote:"
}

func (q *Quoted) text() string {
	body := q.Text
	if strings.TrimSpace(body) == "" && q.HTML != "" {
		body = htmlToText(q.HTML)
	}
	var b strings.Builder
	b.WriteString(q.attribution())
	b.WriteByte('\n')
	for l := range strings.SplitSeq(strings.TrimRight(strings.ReplaceAll(body, "\r\n", "\n"), "\n"), "\n") {
		if strings.HasPrefix(l, ">") {
			b.WriteString(">" + l + "\n")
		} else {
			b.WriteString("> " + l + "\n")
		}
	}
	return b.String()
}

func (q *Quoted) html() string {
	inner := q.HTML
	if strings.TrimSpace(inner) == "" {
		inner = textToHTML(q.Text)
	}
	return `<div class="parley_quote">` + "\n<p>" + html.EscapeString(q.attribution()) + "</p>\n" +
		`<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">` + "\n" +
		inner + "\n</blockquote>\n</div>\n"
}
