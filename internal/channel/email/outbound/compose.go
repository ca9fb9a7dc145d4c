package outbound

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"path"
	"strings"
	"time"
)

// NameMode is how the From display name is built (SPEC EMAIL-2).
type NameMode string

const (
	// NameAgentAndCompany gives "Ana at Acme" (Identity.NameFormat); automatic mail, which has
	// no agent, falls back to the company name.
	NameAgentAndCompany NameMode = "agent_and_company"
	// NameCompany gives the company name alone.
	NameCompany NameMode = "company"
)

// DefaultNameFormat is the From name in NameAgentAndCompany mode.
const DefaultNameFormat = "{{agent.first_name}} at {{company.name}}"

// Identity is the team address an inbox sends from, with how it presents itself.
type Identity struct {
	Email       string // the From address, e.g. support@acme.example
	CompanyName string
	InboxName   string
	NameMode    NameMode
	// NameFormat is the From name template in NameAgentAndCompany mode, with the signature's
	// tokens; empty means DefaultNameFormat.
	NameFormat string
	// ReplyTo is where replies should go when it differs from Email, e.g. the inbox's
	// plus-token receiving address when the team address is only forwarded to Parley.
	ReplyTo   string
	Signature Signature
}

// fromName renders the display name for the From header.
func (id Identity) fromName(a *Agent) string {
	company := cleanText(id.CompanyName)
	if company == "" {
		company = cleanText(id.InboxName)
	}
	if id.NameMode != NameAgentAndCompany || a == nil {
		return company
	}
	format := id.NameFormat
	if strings.TrimSpace(format) == "" {
		format = DefaultNameFormat
	}
	name := cleanText(renderTokens(format, tokenValues(a, id.CompanyName, id.InboxName), func(s string) string { return s }))
	if name == "" || name == "at" {
		return company
	}
	return name
}

// Attachment is one file sent with the message. With a ContentID it is an inline part that the
// HTML refers to as cid:ContentID (an image pasted into the reply).
type Attachment struct {
	Name        string
	ContentType string // empty or unparsable means application/octet-stream
	Data        []byte
	ContentID   string
}

// Outgoing is one agent reply, acknowledgement or forward to compose.
type Outgoing struct {
	From  Identity
	Agent *Agent // nil for automatic mail
	To    []Address
	Cc    []Address
	// Bcc recipients get the message through the envelope only; they never appear in it.
	Bcc []Address

	// Subject is the conversation's subject. For a reply (InReplyTo set) Compose writes it as
	// ReplySubject(Subject), so callers may pass the original subject or an earlier "Re:" one.
	Subject string

	// MessageID, InReplyTo and References come from the caller's threading (spec/email.md §4.2).
	// MessageID is required; References may be the parent's References header as is.
	MessageID  string
	InReplyTo  string
	References []string

	Date time.Time // zero means now

	// Text and HTML are the agent's message; either may be empty and is then derived from the
	// other. HTML is used as given (the composer's output, already sanitized).
	Text string
	HTML string

	Attachments []Attachment
	Quote       *Quoted // the previous message, quoted below the reply; nil for none
	// NoSignature leaves the team signature off (e.g. a forward note that should stay bare).
	NoSignature bool

	// AutoReply marks an automatic acknowledgement (RFC 3834): Auto-Submitted: auto-replied,
	// X-Auto-Response-Suppress: All and X-Loop with the team address, so other robots stay quiet.
	AutoReply bool
}

// Recipients returns every envelope recipient — To, Cc and Bcc — once each.
func (in Outgoing) Recipients() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]Address{in.To, in.Cc, in.Bcc} {
		for _, a := range list {
			e := strings.TrimSpace(a.Email)
			if k := strings.ToLower(e); e != "" && !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// Compose builds the RFC 5322 message for in.
func Compose(in Outgoing) ([]byte, error) {
	return compose(in, nil)
}

// Forwarded is the message being forwarded to a third party.
type Forwarded struct {
	// Raw is the original message as received. With AsAttachment it is attached as
	// message/rfc822; otherwise (or when Raw is empty) the fields below are shown inline.
	Raw          []byte
	AsAttachment bool

	From    Address
	To      []Address
	Date    time.Time
	Subject string
	Text    string
	HTML    string // already sanitized
	// Attachments of the original, carried along when forwarding inline.
	Attachments []Attachment
}

// Forward builds a message forwarding orig to in's recipients, with in.Text/HTML as the
// agent's note above it. The subject defaults to ForwardSubject(orig.Subject); In-Reply-To and
// References are left as the caller set them (normally empty: a forward starts a new thread).
func Forward(in Outgoing, orig Forwarded) ([]byte, error) {
	if strings.TrimSpace(in.Subject) == "" {
		in.Subject = ForwardSubject(orig.Subject)
	}
	in.Quote = nil
	return compose(in, &orig)
}

func compose(in Outgoing, fwd *Forwarded) ([]byte, error) {
	fromEmail, err := checkEmail(in.From.Email)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(in.To)+len(in.Cc)+len(in.Bcc) == 0 {
		return nil, errors.New("no recipients")
	}
	id, err := msgID(in.MessageID)
	if err != nil {
		return nil, err
	}
	date := in.Date
	if date.IsZero() {
		date = time.Now()
	}

	var h []headerField
	add := func(name, value string) { h = append(h, headerField{name, value}) }

	from, err := Address{Name: in.From.fromName(in.Agent), Email: fromEmail}.format()
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	add("From", from)
	if rt := strings.TrimSpace(in.From.ReplyTo); rt != "" && !strings.EqualFold(rt, fromEmail) {
		replyTo, err := Address{Name: in.From.fromName(in.Agent), Email: rt}.format()
		if err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
		add("Reply-To", replyTo)
	}
	for _, l := range []struct {
		name string
		as   []Address
	}{{"To", in.To}, {"Cc", in.Cc}} {
		if len(l.as) == 0 {
			continue
		}
		v, err := formatList(l.as)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.ToLower(l.name), err)
		}
		add(l.name, v)
	}
	for _, a := range in.Bcc { // validated here, used only on the envelope
		if _, err := checkEmail(a.Email); err != nil {
			return nil, fmt.Errorf("bcc: %w", err)
		}
	}
	subject := in.Subject
	if in.InReplyTo != "" && fwd == nil {
		subject = ReplySubject(subject)
	}
	add("Subject", encodeSubject(subject))
	add("Date", date.Format(time.RFC1123Z))
	add("Message-ID", id)
	if in.InReplyTo != "" {
		parent, err := msgID(in.InReplyTo)
		if err != nil {
			return nil, fmt.Errorf("in-reply-to: %w", err)
		}
		add("In-Reply-To", parent)
	}
	if len(in.References) > 0 || in.InReplyTo != "" {
		refs, err := references(in.References, in.InReplyTo)
		if err != nil {
			return nil, fmt.Errorf("references: %w", err)
		}
		add("References", strings.Join(refs, " "))
	}
	if in.AutoReply {
		add("Auto-Submitted", "auto-replied")
		add("X-Auto-Response-Suppress", "All")
		add("X-Loop", fromEmail)
	} else {
		add("Auto-Submitted", "no")
	}
	add("MIME-Version", "1.0")

	body, err := buildBody(in, fwd)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, f := range h {
		if err := writeHeader(&b, f); err != nil {
			return nil, err
		}
	}
	for _, f := range body.header {
		if err := writeHeader(&b, f); err != nil {
			return nil, err
		}
	}
	b.WriteString("\r\n")
	b.Write(body.content)
	return []byte(b.String()), nil
}

// part is one MIME entity: its own headers and its encoded content.
type part struct {
	header  []headerField
	content []byte
}

func (p part) write(buf *bytes.Buffer) error {
	var b strings.Builder
	for _, f := range p.header {
		if err := writeHeader(&b, f); err != nil {
			return err
		}
	}
	b.WriteString("\r\n")
	buf.WriteString(b.String())
	buf.Write(p.content)
	return nil
}

func multipartOf(subtype string, parts ...part) (part, error) {
	boundary := newBoundary()
	var buf bytes.Buffer
	for _, p := range parts {
		buf.WriteString("--" + boundary + "\r\n")
		if err := p.write(&buf); err != nil {
			return part{}, err
		}
		if !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
			buf.WriteString("\r\n")
		}
	}
	buf.WriteString("--" + boundary + "--\r\n")
	ct := mime.FormatMediaType("multipart/"+subtype, map[string]string{"boundary": boundary})
	return part{header: []headerField{{"Content-Type", ct}}, content: buf.Bytes()}, nil
}

// newBoundary is random so no body text can contain it by accident or on purpose.
func newBoundary() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "parley-" + hex.EncodeToString(b[:])
}

func textPart(subtype, s string) part {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	if !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
		buf.WriteString("\r\n")
	}
	return part{header: []headerField{
		{"Content-Type", "text/" + subtype + "; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	}, content: buf.Bytes()}
}

func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var buf bytes.Buffer
	for len(enc) > 76 {
		buf.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		buf.WriteString(enc + "\r\n")
	}
	return buf.Bytes()
}

// fileName cleans an attachment name: no directories, no control characters, never empty.
func fileName(s string) string {
	s = cleanText(strings.ReplaceAll(s, "\\", "/"))
	s = path.Base(s)
	if s == "." || s == "/" || s == "" {
		return "attachment"
	}
	return s
}

func attachmentPart(a Attachment) (part, error) {
	ct := "application/octet-stream"
	if mt, params, err := mime.ParseMediaType(a.ContentType); err == nil && strings.Contains(mt, "/") &&
		!strings.HasPrefix(mt, "multipart/") {
		delete(params, "name")
		ct = mime.FormatMediaType(mt, params)
		if ct == "" {
			ct = mt
		}
	}
	name := fileName(a.Name)
	disposition := "attachment"
	h := []headerField{}
	if a.ContentID != "" {
		cid, err := contentID(a.ContentID)
		if err != nil {
			return part{}, fmt.Errorf("attachment %q content id: %w", name, err)
		}
		disposition = "inline"
		h = append(h, headerField{"Content-ID", cid})
	}
	// FormatMediaType writes RFC 2231 parameters for names that are not plain ASCII.
	h = append(h,
		headerField{"Content-Type", withParam(ct, "name", name)},
		headerField{"Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name})},
		headerField{"Content-Transfer-Encoding", "base64"},
	)
	return part{header: h, content: base64Lines(a.Data)}, nil
}

// contentID writes an inline part's Content-ID. RFC 2045 gives it a Message-ID's form, but
// real mail breaks that: Gmail names its inline images <ii_…>, with no @. Forwarding such a
// mail must keep the name its HTML's cid: links use, so only what a header cannot hold is
// refused.
func contentID(s string) (string, error) {
	if id, err := msgID(s); err == nil {
		return id, nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
	if s == "" || len(s) > 900 || strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\'
	}) {
		return "", fmt.Errorf("content id %q: invalid", s)
	}
	return "<" + s + ">", nil
}

func withParam(ct, key, value string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	params[key] = value
	if s := mime.FormatMediaType(mt, params); s != "" {
		return s
	}
	return mt
}

// rfc822Part attaches a whole message. RFC 2046 allows only 7bit/8bit/binary for
// message/rfc822; a message that is not line-safe is sent base64 as an .eml file instead.
func rfc822Part(raw []byte, subject string) part {
	raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		raw = append(raw, '\r', '\n')
	}
	name := fileName(cleanText(subject))
	if name == "attachment" || name == "" {
		name = "message"
	}
	name += ".eml"
	cte, safe := "7bit", true
	for l := range bytes.SplitSeq(raw, []byte("\r\n")) {
		if len(l) > 998 || bytes.IndexByte(l, 0) >= 0 || bytes.IndexByte(l, '\r') >= 0 {
			safe = false
			break
		}
		for _, c := range l {
			if c >= 0x80 {
				cte = "8bit"
			}
		}
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if !safe {
		return part{header: []headerField{
			{"Content-Type", withParam("application/octet-stream", "name", name)},
			{"Content-Disposition", disposition},
			{"Content-Transfer-Encoding", "base64"},
		}, content: base64Lines(raw)}
	}
	return part{header: []headerField{
		{"Content-Type", "message/rfc822"},
		{"Content-Disposition", disposition},
		{"Content-Transfer-Encoding", cte},
	}, content: raw}
}

// forwardedBlock is the "---------- Forwarded message ---------" header block shown inline.
func forwardedBlock(f *Forwarded) (text, htm string, err error) {
	lines := [][2]string{}
	from, err := formatDisplay(f.From)
	if err != nil {
		return "", "", err
	}
	lines = append(lines, [2]string{"From", from})
	if !f.Date.IsZero() {
		lines = append(lines, [2]string{"Date", f.Date.Format("Mon, 2 Jan 2006 at 15:04")})
	}
	lines = append(lines, [2]string{"Subject", cleanText(f.Subject)})
	if len(f.To) > 0 {
		var tos []string
		for _, a := range f.To {
			s, err := formatDisplay(a)
			if err != nil {
				return "", "", err
			}
			tos = append(tos, s)
		}
		lines = append(lines, [2]string{"To", strings.Join(tos, ", ")})
	}
	var tb, hb strings.Builder
	tb.WriteString("---------- Forwarded message ---------\n")
	hb.WriteString(`<div class="parley_forward">` + "\n<p>---------- Forwarded message ---------<br>\n")
	for _, l := range lines {
		tb.WriteString(l[0] + ": " + l[1] + "\n")
		hb.WriteString(l[0] + ": " + htmlEscape(l[1]) + "<br>\n")
	}
	hb.WriteString("</p>\n")
	body := f.Text
	if strings.TrimSpace(body) == "" && f.HTML != "" {
		body = htmlToText(f.HTML)
	}
	tb.WriteString("\n" + body + "\n")
	inner := f.HTML
	if strings.TrimSpace(inner) == "" {
		inner = textToHTML(f.Text)
	}
	hb.WriteString(inner + "\n</div>\n")
	return tb.String(), hb.String(), nil
}

// formatDisplay is an address as people read it (not header-encoded): Ana <ana@example.com>.
func formatDisplay(a Address) (string, error) {
	name := cleanText(a.Name)
	email := strings.TrimSpace(a.Email)
	if email != "" {
		if _, err := checkEmail(email); err != nil {
			return "", err
		}
	}
	switch {
	case name == "":
		return email, nil
	case email == "":
		return name, nil
	}
	return name + " <" + email + ">", nil
}

func buildBody(in Outgoing, fwd *Forwarded) (part, error) {
	text, htm := in.Text, in.HTML
	if strings.TrimSpace(htm) == "" {
		htm = textToHTML(text)
	} else if strings.TrimSpace(text) == "" {
		text = htmlToText(htm)
	}
	text = strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n ") + "\n"

	if !in.NoSignature {
		st, sh := in.From.Signature.render(tokenValues(in.Agent, in.From.CompanyName, in.From.InboxName))
		if st != "" {
			// "-- " is the signature delimiter mail clients recognise and fold.
			text += "\n-- \n" + st + "\n"
		}
		if sh != "" {
			htm += "\n" + `<div class="parley_signature">` + "\n" + sh + "\n</div>\n"
		}
	}
	if q := in.Quote; q != nil {
		text += "\n" + q.text()
		htm += q.html()
	}
	attachments := in.Attachments
	var extra []part
	if fwd != nil {
		if fwd.AsAttachment && len(fwd.Raw) > 0 {
			extra = append(extra, rfc822Part(fwd.Raw, fwd.Subject))
		} else {
			ft, fh, err := forwardedBlock(fwd)
			if err != nil {
				return part{}, fmt.Errorf("forwarded message: %w", err)
			}
			text += "\n" + ft
			htm += fh
			attachments = append(append([]Attachment(nil), attachments...), fwd.Attachments...)
		}
	}
	htm = htmlDocument(htm)

	var inline, files []part
	for _, a := range attachments {
		p, err := attachmentPart(a)
		if err != nil {
			return part{}, err
		}
		if a.ContentID != "" {
			inline = append(inline, p)
		} else {
			files = append(files, p)
		}
	}
	htmlPart := textPart("html", htm)
	if len(inline) > 0 {
		related, err := multipartOf("related", append([]part{htmlPart}, inline...)...)
		if err != nil {
			return part{}, err
		}
		htmlPart = related
	}
	body, err := multipartOf("alternative", textPart("plain", text), htmlPart)
	if err != nil {
		return part{}, err
	}
	files = append(files, extra...)
	if len(files) > 0 {
		return multipartOf("mixed", append([]part{body}, files...)...)
	}
	return body, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// htmlDocument wraps a fragment in a minimal document that declares its charset, which some
// clients need to show UTF-8 HTML right even with the MIME charset set.
func htmlDocument(fragment string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body>\n" + fragment + "\n</body></html>\n"
}
