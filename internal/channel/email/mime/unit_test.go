package mime

import (
	"errors"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func TestParseEmpty(t *testing.T) {
	if _, err := Parse(strings.NewReader(" \r\n")); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty", err)
	}
}

func TestMessageIDs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<a@b> <c@d>\r\n\t<a@b>", "a@b c@d"},
		{"  <a@b>,<c@d>", "a@b c@d"},
		{"a@b", "a@b"},
		{"a@b c@d (comment)", "a@b c@d"},
		{"<a@b> (Jane's message of Monday)", "a@b"},
		{"", ""},
	} {
		if got := strings.Join(messageIDs(tc.in), " "); got != tc.want {
			t.Errorf("messageIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddressString(t *testing.T) {
	for _, tc := range []struct {
		a    Address
		want string
	}{
		{Address{"", "a@b.c"}, "a@b.c"},
		{Address{"María González", "m@b.c"}, "María González <m@b.c>"},
		{Address{"Kund, Bengt", "b@b.c"}, `"Kund, Bengt" <b@b.c>`},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestParseHeadersLenient(t *testing.T) {
	raw := "From: <JANE@Example.COM>\r\nCc: a@x.example, \"B, C\" <b@x.example>\r\nReply-To: replies@x.example\r\n" +
		"Date: Mon, 8 Jan 2024 10:31:07 +0000 (UTC)\r\nSubject: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_ok?=\r\n\r\nbody\r\n"
	m, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.From.Address != "JANE@example.com" {
		t.Errorf("From = %q", m.From.Address)
	}
	if len(m.Cc) != 2 || m.Cc[1].Name != "B, C" || m.ReplyTo[0].Address != "replies@x.example" {
		t.Errorf("Cc = %+v ReplyTo = %+v", m.Cc, m.ReplyTo)
	}
	if m.Subject != "Café ok" || m.Date.IsZero() || m.Text != "body\n" {
		t.Errorf("Subject = %q Date = %v Text = %q", m.Subject, m.Date, m.Text)
	}
}

func TestWindows1252DeclaredAsLatin1(t *testing.T) {
	// Outlook often labels Windows-1252 text as ISO-8859-1; the euro sign
	// (0x80) must still come out right.
	raw := "From: a@b.example\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nPrice =80 5, =93quoted=94\n"
	m, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Price € 5, “quoted”\n" {
		t.Fatalf("Text = %q", m.Text)
	}
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct {
		in       string
		has, not []string
	}{
		{`<p style="margin-left:-9999px;padding:0 4px">x</p>`, []string{"x</p>"}, []string{"-9999", "margin"}},
		{`<p style="padding:0 4px">x</p>`, []string{`style="padding: 0 4px"`}, nil},
		{`<div style="transform:scale(9);float:left;top:0;color:red">x</div>`, []string{"color: red"}, []string{"transform", "float", "top"}},
		{`<div style="color:re\64">x</div>`, nil, []string{"re\\64"}},
		{`<a href="JaVaScRiPt:alert(1)">x</a>`, []string{"x"}, []string{"alert", "href"}},
		{`<a href="/relative">x</a>`, nil, []string{"relative"}},
		{`<img src="http://t.example/p.gif" srcset="http://t.example/2.gif 2x">`, []string{`data-src="http://t.example/p.gif"`}, []string{"srcset", " src="}},
		{`<img src="data:image/png;base64,iVBORw0KGgo=">`, []string{`src="data:image/png`}, nil},
		{`<table background="http://t.example/bg.gif"><tr><td>x</td></tr></table>`, nil, []string{"background"}},
		{`<math><mi xlink:href="javascript:alert(1)">x</mi></math>`, nil, []string{"javascript", "xlink"}},
		{`<div class="gmail_quote evil">x</div><div class="btn">y</div>`, nil, []string{"class"}},
		{`<p>a</p><!-- comment --><p>b</p>`, nil, []string{"comment"}},
		{`<body style="color:red"><p>x</p></body>`, []string{`<div style="color: red"><p>x</p></div>`}, []string{"body"}},
	} {
		got := Sanitize(tc.in)
		for _, s := range tc.has {
			if !strings.Contains(got, s) {
				t.Errorf("Sanitize(%q) = %q, want it to contain %q", tc.in, got, s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(got, s) {
				t.Errorf("Sanitize(%q) = %q, contains %q", tc.in, got, s)
			}
		}
	}
}

func TestLoadRemoteImages(t *testing.T) {
	in := Sanitize(`<p>Hi</p><img src="https://img.example/a.png" alt="logo"><img src="cid:x@y">`)
	out := LoadRemoteImages(in)
	if !strings.Contains(out, `<img src="https://img.example/a.png" alt="logo"/>`) && !strings.Contains(out, `<img src="https://img.example/a.png" alt="logo">`) {
		t.Errorf("LoadRemoteImages = %q", out)
	}
	if !strings.Contains(out, `src="cid:x@y"`) || strings.Contains(out, "data-src") {
		t.Errorf("LoadRemoteImages = %q", out)
	}
}

func TestClassifySignals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		header  map[string]string
		from    string
		subject string
		want    Kind
	}{
		{"plain", nil, "jane@x.example", "Question", KindPerson},
		{"auto-submitted no", map[string]string{"Auto-Submitted": "no"}, "jane@x.example", "Hi", KindPerson},
		{"auto-generated", map[string]string{"Auto-Submitted": "auto-generated"}, "jane@x.example", "Hi", KindAutoReply},
		{"zimbra vacation", map[string]string{"Auto-Submitted": "vacation"}, "jane@x.example", "Hi", KindAutoReply},
		{"x-autoreply", map[string]string{"X-Autoreply": "yes"}, "jane@x.example", "Hi", KindAutoReply},
		{"x-autorespond", map[string]string{"X-Autorespond": "Thanks"}, "jane@x.example", "Hi", KindAutoReply},
		{"precedence auto_reply", map[string]string{"Precedence": "auto_reply"}, "jane@x.example", "Hi", KindAutoReply},
		{"precedence junk", map[string]string{"Precedence": "junk"}, "jane@x.example", "Hi", KindBulk},
		{"x-precedence bulk", map[string]string{"X-Precedence": "bulk"}, "jane@x.example", "Hi", KindBulk},
		{"list-unsubscribe", map[string]string{"List-Unsubscribe": "<mailto:u@x>"}, "jane@x.example", "Hi", KindBulk},
		{"german subject", nil, "jane@x.example", "Abwesenheitsnotiz: Ihre Anfrage", KindAutoReply},
		{"abwesenheit", nil, "jane@x.example", "Abwesenheit", KindAutoReply},
		{"swedish subject", nil, "jane@x.example", "Automatiskt svar: Faktura", KindAutoReply},
		{"out of office prefix", nil, "jane@x.example", "Out of Office: Re: order", KindAutoReply},
		{"person asks about office hours", nil, "jane@x.example", "Out of office hours support?", KindPerson},
		{"suppress only", map[string]string{"X-Auto-Response-Suppress": "All"}, "jane@x.example", "Hi", KindPerson},
		{"noreply", nil, "noreply@x.example", "Hi", KindRoleSender},
		{"donotreply", nil, "DoNotReply@x.example", "Hi", KindRoleSender},
		{"postmaster", nil, "postmaster@x.example", "Hi", KindRoleSender},
		{"owner-", nil, "owner-list@x.example", "Hi", KindRoleSender},
		{"-request", nil, "list-request@x.example", "Hi", KindRoleSender},
		{"notifications-noreply", nil, "notifications-noreply@x.example", "Hi", KindRoleSender},
		{"noah is a person", nil, "noah@x.example", "Hi", KindPerson},
		{"x-failed-recipients", map[string]string{"X-Failed-Recipients": "gone@y.example"}, "mailer@x.example", "Oops", KindBounce},
		{"forwarding from someone else", nil, "forwarding-noreply@evil.example", "(#123456) Gmail Forwarding Confirmation", KindRoleSender},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Message{Header: textproto.MIMEHeader{}, From: Address{Address: tc.from}, Subject: tc.subject}
			for k, v := range tc.header {
				m.Header.Set(k, v)
			}
			c := Classify(m)
			if c.Kind != tc.want {
				t.Errorf("Kind = %s, want %s (reasons %q)", c.Kind, tc.want, c.Reasons)
			}
			if tc.name == "suppress only" && !c.SuppressAutoReply {
				t.Errorf("SuppressAutoReply not set")
			}
		})
	}
}

func TestClassifyXLoop(t *testing.T) {
	m := &Message{Header: textproto.MIMEHeader{"X-Loop": {"support@parley.example"}}}
	if c := Classify(m); len(c.XLoop) != 1 || c.XLoop[0] != "support@parley.example" {
		t.Errorf("XLoop = %q", c.XLoop)
	}
}

func TestReadReceiptIsNotABounce(t *testing.T) {
	raw := "From: jane@x.example\nSubject: Read: hello\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nYour message was read.\n--b\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n"
	m, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if c := Classify(m); c.Bounce != nil {
		t.Errorf("read receipt classified as bounce: %+v", c.Bounce)
	}
}

func TestDelayedDSNIsNotPermanent(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example\nSubject: Delayed Mail (still being retried)\nContent-Type: multipart/report; report-type=\"delivery-status\"; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nStill trying.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n" +
		"Final-Recipient: rfc822; slow@y.example\nAction: delayed\nStatus: 4.4.1\nDiagnostic-Code: X-Postfix; connect timed out\n--b--\n"
	m, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b := Classify(m).Bounce
	if b == nil || b.Permanent || b.Recipient != "slow@y.example" || b.Status != "4.4.1" || b.Reason != "connect timed out" {
		t.Errorf("bounce = %+v", b)
	}
}

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		name, in                string
		body, sig, quotedPrefix string
	}{
		{"no quote", "Just a question.\nThanks", "Just a question.\nThanks", "", ""},
		{"outlook block", "Fine by me.\n\n________________________________\nFrom: Ana <ana@parley.example>\nSent: Monday, 8 January 2024 09:12\nTo: Bob\nSubject: Re: x\n\nOld text",
			"Fine by me.", "", "________________________________\nFrom: Ana"},
		{"outlook block german", "Passt.\n\nVon: Ana <ana@parley.example>\nGesendet: Montag, 8. Januar 2024 09:12\nAn: Bob\n\nAlt",
			"Passt.", "", "Von: Ana"},
		{"swedish attribution", "Tack!\n\nDen 8 jan. 2024 kl. 09:12 skrev Ana <ana@parley.example>:\n> Hej", "Tack!", "", "Den 8 jan. 2024"},
		{"norwegian date first", "Takk!\n\nman. 8. jan. 2024 kl. 09:12 skrev Ana <ana@parley.example>:\n> Hei", "Takk!", "", "man. 8. jan. 2024"},
		{"german attribution", "Danke!\n\nAm 08.01.2024 um 09:12 schrieb Ana:\n> Hallo", "Danke!", "", "Am 08.01.2024"},
		{"mobile signature", "Yes please.\n\nSent from my iPhone\n\n> On 8 Jan 2024, at 09:12, Ana wrote:\n> x", "Yes please.", "Sent from my iPhone", "> On 8 Jan"},
		{"interleaved stays whole", "> Do you want A?\nYes.\n> And B?\nNo.", "> Do you want A?\nYes.\n> And B?\nNo.", "", ""},
		{"signature only", "Hello\n-- \nAna\nAcme", "Hello", "Ana\nAcme", ""},
		{"crlf", "Hi\r\n\r\nOn Mon, Jan 8, 2024 at 9:12 AM Ana <a@b> wrote:\r\n> x\r\n", "Hi", "", "On Mon, Jan 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := SplitText(tc.in)
			if s.Body != tc.body || s.Signature != tc.sig || !strings.HasPrefix(s.Quoted, tc.quotedPrefix) || (tc.quotedPrefix == "") != (s.Quoted == "") {
				t.Errorf("SplitText = %+v\nwant body %q sig %q quoted prefix %q", s, tc.body, tc.sig, tc.quotedPrefix)
			}
		})
	}
}

func TestSplitHTML(t *testing.T) {
	t.Run("no markers", func(t *testing.T) {
		in := "<p>Hello</p>"
		if s := SplitHTML(in); s.Body != in || s.Quoted != "" || s.Signature != "" {
			t.Errorf("SplitHTML = %+v", s)
		}
	})
	t.Run("gmail forward", func(t *testing.T) {
		in := Sanitize(`<div dir="ltr">See below<br><div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message ---------<br>From: X</div>Body</div></div>`)
		s := SplitHTML(in)
		if !s.Forward || s.Body != `<div dir="ltr">See below<br/></div>` || !strings.Contains(s.Quoted, "Forwarded message") {
			t.Errorf("SplitHTML = %+v", s)
		}
	})
	t.Run("quote inside signature is not a signature", func(t *testing.T) {
		in := Sanitize(`<p>New</p><blockquote type="cite"><p>Old</p><div class="moz-signature">Old sig</div></blockquote>`)
		s := SplitHTML(in)
		if s.Body != "<p>New</p>" || s.Signature != "" || !strings.Contains(s.Quoted, "Old sig") {
			t.Errorf("SplitHTML = %+v", s)
		}
	})
}

// TestLargeInputsStayFast guards against quadratic work on big mails.
func TestLargeInputsStayFast(t *testing.T) {
	var b strings.Builder
	for range 50000 {
		b.WriteString("> quoted line with some text\n")
	}
	b.WriteString("unquoted tail\n")
	start := time.Now()
	s := SplitText(b.String())
	if s.Quoted != "" {
		t.Errorf("interleaved mail folded")
	}
	html := strings.Repeat(`<div><blockquote type="cite"><p style="color:red">x</p>`, 300) + `<img src="https://x.example/a.png">`
	raw := "From: a@b.example\nContent-Type: text/html\n\n" + html
	m, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_ = SplitHTML(m.HTML)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestSplitHTMLOutlookDesktop(t *testing.T) {
	in := Sanitize(`<div class="WordSection1"><p class="MsoNormal">Thanks, done.</p><p class="MsoNormal">&nbsp;</p>` +
		`<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> Ana &lt;ana@parley.example&gt;<br><b>Sent:</b> Monday, January 8, 2024 9:12 AM<br><b>Subject:</b> x</p></div>` +
		`<p class="MsoNormal">Old text</p></div>`)
	s := SplitHTML(in)
	if strings.Contains(s.Body, "Old text") || !strings.Contains(s.Body, "Thanks, done.") || !strings.Contains(s.Quoted, "Old text") {
		t.Errorf("SplitHTML = %+v", s)
	}
}
