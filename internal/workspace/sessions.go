package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// SessionDuration is how long a browser session lasts.
const SessionDuration = 30 * 24 * time.Hour

func invalidCredentials() error {
	return problem.New(problem.Unauthorized, "invalid_credentials", "the email or password is not right")
}

// SignIn checks an email and password and starts a session. Unknown emails, deactivated users,
// users without a password and wrong passwords all get the same invalid_credentials answer after
// the same amount of hashing work, so the answer does not tell which emails have accounts.
// A user with two-factor sign-in gets totp_required instead of a session: see SignInWithCode
// and StartSignIn.
func (s *Service) SignIn(ctx context.Context, email, password string) (string, *store.User, error) {
	return s.SignInWithCode(ctx, email, password, "")
}

// checkCredentials returns the active user whose email and password these are, or
// invalid_credentials.
func (s *Service) checkCredentials(ctx context.Context, email, password string) (*store.User, error) {
	u, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		auth.CheckDummyPassword(password)
		return nil, invalidCredentials()
	} else if err != nil {
		return nil, err
	}
	if u.DeactivatedAt != nil || u.PasswordHash == "" {
		auth.CheckDummyPassword(password)
		return nil, invalidCredentials()
	}
	ok, err := auth.CheckPassword(u.PasswordHash, password)
	if err != nil {
		// A damaged hash is our problem, but the person still cannot sign in.
		s.log().ErrorContext(ctx, "stored password hash unreadable", "user_id", u.ID, "err", err)
		return nil, invalidCredentials()
	}
	if !ok {
		return nil, invalidCredentials()
	}
	if auth.NeedsRehash(u.PasswordHash) {
		if h, err := auth.HashPassword(password); err == nil {
			if err := s.Store.SetPasswordHash(ctx, u.ID, h); err != nil {
				s.log().WarnContext(ctx, "upgrade password hash", "user_id", u.ID, "err", err)
			}
		}
	}
	return u, nil
}

// NewSession starts a session for u and returns its secret token (only its hash is stored).
func (s *Service) NewSession(ctx context.Context, u *store.User) (string, error) {
	token := auth.NewToken(auth.SessionPrefix)
	expires := time.Now().Add(SessionDuration).UnixMilli()
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSession(ctx, u.ID, auth.HashToken(token), expires)
	})
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return token, nil
}

// SignOut ends the session of token. Ending an unknown or expired session is not an error.
func (s *Service) SignOut(ctx context.Context, sessionToken string) error {
	if sessionToken == "" {
		return nil
	}
	return s.Store.DeleteSession(ctx, auth.HashToken(sessionToken))
}
