package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// fileAutomatically files a conversation under Filtered the way receiving does for automated
// mail: no actor, and the rule that matched.
func (h *harness) fileAutomatically(t *testing.T, id int64, rule string) {
	t.Helper()
	ctx := t.Context()
	data, _ := json.Marshal(map[string]string{"reason": "Auto-Submitted: auto-replied", "rule": rule})
	err := h.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, id)
		if err != nil {
			return err
		}
		c.Filtered = true
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		return tx.InsertConversationEvent(ctx, &store.ConversationEvent{ConversationID: id, Type: "filtered", Data: data})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The Filtered view (EMAIL-8): its place in the left pane, its list, what the conversation's
// header and timeline say, and "Move to inbox".
func TestFilteredView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, auto := h.receive(t, "f1", "Mailer Daemon", "I am out of the office until Monday")
		_, human := h.receive(t, "f2", "Grace Hopper", "A real question")
		h.fileAutomatically(t, auto.ID, "auto_reply")

		ag := h.signIn(t, h.agent)
		body := ag.get(t, "/inbox", 200)
		// Between Closed and Spam, without a count, like Spam and Trash.
		mustCount(t, body, "/inbox?view=filtered", "")
		mustCount(t, body, "/inbox?view=open", "1")
		mustCount(t, body, "/inbox?view=unassigned", "1")
		closed, filtered, spam := strings.Index(body, `href="/inbox?view=closed"`), strings.Index(body, `href="/inbox?view=filtered"`), strings.Index(body, `href="/inbox?view=spam"`)
		if !(closed < filtered && filtered < spam) {
			t.Errorf("left pane order: closed %d, filtered %d, spam %d", closed, filtered, spam)
		}
		mustContain(t, body, ">Filtered<")
		mustRows(t, body, human)
		mustRows(t, ag.get(t, "/inbox?view=all", 200), human)
		mustRows(t, ag.get(t, "/inbox?view=unassigned", 200), human)
		mustRows(t, ag.get(t, "/inbox?view=spam", 200))
		list := ag.get(t, "/inbox?view=filtered", 200)
		mustRows(t, list, auto)
		if !strings.Contains(list, `href="/inbox?view=filtered" hx-get="/inbox?view=filtered"`) ||
			!strings.Contains(list[strings.Index(list, `href="/inbox?view=filtered"`):], `aria-current="page"`) {
			t.Error("the Filtered view is not marked current")
		}

		// The outsider's Filtered view is empty, with its own empty state.
		empty := h.signIn(t, h.outside).get(t, "/inbox?view=filtered", 200)
		mustRows(t, empty)
		mustContain(t, empty, "Nothing filtered", "Automatic replies, bounces, bulk mail")
		mustNotContain(t, empty, "Mailer Daemon")

		// The conversation says it is filtered, why, and offers to move it to the inbox.
		page := ag.get(t, "/inbox/"+itoa(auto.ID)+"?view=filtered", 200)
		mustContain(t, page, `id="conversation-status" title="Automated mail`, ">Filtered</span>", `id="unfilter-button"`, "Move to inbox",
			`action="/conversations/`+itoa(auto.ID)+`/filtered?view=filtered"`,
			"Filed under Filtered as automated mail", "An automatic reply, such as an out-of-office message")
		mustNotContain(t, ag.get(t, "/inbox/"+itoa(human.ID), 200), `id="unfilter-button"`)

		// Someone who cannot see it cannot move it.
		res := h.signIn(t, h.outside).htmx(t, "POST", "/conversations/"+itoa(auto.ID)+"/filtered", "conversation", url.Values{"filtered": {"false"}})
		if res.StatusCode != 404 {
			t.Fatalf("outsider moved it: %d", res.StatusCode)
		}
		ag.act(t, auto.ID, "filtered", "conversation", url.Values{"filtered": {"maybe"}}, 400)

		res = ag.act(t, auto.ID, "filtered", "conversation", url.Values{"filtered": {"false"}}, 200)
		mustContain(t, res.Body, `id="conversation"`, "Ana Agent moved this to the inbox", `id="conversation-status"`)
		mustNotContain(t, res.Body, `id="unfilter-button"`, ">Filtered</span>")
		if c := h.conv(t, auto.ID); c.Filtered || c.Spam {
			t.Fatalf("after Move to inbox: filtered %v, spam %v", c.Filtered, c.Spam)
		}
		mustRows(t, ag.get(t, "/inbox?view=filtered", 200))
		mustRows(t, ag.get(t, "/inbox?view=open", 200), human, auto)

		// Without scripts the form posts and comes back to the conversation.
		h.fileAutomatically(t, auto.ID, "bounce")
		plain := ag.post(t, "/conversations/"+itoa(auto.ID)+"/filtered?view=filtered", url.Values{"filtered": {"false"}}, 303)
		if loc := plain.Header.Get("Location"); loc != "/inbox/"+itoa(auto.ID)+"?view=filtered" {
			t.Errorf("redirect to %q", loc)
		}

		// A contact's history marks a filtered conversation as such.
		h.fileAutomatically(t, auto.ID, "role_sender")
		mustContain(t, ag.get(t, "/inbox/"+itoa(auto.ID), 200), "Sent from a role address such as noreply@")
		mustContain(t, ag.get(t, "/contacts/"+itoa(*auto.ContactID), 200), "contact__state--filtered")
	})
}

// The timeline explains filing in every language.
func TestFilteredTimelineInSwedish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, c := h.receive(t, "sv1", "Karin Kund", "Jag är på semester")
		h.fileAutomatically(t, c.ID, "bulk")
		sv, err := h.WS.CreateUser(t.Context(), nil, workspace.NewUser{Email: "sv@example.com", Name: "Sara Svensson",
			Role: "admin", Locale: "sv", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		cl := h.signIn(t, sv)
		page := cl.get(t, "/inbox/"+itoa(c.ID), 200)
		mustContain(t, page, "Hamnade i Filtrerat som automatisk e-post", "Massutskick eller e-postlista", "Flytta till inkorgen")
		res := cl.act(t, c.ID, "filtered", "conversation", url.Values{"filtered": {"false"}}, 200)
		mustContain(t, res.Body, "Sara Svensson flyttade den till inkorgen")
	})
}

// An inbox's email filters (EMAIL-6) on its settings page: admins only, one entry per line, a
// bad entry named next to its list.
func TestEmailFilterSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		admin, agent := h.signIn(t, h.admin), h.signIn(t, h.agent)
		path := "/settings/inboxes/" + itoa(h.support.ID)

		list := admin.get(t, "/settings/inboxes", 200)
		mustContain(t, list, `href="`+path+`#email-filters"`, ">Email filters<", `href="`+path+`">Support</a>`)
		page := admin.get(t, path, 200)
		mustContain(t, page, `id="settings-main"`, `id="email-filters"`, "Allow list", "Deny list", `name="allow"`, `name="deny"`,
			`aria-current="page"`, `href="/settings/inboxes"`)
		agent.get(t, path, 403)
		if res := agent.do(t, "POST", path+"/email-filters", url.Values{"allow": {"a.example"}}, nil); res.StatusCode != 403 {
			t.Fatalf("an agent set the filters: %d", res.StatusCode)
		}
		admin.get(t, "/settings/inboxes/987654", 404)

		res := admin.settingsPost(t, path+"/email-filters", url.Values{
			"allow": {"VIP@Customer.example\r\n\r\n@Partner.example\r\n"}, "deny": {"spam.example"}}, 200)
		mustContain(t, res.Body, "Email filters saved", ">partner.example\nvip@customer.example</textarea>", ">spam.example</textarea>")
		if got := res.Header.Get("HX-Replace-Url"); got != path {
			t.Errorf("HX-Replace-Url %q", got)
		}
		stored := func() *store.EmailFilters {
			t.Helper()
			f, err := s.EmailFilters(ctx, h.support.ID)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if f := stored(); !slices.Equal(f.Allow, []string{"partner.example", "vip@customer.example"}) || !slices.Equal(f.Deny, []string{"spam.example"}) {
			t.Fatalf("stored %+v", f)
		}

		// A bad entry: its line and text, next to the deny list, and what was typed is kept.
		res = admin.settingsPost(t, path+"/email-filters", url.Values{
			"allow": {"partner.example"}, "deny": {"ok.example\r\nnot an address\r\n"}}, 422)
		mustContain(t, res.Body, `id="email-filters-deny-error"`, "Line 2: “not an address” is not an email address or a domain.",
			`aria-invalid="true"`, ">ok.example\r\nnot an address\r\n</textarea>")
		mustNotContain(t, res.Body, `id="email-filters-allow-error"`)
		if f := stored(); !slices.Equal(f.Deny, []string{"spam.example"}) {
			t.Fatalf("a refused change was stored: %+v", f)
		}
		var many []string
		for i := range 1001 {
			many = append(many, fmt.Sprintf("s%d@many.example", i))
		}
		res = admin.settingsPost(t, path+"/email-filters", url.Values{"allow": {strings.Join(many, "\n")}}, 422)
		mustContain(t, res.Body, `id="email-filters-allow-error"`, "A list may hold at most 1,000 entries.")

		// Without scripts: a redirect back to the page with the toast.
		plain := admin.post(t, path+"/email-filters", url.Values{"allow": {""}, "deny": {"x@y.example"}}, 303)
		if loc := plain.Header.Get("Location"); loc != path+"?flash=settings.flash.email_filters_saved" {
			t.Errorf("redirect to %q", loc)
		}
		if f := stored(); len(f.Allow) != 0 || !slices.Equal(f.Deny, []string{"x@y.example"}) {
			t.Fatalf("stored %+v", f)
		}

		// The audit log names the change.
		mustContain(t, admin.get(t, "/settings/audit?action=inbox.email_filters_changed", 200), "Email filters changed")
	})
}
