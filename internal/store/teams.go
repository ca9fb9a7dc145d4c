package store

import (
	"context"
	"fmt"
	"strings"
)

const teamColumns = `t.id, t.name, t.created_at, t.updated_at`

func scanTeam(row interface{ Scan(...any) error }) (*Team, error) {
	var t Team
	if err := row.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &t, nil
}

// Team returns one team.
func (s *Store) Team(ctx context.Context, id int64) (*Team, error) {
	return scanTeam(s.read.QueryRowContext(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.id = $1`, id))
}

// Team returns one team as the transaction sees it.
func (tx *Tx) Team(ctx context.Context, id int64) (*Team, error) {
	return scanTeam(tx.tx.QueryRowContext(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.id = $1`, id))
}

// TeamNameTaken reports whether another team (not exceptID) has name, ignoring case.
func (tx *Tx) TeamNameTaken(ctx context.Context, name string, exceptID int64) (bool, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE LOWER(name) = $1 AND id <> $2`,
		strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, mapErr(err)
}

// Teams lists teams by id after afterID, one page of limit (0 means 50), and whether more follow.
func (s *Store) Teams(ctx context.Context, afterID int64, limit int) ([]*Team, bool, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t WHERE t.id > $1
		ORDER BY t.id LIMIT $2`, afterID, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []*Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list teams: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// CreateTeam inserts t and sets its ID and timestamps. A taken name is ErrConflict.
func (tx *Tx) CreateTeam(ctx context.Context, t *Team) error {
	t.CreatedAt = Now()
	t.UpdatedAt = t.CreatedAt
	id, err := tx.insert(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $3)`,
		t.Name, t.CreatedAt, t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create team: %w", err)
	}
	t.ID = id
	return nil
}

// UpdateTeam writes t's name and sets UpdatedAt.
func (tx *Tx) UpdateTeam(ctx context.Context, t *Team) error {
	t.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE teams SET name = $1, updated_at = $2 WHERE id = $3`, t.Name, t.UpdatedAt, t.ID)
	if err != nil {
		return fmt.Errorf("update team %d: %w", t.ID, err)
	}
	return expectRows(res)
}

// DeleteTeam removes a team with its memberships and inbox grants. Conversations assigned to the
// team keep their assignee and lose the team (the schema sets team_id to NULL).
func (tx *Tx) DeleteTeam(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM teams WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete team %d: %w", id, err)
	}
	return expectRows(res)
}

// TeamMembers returns the members of the given teams, by team then user id.
func (s *Store) TeamMembers(ctx context.Context, teamIDs ...int64) ([]TeamMember, error) {
	return teamMembers(ctx, s.read, teamIDs)
}

// TeamMembers returns the members of the given teams as the transaction sees them.
func (tx *Tx) TeamMembers(ctx context.Context, teamIDs ...int64) ([]TeamMember, error) {
	return teamMembers(ctx, tx.tx, teamIDs)
}

func teamMembers(ctx context.Context, q queryer, teamIDs []int64) ([]TeamMember, error) {
	if len(teamIDs) == 0 {
		return nil, nil
	}
	in, args := idPlaceholders(teamIDs, 0)
	rows, err := q.QueryContext(ctx, `SELECT team_id, user_id, is_primary FROM team_members
		WHERE team_id IN (`+in+`) ORDER BY team_id, user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	defer rows.Close()
	var out []TeamMember
	for rows.Next() {
		var m TeamMember
		var primary int64
		if err := rows.Scan(&m.TeamID, &m.UserID, &primary); err != nil {
			return nil, mapErr(err)
		}
		m.IsPrimary = primary != 0
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	return out, nil
}

// UserTeams returns the memberships of one user, by team id.
func (s *Store) UserTeams(ctx context.Context, userID int64) ([]TeamMember, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT team_id, user_id, is_primary FROM team_members
		WHERE user_id = $1 ORDER BY team_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list teams of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []TeamMember
	for rows.Next() {
		var m TeamMember
		var primary int64
		if err := rows.Scan(&m.TeamID, &m.UserID, &primary); err != nil {
			return nil, mapErr(err)
		}
		m.IsPrimary = primary != 0
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list teams of user %d: %w", userID, err)
	}
	return out, nil
}

// SetTeamMember adds a user to a team or changes whether the membership is primary. It reports
// whether the membership is new. An unknown team or user is ErrConflict (foreign key).
func (tx *Tx) SetTeamMember(ctx context.Context, m TeamMember) (added bool, err error) {
	res, err := tx.exec(ctx, `UPDATE team_members SET is_primary = $1 WHERE team_id = $2 AND user_id = $3`,
		b2i(m.IsPrimary), m.TeamID, m.UserID)
	if err != nil {
		return false, fmt.Errorf("update team member: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n > 0 {
		return false, nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO team_members (team_id, user_id, is_primary) VALUES ($1, $2, $3)`,
		m.TeamID, m.UserID, b2i(m.IsPrimary)); err != nil {
		return false, fmt.Errorf("add team member: %w", err)
	}
	return true, nil
}

// RemoveTeamMember removes a user from a team; ErrNotFound when they were not a member.
func (tx *Tx) RemoveTeamMember(ctx context.Context, teamID, userID int64) error {
	res, err := tx.exec(ctx, `DELETE FROM team_members WHERE team_id = $1 AND user_id = $2`, teamID, userID)
	if err != nil {
		return fmt.Errorf("remove team member: %w", err)
	}
	return expectRows(res)
}

// idPlaceholders renders "$n+1, $n+2, …" placeholders for ids, numbered after n existing arguments.
func idPlaceholders(ids []int64, n int) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", n+i+1)
		args[i] = id
	}
	return b.String(), args
}
