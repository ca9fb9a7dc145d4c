package workspace_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// enrol turns two-factor sign-in on for u at the clock's time and returns the secret and the
// recovery codes.
func enrol(t *testing.T, ws *workspace.Service, u *store.User, at time.Time) (string, []string) {
	t.Helper()
	e, err := ws.StartTOTP(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if e.Secret == "" || !strings.HasPrefix(e.URL, "otpauth://totp/Parley:") {
		t.Fatalf("enrolment: %+v", e)
	}
	png, err := e.QRCode(200)
	if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Fatalf("qr code: %d bytes, %v", len(png), err)
	}
	codes, err := ws.ConfirmTOTP(context.Background(), u, code(t, e.Secret, at))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != workspace.RecoveryCodeCount {
		t.Fatalf("recovery codes: %v", codes)
	}
	return e.Secret, codes
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPSignIn(t *testing.T) {
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	workspace.SetClock(t, func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")

		// Without two-factor sign-in a password is enough everywhere.
		if step, err := ws.StartSignIn(ctx, u.Email, pw); err != nil || step.Session == "" || step.Pending != "" {
			t.Fatalf("plain sign-in: %+v %v", step, err)
		}

		// A wrong code does not turn it on.
		e, err := ws.StartTOTP(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ws.ConfirmTOTP(ctx, u, "000000")
		wantCode(t, err, "invalid_totp_code")
		if st, _ := ws.TOTP(ctx, u); st.Enabled || st.Pending == nil || st.Pending.Secret != e.Secret {
			t.Fatalf("status while pending: %+v", st)
		}
		if _, _, err := ws.SignIn(ctx, u.Email, pw); err != nil {
			t.Fatalf("a pending enrolment must not require codes: %v", err)
		}

		secret, recovery := enrol(t, ws, u, clock)
		if st, _ := ws.TOTP(ctx, u); !st.Enabled || st.RecoveryCodesLeft != workspace.RecoveryCodeCount {
			t.Fatalf("status: %+v", st)
		}
		_, err = ws.StartTOTP(ctx, u)
		wantCode(t, err, "totp_already_enabled")

		// The API path: no code, wrong password, wrong code, the confirming code again.
		_, _, err = ws.SignIn(ctx, u.Email, pw)
		wantCode(t, err, "totp_required")
		_, _, err = ws.SignInWithCode(ctx, u.Email, "wrong password", code(t, secret, clock))
		wantCode(t, err, "invalid_credentials")
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, "123456")
		wantCode(t, err, "invalid_totp_code")
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, code(t, secret, clock))
		wantCode(t, err, "totp_code_used")
		tick(30 * time.Second)
		token, got, err := ws.SignInWithCode(ctx, u.Email, pw, code(t, secret, clock))
		if err != nil || token == "" || got.ID != u.ID {
			t.Fatalf("sign in with code: %v", err)
		}
		// Replay: the same code, and an older one, are refused.
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, code(t, secret, clock))
		wantCode(t, err, "totp_code_used")
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, code(t, secret, clock.Add(-30*time.Second)))
		wantCode(t, err, "totp_code_used")

		// The browser path: password, then the code step.
		step, err := ws.StartSignIn(ctx, u.Email, pw)
		if err != nil || step.Session != "" || step.Pending == "" {
			t.Fatalf("start: %+v %v", step, err)
		}
		if ok, _ := ws.PendingSignInValid(ctx, step.Pending); !ok {
			t.Fatal("pending sign-in not valid")
		}
		_, _, err = ws.FinishSignIn(ctx, step.Pending, "999999")
		wantCode(t, err, "invalid_totp_code")
		// A recovery code works once, typed any way.
		rc := strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " "))
		if token, _, err := ws.FinishSignIn(ctx, step.Pending, rc); err != nil || token == "" {
			t.Fatalf("recovery code: %v", err)
		}
		_, _, err = ws.FinishSignIn(ctx, step.Pending, recovery[1])
		wantCode(t, err, "sign_in_expired") // a pending sign-in is used up by success
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, recovery[0])
		wantCode(t, err, "invalid_totp_code")
		if st, _ := ws.TOTP(ctx, u); st.RecoveryCodesLeft != workspace.RecoveryCodeCount-1 {
			t.Fatalf("codes left: %d", st.RecoveryCodesLeft)
		}

		// Pending sign-ins expire after five minutes…
		step, _ = ws.StartSignIn(ctx, u.Email, pw)
		tick(workspace.PendingSignInTTL + time.Second)
		_, _, err = ws.FinishSignIn(ctx, step.Pending, code(t, secret, clock))
		wantCode(t, err, "sign_in_expired")
		if ok, _ := ws.PendingSignInValid(ctx, step.Pending); ok {
			t.Fatal("expired pending sign-in still valid")
		}
		// …and after five wrong codes, even with the right one next.
		step, _ = ws.StartSignIn(ctx, u.Email, pw)
		for range 5 {
			_, _, err = ws.FinishSignIn(ctx, step.Pending, "000000")
			wantCode(t, err, "invalid_totp_code")
		}
		_, _, err = ws.FinishSignIn(ctx, step.Pending, code(t, secret, clock))
		wantCode(t, err, "sign_in_expired")

		// New recovery codes replace the old ones.
		tick(30 * time.Second)
		fresh, err := ws.RenewRecoveryCodes(ctx, u, code(t, secret, clock))
		if err != nil || len(fresh) != workspace.RecoveryCodeCount {
			t.Fatalf("renew: %v", err)
		}
		_, _, err = ws.SignInWithCode(ctx, u.Email, pw, recovery[2])
		wantCode(t, err, "invalid_totp_code")

		// Turning it off takes the password and a code.
		tick(30 * time.Second)
		wantCode(t, ws.DisableTOTP(ctx, u, "wrong password", code(t, secret, clock)), "invalid_current_password")
		wantCode(t, ws.DisableTOTP(ctx, u, pw, "000000"), "invalid_totp_code")
		if err := ws.DisableTOTP(ctx, u, pw, fresh[0]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ws.SignIn(ctx, u.Email, pw); err != nil {
			t.Fatalf("after disable: %v", err)
		}
		acts := auditActions(t, s, store.AuditFilter{})
		for _, want := range []string{workspace.ActionTOTPEnabled, workspace.ActionTOTPDisabled, workspace.ActionRecoveryCodesRenewed} {
			if !strings.Contains(strings.Join(acts, " "), want) {
				t.Errorf("audit lacks %s: %v", want, acts)
			}
		}
	})
}

func TestResetTOTPByAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		owner := mustUser(t, ws, nil, "owner@example.com", "owner")
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		agent := mustUser(t, ws, nil, "agent@example.com", "agent")
		enrol(t, ws, agent, time.Now())
		enrol(t, ws, owner, time.Now())
		wantCode(t, ws.ResetTOTP(ctx, agent, agent.ID), "admin_only")
		wantCode(t, ws.ResetTOTP(ctx, admin, owner.ID), "owner_only")
		if err := ws.ResetTOTP(ctx, admin, agent.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, ws.ResetTOTP(ctx, admin, agent.ID), "totp_not_enabled")
		if _, _, err := ws.SignIn(ctx, agent.Email, pw); err != nil {
			t.Fatalf("after reset: %v", err)
		}
	})
}
