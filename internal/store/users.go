package store

import (
	"context"
	"database/sql"
	"fmt"
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

// userByID reads one user with q, which may be the read pool or a transaction.
func userByID(ctx context.Context, q queryer, id int64) (*User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
}

// User returns one user by id as the transaction sees it.
func (tx *Tx) User(ctx context.Context, id int64) (*User, error) { return userByID(ctx, tx.tx, id) }

// UserByEmail returns one user by email as the transaction sees it.
func (tx *Tx) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(tx.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`,
		strings.ToLower(strings.TrimSpace(email))))
}

// LockUsers serialises changes to the set of users for the rest of the transaction: first-run
// setup ("only while there are no users") and last-owner checks must not race a concurrent change.
// SQLite needs nothing: its write transactions already run one at a time.
func (tx *Tx) LockUsers(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	// SHARE ROW EXCLUSIVE blocks other writers of users (and itself) but not readers, nor the
	// foreign-key checks of sessions and tokens.
	_, err := tx.exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

// CreateUser inserts u (Email is stored lower-case) and sets its ID. A taken email is ErrConflict.
func (tx *Tx) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.CreatedAt == 0 {
		u.CreatedAt = Now()
	}
	u.UpdatedAt = u.CreatedAt
	id, err := tx.insert(ctx, `INSERT INTO users (email, name, job_title, avatar_url, locale, time_zone, role,
		password_hash, deactivated_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.Email, u.Name, u.JobTitle, u.AvatarURL, u.Locale, u.TimeZone, u.Role, u.PasswordHash,
		u.DeactivatedAt, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u.ID = id
	return nil
}

// UpdateUser writes every mutable column of u and sets UpdatedAt.
func (tx *Tx) UpdateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE users SET email = $1, name = $2, job_title = $3, avatar_url = $4,
		locale = $5, time_zone = $6, role = $7, password_hash = $8, deactivated_at = $9, updated_at = $10
		WHERE id = $11`,
		u.Email, u.Name, u.JobTitle, u.AvatarURL, u.Locale, u.TimeZone, u.Role, u.PasswordHash,
		u.DeactivatedAt, u.UpdatedAt, u.ID)
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return expectRows(res)
}

// SetPasswordHash replaces a user's password hash (used to upgrade hashes on sign-in).
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
	return mapErr(err)
}

// CountUsers counts every user, deactivated ones included.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}

// CountUsers counts every user, deactivated ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}

// CountActiveOwners counts owners who are not deactivated.
func (tx *Tx) CountActiveOwners(ctx context.Context) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'owner' AND deactivated_at IS NULL`).Scan(&n)
	return n, mapErr(err)
}

// UserFilter selects users for a list.
type UserFilter struct {
	// Query matches a substring of the name or email, case-insensitively.
	Query              string
	IncludeDeactivated bool
	AfterID            int64 // cursor: users with a greater id
	Limit              int   // 0 means 50
}

// Users lists users in id order. It returns one page and whether more follow.
func (s *Store) Users(ctx context.Context, f UserFilter) ([]*User, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + userColumns + ` FROM users u WHERE u.id > $1`
	args := []any{f.AfterID}
	if !f.IncludeDeactivated {
		q += ` AND u.deactivated_at IS NULL`
	}
	if f.Query != "" {
		args = append(args, "%"+likeLiteral(strings.ToLower(f.Query))+"%")
		p := fmt.Sprintf("$%d", len(args))
		q += ` AND (LOWER(u.name) LIKE ` + p + ` ESCAPE '\' OR u.email LIKE ` + p + ` ESCAPE '\')`
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(` ORDER BY u.id LIMIT $%d`, len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, false, err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	more := len(users) > f.Limit
	if more {
		users = users[:f.Limit]
	}
	return users, more, nil
}

// likeLiteral escapes LIKE wildcards so user input matches literally (with ESCAPE '\').
func likeLiteral(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// expectRows turns an UPDATE or DELETE that touched nothing into ErrNotFound.
func expectRows(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
