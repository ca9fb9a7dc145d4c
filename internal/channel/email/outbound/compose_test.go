package outbound

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// leaf is one decoded MIME leaf part.
type leaf struct {
	header textproto.MIMEHeader
	ctype  string
	params map[string]string
	body   []byte
}

// parse reads a composed message back with the standard library only, checking line lengths
// and line endings on the way.
func parse(t *testing.T, raw []byte) (*mail.Message, []leaf) {
	t.Helper()
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Fatalf("line %d is %d bytes", i, len(l))
		}
		if bytes.IndexByte(l, '\n') >= 0 || bytes.IndexByte(l, '\r') >= 0 {
			t.Fatalf("line %d has a bare CR or LF: %q", i, l)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail: %v\n%s", err, raw)
	}
	var leaves []leaf
	var walk func(h textproto.MIMEHeader, body io.Reader)
	walk = func(h textproto.MIMEHeader, body io.Reader) {
		ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			t.Fatalf("content-type %q: %v", h.Get("Content-Type"), err)
		}
		if strings.HasPrefix(ct, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("multipart: %v", err)
				}
				walk(p.Header, p)
			}
			leaves = append(leaves, leaf{header: h, ctype: ct, params: params})
			return
		}
		var data []byte
		switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			data, err = io.ReadAll(quotedprintable.NewReader(body))
		case "base64":
			data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		default:
			data, err = io.ReadAll(body)
		}
		if err != nil {
			t.Fatalf("decode %s: %v", ct, err)
		}
		leaves = append(leaves, leaf{header: h, ctype: ct, params: params, body: data})
	}
	walk(textproto.MIMEHeader(m.Header), m.Body)
	return m, leaves
}

func find(t *testing.T, leaves []leaf, ct string) leaf {
	t.Helper()
	for _, l := range leaves {
		if l.ctype == ct {
			return l
		}
	}
	t.Fatalf("no %s part", ct)
	return leaf{}
}

func decodeHeader(t *testing.T, s string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return d
}

func acme() Identity {
	return Identity{
		Email:       "support@acme.example",
		CompanyName: "Acme",
		InboxName:   "Support",
		NameMode:    NameAgentAndCompany,
		ReplyTo:     "support+c7f3a@in.parley.example",
		Signature: Signature{HTML: `<p><b>{{agent.full_name}}</b>, {{ agent.job_title }}<br>` +
			`<a href="mailto:{{agent.email}}">{{agent.email}}</a><br>{{company.name}} · {{inbox.name}}{{agent.nickname}}</p>`},
	}
}

func ana() *Agent {
	return &Agent{FirstName: "Ana", LastName: "Lind", Email: "ana@acme.example", JobTitle: "Support lead"}
}

func reply() Outgoing {
	return Outgoing{
		From:       acme(),
		Agent:      ana(),
		To:         []Address{{Name: "Bo Kund", Email: "bo@customer.example"}},
		Cc:         []Address{{Name: "Åsa Öberg", Email: "asa@customer.example"}},
		Bcc:        []Address{{Email: "audit@acme.example"}},
		Subject:    "RE: Re: AW: Order 1234 arrived broken",
		MessageID:  "c.12.m.99.ab12cd34@acme.example",
		InReplyTo:  "<CAF=abc@mail.gmail.com>",
		References: []string{"<root@customer.example> <CAF=abc@mail.gmail.com>"},
		Date:       time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		Text:       "Hej Bo,\n\nwe are sending a new one today — sorry!\n",
		Quote: &Quoted{
			From: Address{Name: "Bo Kund", Email: "bo@customer.example"},
			Date: time.Date(2026, 11, 20, 18, 5, 0, 0, time.UTC),
			Text: "My order arrived broken.\n> older quoted line",
		},
	}
}

func TestComposeReply(t *testing.T) {
	raw, err := Compose(reply())
	if err != nil {
		t.Fatal(err)
	}
	m, leaves := parse(t, raw)
	h := m.Header

	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil {
		t.Fatal(err)
	}
	if from.Name != "Ana at Acme" || from.Address != "support@acme.example" {
		t.Errorf("From = %q <%s>", from.Name, from.Address)
	}
	rt, _ := mail.ParseAddress(h.Get("Reply-To"))
	if rt == nil || rt.Address != "support+c7f3a@in.parley.example" {
		t.Errorf("Reply-To = %q", h.Get("Reply-To"))
	}
	to, _ := h.AddressList("To")
	cc, _ := h.AddressList("Cc")
	if len(to) != 1 || to[0].Address != "bo@customer.example" || to[0].Name != "Bo Kund" {
		t.Errorf("To = %v", to)
	}
	if len(cc) != 1 || cc[0].Name != "Åsa Öberg" {
		t.Errorf("Cc = %v", cc)
	}
	if bytes.Contains(bytes.ToLower(raw), []byte("bcc")) || bytes.Contains(raw, []byte("audit@acme.example")) {
		t.Error("Bcc recipient appears in the message")
	}
	if got := decodeHeader(t, h.Get("Subject")); got != "Re: Order 1234 arrived broken" {
		t.Errorf("Subject = %q", got)
	}
	if h.Get("Message-ID") != "<c.12.m.99.ab12cd34@acme.example>" || h.Get("In-Reply-To") != "<CAF=abc@mail.gmail.com>" {
		t.Errorf("ids: %q %q", h.Get("Message-ID"), h.Get("In-Reply-To"))
	}
	if got := strings.Join(strings.Fields(h.Get("References")), " "); got != "<root@customer.example> <CAF=abc@mail.gmail.com>" {
		t.Errorf("References = %q", got)
	}
	if d, err := h.Date(); err != nil || !d.Equal(time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("Date = %v %v", d, err)
	}
	if h.Get("Auto-Submitted") != "no" || h.Get("MIME-Version") != "1.0" {
		t.Errorf("Auto-Submitted %q MIME-Version %q", h.Get("Auto-Submitted"), h.Get("MIME-Version"))
	}

	plain, htm := find(t, leaves, "text/plain"), find(t, leaves, "text/html")
	for _, p := range []leaf{plain, htm} {
		if p.params["charset"] != "utf-8" {
			t.Errorf("%s charset %q", p.ctype, p.params["charset"])
		}
	}
	find(t, leaves, "multipart/alternative")
	text := string(plain.body)
	for _, want := range []string{
		"we are sending a new one today — sorry!",
		"\r\n-- \r\nAna Lind, Support lead",
		"ana@acme.example",
		"Acme · Support",
		"On Fri, 20 Nov 2026 at 18:05, Bo Kund <bo@customer.example> wrote:\r\n> My order arrived broken.\r\n>> older quoted line",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "{{") || strings.Contains(string(htm.body), "{{") {
		t.Error("an unrendered token is left")
	}
	html := string(htm.body)
	for _, want := range []string{
		`<meta charset="utf-8">`,
		"<p>Hej Bo,</p>",
		"<b>Ana Lind</b>, Support lead",
		`href="mailto:ana@acme.example"`,
		`<blockquote type="cite"`,
		"My order arrived broken.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q:\n%s", want, html)
		}
	}
	if strings.Index(html, "parley_signature") > strings.Index(html, "blockquote") {
		t.Error("the signature should come before the quoted history")
	}
}

func TestSignatureTokensAreEscaped(t *testing.T) {
	in := reply()
	in.Agent = &Agent{FullName: `Eve <script>alert(1)</script> "x" & co`, FirstName: "Eve", Email: `e@x.example"><img src=x onerror=alert(1)>`}
	in.From.Signature.HTML += `<script>alert(2)</script><a href="javascript:alert(3)" onclick="x()">click</a>`
	raw, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	_, leaves := parse(t, raw)
	html := string(find(t, leaves, "text/html").body)
	// Escaped text such as "&lt;img onerror=…" is harmless; live tags and attributes are not.
	for _, bad := range []string{"<script", "<img", "onclick", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("html holds %q:\n%s", bad, html)
		}
	}
	if !strings.Contains(html, "Eve &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("agent name not escaped as text:\n%s", html)
	}
	text := string(find(t, leaves, "text/plain").body)
	if !strings.Contains(text, `Eve <script>alert(1)</script> "x" & co`) {
		t.Errorf("text signature should show the name as written:\n%s", text)
	}
}

func TestFromNameModes(t *testing.T) {
	cases := []struct {
		mode   NameMode
		format string
		agent  *Agent
		want   string
	}{
		{NameAgentAndCompany, "", ana(), "Ana at Acme"},
		{NameAgentAndCompany, "{{agent.full_name}} | {{company.name}}", ana(), "Ana Lind | Acme"},
		{NameAgentAndCompany, "", nil, "Acme"}, // automatic mail has no agent
		{NameCompany, "", ana(), "Acme"},
	}
	for _, c := range cases {
		in := reply()
		in.From.NameMode, in.From.NameFormat, in.Agent = c.mode, c.format, c.agent
		raw, err := Compose(in)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := parse(t, raw)
		a, err := mail.ParseAddress(m.Header.Get("From"))
		if err != nil || a.Name != c.want {
			t.Errorf("%s %q: From = %q (%v)", c.mode, c.format, m.Header.Get("From"), err)
		}
	}
}

func TestReplySubject(t *testing.T) {
	for in, want := range map[string]string{
		"Order":                     "Re: Order",
		"Re: Order":                 "Re: Order",
		"RE: re: Re[3]: Order":      "Re: Order",
		"AW: SV: Antw: Order":       "Re: Order",
		"Re:Order":                  "Re: Order",
		"Fwd: Order":                "Re: Fwd: Order",
		"Regarding the order":       "Re: Regarding the order",
		"Re: [#42] Order\r\nBcc: x": "Re: [#42] Order Bcc: x",
	} {
		if got := ReplySubject(in); got != want {
			t.Errorf("ReplySubject(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ForwardSubject("Fwd: FW: Order"); got != "Fwd: Order" {
		t.Errorf("ForwardSubject = %q", got)
	}
}

func TestNoHeaderInjection(t *testing.T) {
	in := reply()
	in.Subject = "Hello\r\nBcc: victim@evil.example\r\n\r\nbody"
	in.To = []Address{{Name: "Bo\r\nX-Evil: 1", Email: "bo@customer.example"}}
	in.From.CompanyName = "Acme\nX-Evil: 2"
	in.Attachments = []Attachment{{Name: "a\r\nX-Evil: 3.txt", ContentType: "text/plain\r\nX-Evil: 4", Data: []byte("x")}}
	raw, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	m, leaves := parse(t, raw)
	for k := range m.Header {
		if strings.EqualFold(k, "X-Evil") || strings.EqualFold(k, "Bcc") {
			t.Errorf("injected header %s", k)
		}
	}
	for _, l := range leaves {
		if l.header.Get("X-Evil") != "" {
			t.Error("injected part header")
		}
	}

	for _, bad := range []Outgoing{
		func() Outgoing {
			o := reply()
			o.To = []Address{{Email: "bo@x.example\r\nBcc: v@evil.example"}}
			return o
		}(),
		func() Outgoing { o := reply(); o.Bcc = []Address{{Email: "a@b.example>\r\n"}}; return o }(),
		func() Outgoing { o := reply(); o.MessageID = "a@b\r\nX-Evil: 1"; return o }(),
		func() Outgoing { o := reply(); o.References = []string{"<a@b>\nX-Evil: 1"}; return o }(),
		func() Outgoing { o := reply(); o.From.ReplyTo = "x@y.example\nX-Evil: 1"; return o }(),
		func() Outgoing { o := reply(); o.MessageID = ""; return o }(),
		func() Outgoing { o := reply(); o.To, o.Cc, o.Bcc = nil, nil, nil; return o }(),
	} {
		if _, err := Compose(bad); err == nil {
			t.Errorf("Compose accepted %+v", bad)
		}
	}
}

func TestLongSubjectAndReferencesFold(t *testing.T) {
	in := reply()
	in.Subject = strings.Repeat("Ärende om leveransen ", 40)
	for i := range 60 {
		in.References = append(in.References, "<ref"+strings.Repeat("x", 30)+string(rune('a'+i%26))+time.Duration(i).String()+"@example.com>")
	}
	raw, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := parse(t, raw)
	head := raw[:bytes.Index(raw, []byte("\r\n\r\n"))]
	for l := range bytes.SplitSeq(head, []byte("\r\n")) {
		if len(l) > 200 {
			t.Errorf("header line of %d bytes not folded: %.80s…", len(l), l)
		}
	}
	if got := decodeHeader(t, m.Header.Get("Subject")); got != "Re: "+strings.TrimSpace(in.Subject) {
		t.Errorf("subject round trip: %q", got)
	}
	refs := strings.Fields(m.Header.Get("References"))
	if len(refs) != maxReferences || refs[0] != "<root@customer.example>" || refs[len(refs)-1] != "<CAF=abc@mail.gmail.com>" {
		t.Errorf("References: %d ids, first %s last %s", len(refs), refs[0], refs[len(refs)-1])
	}
}

func TestAttachmentsAndInlineImages(t *testing.T) {
	in := reply()
	in.Quote = nil
	in.HTML = `<p>See the photo:</p><img src="cid:photo1@parley">`
	in.Text = ""
	pdf := bytes.Repeat([]byte{0, 1, 2, 250, 255}, 1000)
	in.Attachments = []Attachment{
		{Name: "faktura-ö.pdf", ContentType: "application/pdf", Data: pdf},
		{Name: "../../etc/passwd", ContentType: "", Data: []byte("x")},
		{Name: "photo.png", ContentType: "image/png", Data: []byte("\x89PNG..."), ContentID: "photo1@parley"},
	}
	raw, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	m, leaves := parse(t, raw)
	if ct, _, _ := mime.ParseMediaType(m.Header.Get("Content-Type")); ct != "multipart/mixed" {
		t.Errorf("top level %s", ct)
	}
	find(t, leaves, "multipart/related")
	if got := string(find(t, leaves, "text/plain").body); !strings.Contains(got, "See the photo:") {
		t.Errorf("text derived from HTML: %q", got)
	}
	p := find(t, leaves, "application/pdf")
	if !bytes.Equal(p.body, pdf) {
		t.Error("pdf bytes differ")
	}
	if _, params, _ := mime.ParseMediaType(p.header.Get("Content-Disposition")); params["filename"] != "faktura-ö.pdf" {
		t.Errorf("filename %q", params["filename"])
	}
	o := find(t, leaves, "application/octet-stream")
	if _, params, _ := mime.ParseMediaType(o.header.Get("Content-Disposition")); params["filename"] != "passwd" {
		t.Errorf("path not stripped: %q", params["filename"])
	}
	img := find(t, leaves, "image/png")
	if img.header.Get("Content-ID") != "<photo1@parley>" || !strings.HasPrefix(img.header.Get("Content-Disposition"), "inline") {
		t.Errorf("inline image headers %v", img.header)
	}
}

func TestAutoReply(t *testing.T) {
	in := reply()
	in.AutoReply, in.Agent = true, nil
	raw, err := Compose(in)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := parse(t, raw)
	if m.Header.Get("Auto-Submitted") != "auto-replied" || m.Header.Get("X-Auto-Response-Suppress") != "All" ||
		m.Header.Get("X-Loop") != "support@acme.example" {
		t.Errorf("auto-reply headers: %v", m.Header)
	}
}

func TestRecipients(t *testing.T) {
	got := reply().Recipients()
	want := []string{"bo@customer.example", "asa@customer.example", "audit@acme.example"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Recipients = %v", got)
	}
	in := reply()
	in.Cc = append(in.Cc, Address{Email: "BO@customer.example"})
	if len(in.Recipients()) != 3 {
		t.Errorf("duplicate not removed: %v", in.Recipients())
	}
}

const original = "From: Bo Kund <bo@customer.example>\r\nTo: support@acme.example\r\n" +
	"Subject: Order 1234\r\nMessage-ID: <orig@customer.example>\r\nDate: Fri, 20 Nov 2026 18:05:00 +0000\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nMy order arrived broken — help.\r\n"

func TestForwardAsAttachment(t *testing.T) {
	in := reply()
	in.To, in.Cc, in.Bcc = []Address{{Email: "warehouse@partner.example"}}, nil, nil
	in.Subject, in.InReplyTo, in.References, in.Quote = "", "", nil, nil
	in.Text = "Could you check this one?"
	raw, err := Forward(in, Forwarded{Raw: []byte(original), AsAttachment: true, Subject: "Order 1234"})
	if err != nil {
		t.Fatal(err)
	}
	m, leaves := parse(t, raw)
	if got := decodeHeader(t, m.Header.Get("Subject")); got != "Fwd: Order 1234" {
		t.Errorf("Subject = %q", got)
	}
	if m.Header.Get("In-Reply-To") != "" || m.Header.Get("References") != "" {
		t.Error("a forward starts a new thread")
	}
	p := find(t, leaves, "message/rfc822")
	if p.header.Get("Content-Transfer-Encoding") != "8bit" {
		t.Errorf("cte %q", p.header.Get("Content-Transfer-Encoding"))
	}
	inner, err := mail.ReadMessage(bytes.NewReader(p.body))
	if err != nil || inner.Header.Get("Message-ID") != "<orig@customer.example>" {
		t.Fatalf("attached message: %v", err)
	}
}

func TestForwardInline(t *testing.T) {
	in := reply()
	in.To, in.Cc, in.Bcc = []Address{{Email: "warehouse@partner.example"}}, nil, nil
	in.Subject, in.InReplyTo, in.References, in.Quote = "", "", nil, nil
	in.Text = "FYI"
	raw, err := Forward(in, Forwarded{
		From:    Address{Name: "Bo <Kund>", Email: "bo@customer.example"},
		To:      []Address{{Email: "support@acme.example"}},
		Date:    time.Date(2026, 11, 20, 18, 5, 0, 0, time.UTC),
		Subject: "Fwd: Order 1234",
		Text:    "My order arrived broken.",
		Attachments: []Attachment{
			{Name: "photo.jpg", ContentType: "image/jpeg", Data: []byte("jpeg")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, leaves := parse(t, raw)
	if got := decodeHeader(t, m.Header.Get("Subject")); got != "Fwd: Order 1234" {
		t.Errorf("Subject = %q", got)
	}
	text := string(find(t, leaves, "text/plain").body)
	if !strings.Contains(text, "---------- Forwarded message ---------\r\nFrom: Bo <Kund> <bo@customer.example>") ||
		!strings.Contains(text, "My order arrived broken.") {
		t.Errorf("text:\n%s", text)
	}
	html := string(find(t, leaves, "text/html").body)
	if !strings.Contains(html, "Bo &lt;Kund&gt;") {
		t.Errorf("html forward block not escaped:\n%s", html)
	}
	find(t, leaves, "image/jpeg")
}
