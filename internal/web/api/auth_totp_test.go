package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// The JSON sign-in must not get around two-factor sign-in: a user with it needs totp_code.
func TestSignInWithTOTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		agent := ts.agent(t)
		ctx := context.Background()
		e, err := ts.WS.StartTOTP(ctx, agent.User)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		first, _ := totp.GenerateCode(e.Secret, now)
		if _, err := ts.WS.ConfirmTOTP(ctx, agent.User, first); err != nil {
			t.Fatal(err)
		}
		signIn := func(body map[string]string, status int, code string) {
			t.Helper()
			body["email"], body["password"] = agent.Email, testPassword
			rec := ts.send(t, testRequest{Method: "POST", Path: "/api/v1/auth/session", Body: body})
			if rec.Code != status {
				t.Fatalf("sign in %v: %d %s", body, rec.Code, rec.Body)
			}
			if code != "" {
				if got := problemCode(decodeObject(t, rec.Body.Bytes())); got != code {
					t.Fatalf("sign in %v: code %q, want %q", body, got, code)
				}
			}
			if status == http.StatusOK {
				sessionCookie(t, rec)
			} else if len(rec.Result().Cookies()) > 0 {
				t.Fatalf("a refused sign-in set a cookie: %v", rec.Result().Cookies())
			}
		}
		signIn(map[string]string{}, http.StatusUnauthorized, "totp_required")
		signIn(map[string]string{"totp_code": "000000"}, http.StatusBadRequest, "invalid_totp_code")
		signIn(map[string]string{"totp_code": first}, http.StatusBadRequest, "totp_code_used")
		next, _ := totp.GenerateCode(e.Secret, now.Add(30*time.Second))
		signIn(map[string]string{"totp_code": next}, http.StatusOK, "")
	})
}
