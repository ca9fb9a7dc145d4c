package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

const inboxColumns = `i.id, i.name, i.slug, i.access, i.created_at, i.updated_at`

func scanInbox(row interface{ Scan(...any) error }) (*Inbox, error) {
	var in Inbox
	if err := row.Scan(&in.ID, &in.Name, &in.Slug, &in.Access, &in.CreatedAt, &in.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &in, nil
}

// Inbox returns one inbox with its UserIDs and TeamIDs.
func (s *Store) Inbox(ctx context.Context, id int64) (*Inbox, error) {
	return inboxByID(ctx, s.read, id)
}

// Inbox returns one inbox with its UserIDs and TeamIDs as the transaction sees it.
func (tx *Tx) Inbox(ctx context.Context, id int64) (*Inbox, error) {
	return inboxByID(ctx, tx.tx, id)
}

func inboxByID(ctx context.Context, q queryer, id int64) (*Inbox, error) {
	in, err := scanInbox(q.QueryRowContext(ctx, `SELECT `+inboxColumns+` FROM inboxes i WHERE i.id = $1`, id))
	if err != nil {
		return nil, err
	}
	if err := loadInboxMembers(ctx, q, []*Inbox{in}); err != nil {
		return nil, err
	}
	return in, nil
}

// InboxFilter selects inboxes for a list.
type InboxFilter struct {
	// VisibleTo limits the list to inboxes the user may see (admins see all). Nil means all.
	VisibleTo *User
	AfterID   int64 // cursor: inboxes with a greater id
	Limit     int   // 0 means 50
}

// Inboxes lists inboxes in id order with their members. It returns one page and whether more follow.
func (s *Store) Inboxes(ctx context.Context, f InboxFilter) ([]*Inbox, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + inboxColumns + ` FROM inboxes i WHERE i.id > $1`
	args := []any{f.AfterID, f.Limit + 1}
	if f.VisibleTo != nil && !f.VisibleTo.IsAdmin() {
		q += ` AND i.id IN (` + VisibleInboxes("$3") + `)`
		args = append(args, f.VisibleTo.ID)
	}
	q += ` ORDER BY i.id LIMIT $2`
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list inboxes: %w", err)
	}
	defer rows.Close()
	var out []*Inbox
	for rows.Next() {
		in, err := scanInbox(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list inboxes: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	if err := loadInboxMembers(ctx, s.read, out); err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// loadInboxMembers fills UserIDs and TeamIDs of inboxes with two queries.
func loadInboxMembers(ctx context.Context, q queryer, inboxes []*Inbox) error {
	if len(inboxes) == 0 {
		return nil
	}
	byID := make(map[int64]*Inbox, len(inboxes))
	ids := make([]int64, len(inboxes))
	for i, in := range inboxes {
		byID[in.ID] = in
		ids[i] = in.ID
		in.UserIDs, in.TeamIDs = []int64{}, []int64{}
	}
	in, args := idPlaceholders(ids, 0)
	for _, part := range []struct {
		query string
		add   func(*Inbox, int64)
	}{
		{`SELECT inbox_id, user_id FROM inbox_users WHERE inbox_id IN (` + in + `) ORDER BY inbox_id, user_id`,
			func(b *Inbox, id int64) { b.UserIDs = append(b.UserIDs, id) }},
		{`SELECT inbox_id, team_id FROM inbox_teams WHERE inbox_id IN (` + in + `) ORDER BY inbox_id, team_id`,
			func(b *Inbox, id int64) { b.TeamIDs = append(b.TeamIDs, id) }},
	} {
		rows, err := q.QueryContext(ctx, part.query, args...)
		if err != nil {
			return fmt.Errorf("load inbox members: %w", err)
		}
		for rows.Next() {
			var inboxID, id int64
			if err := rows.Scan(&inboxID, &id); err != nil {
				rows.Close()
				return mapErr(err)
			}
			part.add(byID[inboxID], id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("load inbox members: %w", err)
		}
	}
	return nil
}

// CreateInbox inserts in with its user and team grants and sets its ID and timestamps. An unknown
// user or team id is ErrConflict (foreign key).
func (tx *Tx) CreateInbox(ctx context.Context, in *Inbox) error {
	in.CreatedAt = Now()
	in.UpdatedAt = in.CreatedAt
	slug, err := tx.freeInboxSlug(ctx, Slug(in.Name))
	if err != nil {
		return err
	}
	in.Slug = slug
	id, err := tx.insert(ctx, `INSERT INTO inboxes (name, slug, access, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		in.Name, in.Slug, in.Access, in.CreatedAt, in.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create inbox: %w", err)
	}
	in.ID = id
	return tx.writeInboxMembers(ctx, in)
}

// UpdateInbox writes in's name, access and grants (replacing the old grants) and sets UpdatedAt.
func (tx *Tx) UpdateInbox(ctx context.Context, in *Inbox) error {
	in.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE inboxes SET name = $1, access = $2, updated_at = $3 WHERE id = $4`,
		in.Name, in.Access, in.UpdatedAt, in.ID)
	if err != nil {
		return fmt.Errorf("update inbox %d: %w", in.ID, err)
	}
	if err := expectRows(res); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM inbox_users WHERE inbox_id = $1`, in.ID); err != nil {
		return fmt.Errorf("update inbox %d users: %w", in.ID, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM inbox_teams WHERE inbox_id = $1`, in.ID); err != nil {
		return fmt.Errorf("update inbox %d teams: %w", in.ID, err)
	}
	return tx.writeInboxMembers(ctx, in)
}

func (tx *Tx) writeInboxMembers(ctx context.Context, in *Inbox) error {
	for _, uid := range in.UserIDs {
		if _, err := tx.exec(ctx, `INSERT INTO inbox_users (inbox_id, user_id) VALUES ($1, $2)`, in.ID, uid); err != nil {
			return fmt.Errorf("grant inbox %d to user %d: %w", in.ID, uid, err)
		}
	}
	for _, tid := range in.TeamIDs {
		if _, err := tx.exec(ctx, `INSERT INTO inbox_teams (inbox_id, team_id) VALUES ($1, $2)`, in.ID, tid); err != nil {
			return fmt.Errorf("grant inbox %d to team %d: %w", in.ID, tid, err)
		}
	}
	return nil
}

// InboxInUse reports whether an inbox still has conversations or channels (archived ones count:
// their history refers to the inbox).
func (tx *Tx) InboxInUse(ctx context.Context, id int64) (bool, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE inbox_id = $1 LIMIT 1) c) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM channels WHERE inbox_id = $1 LIMIT 1) h)`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("inbox %d in use: %w", id, mapErr(err))
	}
	return n > 0, nil
}

// DeleteInbox removes an inbox and its grants. Callers check InboxInUse first; a race with a new
// conversation or channel is refused by the foreign keys as ErrConflict.
func (tx *Tx) DeleteInbox(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM inboxes WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete inbox %d: %w", id, err)
	}
	return expectRows(res)
}

// Slug makes an address-safe name: lower-case ASCII letters and digits joined by single
// hyphens, at most 40 characters; "inbox" when nothing is left (a name in another script).
func Slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(norm.NFKD.String(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
			// the accent of a decomposed letter: "Förs" becomes "fors"
		default:
			hyphen = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "inbox"
	}
	return s
}

// freeInboxSlug returns base, or base-2, base-3 … when it is taken. The unique index settles a
// race with another transaction (a conflict the caller may retry).
func (tx *Tx) freeInboxSlug(ctx context.Context, base string) (string, error) {
	slug := base
	for n := 2; ; n++ {
		var one int
		err := tx.tx.QueryRowContext(ctx, `SELECT 1 FROM inboxes WHERE slug = $1`, slug).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return slug, nil
		} else if err != nil {
			return "", fmt.Errorf("inbox slug: %w", err)
		}
		slug = base + "-" + strconv.Itoa(n)
	}
}

// InboxBySlug returns the inbox whose receiving address has this slug (case-insensitive).
func (s *Store) InboxBySlug(ctx context.Context, slug string) (*Inbox, error) {
	return scanInbox(s.read.QueryRowContext(ctx, `SELECT `+inboxColumns+` FROM inboxes i WHERE i.slug = $1`,
		strings.ToLower(slug)))
}
