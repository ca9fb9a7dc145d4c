package workspace_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Second factors and password links must hold when requests race: on PostgreSQL transactions
// really run at once, so every "once" needs a conditional update or a row lock.

const racers = 8

// race runs fn racers times at once and returns the errors' codes ("" for success).
func race(t *testing.T, fn func() error) []string {
	t.Helper()
	codes := make([]string, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			err := fn()
			if err == nil {
				return
			}
			p, ok := problem.As(err)
			if !ok {
				codes[i] = "error: " + err.Error()
				return
			}
			codes[i] = p.Code
		})
	}
	close(start)
	wg.Wait()
	return codes
}

func count(codes []string, code string) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

func TestTOTPOnceUnderConcurrency(t *testing.T) {
	clock := time.Now()
	var mu sync.Mutex
	workspace.SetClock(t, func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")
		secret, recovery := enrol(t, ws, u, clock)
		tick(30 * time.Second)

		// One authenticator code, many sign-ins at once: one session.
		c := code(t, secret, clock)
		got := race(t, func() error { _, _, err := ws.SignInWithCode(ctx, u.Email, pw, c); return err })
		if count(got, "") != 1 || count(got, "totp_code_used") != racers-1 {
			t.Fatalf("same code at once: %q", got)
		}

		// One recovery code, many sign-ins at once: one session.
		got = race(t, func() error { _, _, err := ws.SignInWithCode(ctx, u.Email, pw, recovery[0]); return err })
		if count(got, "") != 1 || count(got, "invalid_totp_code") != racers-1 {
			t.Fatalf("same recovery code at once: %q", got)
		}

		// Guesses racing on one pending sign-in get maxCodeAttempts (5) tries between them.
		step, err := ws.StartSignIn(ctx, u.Email, pw)
		if err != nil {
			t.Fatal(err)
		}
		var guesses []string
		for range 3 {
			guesses = append(guesses, race(t, func() error {
				_, _, err := ws.FinishSignIn(ctx, step.Pending, "000000")
				return err
			})...)
		}
		if n := count(guesses, "invalid_totp_code"); n != 5 || count(guesses, "sign_in_expired") != len(guesses)-5 {
			t.Fatalf("racing guesses: %d tried: %q", n, guesses)
		}

		// Right codes racing on one pending sign-in (here a recovery code each, which would all
		// be good on their own) start one session.
		tick(30 * time.Second)
		step, err = ws.StartSignIn(ctx, u.Email, pw)
		if err != nil {
			t.Fatal(err)
		}
		var next sync.Mutex
		i := 1
		got = race(t, func() error {
			next.Lock()
			rc := recovery[i]
			i++
			next.Unlock()
			_, _, err := ws.FinishSignIn(ctx, step.Pending, rc)
			return err
		})
		if count(got, "") != 1 || count(got, "sign_in_expired") != racers-1 {
			t.Fatalf("right codes at once on one pending sign-in: %q", got)
		}
	})
}

func TestPasswordLinkOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")
		token, _, err := ws.RequestPasswordReset(ctx, u.Email)
		if err != nil || token == "" {
			t.Fatal(err)
		}
		got := race(t, func() error {
			_, err := ws.SetPasswordWithLink(ctx, token, "a brand new passphrase")
			return err
		})
		if count(got, "") != 1 || count(got, "invalid_password_link") != racers-1 {
			t.Fatalf("one link used at once: %q", got)
		}
	})
}

func TestPasswordResetEndsPendingSignIns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")
		secret, _ := enrol(t, ws, u, time.Now())
		// Someone who knew the old password is waiting at the code step.
		step, err := ws.StartSignIn(ctx, u.Email, pw)
		if err != nil || step.Pending == "" {
			t.Fatalf("start: %+v %v", step, err)
		}
		token, _, err := ws.RequestPasswordReset(ctx, u.Email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ws.SetPasswordWithLink(ctx, token, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		// The next step's code, within the allowed clock skew and not used yet.
		_, _, err = ws.FinishSignIn(ctx, step.Pending, code(t, secret, time.Now().Add(30*time.Second)))
		wantCode(t, err, "sign_in_expired")
	})
}

func TestConfirmTOTPOfAReplacedEnrolment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")
		first, err := ws.StartTOTP(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		second, err := ws.StartTOTP(ctx, u) // another tab
		if err != nil {
			t.Fatal(err)
		}
		_, err = ws.ConfirmTOTP(ctx, u, code(t, first.Secret, time.Now()))
		wantCode(t, err, "invalid_totp_code")
		if _, err := ws.ConfirmTOTP(ctx, u, code(t, second.Secret, time.Now())); err != nil {
			t.Fatal(err)
		}
	})
}
