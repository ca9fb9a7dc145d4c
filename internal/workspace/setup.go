package workspace

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// SetupTokenTTL is how long a first-run setup link works.
const SetupTokenTTL = 24 * time.Hour

// setupKey is the settings key holding the pending setup token's hash and expiry.
const setupKey = "setup_token"

type pendingSetup struct {
	Hash      string `json:"hash"`
	ExpiresAt int64  `json:"expires_at"`
}

func setupNotAvailable() error {
	return problem.NotFoundf("setup_not_available", "setup is not pending: this installation already has users")
}

func invalidSetupToken(detail string) error {
	return problem.Invalidf("invalid_setup_token", "%s", detail)
}

// SetupToken prepares first-run setup. When the installation has no users it creates a new
// one-time setup token (replacing any earlier one), stores only its hash with an expiry, and
// returns it with needed true. When users exist it returns needed false and forgets any token.
func (s *Service) SetupToken(ctx context.Context) (token string, needed bool, err error) {
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockUsers(ctx); err != nil {
			return err
		}
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return tx.DeleteSetting(ctx, setupKey)
		}
		token = auth.NewToken(auth.SetupTokenPrefix)
		v, err := json.Marshal(pendingSetup{Hash: auth.HashToken(token), ExpiresAt: time.Now().Add(SetupTokenTTL).UnixMilli()})
		if err != nil {
			return err
		}
		needed = true
		return tx.SetSetting(ctx, setupKey, string(v))
	})
	if err != nil {
		return "", false, fmt.Errorf("setup token: %w", err)
	}
	return token, needed, nil
}

// SetupPending reports whether first-run setup can still be completed: no users yet and a setup
// token was issued.
func (s *Service) SetupPending(ctx context.Context) (bool, error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.Store.Setting(ctx, setupKey)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CheckSetupToken returns nil when token may complete setup now, setup_not_available when setup
// is not pending, and invalid_setup_token when the token is wrong or expired.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	n, err := s.Store.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return setupNotAvailable()
	}
	v, err := s.Store.Setting(ctx, setupKey)
	if errors.Is(err, store.ErrNotFound) {
		return setupNotAvailable()
	} else if err != nil {
		return err
	}
	return matchSetupToken(v, token)
}

func matchSetupToken(stored, token string) error {
	var p pendingSetup
	if err := json.Unmarshal([]byte(stored), &p); err != nil {
		return fmt.Errorf("stored setup token unreadable: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(p.Hash), []byte(auth.HashToken(strings.TrimSpace(token)))) != 1 {
		return invalidSetupToken("the setup link is not valid; use the link parley printed when it started")
	}
	if time.Now().UnixMilli() >= p.ExpiresAt {
		return invalidSetupToken("the setup link has expired; restart parley to print a new one")
	}
	return nil
}

// CompleteSetup creates the first owner when token is the pending setup token and there are
// still no users. The token is consumed: setup cannot run twice.
func (s *Service) CompleteSetup(ctx context.Context, token, email, name, password string) (*store.User, error) {
	if err := s.CheckSetupToken(ctx, token); err != nil {
		return nil, err
	}
	// The first owner must be able to sign in, so a password is required here.
	if err := auth.CheckPasswordStrength(password); err != nil {
		return nil, err
	}
	u, err := s.prepareUser(NewUser{Email: email, Name: name, Role: RoleOwner, Password: password})
	if err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockUsers(ctx); err != nil {
			return err
		}
		// Check again under the lock: a concurrent setup or EnsureOwner may have won.
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return setupNotAvailable()
		}
		v, err := tx.Setting(ctx, setupKey)
		if errors.Is(err, store.ErrNotFound) {
			return setupNotAvailable()
		} else if err != nil {
			return err
		}
		if err := matchSetupToken(v, token); err != nil {
			return err
		}
		if err := createUser(ctx, tx, nil, u, map[string]any{"via": "setup"}); err != nil {
			return err
		}
		return tx.DeleteSetting(ctx, setupKey)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// EnsureOwner creates an owner with email and password only when the installation has no users
// (PARLEY_ADMIN_EMAIL and PARLEY_ADMIN_PASSWORD on first start). It reports whether it did.
func (s *Service) EnsureOwner(ctx context.Context, email, password string) (created bool, err error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return false, err
	}
	if n, err := s.Store.CountUsers(ctx); err != nil || n > 0 {
		return false, err
	}
	if err := auth.CheckPasswordStrength(password); err != nil {
		return false, err
	}
	name, _, _ := strings.Cut(e, "@")
	u, err := s.prepareUser(NewUser{Email: e, Name: name, Role: RoleOwner, Password: password})
	if err != nil {
		return false, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockUsers(ctx); err != nil {
			return err
		}
		n, err := tx.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		if err := createUser(ctx, tx, nil, u, map[string]any{"via": "environment"}); err != nil {
			return err
		}
		created = true
		return tx.DeleteSetting(ctx, setupKey)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}
