package store

import (
	"context"
	"fmt"
)

// ContactNote is an agent's note on a contact, shown beside every conversation with them.
type ContactNote struct {
	ID        int64
	ContactID int64
	AuthorID  int64
	// AuthorName and AuthorAvatarURL are read with the note, so a list of notes needs no
	// second query for its authors.
	AuthorName      string
	AuthorAvatarURL string
	Body            string
	CreatedAt       int64
	UpdatedAt       int64
}

const contactNoteColumns = `n.id, n.contact_id, n.author_id, u.name, u.avatar_url, n.body, n.created_at, n.updated_at`

func scanContactNote(row interface{ Scan(...any) error }) (*ContactNote, error) {
	var n ContactNote
	err := row.Scan(&n.ID, &n.ContactID, &n.AuthorID, &n.AuthorName, &n.AuthorAvatarURL, &n.Body, &n.CreatedAt, &n.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &n, nil
}

// InsertContactNote stores a note and sets n.ID (and its times when unset).
func (tx *Tx) InsertContactNote(ctx context.Context, n *ContactNote) error {
	if n.CreatedAt == 0 {
		n.CreatedAt = Now()
	}
	n.UpdatedAt = n.CreatedAt
	id, err := tx.insert(ctx, `INSERT INTO contact_notes (contact_id, author_id, body, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)`, n.ContactID, n.AuthorID, n.Body, n.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert contact note: %w", err)
	}
	n.ID = id
	return nil
}

// ContactNote returns one note with its author's name, inside the transaction.
func (tx *Tx) ContactNote(ctx context.Context, id int64) (*ContactNote, error) {
	return scanContactNote(tx.tx.QueryRowContext(ctx, `SELECT `+contactNoteColumns+`
		FROM contact_notes n JOIN users u ON u.id = n.author_id WHERE n.id = $1`, id))
}

// DeleteContactNote deletes a note; ErrNotFound when there is none.
func (tx *Tx) DeleteContactNote(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM contact_notes WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete contact note %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ContactNotes returns a contact's newest notes first, at most limit (0 means 100), with their
// authors' names.
func (s *Store) ContactNotes(ctx context.Context, contactID int64, limit int) ([]ContactNote, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+contactNoteColumns+`
		FROM contact_notes n JOIN users u ON u.id = n.author_id
		WHERE n.contact_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2`, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("list contact notes: %w", err)
	}
	defer rows.Close()
	list := []ContactNote{}
	for rows.Next() {
		n, err := scanContactNote(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list contact notes: %w", err)
	}
	return list, nil
}
