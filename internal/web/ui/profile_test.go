package ui

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestProfileDetails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.agent)
		page := c.get(t, "/profile", 200)
		mustContain(t, page, "Your profile", `name="name" value="Ana Agent"`, `<option value="sv" lang="sv">Svenska</option>`,
			`list="time-zones"`, `<option value="Europe/Stockholm">`, `data-theme-select`, `id="token-form"`)

		form := url.Values{"name": {"Ana Lind"}, "job_title": {"Support lead"}, "avatar_url": {"https://example.com/ana.png"},
			"locale": {"en"}, "time_zone": {"Europe/Stockholm"}}
		res := c.post(t, "/profile", form, 303)
		if res.Header.Get("Location") != "/profile?flash=profile.saved" {
			t.Fatalf("after save: %q", res.Header.Get("Location"))
		}
		page = c.get(t, "/profile?flash=profile.saved", 200)
		mustContain(t, page, "Your profile was saved.", `value="Ana Lind"`, `value="Support lead"`,
			`src="https://example.com/ana.png"`, `value="Europe/Stockholm"`)
		u, _ := h.WS.User(t.Context(), h.agent.ID)
		if u.Name != "Ana Lind" || u.JobTitle != "Support lead" || u.TimeZone != "Europe/Stockholm" || u.AvatarURL != "https://example.com/ana.png" {
			t.Fatalf("saved user: %+v", u)
		}

		// Bad input is shown at the field, keeping what was typed, and nothing is saved.
		bad := url.Values{"name": {"Ana Lind"}, "avatar_url": {"javascript:alert(1)"}, "locale": {"en"}, "time_zone": {"Europe/Stockholm"}}
		res = c.post(t, "/profile", bad, 422)
		mustContain(t, res.Body, "Enter a picture URL that starts with http:// or https://.", `value="javascript:alert(1)"`, `aria-invalid="true"`)
		bad = url.Values{"name": {"Ana Lind"}, "locale": {"en"}, "time_zone": {"Mars/Olympus_Mons"}}
		res = c.post(t, "/profile", bad, 422)
		mustContain(t, res.Body, "Enter a time zone from the list", `value="Mars/Olympus_Mons"`)
		bad = url.Values{"name": {"  "}, "locale": {"en"}, "time_zone": {"UTC"}}
		mustContain(t, c.post(t, "/profile", bad, 422).Body, "Enter a name.")
		if u, _ := h.WS.User(t.Context(), h.agent.ID); u.TimeZone != "Europe/Stockholm" || u.Name != "Ana Lind" {
			t.Fatalf("a rejected form changed the user: %+v", u)
		}

		// Switching the language renders the app in it at once.
		form.Set("locale", "sv")
		c.post(t, "/profile", form, 303)
		page = c.get(t, "/profile?flash=profile.saved", 200)
		mustContain(t, page, `<html lang="sv">`, "Din profil", "Din profil har sparats.", "Tvåstegsinloggning", "Logga ut")
		mustNotContain(t, page, "Your profile")
		// An unknown language is ignored rather than stored.
		form.Set("locale", "xx")
		c.post(t, "/profile", form, 303)
		if u, _ := h.WS.User(t.Context(), h.agent.ID); u.Locale != "sv" {
			t.Fatalf("locale = %q", u.Locale)
		}

		// The availability toggle can be fetched on its own, for other tabs.
		av := c.get(t, "/profile/availability", 200)
		mustContain(t, av, `class="availability"`)
		mustNotContain(t, av, "<html")
	})
}

func TestProfilePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.agent)
		other := h.signIn(t, h.agent)

		res := c.post(t, "/profile/password", url.Values{"current_password": {"not my password"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}}, 422)
		mustContain(t, res.Body, "That is not your current password.")
		res = c.post(t, "/profile/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}, "confirm": {"not the same"}}, 422)
		mustContain(t, res.Body, "The new passwords are not the same.")
		res = c.post(t, "/profile/password", url.Values{"current_password": {testPassword}, "password": {"short"}, "confirm": {"short"}}, 422)
		mustContain(t, res.Body, "Choose a longer password.")

		c.post(t, "/profile/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}}, 303)
		mustContain(t, c.get(t, "/profile?flash=profile.password.changed", 200), "Your password was changed.")
		// This browser stays signed in; the other one is out.
		if r := other.do(t, "GET", "/profile", nil, nil); r.StatusCode != 303 {
			t.Fatalf("other browser: %d", r.StatusCode)
		}
		h.newClient(t).post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {"a brand new passphrase"}}, 303)
	})
}

var tokenSecretRe = regexp.MustCompile(`<code class="profile__secret">(pt_[a-z2-7]+)</code>`)
var revokeRe = regexp.MustCompile(`action="/profile/tokens/(\d+)/revoke"`)

func TestProfileTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		c := h.signIn(t, h.agent)
		mustContain(t, c.get(t, "/profile", 200), "You have no API tokens.")

		mustContain(t, c.post(t, "/profile/tokens", url.Values{"name": {"  "}}, 422).Body, `role="alert"`)
		res := c.post(t, "/profile/tokens", url.Values{"name": {"Reporting script"}}, 201)
		m := tokenSecretRe.FindStringSubmatch(res.Body)
		if m == nil {
			t.Fatalf("no secret shown:\n%s", res.Body)
		}
		secret := m[1]
		mustContain(t, res.Body, "Token “Reporting script” created.", "it will not be shown again")
		page := c.get(t, "/profile", 200)
		mustContain(t, page, "Reporting script", secret[:9]+"…")
		mustNotContain(t, page, secret)
		if u, _, err := s.UserByToken(t.Context(), hashToken(secret)); err != nil || u.ID != h.agent.ID {
			t.Fatalf("the token does not work: %v", err)
		}

		id := revokeRe.FindStringSubmatch(page)[1]
		// Someone else cannot revoke it, admins included (they use settings for that).
		h.signIn(t, h.outside).post(t, "/profile/tokens/"+id+"/revoke", url.Values{}, 404)
		h.signIn(t, h.admin).post(t, "/profile/tokens/"+id+"/revoke", url.Values{}, 404)
		res = c.post(t, "/profile/tokens/"+id+"/revoke", url.Values{}, 303)
		if !strings.Contains(res.Header.Get("Location"), "flash=profile.tokens.revoked") {
			t.Fatalf("after revoke: %q", res.Header.Get("Location"))
		}
		mustContain(t, c.get(t, "/profile?flash=profile.tokens.revoked", 200), "The token was revoked.", "You have no API tokens.")
		if _, _, err := s.UserByToken(t.Context(), hashToken(secret)); err == nil {
			t.Fatal("a revoked token still works")
		}
		c.post(t, "/profile/tokens/nonsense/revoke", url.Values{}, 404)
	})
}

func hashToken(secret string) string { return auth.HashToken(secret) }
