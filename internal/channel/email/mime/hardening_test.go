package mime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// The policy kept markup as written: an open <a href> made every later text of the agent's
// page that link, and stray end tags closed the message's box and the timeline around it.
func TestSanitizeBalances(t *testing.T) {
	for _, in := range []string{
		`<a href="https://evil.example/">Sign in again`,
		`<p>Hi</p></div></div></article></li></ol><div style="color: red">Fake note</div>`,
		`<div><b><font size="7" color="red">Big`,
		`<table><tr><td>cell`,
		`<blockquote type="cite"><div class="gmail_quote">quoted</blockquote>`,
	} {
		out := Sanitize(in)
		// The mail in its box inside the timeline, then the page's own text after it.
		doc, err := html.Parse(strings.NewReader(`<ol><li><article><div id="outer"><div id="box">` + out +
			`</div><p id="after">after</p></div></article></li></ol>`))
		if err != nil {
			t.Fatal(err)
		}
		after := find(doc, func(n *html.Node) bool { return attrOf(n, "id") == "after" })
		if after == nil || attrOf(after.Parent, "id") != "outer" {
			t.Errorf("Sanitize(%q) = %q: the page after the mail is not where it was written", in, out)
			continue
		}
		if a := find(after, func(n *html.Node) bool { return n.Data == "a" || n.Data == "font" || n.Data == "b" }); a != nil {
			t.Errorf("Sanitize(%q) = %q: the mail's <%s> took in the page after it", in, out, a.Data)
		}
		box := find(doc, func(n *html.Node) bool { return attrOf(n, "id") == "box" })
		for _, text := range []string{"Fake note", "Big", "cell", "quoted", "Sign in again"} {
			if strings.Contains(in, text) && !strings.Contains(textOf(box), text) {
				t.Errorf("Sanitize(%q) = %q: %q is outside the mail's box", in, out, text)
			}
		}
		if again := Sanitize(out); again != out {
			t.Errorf("Sanitize is not stable: %q then %q", out, again)
		}
	}
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// nested is a message whose parts nest depth multiparts deep around a text of size bytes.
func nested(depth, size int) []byte {
	var b strings.Builder
	b.WriteString("From: a@b.example\r\nSubject: Deep\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// enmime reads a part through one boundary reader per level, each copying it byte by byte:
// 140 KB nested 2,000 deep took ten seconds to parse, and a few MB nested a few hundred deep
// hours — anyone can send that to the SMTP receiver. Nesting beyond what mail has is refused.
func TestParseRefusesDeepNesting(t *testing.T) {
	start := time.Now()
	if _, err := Parse(strings.NewReader(string(nested(3000, 0)))); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("3,000 levels: %v", err)
	}
	if _, err := Parse(strings.NewReader(string(nested(30, 8<<20)))); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("30 levels around 8 MB: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refusing took %v", d)
	}
	// What real mail nests (mixed, signed, mixed, related, alternative) still parses, large
	// or not, and so does a deeper small one.
	for _, c := range []struct{ depth, size int }{{5, 4 << 20}, {30, 64 << 10}} {
		m, err := Parse(strings.NewReader(string(nested(c.depth, c.size))))
		if err != nil || !strings.HasPrefix(m.Text, "xxxx") {
			t.Fatalf("%d levels around %d bytes: %v", c.depth, c.size, err)
		}
	}
}

// The depth count follows the structure, not the text: boundaries that close, siblings, a
// delimiter of an outer part ending the inner ones, and "boundary" in prose.
func TestNestingDepth(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want int
	}{
		{"Subject: x\n\nboundary=a boundary=b\n--a\n", 0},
		{"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: text/plain\n\nx\n--a\nContent-Type: text/plain\n\ny\n--a--\n", 1},
		{"Content-Type: multipart/mixed;\n boundary=\"a\"\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n--b\n\nx\n--b--\n--a\nContent-Type: multipart/related; boundary=c\n\n--c\n\ny\n--c--\n--a--\n", 2},
		// b is never closed; a's delimiter ends it, and the next part nests again from a.
		{"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--a\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\ny\n--c--\n--a--\n", 2},
		{"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; BOUNDARY=\"c\"\n\n--c\n\nx\n", 3},
	} {
		if got := nestingDepth([]byte(c.raw), 100); got != c.want {
			t.Errorf("nestingDepth(%q) = %d, want %d", c.raw, got, c.want)
		}
	}
}
