package store

import (
	"context"
	"database/sql"
	"fmt"
)

// File is the metadata of one stored file (package files keeps the content). ID is random and
// appears in download URLs.
type File struct {
	ID string
	// ConversationID is set once a message of that conversation carries the file.
	ConversationID *int64
	// UploaderID is the agent who uploaded it; nil for files a channel received.
	UploaderID  *int64
	Name        string
	ContentType string
	Size        int64
	SHA256      string // hex
	// StorageKey is where package files keeps the content, relative to its directory.
	StorageKey string
	AttachedAt *int64
	CreatedAt  int64
}

// Attached reports whether a message has carried the file.
func (f *File) Attached() bool { return f.AttachedAt != nil }

const fileColumns = `id, conversation_id, uploader_id, name, content_type, size, sha256, storage_key, attached_at, created_at`

func scanFile(row interface{ Scan(...any) error }) (*File, error) {
	var f File
	var conv, uploader, attached sql.NullInt64
	if err := row.Scan(&f.ID, &conv, &uploader, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.StorageKey,
		&attached, &f.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	if conv.Valid {
		f.ConversationID = &conv.Int64
	}
	if uploader.Valid {
		f.UploaderID = &uploader.Int64
	}
	if attached.Valid {
		f.AttachedAt = &attached.Int64
	}
	return &f, nil
}

// InsertFile records a file whose content is already stored. The caller sets every field,
// CreatedAt included; a taken ID is ErrConflict.
func (tx *Tx) InsertFile(ctx context.Context, f *File) error {
	_, err := tx.exec(ctx, `INSERT INTO files (`+fileColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		f.ID, f.ConversationID, f.UploaderID, f.Name, f.ContentType, f.Size, f.SHA256, f.StorageKey, f.AttachedAt, f.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert file: %w", err)
	}
	return nil
}

// File returns one file's metadata, or ErrNotFound.
func (s *Store) File(ctx context.Context, id string) (*File, error) {
	return scanFile(s.read.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id))
}

// File returns one file's metadata as the transaction sees it, or ErrNotFound.
func (tx *Tx) File(ctx context.Context, id string) (*File, error) {
	return scanFile(tx.tx.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id))
}

// AttachFile records that a message of conversationID carries the file. Attaching a file to
// the conversation it already belongs to keeps the first attachment time. A file on another
// conversation, or on one since deleted, is not attached (ErrNotFound): the condition is in the
// update itself, so two conversations racing for one upload cannot both get it.
func (tx *Tx) AttachFile(ctx context.Context, id string, conversationID, now int64) error {
	res, err := tx.exec(ctx, `UPDATE files SET conversation_id = $1, attached_at = COALESCE(attached_at, $2)
		WHERE id = $3 AND (conversation_id = $1 OR conversation_id IS NULL AND attached_at IS NULL)`,
		conversationID, now, id)
	if err != nil {
		return fmt.Errorf("attach file %s: %w", id, err)
	}
	return expectRows(res)
}

// DeleteFile removes a file's row; deleting a missing file is ErrNotFound.
func (tx *Tx) DeleteFile(ctx context.Context, id string) error {
	res, err := tx.exec(ctx, `DELETE FROM files WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return expectRows(res)
}

// DeleteLooseFile removes a file's row if it is still loose as LooseFiles defines it, and
// reports whether it did. The sweep lists first and deletes later: a file attached in between
// must survive, so the condition is checked again in the delete itself (on PostgreSQL after
// waiting for a concurrent attach to commit).
func (tx *Tx) DeleteLooseFile(ctx context.Context, id string, unattachedBefore int64) (bool, error) {
	res, err := tx.exec(ctx, `DELETE FROM files
		WHERE id = $1 AND conversation_id IS NULL AND (attached_at IS NOT NULL OR created_at < $2)`, id, unattachedBefore)
	if err != nil {
		return false, fmt.Errorf("delete loose file %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// LooseFiles lists up to limit files nobody can reach any more, oldest first: uploaded before
// unattachedBefore and never attached (the agent removed them from the composer or never sent
// the reply), or attached to a conversation that has since been deleted.
func (s *Store) LooseFiles(ctx context.Context, unattachedBefore int64, limit int) ([]*File, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+fileColumns+` FROM files
		WHERE conversation_id IS NULL AND (attached_at IS NOT NULL OR created_at < $1)
		ORDER BY created_at LIMIT $2`, unattachedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("loose files: %w", err)
	}
	defer rows.Close()
	var out []*File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loose files: %w", err)
	}
	return out, nil
}

// EnsureSetting stores value under key unless the key already has a value, and returns the
// value the key ends up with. Nodes starting together all get the same value: the first
// writer's. (It lives here because the files' URL signing key is its first user.)
func (s *Store) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	var v string
	err := s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return fmt.Errorf("ensure setting %s: %w", key, err)
		}
		var err error
		v, err = tx.Setting(ctx, key)
		return err
	})
	return v, err
}
