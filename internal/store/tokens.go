package store

import (
	"context"
	"database/sql"
	"fmt"
)

// APIToken is a user's named API token. Only its hash is stored; Prefix is the first characters of
// the secret so people can tell their tokens apart.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string
	CreatedAt  int64
	LastUsedAt *int64
	RevokedAt  *int64
}

const tokenColumns = `t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*APIToken, error) {
	var t APIToken
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &used, &revoked); err != nil {
		return nil, mapErr(err)
	}
	if used.Valid {
		t.LastUsedAt = &used.Int64
	}
	if revoked.Valid {
		t.RevokedAt = &revoked.Int64
	}
	return &t, nil
}

// CreateAPIToken stores t with the hash of its secret and sets its ID and CreatedAt.
func (tx *Tx) CreateAPIToken(ctx context.Context, t *APIToken, tokenHash string) error {
	t.CreatedAt = Now()
	id, err := tx.insert(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)
		VALUES ($1, $2, $3, $4, $5)`, t.UserID, t.Name, tokenHash, t.Prefix, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("create api token: %w", err)
	}
	t.ID = id
	return nil
}

// APIToken returns one token, revoked or not.
func (s *Store) APIToken(ctx context.Context, id int64) (*APIToken, error) {
	return scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
}

// APIToken returns one token as the transaction sees it.
func (tx *Tx) APIToken(ctx context.Context, id int64) (*APIToken, error) {
	return scanToken(tx.tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
}

// APITokens lists a user's tokens that are not revoked, newest first.
func (s *Store) APITokens(ctx context.Context, userID int64) ([]*APIToken, error) {
	return s.queryTokens(ctx, `SELECT `+tokenColumns+` FROM api_tokens t
		WHERE t.user_id = $1 AND t.revoked_at IS NULL ORDER BY t.id DESC`, userID)
}

func (s *Store) queryTokens(ctx context.Context, query string, args ...any) ([]*APIToken, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []*APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken marks a token revoked; it stops authenticating at once.
func (tx *Tx) RevokeAPIToken(ctx context.Context, id, now int64) error {
	res, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, id)
	if err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	}
	return expectRows(res)
}

// TouchAPIToken records that a token was used. It writes at most once a minute per token, so
// authenticating a busy integration does not turn every request into a write.
func (s *Store) TouchAPIToken(ctx context.Context, id, now int64) error {
	_, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`, now, id, now-60_000)
	return mapErr(err)
}
