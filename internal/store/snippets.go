package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Snippet is a canned reply (SPEC NOTIFY-3): shared with everyone when OwnerUserID is nil,
// else personal to that user. Shortcut is lower-case and unique within its scope.
type Snippet struct {
	ID          int64
	OwnerUserID *int64
	Shortcut    string
	Title       string
	Body        string
	CreatedAt   int64
	UpdatedAt   int64
}

// Shared reports whether everyone sees the snippet.
func (s Snippet) Shared() bool { return s.OwnerUserID == nil }

const snippetColumns = `id, owner_user_id, shortcut, title, body, created_at, updated_at`

func scanSnippet(row interface{ Scan(...any) error }) (*Snippet, error) {
	var sn Snippet
	var owner sql.NullInt64
	if err := row.Scan(&sn.ID, &owner, &sn.Shortcut, &sn.Title, &sn.Body, &sn.CreatedAt, &sn.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	sn.OwnerUserID = nullInt(owner)
	return &sn, nil
}

// SnippetFilter selects the snippets a user sees: the shared ones and their own.
type SnippetFilter struct {
	UserID int64
	// Query matches the start of the shortcut or any part of the title, case-insensitively.
	Query string
	Limit int // 0 means 500
}

// Snippets lists the snippets visible to f.UserID, by shortcut, personal before shared on a tie.
func (s *Store) Snippets(ctx context.Context, f SnippetFilter) ([]Snippet, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	q := `SELECT ` + snippetColumns + ` FROM snippets WHERE (owner_user_id IS NULL OR owner_user_id = $1)`
	args := []any{f.UserID}
	if f.Query != "" {
		lit := likeLiteral(strings.ToLower(f.Query))
		args = append(args, lit+"%", "%"+lit+"%")
		q += fmt.Sprintf(` AND (shortcut LIKE $%d ESCAPE '\' OR LOWER(title) LIKE $%d ESCAPE '\')`, len(args)-1, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY shortcut, CASE WHEN owner_user_id IS NULL THEN 1 ELSE 0 END, id LIMIT $%d`, len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list snippets: %w", err)
	}
	defer rows.Close()
	var list []Snippet
	for rows.Next() {
		sn, err := scanSnippet(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list snippets: %w", err)
	}
	return list, nil
}

// Snippet returns one snippet by id, whoever owns it.
func (s *Store) Snippet(ctx context.Context, id int64) (*Snippet, error) {
	return scanSnippet(s.read.QueryRowContext(ctx, `SELECT `+snippetColumns+` FROM snippets WHERE id = $1`, id))
}

// Snippet reads one snippet inside the transaction.
func (tx *Tx) Snippet(ctx context.Context, id int64) (*Snippet, error) {
	return scanSnippet(tx.tx.QueryRowContext(ctx, `SELECT `+snippetColumns+` FROM snippets WHERE id = $1`, id))
}

// InsertSnippet stores a new snippet and sets its id and times. A shortcut already used in
// the same scope is ErrConflict.
func (tx *Tx) InsertSnippet(ctx context.Context, sn *Snippet) error {
	now := Now()
	sn.CreatedAt, sn.UpdatedAt = now, now
	id, err := tx.insert(ctx, `INSERT INTO snippets (owner_user_id, shortcut, title, body, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sn.OwnerUserID, sn.Shortcut, sn.Title, sn.Body, sn.CreatedAt, sn.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert snippet: %w", err)
	}
	sn.ID = id
	return nil
}

// UpdateSnippet writes a snippet's shortcut, title and body (its scope never changes).
func (tx *Tx) UpdateSnippet(ctx context.Context, sn *Snippet) error {
	sn.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE snippets SET shortcut = $1, title = $2, body = $3, updated_at = $4 WHERE id = $5`,
		sn.Shortcut, sn.Title, sn.Body, sn.UpdatedAt, sn.ID)
	if err != nil {
		return fmt.Errorf("update snippet: %w", err)
	}
	return expectRows(res)
}

// DeleteSnippet removes a snippet.
func (tx *Tx) DeleteSnippet(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM snippets WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete snippet: %w", err)
	}
	return expectRows(res)
}
