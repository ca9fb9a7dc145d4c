package outbound

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"
)

// allowedHeaders is every top-level header Compose may write; anything else in the output
// would be an injected header.
var allowedHeaders = map[string]bool{
	"From": true, "Reply-To": true, "To": true, "Cc": true, "Subject": true, "Date": true,
	"Message-Id": true, "In-Reply-To": true, "References": true, "Auto-Submitted": true,
	"Mime-Version": true, "Content-Type": true,
}

// FuzzHeaders feeds arbitrary display names, subjects, company names and file names through
// Compose: whatever they hold, the message must parse, carry only our headers, and give the
// text back (cleaned) when decoded.
func FuzzHeaders(f *testing.F) {
	f.Add("Bo Kund", "Order 1234", "Acme", "a.pdf")
	f.Add("Bo\r\nBcc: x@evil.example", "Hi\r\n\r\nbody", "Acme\nX-Evil: 1", "a\r\nX: y")
	f.Add("=?utf-8?q?=0D=0ABcc:_x?=", "=?utf-8?b?DQpCY2M6IHg=?=", "\"\\", "\x00")
	f.Add("Åsa Öberg, \"VIP\" <boss>", strings.Repeat("Ärende ", 200), "Acme AB (Sverige)", "faktura ö.pdf")
	f.Add("\u2028\u0085", "\xff\xfe", "a\tb", "../x")
	f.Fuzz(func(t *testing.T, name, subject, company, file string) {
		in := reply()
		in.To = []Address{{Name: name, Email: "bo@customer.example"}}
		in.Subject = subject
		in.From.CompanyName = company
		in.Attachments = []Attachment{{Name: file, ContentType: "text/plain", Data: []byte("x")}}
		raw, err := Compose(in)
		if err != nil {
			t.Fatalf("Compose: %v", err) // names and subjects are cleaned, never refused
		}
		head := raw[:bytes.Index(raw, []byte("\r\n\r\n"))+2]
		for l := range bytes.SplitSeq(head[:len(head)-2], []byte("\r\n")) {
			if bytes.ContainsAny(l, "\r\n") || len(l) > 998 || len(l) == 0 {
				t.Fatalf("bad header line %q", l)
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unparsable: %v", err)
		}
		for k, v := range m.Header {
			if !allowedHeaders[k] || len(v) != 1 {
				t.Fatalf("unexpected header %s: %q", k, v)
			}
		}
		to, err := m.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != "bo@customer.example" {
			t.Fatalf("To %q: %v %v", m.Header.Get("To"), to, err)
		}
		if utf8.ValidString(name) && to[0].Name != cleanText(name) {
			t.Errorf("name %q came back as %q", cleanText(name), to[0].Name)
		}
		got, err := decodeWords(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
		}
		if want := ReplySubject(subject); utf8.RuneCountInString(want) <= maxSubjectRunes && got != want {
			t.Errorf("subject %q came back as %q", want, got)
		}
	})
}

// FuzzAddress checks the address encoder alone: a cleaned name always round-trips through
// net/mail, and a bad email is refused rather than written.
func FuzzAddress(f *testing.F) {
	f.Add("Ana", "ana@acme.example")
	f.Add("a\r\nb", "x@y.example\r\nBcc: z@evil.example")
	f.Add("\"quoted\" <x>", "a@b")
	f.Fuzz(func(t *testing.T, name, email string) {
		s, err := Address{Name: name, Email: email}.format()
		if err != nil {
			return
		}
		if strings.ContainsAny(s, "\r\n") {
			t.Fatalf("line break in %q", s)
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			t.Fatalf("%q does not parse: %v", s, err)
		}
		if a.Address != strings.TrimSpace(email) {
			t.Errorf("address %q came back as %q", email, a.Address)
		}
		if utf8.ValidString(name) && a.Name != cleanText(name) {
			t.Errorf("name %q came back as %q", cleanText(name), a.Name)
		}
	})
}

func decodeWords(s string) (string, error) {
	return new(mimeWordDecoder).DecodeHeader(s)
}

type mimeWordDecoder = mime.WordDecoder
