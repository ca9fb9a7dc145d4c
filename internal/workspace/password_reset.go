package workspace

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Password links (SPEC ACCESS-2): a one-time link to set a password without the old one. People
// who forgot theirs ask for a reset link by email; admins issue a link for a new user (an
// invitation) or for someone locked out. Only the token's hash is stored; using a link sets the
// password, ends every session of the user and makes every other link of theirs useless.

// How long password links work.
const (
	// PasswordResetTTL is the life of a link sent by the forgot-password form: short, since it
	// travels by mail.
	PasswordResetTTL = time.Hour
	// PasswordLinkTTL is the life of a link an admin issues and hands over (an invitation).
	PasswordLinkTTL = 7 * 24 * time.Hour
)

// passwordTokenPrefix marks password link tokens.
const passwordTokenPrefix = "ppw_"

// Audit actions written by this file.
const (
	ActionPasswordLinkIssued     = "user.password_link_issued"
	ActionPasswordResetRequested = "user.password_reset_requested"
)

// now is this package's clock for expiries; tests move it.
var now = time.Now

func invalidPasswordLink() error {
	return problem.Invalidf("invalid_password_link", "the link is not valid: it was used, replaced by a newer one, or has expired")
}

// IssuePasswordLink creates a link for userID to set their password, for an admin to send or
// hand over: an invitation for someone who has no password yet, else a reset. It returns the
// secret token (the link is <base URL>/reset?token=<token>); it works once, for PasswordLinkTTL,
// and replaces the user's earlier links. Only owners may issue links for owners.
func (s *Service) IssuePasswordLink(ctx context.Context, actor *store.User, userID int64) (string, error) {
	if err := requireAdmin(actor); err != nil {
		return "", err
	}
	token := auth.NewToken(passwordTokenPrefix)
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound(userID)
		} else if err != nil {
			return err
		}
		// A link is a way into the account: an admin must not get one into an owner's.
		if u.Role == RoleOwner && actor != nil && actor.Role != RoleOwner {
			return problem.Forbiddenf("owner_only", "only owners may issue password links for owners")
		}
		if u.DeactivatedAt != nil {
			return problem.Conflictf("user_deactivated", "the user is deactivated")
		}
		purpose := store.PasswordReset
		if u.PasswordHash == "" {
			purpose = store.PasswordInvite
		}
		if err := tx.CreatePasswordToken(ctx, auth.HashToken(token), u.ID, purpose, now().Add(PasswordLinkTTL).UnixMilli()); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionPasswordLinkIssued, "user", u.ID, map[string]string{"email": u.Email, "purpose": purpose})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RequestPasswordReset creates a reset link for the account with email, valid for
// PasswordResetTTL, and returns its token with the user to mail it to. When no active account
// has that email it returns "" and nil without an error: the caller must answer the same either
// way, so the form does not tell which addresses have accounts.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) (string, *store.User, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return "", nil, err
	}
	u, err := s.Store.UserByEmail(ctx, e)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, err
	}
	if u.DeactivatedAt != nil {
		return "", nil, nil
	}
	token := auth.NewToken(passwordTokenPrefix)
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreatePasswordToken(ctx, auth.HashToken(token), u.ID, store.PasswordReset, now().Add(PasswordResetTTL).UnixMilli()); err != nil {
			return err
		}
		return audit(ctx, tx, nil, ActionPasswordResetRequested, "user", u.ID, map[string]string{"email": u.Email})
	})
	if err != nil {
		return "", nil, err
	}
	return token, u, nil
}

// PasswordLink returns the user a password link is for and its purpose (store.PasswordReset or
// store.PasswordInvite), or invalid_password_link when it is unknown, used or expired.
func (s *Service) PasswordLink(ctx context.Context, token string) (*store.User, string, error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, passwordTokenPrefix) {
		return nil, "", invalidPasswordLink()
	}
	p, err := s.Store.PasswordToken(ctx, auth.HashToken(token), now().UnixMilli())
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", invalidPasswordLink()
	} else if err != nil {
		return nil, "", err
	}
	u, err := s.Store.User(ctx, p.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", invalidPasswordLink()
	} else if err != nil {
		return nil, "", err
	}
	if u.DeactivatedAt != nil {
		return nil, "", invalidPasswordLink()
	}
	return u, p.Purpose, nil
}

// SetPasswordWithLink sets the password of the link's user and uses the link up. Every session
// of the user ends (whoever knew the old password is out) and every other link stops working;
// a second factor, if enabled, stays required at the next sign-in.
func (s *Service) SetPasswordWithLink(ctx context.Context, token, password string) (*store.User, error) {
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, passwordTokenPrefix) {
		return nil, invalidPasswordLink()
	}
	if err := auth.CheckPasswordStrength(password); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var out *store.User
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.UsePasswordToken(ctx, auth.HashToken(token), now().UnixMilli())
		if errors.Is(err, store.ErrNotFound) {
			return invalidPasswordLink()
		} else if err != nil {
			return err
		}
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		if u.DeactivatedAt != nil {
			return invalidPasswordLink()
		}
		u.PasswordHash = hash
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		// A sign-in that got past the old password and waits for its code is as good as a
		// session: it ends too.
		if err := tx.DeleteUserPendingSignIns(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.DeletePasswordTokens(ctx, u.ID); err != nil {
			return err
		}
		out = u
		// The person who had the link acted: they are the actor, not the system.
		return audit(ctx, tx, u, ActionUserPasswordReset, "user", u.ID,
			map[string]string{"email": u.Email, "via": "link", "purpose": p.Purpose})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
