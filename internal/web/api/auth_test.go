package api

import (
	"context"
	"fmt"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.Cookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", session.Cookie, rec.Header())
	return nil
}

func TestSignInAndOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		agent := ts.agent(t)

		rec := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session",
			Body: map[string]string{"email": strings.ToUpper(agent.Email), "password": testPassword}})
		if rec.Code != http.StatusOK {
			t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
		}
		body := decodeObject(t, rec.Body.Bytes())
		user, _ := body["user"].(map[string]any)
		if user["email"] != agent.Email || user["role"] != "agent" || user["deactivated"] != false {
			t.Fatalf("user = %v", body)
		}
		if strings.Contains(rec.Body.String(), "password") || strings.Contains(rec.Body.String(), "argon2") {
			t.Fatalf("the password hash leaked: %s", rec.Body)
		}
		created, _ := user["created_at"].(string)
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", created); err != nil {
			t.Fatalf("created_at %q is not RFC 3339 UTC with milliseconds", created)
		}
		c := sessionCookie(t, rec)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
			t.Fatalf("cookie flags: %+v", c)
		}
		if c.MaxAge < 29*24*3600 {
			t.Fatalf("session too short: %d s", c.MaxAge)
		}

		status, me := ts.do(t, "GET", "/api/v1/me", c.Value, nil)
		if status != http.StatusOK || me["id"] != float64(agent.ID) {
			t.Fatalf("me with cookie: %d %v", status, me)
		}
		rec = ts.send(t, testRequest{Method: "DELETE", Path: "/api/v1/auth/session", Token: c.Value})
		if rec.Code != http.StatusNoContent {
			t.Fatalf("sign out: %d %s", rec.Code, rec.Body)
		}
		if cleared := sessionCookie(t, rec); cleared.MaxAge >= 0 || cleared.Value != "" {
			t.Fatalf("cookie not cleared: %+v", cleared)
		}
		status, me = ts.do(t, "GET", "/api/v1/me", c.Value, nil)
		if status != http.StatusUnauthorized || problemCode(me) != "session_expired" {
			t.Fatalf("me after sign out: %d %v", status, me)
		}

		// Wrong password and unknown email get the same answer.
		wrong := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session",
			Body: map[string]string{"email": agent.Email, "password": "not the password"}})
		unknown := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session",
			Body: map[string]string{"email": "nobody@example.com", "password": "not the password"}})
		if wrong.Code != http.StatusUnauthorized || wrong.Body.String() != unknown.Body.String() || unknown.Code != wrong.Code {
			t.Fatalf("answers differ:\n%d %s\n%d %s", wrong.Code, wrong.Body, unknown.Code, unknown.Body)
		}
		if problemCode(decodeObject(t, wrong.Body.Bytes())) != "invalid_credentials" {
			t.Fatalf("code: %s", wrong.Body)
		}
		if len(wrong.Result().Cookies()) != 0 {
			t.Fatal("a failed sign-in set a cookie")
		}
		status, me = ts.do(t, "GET", "/api/v1/me", "", nil)
		if status != http.StatusUnauthorized || problemCode(me) != "unauthorized" {
			t.Fatalf("me anonymous: %d %v", status, me)
		}
	})
}

func TestSessionCookieSecureOnHTTPS(t *testing.T) {
	ts := newTestServer(t, storetest.OpenSQLite(t))
	ts.API.BaseURL = "https://parley.example.com"
	agent := ts.agent(t)
	rec := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session",
		Body: map[string]string{"email": agent.Email, "password": testPassword}})
	if c := sessionCookie(t, rec); !c.Secure || !c.HttpOnly {
		t.Fatalf("cookie: %+v", c)
	}
}

func TestSignInRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		agent := ts.agent(t)
		attempt := func(email, password, addr string) *httptest.ResponseRecorder {
			return ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session", RemoteAddr: addr,
				Body: map[string]string{"email": email, "password": password}})
		}
		for i := range throttle.EmailAttemptBurst {
			if rec := attempt(agent.Email, "wrong password", "198.51.100.1:1000"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %s", i, rec.Code, rec.Body)
			}
		}
		// Even the right password is refused now, from another address too, and the email's
		// case does not reset the count.
		rec := attempt(strings.ToUpper(agent.Email), testPassword, "198.51.100.2:1000")
		if rec.Code != http.StatusTooManyRequests || problemCode(decodeObject(t, rec.Body.Bytes())) != "too_many_attempts" {
			t.Fatalf("over the email limit: %d %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// Another account is unaffected.
		other := ts.agent(t)
		if rec := attempt(other.Email, testPassword, "198.51.100.1:1000"); rec.Code != http.StatusOK {
			t.Fatalf("other account: %d %s", rec.Code, rec.Body)
		}

		// One address trying many emails runs into the address limit.
		addr := "203.0.113.9:4444"
		limited := false
		for i := range throttle.IPAttemptBurst + 1 {
			rec := attempt(fmt.Sprintf("guess%d@example.com", i), "whatever password", addr)
			if rec.Code == http.StatusTooManyRequests {
				limited = i == throttle.IPAttemptBurst
				break
			}
		}
		if !limited {
			t.Fatalf("address not limited after %d attempts", throttle.IPAttemptBurst)
		}
	})
}

func TestSetupAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		ctx := context.Background()
		body := map[string]string{"token": "pst_nothing", "email": "Boss@Example.com", "name": "Boss", "password": testPassword}
		status, resp := ts.do(t, "POST", "/api/v1/setup", "", body)
		if status != http.StatusNotFound || problemCode(resp) != "setup_not_available" {
			t.Fatalf("no setup pending: %d %v", status, resp)
		}
		token, needed, err := ts.WS.SetupToken(ctx)
		if err != nil || !needed {
			t.Fatal(err)
		}
		status, resp = ts.do(t, "POST", "/api/v1/setup", "", body)
		if status != http.StatusBadRequest || problemCode(resp) != "invalid_setup_token" {
			t.Fatalf("wrong token: %d %v", status, resp)
		}
		body["token"] = token
		body["password"] = "short"
		status, resp = ts.do(t, "POST", "/api/v1/setup", "", body)
		if status != http.StatusBadRequest || problemCode(resp) != "weak_password" {
			t.Fatalf("weak password: %d %v", status, resp)
		}
		body["password"] = testPassword
		rec := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/setup", Body: body})
		if rec.Code != http.StatusCreated {
			t.Fatalf("setup: %d %s", rec.Code, rec.Body)
		}
		resp = decodeObject(t, rec.Body.Bytes())
		if u := resp["user"].(map[string]any); u["role"] != "owner" || u["email"] != "boss@example.com" {
			t.Fatalf("user: %v", resp)
		}
		status, me := ts.do(t, "GET", "/api/v1/me", sessionCookie(t, rec).Value, nil)
		if status != http.StatusOK || me["role"] != "owner" {
			t.Fatalf("me after setup: %d %v", status, me)
		}
		body["email"] = "second@example.com"
		status, resp = ts.do(t, "POST", "/api/v1/setup", "", body)
		if status != http.StatusNotFound || problemCode(resp) != "setup_not_available" {
			t.Fatalf("second setup: %d %v", status, resp)
		}
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Fatalf("users = %d", n)
		}
	})
}

func TestTokensAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, agent, other := ts.admin(t), ts.agent(t), ts.agent(t)

		var created struct {
			ID     int64  `json:"id"`
			UserID int64  `json:"user_id"`
			Name   string `json:"name"`
			Prefix string `json:"prefix"`
			Token  string `json:"token"`
		}
		ts.doInto(t, "POST", "/api/v1/tokens", agent.Token, map[string]string{"name": "Zapier"}, http.StatusCreated, &created)
		if created.Name != "Zapier" || created.UserID != agent.ID || !strings.HasPrefix(created.Token, created.Prefix) || !strings.HasPrefix(created.Token, "pt_") {
			t.Fatalf("created: %+v", created)
		}
		status, me := ts.do(t, "GET", "/api/v1/me", created.Token, nil)
		if status != http.StatusOK || me["id"] != float64(agent.ID) {
			t.Fatalf("new token: %d %v", status, me)
		}

		ts.runScenarios(t, []apiScenario{
			{Name: "list own without secrets", Method: "GET", Path: "/api/v1/tokens", Token: agent.Token, Status: 200,
				Contains: []string{`"name":"Zapier"`, `"prefix":"` + created.Prefix}, NotContains: []string{created.Token, `"token"`},
				Check: func(t *testing.T, body map[string]any) {
					if n := len(listData(t, body)); n != 2 {
						t.Fatalf("tokens = %d, want 2 (harness token and Zapier)", n)
					}
				}},
			{Name: "agent cannot list others", Method: "GET", Path: fmt.Sprintf("/api/v1/tokens?user_id=%d", agent.ID), Token: other.Token,
				Status: 403, Code: "admin_only"},
			{Name: "admin lists others", Method: "GET", Path: fmt.Sprintf("/api/v1/tokens?user_id=%d", agent.ID), Token: admin.Token,
				Status: 200, Contains: []string{"Zapier"}, NotContains: []string{created.Token}},
			{Name: "bad user_id", Method: "GET", Path: "/api/v1/tokens?user_id=x", Token: admin.Token, Status: 400, Code: "invalid_user_id"},
			{Name: "name required", Method: "POST", Path: "/api/v1/tokens", Token: agent.Token, Body: map[string]string{"name": " "},
				Status: 400, Code: "name_required"},
			{Name: "unknown field", Method: "POST", Path: "/api/v1/tokens", Token: agent.Token, Body: map[string]any{"name": "x", "user_id": admin.ID},
				Status: 400, Code: "unknown_field"},
			{Name: "broken JSON", Method: "POST", Path: "/api/v1/tokens", Token: agent.Token, Body: `{"name":`, Status: 400, Code: "invalid_json"},
			{Name: "other cannot revoke", Method: "DELETE", Path: fmt.Sprintf("/api/v1/tokens/%d", created.ID), Token: other.Token,
				Status: 404, Code: "token_not_found"},
			{Name: "owner revokes", Method: "DELETE", Path: fmt.Sprintf("/api/v1/tokens/%d", created.ID), Token: agent.Token, Status: 204},
			{Name: "revoked token refused", Method: "GET", Path: "/api/v1/me", Token: created.Token, Status: 401, Code: "invalid_token"},
			{Name: "garbage token refused", Method: "GET", Path: "/api/v1/me", Token: "pt_nonsense", Status: 401, Code: "invalid_token"},
			{Name: "admin revokes others", Method: "DELETE", Path: fmt.Sprintf("/api/v1/tokens/%d", tokenID(t, s, other)), Token: admin.Token, Status: 204},
			{Name: "other's token dead", Method: "GET", Path: "/api/v1/me", Token: other.Token, Status: 401, Code: "invalid_token"},
			{Name: "unknown id", Method: "DELETE", Path: "/api/v1/tokens/999999", Token: admin.Token, Status: 404, Code: "token_not_found"},
			{Name: "audit", Method: "GET", Path: "/api/v1/audit-log?target_type=api_token&action=token.revoked", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					items := listData(t, body)
					if len(items) != 2 || items[0]["actor_id"] != float64(admin.ID) || items[1]["actor_id"] != float64(agent.ID) {
						t.Fatalf("revocations = %v", items)
					}
				}},
		})
	})
}

// tokenID returns the id of the harness token of u.
func tokenID(t *testing.T, s *store.Store, u *testUser) int64 {
	t.Helper()
	tokens, err := s.APITokens(context.Background(), u.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens of %s: %v %v", u.Email, tokens, err)
	}
	return tokens[0].ID
}

func TestDeactivatedUserLosesAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, agent := ts.admin(t), ts.agent(t)
		session := ts.signIn(t, agent)
		ts.runScenarios(t, []apiScenario{
			{Name: "works before", Method: "GET", Path: "/api/v1/me", Token: agent.Token, Status: 200},
			{Name: "deactivate", Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", agent.ID), Token: admin.Token,
				Body: map[string]any{"deactivated": true}, Status: 200, Contains: []string{`"deactivated":true`}},
			{Name: "token stops", Method: "GET", Path: "/api/v1/me", Token: agent.Token, Status: 401, Code: "invalid_token"},
			{Name: "session stops", Method: "GET", Path: "/api/v1/me", Token: session, Status: 401, Code: "session_expired"},
			{Name: "cannot sign in", Method: "POST", Path: "/api/v1/auth/session",
				Body: map[string]string{"email": agent.Email, "password": testPassword}, Status: 401, Code: "invalid_credentials"},
			{Name: "still listed with deactivated", Method: "GET", Path: "/api/v1/users?include_deactivated=true", Token: admin.Token,
				Status: 200, Contains: []string{agent.Email}},
			{Name: "hidden by default", Method: "GET", Path: "/api/v1/users", Token: admin.Token, Status: 200, NotContains: []string{agent.Email}},
			{Name: "reactivate", Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", agent.ID), Token: admin.Token,
				Body: map[string]any{"deactivated": false}, Status: 200, Contains: []string{`"deactivated":false`, `"deactivated_at":null`}},
			{Name: "token works again", Method: "GET", Path: "/api/v1/me", Token: agent.Token, Status: 200},
		})
	})
}

// The harness itself: a session token goes as a cookie, an API token as a bearer token, and a
// real listener serves the same handler.
func TestHarness(t *testing.T) {
	ts := newTestServer(t, storetest.OpenSQLite(t))
	u := ts.userWith(t, workspace.NewUser{Email: "h@example.com", Name: "H", Role: "agent"})
	for _, tok := range []string{u.Token, ts.signIn(t, u)} {
		if status, body := ts.do(t, "GET", "/api/v1/me", tok, nil); status != 200 || body["email"] != "h@example.com" {
			t.Fatalf("%s: %d %v", tok[:3], status, body)
		}
	}
	req, _ := http.NewRequest("GET", ts.URL(t)+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+u.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("over the network: %d", res.StatusCode)
	}
}
