package mime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// attachment is the expectation for one non-body part.
type attachment struct {
	name, contentType, contentID string
	inline                       bool
}

// corpusCase is what one testdata message must parse and classify into.
type corpusCase struct {
	file string

	from, subject, messageID string
	inReplyTo                string
	references               []string

	textStart       string   // Message.Text begins with this
	textContains    []string // … and contains these
	htmlContains    []string
	htmlNotContains []string
	attachments     []attachment // exactly these, in order

	kind       Kind
	autoReply  bool
	bulk       bool
	roleSender bool
	suppress   bool
	bounce     *Bounce
	forwarding *ForwardingConfirmation

	splitBody, splitSig, splitQuotedStart string // SplitText expectations
	splitForward                          bool
	htmlBodyNot, htmlQuotedHas, htmlSig   string // SplitHTML expectations
}

var corpus = []corpusCase{
	{
		file: "gmail_reply.eml", from: "maria.gonzalez@gmail.com", subject: "Re: Export fails [#1042]",
		messageID: "CAF3x+9Qm2Lr=ZK@mail.gmail.com", inReplyTo: "c.12.m.34.e5f6a7b8@parley.example",
		references: []string{"c.12.m.33.a1b2c3d4@parley.example", "c.12.m.34.e5f6a7b8@parley.example"},
		textStart:  "Thanks, that fixed it!", htmlContains: []string{`class="gmail_quote gmail_quote_container"`, `class="gmail_signature"`, `href="mailto:support@parley.example"`},
		htmlNotContains: []string{"data-smartmail", "clear="},
		kind:            KindPerson,
		splitBody:       "Thanks, that fixed it! The export works again.\n\nBest,\nMaria", splitSig: "Maria González | Acme Corp",
		splitQuotedStart: "On Tue, 9 Jan 2024 at 14:02", htmlBodyNot: "Please try clearing", htmlQuotedHas: "Please try clearing", htmlSig: "Acme Corp",
	},
	{
		file: "outlook_reply.eml", from: "joerg.mueller@contoso.example", subject: "AW: Invoice 2024-001",
		messageID: "AM0PR07MB1234ABCD5678@AM0PR07MB1234.eurprd07.prod.outlook.com", inReplyTo: "c.7.m.21.deadbeef@parley.example",
		references: []string{"c.7.m.21.deadbeef@parley.example"},
		textStart:  "Hello,", textContains: []string{"€ 1.200", "– could you “correct” it?", "Jörg Müller"},
		htmlContains:     []string{"€ 1.020", "“correct”", `id="divRplyFwdMsg"`},
		htmlNotContains:  []string{"<style", "MsoNormal", "<head", "<body", "<meta", "tabindex"},
		kind:             KindPerson,
		splitBody:        "Hello,\n\nthe invoice shows € 1.200 instead of € 1.020 – could you “correct” it?\n\nKind regards\nJörg Müller",
		splitQuotedStart: "-----Original Message-----", htmlBodyNot: "Dear Jörg", htmlQuotedHas: "<hr",
	},
	{
		file: "apple_mail_reply.eml", from: "sven@example.se", subject: "Re: Error on login",
		messageID: "5B1C2D3E-AAAA-BBBB-CCCC-1234567890AB@example.se", inReplyTo: "c.3.m.9.0badc0de@parley.example",
		references: []string{"c.3.m.9.0badc0de@parley.example"},
		textStart:  "Here is a screenshot", htmlContains: []string{`src="cid:8E2A1C3B-5D4F-4B7A-9C1E-2F3A4B5C6D7E@home"`, `<blockquote type="cite">`},
		htmlNotContains: []string{"apple-inline", "-webkit-nbsp-mode", "lineBreakAtBeginningOfMessage"},
		attachments:     []attachment{{"Screenshot 2024-01-10.png", "image/png", "8E2A1C3B-5D4F-4B7A-9C1E-2F3A4B5C6D7E@home", true}},
		kind:            KindPerson,
		splitBody:       "Here is a screenshot of the error.\n\nSven", splitQuotedStart: "> On 10 Jan 2024",
		htmlBodyNot: "Could you send", htmlQuotedHas: "Could you send",
	},
	{
		file: "thunderbird_reply.eml", from: "ola@fjordtech.example", subject: "Re: Meeting",
		messageID: "7d9c5e2a-1f3b-4c6d-8e9f-0a1b2c3d4e5f@fjordtech.example", inReplyTo: "c.5.m.40.cafebabe@parley.example",
		references: []string{"c.5.m.40.cafebabe@parley.example"},
		textStart:  "Yes, Thursday at 10:00", htmlContains: []string{`class="moz-cite-prefix"`, `class="moz-signature"`},
		htmlNotContains: []string{"cite=", "cols="},
		kind:            KindPerson,
		splitBody:       "Yes, Thursday at 10:00 works for me. \nSee you then.", splitSig: "Ola Nordmann\nFjordtech AS",
		splitQuotedStart: "On 11.01.24 16:20, Support Team wrote:", htmlBodyNot: "Would Thursday", htmlQuotedHas: "moz-cite-prefix", htmlSig: "Fjordtech AS",
	},
	{
		file: "forward.eml", from: "lena@acme.example", subject: "Fwd: Broken delivery", messageID: "CAB4fwd0001@mail.gmail.com",
		textStart:   "FYI, customer complaint below.",
		attachments: []attachment{{name: "Lieferschein März.pdf", contentType: "application/pdf"}},
		kind:        KindPerson,
		splitBody:   "FYI, customer complaint below.", splitQuotedStart: "---------- Forwarded message", splitForward: true,
	},
	{
		file: "latin1_qp.eml", from: "bjoern@example.de", subject: "Grüße aus Köln", messageID: "latin1.1@example.de",
		textStart: "Hallo Team,", textContains: []string{"für die schnelle Hilfe. Grüße aus Köln - café"}, kind: KindPerson,
	},
	{
		file: "base64_utf8.eml", from: "astrid@foretag.example", subject: "Fråga om faktura", messageID: "b64.1@foretag.example",
		textStart: "Hej!", textContains: []string{"fråga om fakturan för månad 12 🙂. Återkommer gärna."}, kind: KindPerson,
	},
	{
		file: "iso2022jp.eml", from: "tanaka@example.jp", subject: "お問い合わせについて", messageID: "jp.1@example.jp",
		textStart: "こんにちは。注文の件です。", kind: KindPerson,
	},
	{
		file: "koi8r.eml", from: "ivan@example.ru", subject: "Вопрос", messageID: "ru.1@example.ru",
		textStart: "Здравствуйте! Прошу помочь.", kind: KindPerson,
	},
	{
		file: "calendar_invite.eml", from: "kari@partner.example", subject: "Quarterly review", messageID: "cal.1@partner.example",
		textStart: "Let's go through the quarter together.", htmlContains: []string{"<p>Let&#39;s go through"},
		attachments: []attachment{{name: "invite.ics", contentType: "text/calendar"}},
		// Exchange asks not to be auto-answered, but a person sent it.
		kind: KindPerson, suppress: true,
	},
	{
		file: "ooo_autoreply.eml", from: "peter@kunde.example", subject: "Out of Office", messageID: "vacation.1@kunde.example",
		inReplyTo: "c.9.m.77.aabbccdd@parley.example", references: []string{"c.9.m.77.aabbccdd@parley.example"},
		textStart: "I am out of the office", kind: KindAutoReply, autoReply: true, bulk: true, suppress: true,
	},
	{
		file: "exchange_autoreply.eml", from: "kari@partner.example", subject: "Automatic reply: Your ticket [#2001]", messageID: "oof.1@partner.example",
		inReplyTo: "c.11.m.90.12345678@parley.example", references: []string{"c.11.m.90.12345678@parley.example"},
		textStart: "I am on parental leave", kind: KindAutoReply, autoReply: true, suppress: true,
	},
	{
		file: "dsn_bounce.eml", from: "MAILER-DAEMON@mx.parley.example", subject: "Undelivered Mail Returned to Sender",
		messageID: "20240120100005.ABC123@mx.parley.example", textStart: "This is the mail system",
		attachments: []attachment{{name: "attachment-1.txt", contentType: "message/delivery-status"}, {name: "attachment-2.txt", contentType: "text/rfc822-headers"}},
		kind:        KindBounce, autoReply: true, roleSender: true, suppress: true,
		bounce: &Bounce{OriginalMessageID: "c.12.m.35.0f1e2d3c@parley.example", Recipient: "nobody@example.org", Status: "5.1.1",
			Reason: "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown", Permanent: true},
	},
	{
		file: "qmail_bounce.eml", from: "MAILER-DAEMON@mail.example.net", subject: "failure notice", messageID: "qmail.1@mail.example.net",
		textStart: "Hi. This is the qmail-send program", kind: KindBounce, roleSender: true, suppress: true,
		bounce: &Bounce{OriginalMessageID: "c.4.m.8.99887766@parley.example", Recipient: "gone@example.net", Status: "5.2.1",
			Reason: "550 5.2.1 Mailbox disabled for this recipient", Permanent: true},
	},
	{
		file: "list_mail.eml", from: "news@lists.vendor.example", subject: "Product news for January", messageID: "digest.2024.01@lists.vendor.example",
		textContains: []string{"January news", "New features."},
		htmlContains: []string{`<img data-src="https://track.vendor.example/open.gif?u=1"`}, htmlNotContains: []string{` src="https://track`},
		kind: KindBulk, bulk: true, suppress: true,
	},
	{
		file: "noreply.eml", from: "no-reply@billing.acme.example", subject: "Your receipt", messageID: "r.1@billing.acme.example",
		textStart: "Thanks for your payment", kind: KindRoleSender, roleSender: true, suppress: true,
	},
	{
		file: "gmail_forwarding.eml", from: "forwarding-noreply@google.com",
		subject:   "(#638291047) Gmail Forwarding Confirmation - Receive Mail from jane.doe@gmail.com",
		messageID: "000000000000fwdconf@google.com", textStart: "jane.doe@gmail.com has requested",
		kind: KindForwardingConfirmation, roleSender: true, suppress: true,
		forwarding: &ForwardingConfirmation{Code: "638291047", From: "jane.doe@gmail.com",
			Link: "https://mail-settings.google.com/mail/vf-%5BANGjdJ8xYz%5D-abcDEF123_ghi-XyZ"},
	},
	{
		file: "broken_headers.eml", from: "bengt@example.se", subject: "Hjälp med beställning =?utf-8?q?unterminated",
		messageID: "broken-id@example.se", inReplyTo: "c.1.m.2.ffffffff@parley.example",
		textStart: "Hello, my order 1234 never arrived.", kind: KindPerson,
	},
	{
		file: "html_attack.eml", from: "mallory@evil.example", subject: "Important", messageID: "attack.1@evil.example",
		textContains: []string{"Hello from attacker"},
		htmlContains: []string{"Overlay", `style="color: red; font-weight: bold"`, `<img data-src="https://evil.example/pixel.gif"`,
			`<img src="cid:logo@x"/>`, `<a href="https://example.com/help" rel="nofollow noreferrer noopener" target="_blank">help</a>`,
			`<td align="center" style="padding: 4px 8px">Cell</td>`, "click me"},
		htmlNotContains: []string{"<script", "alert", "onerror", "onload", "onclick", "<form", "<input", "<button", "<iframe",
			"<object", "<embed", "<svg", "<style", "<base", "<meta", "javascript:", "data:text/html", "position", "fixed",
			"z-index", "-500px", "url(", "background-image", "expression", "proto-relative", `id="toasts"`, "btn", "<body", "display:none"},
		kind: KindPerson,
	},
}

func parseFile(t testing.TB, name string) *Message {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return m
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	covered := map[string]bool{}
	for _, tc := range corpus {
		covered[tc.file] = true
		t.Run(strings.TrimSuffix(tc.file, ".eml"), func(t *testing.T) {
			m := parseFile(t, tc.file)
			checkMessage(t, tc, m)
			checkClassification(t, tc, Classify(m))
			checkSplit(t, tc, m)
		})
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expectation in the corpus table", f)
		}
	}
}

func checkMessage(t *testing.T, tc corpusCase, m *Message) {
	t.Helper()
	if m.From.Address != tc.from {
		t.Errorf("From = %q, want %q", m.From.Address, tc.from)
	}
	if m.Subject != tc.subject {
		t.Errorf("Subject = %q, want %q", m.Subject, tc.subject)
	}
	if m.MessageID != tc.messageID {
		t.Errorf("MessageID = %q, want %q", m.MessageID, tc.messageID)
	}
	if got := strings.Join(m.InReplyTo, " "); got != tc.inReplyTo {
		t.Errorf("InReplyTo = %q, want %q", got, tc.inReplyTo)
	}
	if got, want := strings.Join(m.References, " "), strings.Join(tc.references, " "); got != want {
		t.Errorf("References = %q, want %q", got, want)
	}
	if !strings.HasPrefix(m.Text, tc.textStart) {
		t.Errorf("Text starts %q, want prefix %q", head(m.Text), tc.textStart)
	}
	for _, s := range tc.textContains {
		if !strings.Contains(m.Text, s) {
			t.Errorf("Text does not contain %q:\n%s", s, m.Text)
		}
	}
	for _, s := range tc.htmlContains {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("HTML does not contain %q:\n%s", s, m.HTML)
		}
	}
	for _, s := range tc.htmlNotContains {
		if strings.Contains(m.HTML, s) {
			t.Errorf("HTML contains %q:\n%s", s, m.HTML)
		}
	}
	if len(m.Attachments) != len(tc.attachments) {
		t.Fatalf("got %d attachments %+v, want %d", len(m.Attachments), m.Attachments, len(tc.attachments))
	}
	for i, want := range tc.attachments {
		got := m.Attachments[i]
		if got.Name != want.name || got.ContentType != want.contentType || got.ContentID != want.contentID || got.Inline != want.inline {
			t.Errorf("attachment %d = {%q %q %q inline=%v}, want %+v", i, got.Name, got.ContentType, got.ContentID, got.Inline, want)
		}
		if got.Size() == 0 {
			t.Errorf("attachment %d is empty", i)
		}
	}
}

func checkClassification(t *testing.T, tc corpusCase, c Classification) {
	t.Helper()
	if c.Kind != tc.kind || c.AutoReply != tc.autoReply || c.Bulk != tc.bulk || c.RoleSender != tc.roleSender || c.SuppressAutoReply != tc.suppress {
		t.Errorf("Classify = kind %s auto %v bulk %v role %v suppress %v, want kind %s auto %v bulk %v role %v suppress %v (reasons %q)",
			c.Kind, c.AutoReply, c.Bulk, c.RoleSender, c.SuppressAutoReply,
			tc.kind, tc.autoReply, tc.bulk, tc.roleSender, tc.suppress, c.Reasons)
	}
	if c.Automated() != (tc.kind != KindPerson) {
		t.Errorf("Automated() = %v", c.Automated())
	}
	switch {
	case tc.bounce == nil && c.Bounce != nil:
		t.Errorf("unexpected bounce %+v", *c.Bounce)
	case tc.bounce != nil && c.Bounce == nil:
		t.Errorf("bounce not detected")
	case tc.bounce != nil && *c.Bounce != *tc.bounce:
		t.Errorf("bounce = %+v\nwant     %+v", *c.Bounce, *tc.bounce)
	}
	switch {
	case tc.forwarding == nil && c.ForwardingConfirmation != nil:
		t.Errorf("unexpected forwarding confirmation %+v", *c.ForwardingConfirmation)
	case tc.forwarding != nil && c.ForwardingConfirmation == nil:
		t.Errorf("forwarding confirmation not detected")
	case tc.forwarding != nil && *c.ForwardingConfirmation != *tc.forwarding:
		t.Errorf("forwarding = %+v, want %+v", *c.ForwardingConfirmation, *tc.forwarding)
	}
}

func checkSplit(t *testing.T, tc corpusCase, m *Message) {
	t.Helper()
	s := SplitText(m.Text)
	if tc.splitBody != "" && s.Body != tc.splitBody {
		t.Errorf("SplitText body = %q, want %q", s.Body, tc.splitBody)
	}
	if s.Signature != tc.splitSig {
		t.Errorf("SplitText signature = %q, want %q", s.Signature, tc.splitSig)
	}
	if !strings.HasPrefix(s.Quoted, tc.splitQuotedStart) || (tc.splitQuotedStart == "") != (s.Quoted == "") {
		t.Errorf("SplitText quoted = %q, want prefix %q", head(s.Quoted), tc.splitQuotedStart)
	}
	if s.Forward != tc.splitForward {
		t.Errorf("SplitText forward = %v", s.Forward)
	}
	if m.HTML == "" {
		return
	}
	h := SplitHTML(m.HTML)
	if tc.htmlQuotedHas == "" && h.Quoted != "" {
		t.Errorf("SplitHTML found a quote in a mail without one: %q", h.Quoted)
	}
	if tc.htmlQuotedHas != "" && !strings.Contains(h.Quoted, tc.htmlQuotedHas) {
		t.Errorf("SplitHTML quoted = %q, want it to contain %q", h.Quoted, tc.htmlQuotedHas)
	}
	if tc.htmlBodyNot != "" && strings.Contains(h.Body, tc.htmlBodyNot) {
		t.Errorf("SplitHTML body still contains %q: %q", tc.htmlBodyNot, h.Body)
	}
	if tc.htmlSig != "" && !strings.Contains(h.Signature, tc.htmlSig) || tc.htmlSig == "" && h.Signature != "" {
		t.Errorf("SplitHTML signature = %q, want it to contain %q", h.Signature, tc.htmlSig)
	}
	if h.Body == "" && tc.textStart != "" {
		t.Errorf("SplitHTML body is empty")
	}
}

func head(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
