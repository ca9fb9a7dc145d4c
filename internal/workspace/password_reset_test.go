package workspace_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

func TestPasswordReset(t *testing.T) {
	clock := time.Now()
	workspace.SetClock(t, func() time.Time { return clock })
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ana@example.com", "agent")
		session1, _, err := ws.SignIn(ctx, u.Email, pw)
		if err != nil {
			t.Fatal(err)
		}

		// Unknown and malformed emails: no token, and for unknown ones no error either.
		if tok, who, err := ws.RequestPasswordReset(ctx, "nobody@example.com"); tok != "" || who != nil || err != nil {
			t.Fatalf("unknown email: %q %v %v", tok, who, err)
		}
		_, _, err = ws.RequestPasswordReset(ctx, "not an email")
		wantCode(t, err, "invalid_email")

		first, _, err := ws.RequestPasswordReset(ctx, "ANA@example.com")
		if err != nil || first == "" {
			t.Fatal(err)
		}
		token, who, err := ws.RequestPasswordReset(ctx, u.Email)
		if err != nil || who.ID != u.ID {
			t.Fatal(err)
		}
		// Only the newest link works.
		_, _, err = ws.PasswordLink(ctx, first)
		wantCode(t, err, "invalid_password_link")
		got, purpose, err := ws.PasswordLink(ctx, token)
		if err != nil || got.ID != u.ID || purpose != store.PasswordReset {
			t.Fatalf("link: %v %q %v", got, purpose, err)
		}

		_, err = ws.SetPasswordWithLink(ctx, token, "short")
		wantCode(t, err, "weak_password")
		if _, err := ws.SetPasswordWithLink(ctx, token, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		// Every session ended, the new password works, the link is used up.
		if _, err := s.UserBySession(ctx, auth.HashToken(session1), store.Now()); err == nil {
			t.Fatal("old session survived the reset")
		}
		if _, _, err := ws.SignIn(ctx, u.Email, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		_, err = ws.SetPasswordWithLink(ctx, token, "yet another passphrase")
		wantCode(t, err, "invalid_password_link")

		// Links expire after an hour.
		token, _, _ = ws.RequestPasswordReset(ctx, u.Email)
		clock = clock.Add(workspace.PasswordResetTTL + time.Second)
		_, _, err = ws.PasswordLink(ctx, token)
		wantCode(t, err, "invalid_password_link")
		_, err = ws.SetPasswordWithLink(ctx, token, "yet another passphrase")
		wantCode(t, err, "invalid_password_link")
		clock = time.Now()

		// Deactivated users get no link.
		d := mustUser(t, ws, nil, "gone@example.com", "agent")
		yes := true
		if _, err := ws.UpdateUser(ctx, nil, d.ID, workspace.UserPatch{Deactivated: &yes}); err != nil {
			t.Fatal(err)
		}
		if tok, _, err := ws.RequestPasswordReset(ctx, d.Email); tok != "" || err != nil {
			t.Fatalf("deactivated: %q %v", tok, err)
		}
	})
}

func TestIssuePasswordLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		owner := mustUser(t, ws, nil, "owner@example.com", "owner")
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		agent := mustUser(t, ws, nil, "agent@example.com", "agent")
		invited, err := ws.CreateUser(ctx, admin, workspace.NewUser{Email: "new@example.com", Name: "New Person"})
		if err != nil {
			t.Fatal(err)
		}

		_, err = ws.IssuePasswordLink(ctx, agent, invited.ID)
		wantCode(t, err, "admin_only")
		_, err = ws.IssuePasswordLink(ctx, admin, owner.ID)
		wantCode(t, err, "owner_only")
		_, err = ws.IssuePasswordLink(ctx, admin, 999999)
		wantCode(t, err, "user_not_found")

		token, err := ws.IssuePasswordLink(ctx, admin, invited.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, purpose, err := ws.PasswordLink(ctx, token); err != nil || purpose != store.PasswordInvite {
			t.Fatalf("invite link: %q %v", purpose, err)
		}
		if _, err := ws.SetPasswordWithLink(ctx, token, "my first passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ws.SignIn(ctx, invited.Email, "my first passphrase"); err != nil {
			t.Fatal(err)
		}
		// For someone with a password it is a reset; owners may issue links for owners.
		token, err = ws.IssuePasswordLink(ctx, owner, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, purpose, _ := ws.PasswordLink(ctx, token); purpose != store.PasswordReset {
			t.Fatalf("purpose %q", purpose)
		}
		if acts := auditActions(t, s, store.AuditFilter{}); len(acts) == 0 || acts[0] != workspace.ActionPasswordLinkIssued {
			t.Fatalf("audit: %v", acts)
		}
	})
}
