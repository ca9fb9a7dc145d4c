package ui

import (
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Mail HTML that leaves a link open or closes more than it opened reached out of its box: the
// link took in the rest of the agent's page, and the stray end tags closed the timeline so the
// mail could draw a fake note or button under it. The timeline balances each body, also of
// mail stored before the sanitizer did.
func TestEmailBodyStaysInItsBox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv, mid := emailConversation(t, h)
		rich, err := s.Message(t.Context(), mid)
		if err != nil {
			t.Fatal(err)
		}
		// Stored as an older version of the channel stored it: as the policy left it.
		stored, _, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{ChannelID: *rich.ChannelID, ExternalID: "unbalanced.1@x",
			ConversationID: conv, Text: "Sign in again",
			HTML:         `<p>Hi</p></div></div></article></li></ol><div style="color: red">FAKE-NOTE</div><a href="https://evil.example/">Sign in again`,
			SanitizeHTML: func(s string) string { return s }})
		if err != nil {
			t.Fatal(err)
		}
		page := h.signIn(t, h.agent).get(t, "/inbox/"+itoa(conv), 200)
		doc, err := xhtml.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		entry := findNode(doc, func(n *xhtml.Node) bool { return nodeAttr(n, "id") == "tl-m"+itoa(stored.ID) })
		if entry == nil {
			t.Fatalf("no entry for message %d", stored.ID)
		}
		if !strings.Contains(nodeText(entry), "FAKE-NOTE") {
			t.Fatalf("the mail's text left its timeline entry")
		}
		// Nothing of the page outside the mail's body is inside the mail's link.
		var leaked []string
		var walk func(n *xhtml.Node, inLink, inBody bool)
		walk = func(n *xhtml.Node, inLink, inBody bool) {
			if n.Type == xhtml.ElementNode && n.Data == "a" && strings.Contains(nodeAttr(n, "href"), "evil.example") {
				inLink = true
			}
			if n.Type == xhtml.ElementNode && strings.Contains(nodeAttr(n, "class"), "tl__body") {
				inBody = true
			}
			if n.Type == xhtml.TextNode && inLink && !inBody && strings.TrimSpace(n.Data) != "" {
				leaked = append(leaked, strings.TrimSpace(n.Data))
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, inLink, inBody)
			}
		}
		walk(doc, false, false)
		if len(leaked) > 0 {
			t.Fatalf("page text inside the mail's link: %q", leaked)
		}
		composer := findNode(doc, func(n *xhtml.Node) bool { return nodeAttr(n, "id") == "composer" })
		if composer == nil {
			t.Fatal("no composer")
		}
		for p := composer; p != nil; p = p.Parent {
			if nodeAttr(p, "id") == "timeline" {
				t.Fatal("the composer ended up inside the timeline")
			}
		}
	})
}

// ?images= takes as many ids as the URL holds; each was checked against the list and the
// whole list repeated in every message's link.
func TestEmailImagesListBounded(t *testing.T) {
	h := newHarness(t, storetest.OpenSQLite(t))
	_, conv, mid := emailConversation(t, h)
	var ids []string
	for i := range 30000 {
		ids = append(ids, itoa(int64(100000+i)))
	}
	tl := h.signIn(t, h.agent).htmx(t, "GET", "/conversations/"+itoa(conv)+"/timeline?images="+strings.Join(ids, ","), "timeline", nil)
	if len(tl.Body) > 200<<10 {
		t.Fatalf("timeline of %d bytes", len(tl.Body))
	}
	mustContain(t, messageEntry(t, tl.Body, mid), "Load images")
}

func findNode(n *xhtml.Node, match func(*xhtml.Node) bool) *xhtml.Node {
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findNode(c, match); f != nil {
			return f
		}
	}
	return nil
}

func nodeAttr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *xhtml.Node) string {
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
