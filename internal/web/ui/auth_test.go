package ui

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestSignInOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		anon := h.newClient(t)
		res := anon.do(t, "GET", "/inbox?view=mine", nil, nil)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/login?next="+url.QueryEscape("/inbox?view=mine") {
			t.Fatalf("anonymous /inbox: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		body := anon.get(t, "/login", 200)
		mustContain(t, body, `name="email"`, `name="password"`, "Sign in")

		bad := anon.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {"wrong password!"}}, 422)
		mustContain(t, bad.Body, `role="alert"`, h.agent.Email)

		ok := anon.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}, "next": {"/inbox?view=mine"}}, 303)
		if ok.Header.Get("Location") != "/inbox?view=mine" {
			t.Fatalf("after sign-in went to %q", ok.Header.Get("Location"))
		}
		// An off-site next is ignored.
		c := h.newClient(t)
		res = c.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}, "next": {"//evil.test/x"}}, 303)
		if res.Header.Get("Location") != "/inbox" {
			t.Fatalf("off-site next followed: %q", res.Header.Get("Location"))
		}
		page := c.get(t, "/inbox", 200)
		mustContain(t, page, "Ana Agent", "Sign out")

		c.post(t, "/logout", url.Values{}, 303)
		if res := c.do(t, "GET", "/inbox", nil, nil); res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("after sign-out /inbox: %d", res.StatusCode)
		}
	})
}

func TestInboxShowsConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Grace Hopper", "My order has not arrived")
		c := h.signIn(t, h.agent)
		mustContain(t, c.get(t, "/inbox", 200), "Question from Grace Hopper", "My order has not arrived")
		// The outsider does not see the Support inbox's conversation.
		o := h.signIn(t, h.outside)
		mustNotContain(t, o.get(t, "/inbox", 200), "Grace Hopper")
		o.get(t, "/inbox/"+itoa(conv.ID), 404)
		// htmx asking for the list gets only the list.
		res := c.htmx(t, "GET", "/inbox", "conversation-list", nil)
		mustContain(t, res.Body, `id="conversation-list"`)
		mustNotContain(t, res.Body, "<html")
	})
}
