package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Second sign-in factors and password links: TOTP authenticators, recovery codes, sign-ins
// waiting for their second factor and one-time password links. Secrets that are only compared
// arrive here already hashed; the TOTP secret is stored as given, since codes are computed from it.

// TOTP is a user's authenticator. It counts only once ConfirmedAt is set.
type TOTP struct {
	UserID      int64
	Secret      string
	ConfirmedAt *int64
	// LastStep is the last 30-second time step a code was accepted for.
	LastStep  int64
	CreatedAt int64
}

func scanTOTP(row *sql.Row) (*TOTP, error) {
	var t TOTP
	var confirmed sql.NullInt64
	if err := row.Scan(&t.UserID, &t.Secret, &confirmed, &t.LastStep, &t.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	if confirmed.Valid {
		t.ConfirmedAt = &confirmed.Int64
	}
	return &t, nil
}

const totpQuery = `SELECT user_id, secret, confirmed_at, last_step, created_at FROM user_totp WHERE user_id = $1`

// TOTP returns a user's authenticator, confirmed or not, or ErrNotFound.
func (s *Store) TOTP(ctx context.Context, userID int64) (*TOTP, error) {
	return scanTOTP(s.read.QueryRowContext(ctx, totpQuery, userID))
}

// TOTP returns a user's authenticator as the transaction sees it, or ErrNotFound.
func (tx *Tx) TOTP(ctx context.Context, userID int64) (*TOTP, error) {
	return scanTOTP(tx.tx.QueryRowContext(ctx, totpQuery, userID))
}

// StartTOTP stores a new, unconfirmed secret for userID. It refuses (ErrConflict) when the user
// already has a confirmed authenticator: that one must be removed first, on purpose.
func (tx *Tx) StartTOTP(ctx context.Context, userID int64, secret string) error {
	res, err := tx.exec(ctx, `INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, created_at)
		VALUES ($1, $2, NULL, 0, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
		WHERE user_totp.confirmed_at IS NULL`, userID, secret, Now())
	if err != nil {
		return fmt.Errorf("start totp of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: user %d already has a confirmed authenticator", ErrConflict, userID)
	}
	return nil
}

// ConfirmTOTP marks a user's pending authenticator confirmed with the step of the code that
// proved it, so that code cannot sign in again. secret is the one the code was checked
// against: when another enrolment replaced it in the meantime (a second tab), nothing is
// confirmed, so the account never ends up with a secret its owner's app does not have.
// ErrNotFound when nothing with that secret is pending.
func (tx *Tx) ConfirmTOTP(ctx context.Context, userID int64, secret string, step, now int64) error {
	res, err := tx.exec(ctx, `UPDATE user_totp SET confirmed_at = $1, last_step = $2
		WHERE user_id = $3 AND confirmed_at IS NULL AND secret = $4`, now, step, userID, secret)
	if err != nil {
		return fmt.Errorf("confirm totp of user %d: %w", userID, err)
	}
	return expectRows(res)
}

// UseTOTPStep records that a code of time step was accepted, and reports false when a code of
// this or a later step was already accepted: the same code must not work twice, even when two
// sign-ins race.
func (tx *Tx) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE user_totp SET last_step = $1
		WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1`, step, userID)
	if err != nil {
		return false, fmt.Errorf("use totp step of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteTOTP removes a user's authenticator and recovery codes.
func (tx *Tx) DeleteTOTP(ctx context.Context, userID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM user_totp WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete totp of user %d: %w", userID, err)
	}
	return nil
}

// ReplaceRecoveryCodes drops a user's recovery codes and stores new ones by their hashes.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	now := Now()
	for _, h := range hashes {
		if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`,
			userID, h, now); err != nil {
			return fmt.Errorf("store recovery code of user %d: %w", userID, err)
		}
	}
	return nil
}

// UseRecoveryCode marks an unused recovery code of the user used and reports whether there was one.
func (tx *Tx) UseRecoveryCode(ctx context.Context, userID int64, hash string, now int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE recovery_codes SET used_at = $1
		WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`, now, userID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// UnusedRecoveryCodes counts a user's recovery codes that are still good.
func (s *Store) UnusedRecoveryCodes(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`,
		userID).Scan(&n)
	return n, mapErr(err)
}

// PendingSignIn is a sign-in that passed the password and waits for the second factor.
type PendingSignIn struct {
	UserID    int64
	Attempts  int
	ExpiresAt int64
}

// CreatePendingSignIn stores a pending sign-in by its token hash. Expired ones of anybody are
// cleared on the way: the table only ever holds a few minutes of sign-ins.
func (tx *Tx) CreatePendingSignIn(ctx context.Context, tokenHash string, userID, expiresAt int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM pending_sign_ins WHERE expires_at <= $1`, Now()); err != nil {
		return fmt.Errorf("clear expired pending sign-ins: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO pending_sign_ins (token_hash, user_id, attempts, expires_at)
		VALUES ($1, $2, 0, $3)`, tokenHash, userID, expiresAt); err != nil {
		return fmt.Errorf("create pending sign-in: %w", err)
	}
	return nil
}

// PendingSignIn returns the pending sign-in of a token hash that has not expired at now, or ErrNotFound.
func (tx *Tx) PendingSignIn(ctx context.Context, tokenHash string, now int64) (*PendingSignIn, error) {
	var p PendingSignIn
	err := tx.tx.QueryRowContext(ctx, `SELECT user_id, attempts, expires_at FROM pending_sign_ins
		WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now).Scan(&p.UserID, &p.Attempts, &p.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// ClaimPendingSignInAttempt counts one code attempt against a pending sign-in before the code
// is checked, and returns the pending sign-in, or ErrNotFound when it is unknown, expired at now
// or has had maxAttempts already. Counting first in one conditional update (which locks the row
// until the transaction ends) is what keeps the limit under concurrency: requests racing with
// guesses cannot all read the same count and all get to try.
func (tx *Tx) ClaimPendingSignInAttempt(ctx context.Context, tokenHash string, now int64, maxAttempts int) (*PendingSignIn, error) {
	var p PendingSignIn
	err := tx.tx.QueryRowContext(ctx, `UPDATE pending_sign_ins SET attempts = attempts + 1
		WHERE token_hash = $1 AND expires_at > $2 AND attempts < $3
		RETURNING user_id, attempts, expires_at`, tokenHash, now, maxAttempts).Scan(&p.UserID, &p.Attempts, &p.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// DeleteUserPendingSignIns ends every pending sign-in of a user (after their password changed:
// whoever typed the old one must start over).
func (tx *Tx) DeleteUserPendingSignIns(ctx context.Context, userID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM pending_sign_ins WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete pending sign-ins of user %d: %w", userID, err)
	}
	return nil
}

// DeletePendingSignIn ends a pending sign-in; ending an unknown one is not an error.
func (tx *Tx) DeletePendingSignIn(ctx context.Context, tokenHash string) error {
	if _, err := tx.exec(ctx, `DELETE FROM pending_sign_ins WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete pending sign-in: %w", err)
	}
	return nil
}

// Purposes of password links.
const (
	PasswordReset  = "reset"
	PasswordInvite = "invite"
)

// PasswordToken is a one-time link to set a password.
type PasswordToken struct {
	UserID    int64
	Purpose   string // reset | invite
	CreatedAt int64
	ExpiresAt int64
}

// CreatePasswordToken stores a password link by its token hash. The user's earlier links stop
// working (only the newest mail counts), and expired links of anybody are cleared.
func (tx *Tx) CreatePasswordToken(ctx context.Context, tokenHash string, userID int64, purpose string, expiresAt int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM password_tokens WHERE user_id = $1 OR expires_at <= $2`, userID, Now()); err != nil {
		return fmt.Errorf("clear password links: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO password_tokens (token_hash, user_id, purpose, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, tokenHash, userID, purpose, Now(), expiresAt); err != nil {
		return fmt.Errorf("create password link: %w", err)
	}
	return nil
}

// PasswordToken returns the unused password link of a token hash that has not expired at now,
// or ErrNotFound.
func (s *Store) PasswordToken(ctx context.Context, tokenHash string, now int64) (*PasswordToken, error) {
	var p PasswordToken
	err := s.read.QueryRowContext(ctx, `SELECT user_id, purpose, created_at, expires_at FROM password_tokens
		WHERE token_hash = $1 AND expires_at > $2 AND used_at IS NULL`, tokenHash, now).
		Scan(&p.UserID, &p.Purpose, &p.CreatedAt, &p.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// UsePasswordToken marks a password link used and returns it, or ErrNotFound when it is unknown,
// used or expired at now. Of two concurrent uses only one succeeds.
func (tx *Tx) UsePasswordToken(ctx context.Context, tokenHash string, now int64) (*PasswordToken, error) {
	var p PasswordToken
	err := tx.tx.QueryRowContext(ctx, `UPDATE password_tokens SET used_at = $1
		WHERE token_hash = $2 AND expires_at > $1 AND used_at IS NULL
		RETURNING user_id, purpose, created_at, expires_at`, now, tokenHash).
		Scan(&p.UserID, &p.Purpose, &p.CreatedAt, &p.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// DeletePasswordTokens removes every password link of a user (after a password is set).
func (tx *Tx) DeletePasswordTokens(ctx context.Context, userID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM password_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete password links of user %d: %w", userID, err)
	}
	return nil
}
