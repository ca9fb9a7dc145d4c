package store

import (
	"context"
	"fmt"
)

// CreateSession stores a browser session by the hash of its token.
func (tx *Tx) CreateSession(ctx context.Context, userID int64, tokenHash string, expiresAt int64) error {
	if _, err := tx.insert(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, tokenHash, userID, Now(), expiresAt); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// DeleteSession ends the session with the given token hash. Ending an unknown session is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return mapErr(err)
}

// DeleteUserSessions ends every session of a user except the one whose hash is keepHash (which may
// be empty): after a password change or deactivation other browsers must sign in again.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID int64, keepHash string) error {
	_, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keepHash)
	if err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired before now and reports how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now int64) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
