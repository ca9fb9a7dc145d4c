package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// contactWorld is Ada, a customer with two conversations in Support and one in Sales, an inbox
// only the admin sees.
type contactWorld struct {
	ada                 int64
	first, second, sale *store.Conversation
	salesInbox          *store.Inbox
}

func newContactWorld(t *testing.T, h *harness) *contactWorld {
	t.Helper()
	w := &contactWorld{}
	var err error
	w.salesInbox, err = h.WS.CreateInbox(t.Context(), nil, workspace.NewInbox{Name: "Sales desk",
		Access: workspace.AccessSpecific, UserIDs: []int64{h.admin.ID}})
	if err != nil {
		t.Fatal(err)
	}
	salesCh := &store.Channel{InboxID: w.salesInbox.ID, Kind: testKind, Name: "Sales chat", Authorized: true}
	err = h.Store.InTx(t.Context(), func(tx *store.Tx) error {
		_, err := tx.InsertChannel(t.Context(), salesCh)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, w.first = h.receive(t, "t-1", "Ada Lovelace", "My order never arrived")
	_, w.second = h.receive(t, "t-2", "Ada Lovelace", "Also, the invoice is wrong")
	_, w.sale, _, err = h.Inbox.Receive(t.Context(), inbox.Inbound{
		ChannelID:         salesCh.ID,
		ThreadKey:         "t-3",
		Direction:         "inbound",
		ContactName:       "Ada Lovelace",
		ContactIdentities: []store.Identity{{Kind: "email", Value: "ada.lovelace@customer.test"}},
		Subject:           "Secret discount for Ada",
		Text:              "Can I get the enterprise price?",
	})
	if err != nil {
		t.Fatal(err)
	}
	w.ada = *w.first.ContactID
	if *w.second.ContactID != w.ada || *w.sale.ContactID != w.ada {
		t.Fatal("the three conversations must share one contact")
	}
	return w
}

func TestContactSidebar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		w := newContactWorld(t, h)
		agent := h.signIn(t, h.agent)

		// The open conversation shows its contact beside it, with the other Support
		// conversation, but nothing of Sales, which the agent cannot see.
		page := agent.get(t, "/inbox/"+itoa(w.first.ID), http.StatusOK)
		mustContain(t, page, `id="contact-sidebar"`, `value="Ada Lovelace"`, "ada.lovelace@customer.test",
			`href="/inbox/`+itoa(w.second.ID)+`"`, "Question from Ada Lovelace", "Support chat",
			`data-live-url="/conversations/`+itoa(w.first.ID)+`/contact"`)
		mustNotContain(t, page, "Secret discount", `href="/inbox/`+itoa(w.sale.ID)+`"`, "Sales desk")

		// The live refresh answers with the sidebar alone.
		block := agent.get(t, "/conversations/"+itoa(w.first.ID)+"/contact", http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(block), `<aside`) {
			t.Fatalf("sidebar block is not just the aside:\n%s", block)
		}
		mustContain(t, block, "Other conversations", `href="/inbox/`+itoa(w.second.ID)+`"`)
		mustNotContain(t, block, "Secret discount", `href="/inbox/`+itoa(w.first.ID)+`"`)

		// An admin sees the whole history, channel and inbox included.
		admin := h.signIn(t, h.admin)
		block = admin.get(t, "/conversations/"+itoa(w.first.ID)+"/contact", http.StatusOK)
		mustContain(t, block, "Secret discount for Ada", `href="/inbox/`+itoa(w.sale.ID)+`"`, "Sales chat · Sales desk", "Open")

		// Someone who cannot see the conversation gets nothing.
		out := h.signIn(t, h.outside)
		out.get(t, "/conversations/"+itoa(w.first.ID)+"/contact", http.StatusNotFound)
	})
}

func TestContactEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		w := newContactWorld(t, h)
		agent := h.signIn(t, h.agent)
		base := "/contacts/" + itoa(w.ada)
		conv := itoa(w.first.ID)
		edit := func(path string, form url.Values, want int) string {
			t.Helper()
			form.Set("conversation", conv)
			res := agent.htmx(t, "POST", path, "contact-sidebar", form)
			if res.StatusCode != want {
				t.Fatalf("POST %s %v: status %d, want %d\n%s", path, form, res.StatusCode, want, res.Body)
			}
			if !strings.HasPrefix(strings.TrimSpace(res.Body), `<aside`) {
				t.Fatalf("POST %s answered something other than the sidebar:\n%s", path, res.Body)
			}
			return res.Body
		}
		contact := func() *store.Contact {
			t.Helper()
			c, _, err := h.Inbox.Contact(t.Context(), h.admin, w.ada)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		body := edit(base, url.Values{"name": {"Ada King"}}, http.StatusOK)
		mustContain(t, body, `value="Ada King"`, "Saved")
		edit(base, url.Values{"company": {"Analytical Engines"}}, http.StatusOK)
		body = edit(base, url.Values{"owner_id": {itoa(h.agent.ID)}}, http.StatusOK)
		mustContain(t, body, fmt.Sprintf(`<option value="%d" selected>Ana Agent</option>`, h.agent.ID))
		body = edit(base+"/emails", url.Values{"email": {"Ada@Example.org"}}, http.StatusOK)
		mustContain(t, body, "ada@example.org")
		body = edit(base+"/phones", url.Values{"phone": {"+46 70 123 45 67"}}, http.StatusOK)
		mustContain(t, body, "&#43;46701234567") // html/template escapes the plus
		edit(base+"/properties", url.Values{"new": {"1"}, "key": {"plan"}, "value": {"pro"}}, http.StatusOK)
		edit(base+"/properties", url.Values{"new": {"1"}, "key": {"seats"}, "value": {"3"}}, http.StatusOK)
		c := contact()
		if c.Name != "Ada King" || c.Company != "Analytical Engines" || c.OwnerID == nil || *c.OwnerID != h.agent.ID {
			t.Fatalf("contact = %+v", c)
		}
		var props map[string]any
		if err := json.Unmarshal(c.Properties, &props); err != nil || props["plan"] != "pro" || props["seats"] != "3" {
			t.Fatalf("properties = %s", c.Properties)
		}
		// A number stays a number when edited as text; a removed property is gone.
		if _, err := h.Inbox.UpdateContact(t.Context(), h.admin, w.ada, inbox.ContactPatch{Properties: json.RawMessage(`{"seats": 3}`)}); err != nil {
			t.Fatal(err)
		}
		edit(base+"/properties", url.Values{"key": {"seats"}, "kind": {"number"}, "value": {"5"}}, http.StatusOK)
		body = edit(base+"/properties/remove", url.Values{"key": {"plan"}}, http.StatusOK)
		mustNotContain(t, body, `value="plan"`)
		if string(contact().Properties) != `{"seats":5}` && string(contact().Properties) != `{"seats": 5}` {
			t.Fatalf("properties = %s", contact().Properties)
		}
		// Removing an email, and blocking.
		body = edit(base+"/emails/remove", url.Values{"email": {"ada@example.org"}}, http.StatusOK)
		mustNotContain(t, body, "ada@example.org")
		body = edit(base, url.Values{"blocked": {"true"}}, http.StatusOK)
		mustContain(t, body, `id="contact-blocked"`, "Unblock contact")
		if !contact().Blocked {
			t.Fatal("contact not blocked")
		}

		// Refused changes show their error next to the field and keep what was typed.
		body = edit(base+"/emails", url.Values{"email": {"not-an-email"}}, http.StatusUnprocessableEntity)
		mustContain(t, body, `id="contact-email-error"`, "That is not an email address.", `value="not-an-email"`, `aria-invalid="true"`)
		body = edit(base+"/phones", url.Values{"phone": {"0701234567"}}, http.StatusUnprocessableEntity)
		mustContain(t, body, `id="contact-phone-error"`, "country code")
		body = edit(base+"/properties", url.Values{"new": {"1"}, "key": {"seats"}, "value": {"9"}}, http.StatusUnprocessableEntity)
		mustContain(t, body, `id="contact-property-error"`, "already has this property")
		body = edit(base, url.Values{"name": {strings.Repeat("x", 201)}}, http.StatusUnprocessableEntity)
		mustContain(t, body, `id="contact-name-error"`, "at most 200 characters")
		body = edit(base, url.Values{"owner_id": {"999999"}}, http.StatusUnprocessableEntity)
		mustContain(t, body, `id="contact-owner-error"`, "active user")
		// Another contact's email is refused, not moved.
		_, err := h.Inbox.CreateContact(t.Context(), h.agent, inbox.ContactInput{Name: "Bob", Emails: []string{"bob@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		body = edit(base+"/emails", url.Values{"email": {"bob@example.org"}}, http.StatusUnprocessableEntity)
		mustContain(t, body, "Another contact already has this")
		if c := contact(); strings.Contains(fmt.Sprint(c.Identities), "bob@") || c.Name != "Ada King" {
			t.Fatalf("a refused change changed the contact: %+v", c)
		}

		// On the contact page (no conversation) the answer is the page's block; without htmx a
		// change redirects back.
		res := agent.htmx(t, "POST", base, "contact-main", url.Values{"company": {"Engines Ltd"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `id="contact-main"`) || strings.Contains(res.Body, "<html") {
			t.Fatalf("contact page edit: %d\n%s", res.StatusCode, res.Body)
		}
		res = agent.post(t, base, url.Values{"company": {"Engines AB"}, "conversation": {conv}}, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/inbox/"+conv {
			t.Fatalf("redirect to %q", loc)
		}
		res = agent.post(t, base, url.Values{"company": {"Engines AS"}}, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != base {
			t.Fatalf("redirect to %q", loc)
		}

		// An outsider cannot change a contact they cannot see.
		out := h.signIn(t, h.outside)
		if res := out.htmx(t, "POST", base, "contact-main", url.Values{"name": {"Hacked"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("outsider edit: %d", res.StatusCode)
		}
		if contact().Name != "Ada King" {
			t.Fatal("outsider changed the contact")
		}
	})
}

func TestContactNotesUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		w := newContactWorld(t, h)
		bea := h.user(t, "agent", "Bea Agent")
		ids := []int64{h.admin.ID, h.agent.ID, bea.ID}
		if _, err := h.WS.UpdateInbox(t.Context(), nil, h.support.ID, workspace.InboxPatch{UserIDs: &ids}); err != nil {
			t.Fatal(err)
		}
		agent := h.signIn(t, h.agent)
		base := "/contacts/" + itoa(w.ada)
		conv := url.Values{"conversation": {itoa(w.first.ID)}}

		res := agent.htmx(t, "POST", base+"/notes", "contact-sidebar", url.Values{"body": {"Prefers a call <b>after 3pm</b>"}, "conversation": conv["conversation"]})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add note: %d\n%s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "Prefers a call &lt;b&gt;after 3pm&lt;/b&gt;", "Ana Agent", "just now")
		notes, err := h.Inbox.ContactNotes(t.Context(), h.agent, w.ada)
		if err != nil || len(notes) != 1 {
			t.Fatalf("notes = %v %v", notes, err)
		}
		note := notes[0]
		del := base + "/notes/" + itoa(note.ID) + "/delete"
		mustContain(t, res.Body, `action="`+del+`"`)

		res = agent.htmx(t, "POST", base+"/notes", "contact-sidebar", url.Values{"body": {"   "}, "conversation": conv["conversation"]})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty note: %d", res.StatusCode)
		}
		mustContain(t, res.Body, `id="contact-note-error"`, "Write something first.")

		// Bea sees the note on the contact page but may not delete it; the admin may.
		b := h.signIn(t, bea)
		page := b.get(t, base, http.StatusOK)
		mustContain(t, page, "Prefers a call", "Ana Agent")
		mustNotContain(t, page, `action="`+del+`"`)
		res = b.htmx(t, "POST", del, "contact-main", url.Values{})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only the note") {
			t.Fatalf("bea deletes ana's note: %d\n%s", res.StatusCode, res.Body)
		}
		out := h.signIn(t, h.outside)
		if res := out.htmx(t, "POST", del, "contact-main", url.Values{}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("outsider deletes a note: %d", res.StatusCode)
		}
		if res := out.htmx(t, "POST", base+"/notes", "contact-main", url.Values{"body": {"hi"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("outsider adds a note: %d", res.StatusCode)
		}
		admin := h.signIn(t, h.admin)
		res = admin.htmx(t, "POST", del, "contact-main", url.Values{})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("admin deletes: %d\n%s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "No notes yet.")

		// The author deletes their own note.
		n, err := h.Inbox.AddContactNote(t.Context(), h.agent, w.ada, "second thoughts")
		if err != nil {
			t.Fatal(err)
		}
		res = agent.htmx(t, "POST", base+"/notes/"+itoa(n.ID)+"/delete", "contact-sidebar", conv)
		if res.StatusCode != http.StatusOK || strings.Contains(res.Body, "second thoughts") {
			t.Fatalf("author deletes: %d\n%s", res.StatusCode, res.Body)
		}
	})
}

func TestContactPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		agent := h.signIn(t, h.agent)

		// No contacts yet: a friendly empty list.
		body := agent.get(t, "/contacts", http.StatusOK)
		mustContain(t, body, "No contacts yet", `aria-current="page">Contacts`)

		w := newContactWorld(t, h)
		// A contact only Sales knows, and one created by hand (visible to all).
		_, _, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{
			ChannelID: mustChannel(t, h, w.salesInbox.ID), ThreadKey: "t-9", Direction: "inbound", ContactName: "Zed Hidden",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "zed@hidden.test"}}, Text: "hello",
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Inbox.CreateContact(t.Context(), h.admin, inbox.ContactInput{Name: "Grace Hopper", Company: "Navy"}); err != nil {
			t.Fatal(err)
		}

		body = agent.get(t, "/contacts", http.StatusOK)
		mustContain(t, body, "Ada Lovelace", "Grace Hopper", `href="/contacts/`+itoa(w.ada)+`"`)
		mustNotContain(t, body, "Zed Hidden")
		body = agent.get(t, "/contacts?q=navy", http.StatusOK)
		mustContain(t, body, "Grace Hopper")
		mustNotContain(t, body, "Ada Lovelace")
		body = agent.get(t, "/contacts?q=zed", http.StatusOK)
		mustContain(t, body, "No contacts match", "“zed”")
		// htmx search gets just the list.
		res := agent.htmx(t, "GET", "/contacts?q=lovelace", "contact-list", nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(res.Body), `<section id="contact-list"`) {
			t.Fatalf("htmx search: %d\n%s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "Ada Lovelace")

		// The contact page: everything the sidebar shows, the whole (visible) history.
		body = agent.get(t, "/contacts/"+itoa(w.ada), http.StatusOK)
		mustContain(t, body, `id="contact-main"`, `value="Ada Lovelace"`, "<title>Ada Lovelace · Parley</title>",
			`href="/inbox/`+itoa(w.first.ID)+`"`, `href="/inbox/`+itoa(w.second.ID)+`"`, "No notes yet.", "No properties yet.")
		mustNotContain(t, body, `href="/inbox/`+itoa(w.sale.ID)+`"`)

		// Outsiders get 404 for a contact they cannot see, like for one that does not exist;
		// a contact with no conversation yet is everyone's.
		out := h.signIn(t, h.outside)
		out.get(t, "/contacts/"+itoa(w.ada), http.StatusNotFound)
		out.get(t, "/contacts/999999", http.StatusNotFound)
		out.get(t, "/contacts/abc", http.StatusNotFound)
		body = out.get(t, "/contacts", http.StatusOK)
		mustNotContain(t, body, "Ada Lovelace")
		mustContain(t, body, "Grace Hopper")

		// Paging: 50 to a page, with a link to the next.
		for i := range 55 {
			if _, err := h.Inbox.CreateContact(t.Context(), h.admin, inbox.ContactInput{Name: fmt.Sprintf("Bulk %02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		body = agent.get(t, "/contacts?q=bulk", http.StatusOK)
		if n := strings.Count(body, "<tr>") - 1; n != 50 {
			t.Fatalf("first page has %d contacts", n)
		}
		i := strings.Index(body, `rel="next"`)
		if i < 0 {
			t.Fatal("no next page link")
		}
		start := strings.LastIndex(body[:i], `href="`) + len(`href="`)
		next := strings.ReplaceAll(body[start:strings.Index(body[start:], `"`)+start], "&amp;", "&")
		body = agent.get(t, next, http.StatusOK)
		if n := strings.Count(body, "<tr>") - 1; n != 5 {
			t.Fatalf("second page has %d contacts", n)
		}
		mustContain(t, body, "Bulk 00", "First page")
		mustNotContain(t, body, `rel="next"`)
		agent.get(t, "/contacts?cursor=nope", http.StatusBadRequest)
	})
}

// mustChannel returns the id of the inbox's first channel.
func mustChannel(t *testing.T, h *harness, inboxID int64) int64 {
	t.Helper()
	chs, err := h.Store.ChannelsByInbox(t.Context(), inboxID)
	if err != nil || len(chs) == 0 {
		t.Fatalf("channels of inbox %d: %v %v", inboxID, chs, err)
	}
	return chs[0].ID
}
