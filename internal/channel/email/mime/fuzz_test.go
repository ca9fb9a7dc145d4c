package mime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes through everything the email channel does
// with an inbound message. Seeds are the testdata corpus. Nothing may panic,
// and sanitized HTML must never carry active content.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: ;\n\n--x--"))
	f.Add([]byte("From: <>\nContent-Type: text/html\n\n<blockquote type=cite><div class=gmail_signature>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if p := os.Getenv("MIME_FUZZ_LAST"); p != "" {
			_ = os.WriteFile(p, raw, 0o600)
		}
		m, err := Parse(bytes.NewReader(raw))
		if err != nil {
			return
		}
		c := Classify(m)
		if c.Kind == "" {
			t.Fatal("empty kind")
		}
		_ = SplitText(m.Text)
		_ = SplitHTML(m.HTML)
		_ = LoadRemoteImages(m.HTML)
		lower := strings.ToLower(m.HTML)
		for _, bad := range []string{"<script", "<iframe", "<form", "<object", "<style"} {
			if strings.Contains(lower, bad) {
				t.Fatalf("sanitized HTML contains %s: %q", bad, m.HTML)
			}
		}
		for _, p := range m.Attachments {
			if strings.ContainsAny(p.Name, "/\\") && p.Name != "/" {
				t.Fatalf("attachment name keeps a path: %q", p.Name)
			}
		}
	})
}

// FuzzSplitText checks the quote splitter on arbitrary text.
func FuzzSplitText(f *testing.F) {
	f.Add("Hi\n\nOn Mon, 8 Jan 2024 at 09:12, Ana <a@b> wrote:\n> x\n-- \nsig")
	f.Add("From: a\nSent: b\n")
	f.Add("--\n>\n")
	f.Fuzz(func(t *testing.T, s string) {
		sp := SplitText(s)
		if len(sp.Body)+len(sp.Signature)+len(sp.Quoted) > len(s)+8 {
			t.Fatalf("split grew the text: %+v", sp)
		}
	})
}
