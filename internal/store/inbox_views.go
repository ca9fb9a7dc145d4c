package store

import (
	"context"
	"fmt"
)

// What the inbox's left pane and conversation list read besides the list itself: the counts of
// the views, the teams and channels a user has views for, the people a page of rows shows, and
// each user's saved views.

// ViewCounts are the open conversations a user may see, per view of the inbox's left pane. Open
// means status open, not spam, not in the trash; a snoozed conversation counts only as Snoozed,
// except in Bots, which lists the bot's conversations snoozed or not.
type ViewCounts struct {
	Open int64 // all open
	// Unassigned are those nobody has: no assignee and no active bot run.
	Unassigned int64
	Mine       int64 // assigned to the user
	Snoozed    int64
	// Bots are those a bot still has (active run), as the Bots view lists them.
	Bots      int64
	ByInbox   map[int64]int64
	ByTeam    map[int64]int64
	ByChannel map[int64]int64
}

// ViewCounts counts the views for u at time now (unix ms; a snooze ending by then is over) with
// one grouped query over the open conversations u may see. It reads index
// conversations_view_counts alone, in its order, so grouping needs no sort: one row per inbox,
// channel, team and assignee that has open conversations, added up here. countBotViews adds
// the Bots view.
func (s *Store) ViewCounts(ctx context.Context, u *User, now int64) (*ViewCounts, error) {
	q := `SELECT c.inbox_id, COALESCE(c.channel_id, 0), COALESCE(c.team_id, 0), COALESCE(c.assignee_id, 0),
		COUNT(*), SUM(CASE WHEN c.snoozed_until > $1 THEN 1 ELSE 0 END)
		FROM conversations c
		WHERE c.status = 'open' AND c.spam = 0 AND c.trashed_at IS NULL AND c.inbox_id > 0`
	args := []any{now}
	if !u.IsAdmin() {
		q += ` AND c.inbox_id IN (` + VisibleInboxes("$2") + `)`
		args = append(args, u.ID)
	}
	q += ` GROUP BY c.inbox_id, c.channel_id, c.team_id, c.assignee_id`
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count views: %w", err)
	}
	defer rows.Close()
	vc := &ViewCounts{ByInbox: map[int64]int64{}, ByTeam: map[int64]int64{}, ByChannel: map[int64]int64{}}
	for rows.Next() {
		var inbox, channel, team, assignee, n, snoozed int64
		if err := rows.Scan(&inbox, &channel, &team, &assignee, &n, &snoozed); err != nil {
			return nil, mapErr(err)
		}
		vc.Snoozed += snoozed
		n -= snoozed
		vc.Open += n
		vc.ByInbox[inbox] += n
		if channel != 0 {
			vc.ByChannel[channel] += n
		}
		if team != 0 {
			vc.ByTeam[team] += n
		}
		switch assignee {
		case 0:
			vc.Unassigned += n
		case u.ID:
			vc.Mine += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count views: %w", err)
	}
	if err := s.countBotViews(ctx, u, now, vc); err != nil {
		return nil, err
	}
	return vc, nil
}

// countBotViews sets vc.Bots and takes the bot's unassigned conversations out of vc.Unassigned.
// It is a second query rather than a condition of the grouped one, which reads its index alone:
// this one starts from the active runs (index chat_bot_runs_status) and reads their
// conversations by key, so it costs what the bots have, not what the inbox has. (Written as a
// join, SQLite scanned every open conversation instead.)
func (s *Store) countBotViews(ctx context.Context, u *User, now int64, vc *ViewCounts) error {
	q := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.assignee_id IS NULL
			AND (c.snoozed_until IS NULL OR c.snoozed_until <= $1) THEN 1 ELSE 0 END), 0)
		FROM conversations c
		WHERE c.id IN (SELECT r.conversation_id FROM chat_bot_runs r WHERE r.status = 'active')
			AND c.status = 'open' AND c.spam = 0 AND c.trashed_at IS NULL AND c.inbox_id > 0`
	args := []any{now}
	if !u.IsAdmin() {
		q += ` AND c.inbox_id IN (` + VisibleInboxes("$2") + `)`
		args = append(args, u.ID)
	}
	var bots, unassigned int64
	if err := s.read.QueryRowContext(ctx, q, args...).Scan(&bots, &unassigned); err != nil {
		return fmt.Errorf("count bot views: %w", mapErr(err))
	}
	vc.Bots = bots
	vc.Unassigned -= unassigned
	return nil
}

// TeamsOf returns the teams the user is a member of, by name.
func (s *Store) TeamsOf(ctx context.Context, userID int64) ([]*Team, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+teamColumns+` FROM teams t
		JOIN team_members tm ON tm.team_id = t.id WHERE tm.user_id = $1 ORDER BY LOWER(t.name), t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("teams of user %d: %w", userID, err)
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
	return out, mapErr(rows.Err())
}

// VisibleChannels returns the channels (not archived) of the inboxes u may see, by name.
func (s *Store) VisibleChannels(ctx context.Context, u *User) ([]*Channel, error) {
	q := `SELECT ` + channelColumns + ` FROM channels c WHERE c.archived_at IS NULL`
	var args []any
	if !u.IsAdmin() {
		q += ` AND c.inbox_id IN (` + VisibleInboxes("$1") + `)`
		args = append(args, u.ID)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY LOWER(c.name), c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("visible channels: %w", err)
	}
	return scanChannels(rows)
}

// ContactCard is what a list row shows of a contact: the name, or when it has none, its first
// identity (an email or phone number).
type ContactCard struct {
	ID       int64
	Name     string
	Identity string
}

// Label is the contact's name, or its first identity when it has no name.
func (c ContactCard) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Identity
}

// ContactCards returns the cards of the contacts with the given ids, one query per 500; ids of
// contacts that do not exist are left out.
func (s *Store) ContactCards(ctx context.Context, ids []int64) (map[int64]ContactCard, error) {
	out := make(map[int64]ContactCard, len(ids))
	err := s.byIDs(ctx, "contact cards", `SELECT ct.id, ct.name, COALESCE((SELECT ci.value FROM contact_identities ci
		WHERE ci.contact_id = ct.id ORDER BY ci.id LIMIT 1), '') FROM contacts ct WHERE ct.id IN (%s)`, ids,
		func(row interface{ Scan(...any) error }) error {
			var c ContactCard
			if err := row.Scan(&c.ID, &c.Name, &c.Identity); err != nil {
				return mapErr(err)
			}
			out[c.ID] = c
			return nil
		})
	return out, err
}

// SavedView is a user's own named filter combination for the conversation list.
type SavedView struct {
	ID     int64
	UserID int64
	Name   string
	// Query is the list's URL query (view, filters, search), e.g. "view=mine&tag=vip".
	Query     string
	Position  int
	CreatedAt int64
}

const savedViewColumns = `v.id, v.user_id, v.name, v.query, v.position, v.created_at`

func scanSavedView(row interface{ Scan(...any) error }) (*SavedView, error) {
	var v SavedView
	if err := row.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &v.Position, &v.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &v, nil
}

// SavedViews returns the user's saved views in their order.
func (s *Store) SavedViews(ctx context.Context, userID int64) ([]*SavedView, error) {
	return savedViews(ctx, s.read, userID)
}

// SavedViews returns the user's saved views as the transaction sees them.
func (tx *Tx) SavedViews(ctx context.Context, userID int64) ([]*SavedView, error) {
	return savedViews(ctx, tx.tx, userID)
}

func savedViews(ctx context.Context, q queryer, userID int64) ([]*SavedView, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+savedViewColumns+` FROM saved_views v WHERE v.user_id = $1
		ORDER BY v.position, v.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("saved views: %w", err)
	}
	defer rows.Close()
	out := []*SavedView{}
	for rows.Next() {
		v, err := scanSavedView(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// SavedView returns one of the user's saved views; another user's view is ErrNotFound.
func (s *Store) SavedView(ctx context.Context, userID, id int64) (*SavedView, error) {
	return scanSavedView(s.read.QueryRowContext(ctx, `SELECT `+savedViewColumns+` FROM saved_views v
		WHERE v.id = $1 AND v.user_id = $2`, id, userID))
}

// InsertSavedView adds v after the user's other views and sets its ID, Position and CreatedAt.
func (tx *Tx) InsertSavedView(ctx context.Context, v *SavedView) error {
	v.CreatedAt = Now()
	err := tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM saved_views WHERE user_id = $1`,
		v.UserID).Scan(&v.Position)
	if err != nil {
		return fmt.Errorf("insert saved view: %w", mapErr(err))
	}
	id, err := tx.insert(ctx, `INSERT INTO saved_views (user_id, name, query, position, created_at)
		VALUES ($1, $2, $3, $4, $5)`, v.UserID, v.Name, v.Query, v.Position, v.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert saved view: %w", err)
	}
	v.ID = id
	return nil
}

// UpdateSavedView changes the name and query of one of the user's views; ErrNotFound when the
// user has no such view.
func (tx *Tx) UpdateSavedView(ctx context.Context, v *SavedView) error {
	res, err := tx.exec(ctx, `UPDATE saved_views SET name = $1, query = $2 WHERE id = $3 AND user_id = $4`,
		v.Name, v.Query, v.ID, v.UserID)
	if err != nil {
		return fmt.Errorf("update saved view: %w", err)
	}
	return expectRows(res)
}

// DeleteSavedView removes one of the user's views; ErrNotFound when the user has no such view.
func (tx *Tx) DeleteSavedView(ctx context.Context, userID, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM saved_views WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete saved view: %w", err)
	}
	return expectRows(res)
}
