package ui

// Security and robustness checks across every route of the web app: who may reach what, what
// malformed input does, where redirects may lead, and what customer HTML may do to the page.

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// routePath turns a route pattern into a method and a path with every {param} set to v.
func routePath(pattern, v string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	return method, pathParam.ReplaceAllString(path, v)
}

// TestRoutesAccess: without a session every non-public route sends to the sign-in page, and an
// agent gets 403 from every admin route, whatever the method.
func TestRoutesAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		anon, agent := h.newClient(t), h.signIn(t, h.agent)
		for _, rt := range h.UI.routes() {
			if rt.public {
				continue
			}
			method, path := routePath(rt.pattern, "1")
			res := anon.do(t, method, path, url.Values{}, nil)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("anonymous %s %s: %d %q", method, path, res.StatusCode, res.Header.Get("Location"))
			}
			if rt.admin {
				if res := agent.do(t, method, path, url.Values{}, nil); res.StatusCode != http.StatusForbidden {
					t.Errorf("agent %s %s: %d, want 403", method, path, res.StatusCode)
				}
			}
		}
	})
}

// TestRoutesMalformedInput sends every route ids that are not ids and forms that are not
// forms: the answer is a refusal, never a crash or an internal error.
func TestRoutesMalformedInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		withFiles(t, h)
		h.receive(t, "m1", "Grace Hopper", "hello")
		admin, agent := h.signIn(t, h.admin), h.signIn(t, h.agent)
		junk := url.Values{"id": {"x", "-1"}, "assignee": {"999999999999999999999"}, "team": {"abc"},
			"status": {"\x00"}, "until": {"yesterday"}, "inbox": {"-5"}, "priority": {"<b>"}, "spam": {"maybe"},
			"trashed": {"2"}, "blocked": {"x"}, "action": {"assign"}, "inbox_id": {"1e9"}, "user_ids": {"a"},
			"team_ids": {"0"}, "user_id": {"-"}, "conversation": {"nope"}, "owner_id": {"ten"}, "mode": {"x"},
			"attachment": {"../../etc/passwd"}, "key": {strings.Repeat("k", 300)}, "kind": {"json"}, "value": {"{"},
			"role": {"god"}, "total": {"1.5"}, "mon_start": {"25:99"}, "mon_end": {"x"}, "enabled": {"on"},
			"preset": {"never"}, "name": {""}, "email": {"not-an-email"}, "webhookUrl": {"javascript:alert(1)"},
			"identifier_type": {"??"}, "identifier_value": {"v"}, "text": {""}, "body": {""}, "code": {"x"}}
		for _, rt := range h.UI.routes() {
			if strings.HasSuffix(rt.pattern, " /logout") {
				continue // would end the session the sweep goes on with
			}
			for _, v := range []string{"x", "0", "-1", "99999999999999999999", "987654321", "1%2F2"} {
				method, path := routePath(rt.pattern, v)
				for _, c := range []*client{admin, agent} {
					for _, hdr := range []http.Header{nil, {"Hx-Request": {"true"}, "Hx-Target": {"conversation-header"}}} {
						res := c.do(t, method, path, junk, hdr)
						if res.StatusCode >= 500 {
							t.Errorf("%s %s: %d\n%s", method, path, res.StatusCode, res.Body)
						}
					}
				}
			}
			// A body that is not url-encoded at all.
			method, path := routePath(rt.pattern, "1")
			if method == "POST" {
				res := admin.do(t, method, path, nil, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
				if res.StatusCode >= 500 {
					t.Errorf("%s %s without a body: %d", method, path, res.StatusCode)
				}
			}
		}
	})
}

// TestOutsiderGetsNotFound: someone who cannot see the Support inbox gets 404 from every page
// and action of its conversation and contact, and changes nothing.
func TestOutsiderGetsNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "o1", "Grace Hopper", "secret order 4711")
		sn, err := h.Inbox.CreateSnippet(t.Context(), h.outside, inbox.SnippetInput{Shortcut: "hi", Body: "Hi {{contact.name}}"})
		if err != nil {
			t.Fatal(err)
		}
		out := h.signIn(t, h.outside)
		cid, id := itoa(*conv.ContactID), itoa(conv.ID)
		reads := []string{"/inbox/" + id, "/conversations/" + id + "/timeline", "/conversations/" + id + "/header",
			"/conversations/" + id + "/contact", "/conversations/" + id + "/mentions?q=a", "/conversations/" + id + "/snippets",
			"/conversations/" + id + "/snippets/" + itoa(sn.ID), "/contacts/" + cid}
		for _, p := range reads {
			for _, hdr := range []http.Header{nil, {"Hx-Request": {"true"}, "Hx-Target": {"conversation"}}} {
				res := out.do(t, "GET", p, nil, hdr)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("outsider GET %s: %d, want 404", p, res.StatusCode)
				}
				mustNotContain(t, res.Body, "4711", "Grace", "grace.hopper")
			}
		}
		writes := map[string]url.Values{
			"/conversations/" + id + "/send":     {"mode": {"comment"}, "text": {"x"}},
			"/conversations/" + id + "/reply":    {"text": {"x"}},
			"/conversations/" + id + "/comment":  {"text": {"x"}},
			"/conversations/" + id + "/assign":   {"assignee": {"me"}},
			"/conversations/" + id + "/status":   {"status": {"closed"}},
			"/conversations/" + id + "/snooze":   {"preset": {"hour"}},
			"/conversations/" + id + "/priority": {"priority": {"urgent"}},
			"/conversations/" + id + "/tags":     {"add": {"x"}},
			"/conversations/" + id + "/spam":     {"spam": {"true"}},
			"/conversations/" + id + "/trash":    {"trashed": {"true"}},
			"/conversations/" + id + "/block":    {"blocked": {"true"}},
			"/contacts/" + cid:                   {"name": {"Mallory"}},
			"/contacts/" + cid + "/emails":       {"email": {"m@evil.test"}},
			"/contacts/" + cid + "/properties":   {"key": {"k"}, "value": {"v"}, "new": {"1"}},
			"/contacts/" + cid + "/notes":        {"body": {"x"}},
		}
		for p, form := range writes {
			if res := out.do(t, "POST", p, form, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("outsider POST %s: %d, want 404", p, res.StatusCode)
			}
		}
		bulk := out.post(t, "/conversations/bulk", url.Values{"id": {id}, "action": {"close"}}, 303)
		_ = bulk
		after, err := s.Conversation(t.Context(), conv.ID, h.admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != "open" || after.AssigneeID != nil || after.Spam || after.TrashedAt != nil ||
			after.SnoozedUntil != nil || after.Priority != conv.Priority || len(after.Tags) != 0 {
			t.Fatalf("an outsider changed the conversation: %+v", after)
		}
		contact, err := s.Contact(t.Context(), *conv.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		if contact.Name != "Grace Hopper" || contact.Blocked {
			t.Fatalf("an outsider changed the contact: %+v", contact)
		}
	})
}

// TestSignInNextStaysOnSite: a next= that a browser would read as another site is never
// followed, however it is dressed up (http.Redirect cleans "/./\\x" into "/\\x", and browsers
// drop tabs and newlines, so "/\t/x" is "//x").
func TestSignInNextStaysOnSite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.agent)
		for _, next := range []string{"//evil.test", "/\\evil.test", "/./\\evil.test", "/.\\/evil.test", "/\t/evil.test",
			"/\n/evil.test", "/\r/evil.test", "/%09/evil.test/../..//evil.test", "https://evil.test", "/ /evil.test\x00",
			"/../\\evil.test"} {
			for _, hdr := range []http.Header{nil, {"Hx-Request": {"true"}}} {
				res := c.do(t, "GET", "/login?next="+url.QueryEscape(next), nil, hdr)
				loc := res.Header.Get("Location") + res.Header.Get("Hx-Redirect")
				if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\r\n\x00") {
					t.Errorf("next %q led to %q", next, loc)
				}
				if u, err := url.Parse(loc); err != nil || u.Host != "" {
					t.Errorf("next %q led to %q", next, loc)
				}
			}
		}
		// An ordinary next still works, query and all.
		res := c.do(t, "GET", "/login?next="+url.QueryEscape("/inbox?view=mine&q=a+b"), nil, nil)
		if got := res.Header.Get("Location"); got != "/inbox?view=mine&q=a+b" {
			t.Fatalf("next: %q", got)
		}
	})
}

// TestCrossOriginPostsRefused: a form posted from another site changes nothing.
func TestCrossOriginPostsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "x1", "Grace Hopper", "hello")
		c := h.signIn(t, h.agent)
		for _, hdr := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://evil.test"}}} {
			res := c.do(t, "POST", "/conversations/"+itoa(conv.ID)+"/status", url.Values{"status": {"closed"}}, hdr)
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-origin post: %d", res.StatusCode)
			}
		}
		if after, err := s.Conversation(t.Context(), conv.ID, h.admin.ID); err != nil || after.Status != "open" {
			t.Fatalf("cross-origin post closed the conversation: %v %v", after, err)
		}
	})
}

// TestMessageHTMLCannotTakeOverPageIDs: customer HTML keeps its ids (the sanitizer allows them)
// only under a prefix of its own, so a message cannot pose as the composer, the toasts or any
// other element the page and its scripts find by id.
func TestMessageHTMLCannotTakeOverPageIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		m, conv, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{
			ChannelID: h.channel.ID, ThreadKey: "ids", Direction: "inbound", ContactName: "Eve",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "eve@customer.test"}}, Subject: "ids",
			HTML: `<p id="composer-text">x</p><div id="toasts">t</div><a href="#toc">top</a><h2 id="toc">Toc</h2>` +
				`<p title="a id=">q</p><script>alert(1)</script><img src="x" onerror="alert(2)">`,
		})
		if err != nil {
			t.Fatal(err)
		}
		c := h.signIn(t, h.agent)
		for _, body := range []string{c.get(t, "/inbox/"+itoa(conv.ID), 200), c.get(t, "/conversations/"+itoa(conv.ID)+"/timeline", 200)} {
			mustNotContain(t, body, `id="composer-text">x`, `id="toasts">t`, "<script>alert", "onerror")
			pre := "msg" + itoa(m.ID) + "-"
			mustContain(t, body, `id="`+pre+`composer-text"`, `id="`+pre+`toasts"`, `href="#`+pre+`toc"`, `id="`+pre+`toc"`)
			if n := strings.Count(body, `id="toasts"`); n > 1 {
				t.Fatalf("%d elements with id toasts", n)
			}
		}
	})
}

// TestAttachmentLinksAreWebLinks: an attachment's URL from a channel is linked only when it
// is a web address (or our own download path); anything else is shown as a name without a link.
func TestAttachmentLinksAreWebLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{
			ChannelID: h.channel.ID, ThreadKey: "att", Direction: "inbound", ContactName: "Eve",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "eve@customer.test"}}, Subject: "att", Text: "files",
			Attachments: []byte(`[{"name":"a.txt","url":"javascript:alert(1)"},{"name":"b.png","url":"/profile/tokens/1/revoke","content_type":"image/png"},` +
				`{"name":"c.pdf","url":"https://files.example.com/c.pdf"},{"name":"d.txt","url":"data:text/html,<script>alert(1)</script>"}]`),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := h.signIn(t, h.agent)
		body := c.get(t, "/conversations/"+itoa(conv.ID)+"/timeline", 200)
		mustContain(t, body, "a.txt", "b.png", `href="https://files.example.com/c.pdf"`, "d.txt")
		mustNotContain(t, body, "javascript:", "/profile/tokens/1/revoke", "data:text/html", "ZgotmplZ")
	})
}

// TestOthersThingsAreNotFound: an agent cannot rename or delete someone else's saved view,
// change or delete their personal snippet, revoke their token or delete their note.
func TestOthersThingsAreNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		_, conv := h.receive(t, "n1", "Grace Hopper", "hello")
		view, err := h.Inbox.SaveView(ctx, h.admin, "Admin's view", "view=mine")
		if err != nil {
			t.Fatal(err)
		}
		sn, err := h.Inbox.CreateSnippet(ctx, h.admin, inbox.SnippetInput{Shortcut: "mine", Body: "admin's words"})
		if err != nil {
			t.Fatal(err)
		}
		shared, err := h.Inbox.CreateSnippet(ctx, h.admin, inbox.SnippetInput{Shortcut: "all", Body: "for all", Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := h.WS.CreateToken(ctx, h.admin, h.admin.ID, "admin token")
		if err != nil {
			t.Fatal(err)
		}
		note, err := h.Inbox.AddContactNote(ctx, h.admin, *conv.ContactID, "admin's note")
		if err != nil {
			t.Fatal(err)
		}
		ag := h.signIn(t, h.agent)
		for p, form := range map[string]url.Values{
			"/inbox/views/" + itoa(view.ID):               {"name": {"mine now"}},
			"/inbox/views/" + itoa(view.ID) + "/delete":   {},
			"/snippets/" + itoa(sn.ID):                    {"shortcut": {"mine"}, "body": {"taken"}},
			"/snippets/" + itoa(sn.ID) + "/delete":        {},
			"/profile/tokens/" + itoa(tok.ID) + "/revoke": {},
		} {
			if res := ag.do(t, "POST", p, form, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("agent POST %s: %d, want 404", p, res.StatusCode)
			}
		}
		for p, form := range map[string]url.Values{
			"/snippets/" + itoa(shared.ID):                                               {"shortcut": {"all"}, "body": {"changed"}, "scope": {"shared"}},
			"/snippets/" + itoa(shared.ID) + "/delete":                                   {},
			"/contacts/" + itoa(*conv.ContactID) + "/notes/" + itoa(note.ID) + "/delete": {},
		} {
			if res := ag.do(t, "POST", p, form, nil); res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("agent POST %s: %d, want a refusal", p, res.StatusCode)
			}
		}
		views, err := h.Inbox.SavedViews(ctx, h.admin)
		if err != nil || len(views) != 1 || views[0].Name != "Admin's view" {
			t.Fatalf("admin's views: %v %v", views, err)
		}
		list, err := h.Inbox.Snippets(ctx, h.admin, "", 0)
		if err != nil || len(list) != 2 {
			t.Fatalf("admin's snippets: %v %v", list, err)
		}
		for _, x := range list {
			if x.Body != "admin's words" && x.Body != "for all" {
				t.Fatalf("snippet changed: %+v", x)
			}
		}
		tokens, err := h.WS.Tokens(ctx, h.admin, h.admin.ID)
		if err != nil || len(tokens) != 1 || tokens[0].RevokedAt != nil {
			t.Fatalf("admin's token: %v %v", tokens, err)
		}
		notes, err := h.Inbox.ContactNotes(ctx, h.admin, *conv.ContactID)
		if err != nil || len(notes) != 1 {
			t.Fatalf("admin's note: %v %v", notes, err)
		}
	})
}

// TestHTMXTargetBlocks: htmx gets the block it names when the page renders that block with
// its own data (the open conversation of the inbox); a shared partial that expects other data
// is not rendered for a stray or forged HX-Target, which would only fail.
func TestHTMXTargetBlocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "b1", "Grace Hopper", "hello")
		c := h.signIn(t, h.agent)
		res := c.htmx(t, "GET", "/inbox/"+itoa(conv.ID), "conversation", nil)
		if res.StatusCode != 200 {
			t.Fatalf("conversation block: %d", res.StatusCode)
		}
		mustContain(t, res.Body, `id="conversation"`, `id="timeline"`, "hello")
		mustNotContain(t, res.Body, "<html", `id="conversation-list"`)
		for _, target := range []string{"conversation-header", "timeline", "composer", "contact-sidebar", "avatar", "toast"} {
			for _, p := range []string{"/inbox", "/profile", "/snippets", "/contacts"} {
				if res := c.htmx(t, "GET", p, target, nil); res.StatusCode != 200 {
					t.Errorf("GET %s for HX-Target %s: %d", p, target, res.StatusCode)
				}
			}
		}
	})
}
