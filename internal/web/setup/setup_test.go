package setup_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/web/setup"
	"github.com/parley-inbox/parley/internal/workspace"
)

func init() {
	auth.PasswordParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func post(t *testing.T, h http.Handler, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/setup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestSetupPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := &workspace.Service{Store: s, Log: slog.New(slog.DiscardHandler)}
		h := setup.Handler(ws, "https://parley.example.com", slog.New(slog.DiscardHandler))

		// Nothing issued yet: setup is closed.
		res, body := get(t, h, "/setup?token=x")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Already set up") {
			t.Fatalf("before a token: %d %s", res.StatusCode, body)
		}

		token, _, err := ws.SetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, body = get(t, h, "/setup?token=wrong")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "doesn't work") || strings.Contains(body, "<form") {
			t.Fatalf("wrong token: %d %s", res.StatusCode, body)
		}
		res, body = get(t, h, "/setup?token="+url.QueryEscape(token))
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post" action="/setup">`) ||
			!strings.Contains(body, `value="`+token+`"`) {
			t.Fatalf("form: %d %s", res.StatusCode, body)
		}
		if res.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("headers: %v", res.Header)
		}
		if !strings.Contains(body, "prefers-color-scheme: dark") {
			t.Fatal("no dark theme")
		}

		// A cross-site form post is refused before anything happens.
		form := url.Values{"token": {token}, "name": {"Boss"}, "email": {"boss@example.com"}, "password": {"correct horse battery"}}
		res, _ = post(t, h, form, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site post: %d", res.StatusCode)
		}
		if n, _ := s.CountUsers(ctx); n != 0 {
			t.Fatal("cross-site post created a user")
		}

		// Input problems re-render the form with the message and keep what was typed (escaped).
		bad := url.Values{"token": {token}, "name": {`<script>x</script>`}, "email": {"boss@example.com"}, "password": {"short"}}
		res, body = post(t, h, bad, nil)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "longer password") ||
			!strings.Contains(body, "&lt;script&gt;") || strings.Contains(body, "<script>x") {
			t.Fatalf("weak password: %d %s", res.StatusCode, body)
		}
		if !strings.Contains(body, `type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-hint" aria-invalid="true"`) {
			t.Fatalf("password field not marked invalid: %s", body)
		}

		res, body = post(t, h, form, http.Header{"Sec-Fetch-Site": {"same-origin"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "You're set up") || !strings.Contains(body, "README") ||
			!strings.Contains(body, `href="/inbox"`) {
			t.Fatalf("submit: %d %s", res.StatusCode, body)
		}
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "parley_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
			t.Fatalf("cookie = %+v", session)
		}
		u, err := s.UserBySession(ctx, auth.HashToken(session.Value), store.Now())
		if err != nil || u.Email != "boss@example.com" || u.Role != "owner" {
			t.Fatalf("session user: %+v %v", u, err)
		}

		// Once only.
		res, body = post(t, h, form, nil)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Already set up") {
			t.Fatalf("second submit: %d %s", res.StatusCode, body)
		}
		res, _ = get(t, h, "/setup?token="+url.QueryEscape(token))
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("form after setup: %d", res.StatusCode)
		}
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Fatalf("users = %d", n)
		}
	})
}

func TestSetupCookieNotSecureOnHTTP(t *testing.T) {
	s := storetest.OpenSQLite(t)
	ws := &workspace.Service{Store: s, Log: slog.New(slog.DiscardHandler)}
	h := setup.Handler(ws, "http://localhost:8080", nil)
	token, _, err := ws.SetupToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, _ := post(t, h, url.Values{"token": {token}, "name": {"A"}, "email": {"a@example.com"}, "password": {"correct horse battery"}}, nil)
	if res.StatusCode != http.StatusOK || len(res.Cookies()) != 1 || res.Cookies()[0].Secure {
		t.Fatalf("%d %+v", res.StatusCode, res.Cookies())
	}
}
