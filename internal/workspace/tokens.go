package workspace

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// tokenPrefixLength is how much of a token's secret is kept in clear so people can tell their
// tokens apart: the "pt_" marker and 6 characters (30 of its 160 random bits).
const tokenPrefixLength = len(auth.APITokenPrefix) + 6

func tokenNotFound(id int64) error {
	return problem.NotFoundf("token_not_found", "no token %d", id)
}

// CreateToken creates a named API token for userID and returns its secret, which is shown only
// this once. People create tokens for themselves; actor nil (the CLI) may create one for anyone.
func (s *Service) CreateToken(ctx context.Context, actor *store.User, userID int64, name string) (string, *store.APIToken, error) {
	if actor != nil && actor.ID != userID {
		return "", nil, problem.Forbiddenf("own_tokens_only", "tokens can only be created by the person who will use them")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, problem.Field("name_required", "name", "is required")
	}
	if utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\x00") {
		return "", nil, problem.Field("invalid_name", "name", "must be one line of at most 100 characters")
	}
	secret := auth.NewToken(auth.APITokenPrefix)
	t := &store.APIToken{UserID: userID, Name: name, Prefix: secret[:tokenPrefixLength]}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound(userID)
		} else if err != nil {
			return err
		}
		if u.DeactivatedAt != nil {
			return problem.Conflictf("user_deactivated", "the user is deactivated")
		}
		if err := tx.CreateAPIToken(ctx, t, auth.HashToken(secret)); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTokenCreated, "api_token", t.ID,
			map[string]any{"user_id": userID, "name": name, "prefix": t.Prefix})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Tokens lists a user's active tokens. People see their own; admins anyone's.
func (s *Service) Tokens(ctx context.Context, actor *store.User, userID int64) ([]*store.APIToken, error) {
	if actor != nil && actor.ID != userID && !actor.IsAdmin() {
		return nil, problem.Forbiddenf("admin_only", "only owners and admins may see other people's tokens")
	}
	return s.Store.APITokens(ctx, userID)
}

// RevokeToken revokes a token at once. People revoke their own; admins anyone's. Revoking an
// already revoked token succeeds without a second audit entry.
func (s *Service) RevokeToken(ctx context.Context, actor *store.User, id int64) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.APIToken(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return tokenNotFound(id)
		} else if err != nil {
			return err
		}
		// Someone else's token is reported as missing, not forbidden: its id names nothing to them.
		if actor != nil && actor.ID != t.UserID && !actor.IsAdmin() {
			return tokenNotFound(id)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if err := tx.RevokeAPIToken(ctx, id, store.Now()); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTokenRevoked, "api_token", id,
			map[string]any{"user_id": t.UserID, "name": t.Name, "prefix": t.Prefix})
	})
}
