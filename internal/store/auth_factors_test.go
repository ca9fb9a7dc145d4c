package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestAuthFactors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &store.User{Email: "ana@example.com", Name: "Ana", Role: "agent", Locale: "en", TimeZone: "UTC"}
		in := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := s.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		in(func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })

		// TOTP: pending until confirmed; a pending one may be replaced, a confirmed one not.
		if _, err := s.TOTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no totp yet: %v", err)
		}
		in(func(tx *store.Tx) error { return tx.StartTOTP(ctx, u.ID, "SECRETONE") })
		in(func(tx *store.Tx) error { return tx.StartTOTP(ctx, u.ID, "SECRETTWO") })
		got, err := s.TOTP(ctx, u.ID)
		if err != nil || got.Secret != "SECRETTWO" || got.ConfirmedAt != nil {
			t.Fatalf("pending totp: %+v %v", got, err)
		}
		in(func(tx *store.Tx) error {
			// Codes count only for a confirmed authenticator.
			if ok, err := tx.UseTOTPStep(ctx, u.ID, 5); err != nil || ok {
				t.Fatalf("step on pending: %v %v", ok, err)
			}
			// A code checked against a secret another enrolment has replaced confirms nothing.
			if err := tx.ConfirmTOTP(ctx, u.ID, "SECRETONE", 100, store.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("confirm a replaced secret: %v", err)
			}
			return tx.ConfirmTOTP(ctx, u.ID, "SECRETTWO", 100, store.Now())
		})
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.StartTOTP(ctx, u.ID, "SECRETTHREE") })
		if !store.IsConflict(err) {
			t.Fatalf("restart over confirmed: %v", err)
		}
		in(func(tx *store.Tx) error {
			for _, c := range []struct {
				step int64
				ok   bool
			}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}} {
				ok, err := tx.UseTOTPStep(ctx, u.ID, c.step)
				if err != nil || ok != c.ok {
					t.Fatalf("step %d: %v %v, want %v", c.step, ok, err, c.ok)
				}
			}
			return nil
		})

		// Recovery codes: each once; replacing drops the old ones.
		in(func(tx *store.Tx) error { return tx.ReplaceRecoveryCodes(ctx, u.ID, []string{"h1", "h2", "h3"}) })
		in(func(tx *store.Tx) error {
			if ok, err := tx.UseRecoveryCode(ctx, u.ID, "h2", store.Now()); err != nil || !ok {
				t.Fatalf("first use: %v %v", ok, err)
			}
			if ok, err := tx.UseRecoveryCode(ctx, u.ID, "h2", store.Now()); err != nil || ok {
				t.Fatalf("second use: %v %v", ok, err)
			}
			return nil
		})
		if n, err := s.UnusedRecoveryCodes(ctx, u.ID); err != nil || n != 2 {
			t.Fatalf("unused = %d %v", n, err)
		}
		in(func(tx *store.Tx) error { return tx.DeleteTOTP(ctx, u.ID) })
		if n, _ := s.UnusedRecoveryCodes(ctx, u.ID); n != 0 {
			t.Fatalf("codes survive removal: %d", n)
		}
		if _, err := s.TOTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("totp survives removal: %v", err)
		}

		// Pending sign-ins expire and count attempts.
		now := store.Now()
		in(func(tx *store.Tx) error { return tx.CreatePendingSignIn(ctx, "p1", u.ID, now+60_000) })
		in(func(tx *store.Tx) error {
			if p, err := tx.ClaimPendingSignInAttempt(ctx, "p1", now, 2); err != nil || p.UserID != u.ID || p.Attempts != 1 {
				t.Fatalf("claim: %+v %v", p, err)
			}
			if _, err := tx.ClaimPendingSignInAttempt(ctx, "p1", now+60_000, 2); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("claim expired: %v", err)
			}
			p, err := tx.PendingSignIn(ctx, "p1", now)
			if err != nil || p.UserID != u.ID || p.Attempts != 1 {
				t.Fatalf("pending: %+v %v", p, err)
			}
			if p, err := tx.ClaimPendingSignInAttempt(ctx, "p1", now, 2); err != nil || p.Attempts != 2 {
				t.Fatalf("second claim: %+v %v", p, err)
			}
			if _, err := tx.ClaimPendingSignInAttempt(ctx, "p1", now, 2); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("claim over the limit: %v", err)
			}
			if _, err := tx.PendingSignIn(ctx, "p1", now+60_000); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("expired pending: %v", err)
			}
			return tx.DeletePendingSignIn(ctx, "p1")
		})

		// Password links: once, until they expire; a newer one replaces older ones.
		in(func(tx *store.Tx) error {
			return tx.CreatePasswordToken(ctx, "l1", u.ID, store.PasswordInvite, now+60_000)
		})
		in(func(tx *store.Tx) error {
			return tx.CreatePasswordToken(ctx, "l2", u.ID, store.PasswordReset, now+60_000)
		})
		if _, err := s.PasswordToken(ctx, "l1", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("older link still works: %v", err)
		}
		if p, err := s.PasswordToken(ctx, "l2", now); err != nil || p.UserID != u.ID || p.Purpose != store.PasswordReset {
			t.Fatalf("link: %+v %v", p, err)
		}
		if _, err := s.PasswordToken(ctx, "l2", now+60_000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired link: %v", err)
		}
		in(func(tx *store.Tx) error {
			if _, err := tx.UsePasswordToken(ctx, "l2", now+60_000); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("use expired: %v", err)
			}
			p, err := tx.UsePasswordToken(ctx, "l2", now)
			if err != nil || p.UserID != u.ID {
				t.Fatalf("use: %+v %v", p, err)
			}
			if _, err := tx.UsePasswordToken(ctx, "l2", now); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("use twice: %v", err)
			}
			return tx.DeletePasswordTokens(ctx, u.ID)
		})
	})
}
