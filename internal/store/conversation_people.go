package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The people and places a conversation's timeline names (authors, assignees, teams, inboxes)
// are read in one query per kind for the whole timeline, and the users a comment may mention
// are read in one query, whatever their number.

// idChunk bounds the placeholders of one IN list (PostgreSQL allows 65535, SQLite 32766).
const idChunk = 500

// distinctIDs returns the distinct positive ids, sorted.
func distinctIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// byIDs runs query (with %s standing for the id list) for the ids in chunks and calls scan on
// each row.
func (s *Store) byIDs(ctx context.Context, what, query string, ids []int64, scan func(row interface{ Scan(...any) error }) error) error {
	ids = distinctIDs(ids)
	for len(ids) > 0 {
		n := min(len(ids), idChunk)
		ph, args := idPlaceholders(ids[:n], 0)
		ids = ids[n:]
		rows, err := s.read.QueryContext(ctx, fmt.Sprintf(query, ph), args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// UsersByIDs returns the users with the given ids (deactivated ones too), by id. Ids that are
// no user's are simply missing from the map.
func (s *Store) UsersByIDs(ctx context.Context, ids []int64) (map[int64]*User, error) {
	out := make(map[int64]*User, len(ids))
	err := s.byIDs(ctx, "users by id", `SELECT `+userColumns+` FROM users u WHERE u.id IN (%s)`, ids,
		func(row interface{ Scan(...any) error }) error {
			u, err := scanUser(row)
			if err == nil {
				out[u.ID] = u
			}
			return err
		})
	return out, err
}

// TeamsByIDs returns the teams with the given ids, by id.
func (s *Store) TeamsByIDs(ctx context.Context, ids []int64) (map[int64]*Team, error) {
	out := make(map[int64]*Team, len(ids))
	err := s.byIDs(ctx, "teams by id", `SELECT `+teamColumns+` FROM teams t WHERE t.id IN (%s)`, ids,
		func(row interface{ Scan(...any) error }) error {
			t, err := scanTeam(row)
			if err == nil {
				out[t.ID] = t
			}
			return err
		})
	return out, err
}

// InboxNames returns the names of the inboxes with the given ids, by id.
func (s *Store) InboxNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	err := s.byIDs(ctx, "inbox names", `SELECT id, name FROM inboxes WHERE id IN (%s)`, ids,
		func(row interface{ Scan(...any) error }) error {
			var id int64
			var name string
			if err := row.Scan(&id, &name); err != nil {
				return err
			}
			out[id] = name
			return nil
		})
	return out, err
}

// MentionableUsers lists the active users who can see the inbox (owners and admins see every
// inbox) whose name or email contains query, by name; at most limit (0 means 10).
func (s *Store) MentionableUsers(ctx context.Context, inboxID int64, query string, limit int) ([]*User, error) {
	if limit <= 0 {
		limit = 10
	}
	q := `SELECT ` + userColumns + ` FROM users u WHERE u.deactivated_at IS NULL
		AND (u.role IN ('owner', 'admin')
			OR EXISTS (SELECT 1 FROM inboxes mi WHERE mi.id = $1 AND mi.access = 'everyone')
			OR EXISTS (SELECT 1 FROM inbox_users miu WHERE miu.inbox_id = $1 AND miu.user_id = u.id)
			OR EXISTS (SELECT 1 FROM inbox_teams mit JOIN team_members mtm ON mtm.team_id = mit.team_id
				WHERE mit.inbox_id = $1 AND mtm.user_id = u.id))`
	args := []any{inboxID}
	if query != "" {
		args = append(args, "%"+likeLiteral(strings.ToLower(query))+"%")
		q += ` AND (LOWER(u.name) LIKE $2 ESCAPE '\' OR u.email LIKE $2 ESCAPE '\')`
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY LOWER(u.name), u.id LIMIT $%d`, len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("mentionable users: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mentionable users: %w", err)
	}
	return out, nil
}

// TeamsNamed lists the teams whose name contains query, by name; at most limit (0 means 10).
func (s *Store) TeamsNamed(ctx context.Context, query string, limit int) ([]*Team, error) {
	if limit <= 0 {
		limit = 10
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t
		WHERE LOWER(t.name) LIKE $1 ESCAPE '\' ORDER BY LOWER(t.name), t.id LIMIT $2`,
		"%"+likeLiteral(strings.ToLower(query))+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("teams by name: %w", err)
	}
	defer rows.Close()
	var out []*Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teams by name: %w", err)
	}
	return out, nil
}
