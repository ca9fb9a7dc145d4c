package store

import (
	"context"
	"database/sql"
	"strings"
)

// User is a person who signs in: an owner, admin or agent.
type User struct {
	ID            int64
	Email         string
	Name          string
	JobTitle      string
	AvatarURL     string
	Locale        string
	TimeZone      string
	Role          string // owner | admin | agent
	PasswordHash  string
	DeactivatedAt *int64
	CreatedAt     int64
	UpdatedAt     int64
}

// IsAdmin reports whether the user manages the installation (owners and admins).
func (u *User) IsAdmin() bool { return u.Role == "owner" || u.Role == "admin" }

const userColumns = `u.id, u.email, u.name, u.job_title, u.avatar_url, u.locale, u.time_zone, u.role,
	u.password_hash, u.deactivated_at, u.created_at, u.updated_at`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var deact sql.NullInt64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.JobTitle, &u.AvatarURL, &u.Locale, &u.TimeZone, &u.Role,
		&u.PasswordHash, &deact, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if deact.Valid {
		u.DeactivatedAt = &deact.Int64
	}
	return &u, nil
}

// User returns one user by id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
}

// UserByEmail returns one user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`,
		strings.ToLower(strings.TrimSpace(email))))
}

// UserBySession returns the user of an unexpired session token hash.
func (s *Store) UserBySession(ctx context.Context, tokenHash string, now int64) (*User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`
		FROM sessions se JOIN users u ON u.id = se.user_id
		WHERE se.token_hash = $1 AND se.expires_at > $2 AND u.deactivated_at IS NULL`, tokenHash, now))
}

// UserByToken returns the user of an unrevoked API token hash and the token's id.
func (s *Store) UserByToken(ctx context.Context, tokenHash string) (*User, int64, error) {
	var tokenID int64
	var u User
	var deact sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT t.id, `+userColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.deactivated_at IS NULL`, tokenHash).
		Scan(&tokenID, &u.ID, &u.Email, &u.Name, &u.JobTitle, &u.AvatarURL, &u.Locale, &u.TimeZone, &u.Role,
			&u.PasswordHash, &deact, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	if deact.Valid {
		u.DeactivatedAt = &deact.Int64
	}
	return &u, tokenID, nil
}
