package ui

import (
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parley-inbox/parley/internal/mail"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// withMail returns a second web app over the same workspace with outbound mail going to a
// local SMTP sink, and a harness whose browsers talk to it.
func withMail(t *testing.T, h *harness) (*harness, *mailtest.Server) {
	t.Helper()
	sink := mailtest.Start(t)
	sender, err := mail.NewSMTP(sink.URL, "Parley <parley@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := &Server{Store: h.Store, Inbox: h.Inbox, Workspace: h.WS, Log: log, BaseURL: "http://parley.test", Mail: sender}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return &harness{Store: h.Store, Inbox: h.Inbox, WS: h.WS, UI: app, URL: srv.URL,
		owner: h.owner, admin: h.admin, agent: h.agent, outside: h.outside, support: h.support, channel: h.channel}, sink
}

func TestSignInPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		anon := h.newClient(t)
		// Without outbound mail there is no way to reset by email.
		mustNotContain(t, anon.get(t, "/login", 200), "/forgot")
		anon.get(t, "/forgot", 404)

		// Wrong passwords keep the email and say so; unknown emails get the same words.
		bad := anon.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {"wrong password!"}}, 422)
		mustContain(t, bad.Body, "That email and password do not match an account.", `value="`+h.agent.Email+`"`)
		unknown := anon.post(t, "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}}, 422)
		mustContain(t, unknown.Body, "That email and password do not match an account.")

		// Attempts are throttled per email, with a message in the page's language.
		for range 4 {
			anon.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {"wrong password!"}}, 422)
		}
		limited := anon.do(t, "POST", "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}},
			http.Header{"Accept-Language": {"sv-SE,sv;q=0.9"}})
		if limited.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt: %d", limited.StatusCode)
		}
		mustContain(t, limited.Body, "För många försök")
		// Another person's email is not held up.
		anon.post(t, "/login", url.Values{"email": {h.admin.Email}, "password": {testPassword}}, 303)

		// With outbound mail the page offers a reset.
		hm, _ := withMail(t, h)
		mustContain(t, hm.newClient(t).get(t, "/login", 200), `href="/forgot"`, "Forgot password?")
	})
}

var secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
var recoveryRe = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)

// enrolTOTP turns two-factor sign-in on for the browser's user through the profile page and
// returns the secret, the code that confirmed it and the recovery codes.
func enrolTOTP(t *testing.T, c *client) (string, string, []string) {
	t.Helper()
	mustContain(t, c.get(t, "/profile", 200), "Set up two-factor sign-in", `id="totp-start-form"`)
	c.post(t, "/profile/totp", url.Values{}, 303)
	page := c.get(t, "/profile", 200)
	mustContain(t, page, `src="data:image/png;base64,`, `id="totp-confirm-form"`)
	m := secretRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", page)
	}
	secret := m[1]
	wrong := c.post(t, "/profile/totp/confirm", url.Values{"code": {"000000"}}, 422)
	mustContain(t, wrong.Body, "That code is not right.", `id="totp-confirm-form"`)
	code, _ := totp.GenerateCode(secret, time.Now())
	done := c.post(t, "/profile/totp/confirm", url.Values{"code": {code}}, 200)
	mustContain(t, done.Body, "Your recovery codes", "Two-factor sign-in is on.")
	var codes []string
	for _, m := range recoveryRe.FindAllStringSubmatch(done.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %v", codes)
	}
	mustNotContain(t, c.get(t, "/profile", 200), codes[0]) // shown once
	return secret, code, codes
}

func cookieNamed(res response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestTwoFactorSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		secret, first, recovery := enrolTOTP(t, h.signIn(t, h.agent))

		// The password alone starts no session: it leads to the code step.
		b := h.newClient(t)
		res := b.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}, "next": {"/inbox?view=mine"}}, 303)
		if res.Header.Get("Location") != "/login/code?next="+url.QueryEscape("/inbox?view=mine") {
			t.Fatalf("after password: %q", res.Header.Get("Location"))
		}
		if cookieNamed(res, "parley_session") != nil {
			t.Fatal("a session was started before the code")
		}
		if p := cookieNamed(res, pendingCookie); p == nil || !p.HttpOnly || p.Path != "/login" || p.MaxAge != 300 {
			t.Fatalf("pending cookie: %+v", p)
		}
		if r := b.do(t, "GET", "/inbox", nil, nil); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("inbox before the code: %d", r.StatusCode)
		}
		mustContain(t, b.get(t, "/login/code?next=%2Finbox%3Fview%3Dmine", 200), `autocomplete="one-time-code"`, "Two-factor sign-in")

		wrong := b.post(t, "/login/code", url.Values{"code": {"000000"}, "next": {"/inbox?view=mine"}}, 422)
		mustContain(t, wrong.Body, "That code is not right.", `aria-invalid="true"`)
		// The code the enrolment used cannot sign in again.
		used := b.post(t, "/login/code", url.Values{"code": {first}}, 422)
		mustContain(t, used.Body, "That code was just used.")

		next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		ok := b.post(t, "/login/code", url.Values{"code": {next}, "next": {"/inbox?view=mine"}}, 303)
		if ok.Header.Get("Location") != "/inbox?view=mine" || cookieNamed(ok, "parley_session") == nil {
			t.Fatalf("after the code: %q %v", ok.Header.Get("Location"), ok.Header)
		}
		mustContain(t, b.get(t, "/inbox", 200), "Ana Agent")

		// Replayed in another browser, the same code is refused.
		c := h.newClient(t)
		c.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}}, 303)
		mustContain(t, c.post(t, "/login/code", url.Values{"code": {next}}, 422).Body, "That code was just used.")
		// A recovery code works, once.
		c.post(t, "/login/code", url.Values{"code": {strings.ToUpper(recovery[3])}}, 303)
		d := h.newClient(t)
		d.post(t, "/login", url.Values{"email": {h.agent.Email}, "password": {testPassword}}, 303)
		d.post(t, "/login/code", url.Values{"code": {recovery[3]}}, 422)

		// Without a pending sign-in (expired, or never started) the code step sends back to the password.
		e := h.newClient(t)
		r := e.do(t, "GET", "/login/code", nil, nil)
		if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login?flash=auth.code_expired") {
			t.Fatalf("code page without pending: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		mustContain(t, e.get(t, r.Header.Get("Location"), 200), "The sign-in took too long.")
		r = e.do(t, "POST", "/login/code", url.Values{"code": {"123456"}}, http.Header{"Cookie": {pendingCookie + "=pps_bogus"}})
		if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login?") {
			t.Fatalf("bogus pending: %d %q", r.StatusCode, r.Header.Get("Location"))
		}

		// The profile counts the codes left and makes new ones on a code.
		mustContain(t, b.get(t, "/profile", 200), "You have 9 unused recovery codes.", `id="recovery-form"`)
		mustContain(t, b.post(t, "/profile/totp/recovery", url.Values{"code": {"000000"}}, 422).Body, "That code is not right.")
		renewed := b.post(t, "/profile/totp/recovery", url.Values{"code": {recovery[4]}}, 200)
		var fresh []string
		for _, m := range recoveryRe.FindAllStringSubmatch(renewed.Body, -1) {
			fresh = append(fresh, m[1])
		}
		if len(fresh) != 10 || fresh[0] == recovery[0] {
			t.Fatalf("new recovery codes: %v", fresh)
		}

		// Turning it off takes the password and a code; then the password is enough again.
		bad := b.post(t, "/profile/totp/disable", url.Values{"current_password": {"wrong password!"}, "code": {fresh[0]}}, 422)
		mustContain(t, bad.Body, "That is not your current password.")
		b.post(t, "/profile/totp/disable", url.Values{"current_password": {testPassword}, "code": {recovery[5]}}, 422) // replaced
		b.post(t, "/profile/totp/disable", url.Values{"current_password": {testPassword}, "code": {fresh[0]}}, 303)
		mustContain(t, b.get(t, "/profile", 200), "Set up two-factor sign-in")
		h.signIn(t, h.agent)
	})
}

var linkRe = regexp.MustCompile(`http://parley\.test/reset\?token=(ppw_[a-z2-7]+)`)

func TestPasswordResetByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		base := newHarness(t, s)
		h, sink := withMail(t, base)
		other := h.signIn(t, h.agent) // a browser that must be signed out by the reset

		anon := h.newClient(t)
		mustContain(t, anon.get(t, "/forgot?email="+url.QueryEscape(h.agent.Email), 200), `value="`+h.agent.Email+`"`)
		// Known and unknown emails get the same answer; only the known one gets mail.
		unknown := anon.post(t, "/forgot", url.Values{"email": {"nobody@example.com"}}, 200)
		known := anon.post(t, "/forgot", url.Values{"email": {strings.ToUpper(h.agent.Email)}}, 200)
		norm := func(b, email string) string { return strings.ReplaceAll(b, email, "EMAIL") }
		if norm(unknown.Body, "nobody@example.com") != norm(known.Body, strings.ToUpper(h.agent.Email)) {
			t.Fatal("the answer differs between a known and an unknown email")
		}
		mustContain(t, known.Body, "a reset link is on its way")

		m := sink.Next(t)
		if len(m.To) != 1 || m.To[0] != h.agent.Email || m.Subject != "Reset your Parley password" {
			t.Fatalf("mail: to %v subject %q", m.To, m.Subject)
		}
		lm := linkRe.FindStringSubmatch(m.Body)
		if lm == nil {
			t.Fatalf("no link in the mail:\n%s", m.Body)
		}
		token := lm[1]
		sink.None(t, 200*time.Millisecond) // nothing for the unknown email

		page := anon.do(t, "GET", "/reset?token="+token, nil, nil)
		if page.StatusCode != 200 || page.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("reset page: %d %v", page.StatusCode, page.Header)
		}
		mustContain(t, page.Body, "Choose a new password", h.agent.Email, `name="token" value="`+token+`"`)

		mismatch := anon.post(t, "/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "confirm": {"something else entirely"}}, 422)
		mustContain(t, mismatch.Body, "The two passwords are not the same.")
		weak := anon.post(t, "/reset", url.Values{"token": {token}, "password": {"short"}, "confirm": {"short"}}, 422)
		mustContain(t, weak.Body, "Choose a longer password.")

		done := anon.post(t, "/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}}, 303)
		if done.Header.Get("Location") != "/inbox?flash=auth.reset.done" {
			t.Fatalf("after reset: %q", done.Header.Get("Location"))
		}
		mustContain(t, anon.get(t, "/inbox?flash=auth.reset.done", 200), "Your password has been changed.")
		// The other browser was signed out; the old password is gone.
		if r := other.do(t, "GET", "/inbox", nil, nil); r.StatusCode != 303 {
			t.Fatalf("other session still works: %d", r.StatusCode)
		}
		if _, _, err := h.WS.SignIn(t.Context(), h.agent.Email, testPassword); err == nil {
			t.Fatal("the old password still works")
		}
		// The link worked once.
		again := h.newClient(t).do(t, "GET", "/reset?token="+token, nil, nil)
		if again.StatusCode != 404 {
			t.Fatalf("used link: %d", again.StatusCode)
		}
		mustContain(t, again.Body, "This link does not work", `href="/forgot"`)
		h.newClient(t).post(t, "/reset", url.Values{"token": {token}, "password": {"another new passphrase"}, "confirm": {"another new passphrase"}}, 404)

		// Garbage tokens are refused the same way.
		h.newClient(t).get(t, "/reset?token=ppw_nonsense", 404)
	})
}

// Admins' invitation links (settings) are mailed through mailPasswordLink.
func TestInvitationMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h, sink := withMail(t, newHarness(t, s))
		// A Swedish-speaking newcomer without a password yet gets Swedish mail.
		u, err := h.WS.CreateUser(t.Context(), h.admin, workspace.NewUser{Email: "nils@example.com", Name: "Nils Nyman", Locale: "sv"})
		if err != nil {
			t.Fatal(err)
		}
		token, err := h.WS.IssuePasswordLink(t.Context(), h.admin, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.UI.mailPasswordLink(t.Context(), u, h.UI.passwordURL(token), h.admin); err != nil {
			t.Fatal(err)
		}
		m := sink.Next(t)
		if m.Subject != "Du är inbjuden till Parley" || !strings.Contains(m.Body, "Adam Admin har bjudit in dig") ||
			!strings.Contains(m.Body, "http://parley.test/reset?token="+token) {
			t.Fatalf("invitation: %q\n%s", m.Subject, m.Body)
		}
		body := html.UnescapeString(h.newClient(t).get(t, "/reset?token="+token, 200))
		mustContain(t, body, "Welcome to Parley", "Hi Nils Nyman!", "Set password and sign in")
		res := h.newClient(t).post(t, "/reset", url.Values{"token": {token}, "password": {"my first passphrase"}, "confirm": {"my first passphrase"}}, 303)
		if res.Header.Get("Location") != "/inbox?flash=auth.reset.done" || cookieNamed(res, "parley_session") == nil {
			t.Fatalf("after the invitation: %q", res.Header.Get("Location"))
		}
	})
}
