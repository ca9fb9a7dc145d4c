package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// Availability, capacity and routing (SPEC ACCESS-6, ACCESS-7, ROUTE-1…7): the rows the routing
// package decides from and the inbox domain writes.

// Availability is a user's availability status and working hours. A user without a row is
// available, set by nobody, without working hours.
type Availability struct {
	UserID int64
	Status string // available | away
	// SetBy is who set Status last (the user, or an admin overriding them); nil if never set.
	SetBy *int64
	SetAt *int64
	// WorkingHours is the JSON the routing package reads; nil when never set.
	WorkingHours json.RawMessage
	UpdatedAt    int64
}

// Capacity is a user's limits of open conversations assigned to them; nil means no limit.
type Capacity struct {
	UserID    int64
	Total     *int64
	Messaging *int64
	Email     *int64
	Calls     *int64
	UpdatedAt int64
}

// RoutingRule is a channel's automatic-assignment rule. A channel without a row has the
// defaults: disabled, users and teams, only available users, round robin.
type RoutingRule struct {
	ChannelID     int64
	Enabled       bool
	AssignTo      string // users_and_teams | contact_owner
	UserIDs       []int64
	TeamIDs       []int64
	OnlyAvailable bool
	Strategy      string // round_robin | balanced
	UpdatedBy     *int64
	UpdatedAt     int64
}

// DefaultRoutingRule is the rule of a channel nobody configured (ROUTE-1: unassigned).
func DefaultRoutingRule(channelID int64) *RoutingRule {
	return &RoutingRule{ChannelID: channelID, AssignTo: "users_and_teams", UserIDs: []int64{}, TeamIDs: []int64{},
		OnlyAvailable: true, Strategy: "round_robin"}
}

// RoutingCandidate is what routing needs to know about one user.
type RoutingCandidate struct {
	UserID        int64
	Role          string
	Deactivated   bool
	InboxMember   bool
	Status        string          // available | away
	WorkingHours  json.RawMessage // nil when never set
	Capacity      Capacity
	LastAssigned  int64 // routing_last_assigned stamp for the channel; 0 if never
	OpenTotal     int64
	OpenByChannel map[string]int64 // open conversations by channel kind ("" for none)
}

// Availability returns a user's availability (the defaults when they have no row).
func (s *Store) Availability(ctx context.Context, userID int64) (*Availability, error) {
	return availability(ctx, s.read, userID)
}

// Availability returns a user's availability as the transaction sees it.
func (tx *Tx) Availability(ctx context.Context, userID int64) (*Availability, error) {
	return availability(ctx, tx.tx, userID)
}

func availability(ctx context.Context, q queryer, userID int64) (*Availability, error) {
	a := &Availability{UserID: userID}
	var setBy, setAt sql.NullInt64
	var hours []byte
	err := q.QueryRowContext(ctx, `SELECT status, set_by, set_at, working_hours, updated_at
		FROM user_availability WHERE user_id = $1`, userID).Scan(&a.Status, &setBy, &setAt, &hours, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		a.Status = "available"
		return a, nil
	} else if err != nil {
		return nil, fmt.Errorf("availability of user %d: %w", userID, err)
	}
	a.SetBy, a.SetAt = nullInt(setBy), nullInt(setAt)
	if hours != nil {
		a.WorkingHours = json.RawMessage(hours)
	}
	return a, nil
}

// SetAvailabilityStatus records a user's status and who set it.
func (tx *Tx) SetAvailabilityStatus(ctx context.Context, userID int64, status string, setBy *int64, at int64) error {
	_, err := tx.exec(ctx, `INSERT INTO user_availability (user_id, status, set_by, set_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, set_by = excluded.set_by,
			set_at = excluded.set_at, updated_at = excluded.updated_at`, userID, status, setBy, at)
	if err != nil {
		return fmt.Errorf("set availability of user %d: %w", userID, err)
	}
	return nil
}

// SetWorkingHours records a user's working hours (JSON; nil removes them).
func (tx *Tx) SetWorkingHours(ctx context.Context, userID int64, hours json.RawMessage, at int64) error {
	var v any
	if hours != nil {
		v = string(hours)
	}
	_, err := tx.exec(ctx, `INSERT INTO user_availability (user_id, working_hours, updated_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET working_hours = excluded.working_hours, updated_at = excluded.updated_at`,
		userID, v, at)
	if err != nil {
		return fmt.Errorf("set working hours of user %d: %w", userID, err)
	}
	return nil
}

// Capacity returns a user's capacity limits (none when they have no row).
func (s *Store) Capacity(ctx context.Context, userID int64) (*Capacity, error) {
	return capacity(ctx, s.read, userID)
}

// Capacity returns a user's capacity limits as the transaction sees them.
func (tx *Tx) Capacity(ctx context.Context, userID int64) (*Capacity, error) {
	return capacity(ctx, tx.tx, userID)
}

func capacity(ctx context.Context, q queryer, userID int64) (*Capacity, error) {
	c := &Capacity{UserID: userID}
	var total, messaging, email, calls sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT total, messaging, email, calls, updated_at FROM user_capacity
		WHERE user_id = $1`, userID).Scan(&total, &messaging, &email, &calls, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("capacity of user %d: %w", userID, err)
	}
	c.Total, c.Messaging, c.Email, c.Calls = nullInt(total), nullInt(messaging), nullInt(email), nullInt(calls)
	return c, nil
}

// SetCapacity replaces a user's capacity limits.
func (tx *Tx) SetCapacity(ctx context.Context, c *Capacity) error {
	if c.UpdatedAt == 0 {
		c.UpdatedAt = Now()
	}
	_, err := tx.exec(ctx, `INSERT INTO user_capacity (user_id, total, messaging, email, calls, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET total = excluded.total, messaging = excluded.messaging,
			email = excluded.email, calls = excluded.calls, updated_at = excluded.updated_at`,
		c.UserID, c.Total, c.Messaging, c.Email, c.Calls, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("set capacity of user %d: %w", c.UserID, err)
	}
	return nil
}

// OpenAssigned counts the open conversations (open, not spam, not in the trash) assigned to a
// user, by channel kind ("" for conversations without a channel).
func (s *Store) OpenAssigned(ctx context.Context, userID int64) (map[string]int64, error) {
	out := map[string]int64{}
	rows, err := s.read.QueryContext(ctx, `SELECT COALESCE(ch.kind, ''), oc.n FROM user_open_counts oc
		LEFT JOIN channels ch ON ch.id = oc.channel_id
		WHERE oc.user_id = $1 AND oc.n <> 0`, userID)
	if err != nil {
		return nil, fmt.Errorf("count open conversations of user %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, mapErr(err)
		}
		out[kind] += n
	}
	return out, mapErr(rows.Err())
}

// RoutingRule returns a channel's rule (the defaults when it has none).
func (s *Store) RoutingRule(ctx context.Context, channelID int64) (*RoutingRule, error) {
	return routingRule(ctx, s.read, channelID)
}

// RoutingRule returns a channel's rule as the transaction sees it.
func (tx *Tx) RoutingRule(ctx context.Context, channelID int64) (*RoutingRule, error) {
	return routingRule(ctx, tx.tx, channelID)
}

func routingRule(ctx context.Context, q queryer, channelID int64) (*RoutingRule, error) {
	r := DefaultRoutingRule(channelID)
	var enabled, onlyAvailable int64
	var updatedBy sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT enabled, assign_to, only_available, strategy, updated_by, updated_at
		FROM channel_routing WHERE channel_id = $1`, channelID).
		Scan(&enabled, &r.AssignTo, &onlyAvailable, &r.Strategy, &updatedBy, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	} else if err != nil {
		return nil, fmt.Errorf("routing rule of channel %d: %w", channelID, err)
	}
	r.Enabled, r.OnlyAvailable, r.UpdatedBy = enabled != 0, onlyAvailable != 0, nullInt(updatedBy)
	if r.UserIDs, err = int64Column(ctx, q, `SELECT user_id FROM channel_routing_users WHERE channel_id = $1 ORDER BY user_id`, channelID); err != nil {
		return nil, fmt.Errorf("routing users of channel %d: %w", channelID, err)
	}
	if r.TeamIDs, err = int64Column(ctx, q, `SELECT team_id FROM channel_routing_teams WHERE channel_id = $1 ORDER BY team_id`, channelID); err != nil {
		return nil, fmt.Errorf("routing teams of channel %d: %w", channelID, err)
	}
	return r, nil
}

// int64Column runs a query of one integer column and returns its values (never nil).
func int64Column(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// SetRoutingRule replaces a channel's rule with its selected users and teams.
func (tx *Tx) SetRoutingRule(ctx context.Context, r *RoutingRule) error {
	if r.UpdatedAt == 0 {
		r.UpdatedAt = Now()
	}
	_, err := tx.exec(ctx, `INSERT INTO channel_routing (channel_id, enabled, assign_to, only_available, strategy, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (channel_id) DO UPDATE SET enabled = excluded.enabled, assign_to = excluded.assign_to,
			only_available = excluded.only_available, strategy = excluded.strategy,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		r.ChannelID, b2i(r.Enabled), r.AssignTo, b2i(r.OnlyAvailable), r.Strategy, r.UpdatedBy, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("set routing rule of channel %d: %w", r.ChannelID, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM channel_routing_users WHERE channel_id = $1`, r.ChannelID); err != nil {
		return fmt.Errorf("set routing users: %w", err)
	}
	for _, id := range r.UserIDs {
		if _, err := tx.exec(ctx, `INSERT INTO channel_routing_users (channel_id, user_id) VALUES ($1, $2)`, r.ChannelID, id); err != nil {
			return fmt.Errorf("set routing users: %w", err)
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM channel_routing_teams WHERE channel_id = $1`, r.ChannelID); err != nil {
		return fmt.Errorf("set routing teams: %w", err)
	}
	for _, id := range r.TeamIDs {
		if _, err := tx.exec(ctx, `INSERT INTO channel_routing_teams (channel_id, team_id) VALUES ($1, $2)`, r.ChannelID, id); err != nil {
			return fmt.Errorf("set routing teams: %w", err)
		}
	}
	return nil
}

// AnyRoutingEnabled reports whether some channel assigns automatically; when none does, nothing
// can be waiting for routing and freeing capacity needs no routing work.
func (tx *Tx) AnyRoutingEnabled(ctx context.Context) (bool, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM channel_routing WHERE enabled = 1 LIMIT 1) r`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("any routing enabled: %w", err)
	}
	return n > 0, nil
}

// routingLockKey is the PostgreSQL advisory lock that serialises routing decisions.
var routingLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("parley-routing"))
	return int64(h.Sum64())
}()

// LockRouting serialises routing decisions until the transaction ends. Every decision reads the
// candidates' open counts and then assigns; two decisions interleaving could both give the last
// free slot of one user away. One installation-wide lock is enough (a decision is a few small
// queries) and needs no lock ordering: a user's capacity spans every channel, so per-channel
// locks would not suffice. SQLite needs nothing: its write transactions already run one at a time.
func (tx *Tx) LockRouting(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, routingLockKey); err != nil {
		return fmt.Errorf("lock routing: %w", err)
	}
	return nil
}

// RoutingSelection returns the users a rule selects: its users and the primary members of its
// teams, in id order.
func (tx *Tx) RoutingSelection(ctx context.Context, channelID int64) ([]int64, error) {
	ids, err := int64Column(ctx, tx.tx, `SELECT user_id FROM channel_routing_users WHERE channel_id = $1
		UNION SELECT tm.user_id FROM channel_routing_teams rt JOIN team_members tm ON tm.team_id = rt.team_id
		WHERE rt.channel_id = $1 AND tm.is_primary = 1
		ORDER BY 1`, channelID)
	if err != nil {
		return nil, fmt.Errorf("routing selection of channel %d: %w", channelID, err)
	}
	return ids, nil
}

// RoutingSelectionOf is RoutingSelection for a rule given by value (a chatflow's hand-off, which
// is no channel's stored rule): the users and the primary members of the teams, in id order.
func (tx *Tx) RoutingSelectionOf(ctx context.Context, userIDs, teamIDs []int64) ([]int64, error) {
	ids := append([]int64{}, userIDs...)
	if len(teamIDs) > 0 {
		in, args := idPlaceholders(teamIDs, 0)
		members, err := int64Column(ctx, tx.tx, `SELECT DISTINCT user_id FROM team_members
			WHERE is_primary = 1 AND team_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("routing selection of teams: %w", err)
		}
		ids = append(ids, members...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// RoutingCandidates reads what routing needs to know about the users ids, for a conversation of
// inboxID on channelID; excludeConversationID is left out of the open counts (the conversation
// being routed, which may already be open and assigned when it is reopened). Unknown ids are
// left out; the result is in id order.
func (tx *Tx) RoutingCandidates(ctx context.Context, inboxID, channelID, excludeConversationID int64, ids []int64) ([]*RoutingCandidate, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, idArgs := idPlaceholders(ids, 2)
	args := append([]any{inboxID, channelID}, idArgs...)
	rows, err := tx.tx.QueryContext(ctx, `SELECT u.id, u.role, u.deactivated_at, COALESCE(a.status, 'available'),
		a.working_hours, k.total, k.messaging, k.email, k.calls, COALESCE(la.last_assigned_at, 0),
		CASE WHEN `+userSeesInbox1+` THEN 1 ELSE 0 END
		FROM users u
		LEFT JOIN user_availability a ON a.user_id = u.id
		LEFT JOIN user_capacity k ON k.user_id = u.id
		LEFT JOIN routing_last_assigned la ON la.channel_id = $2 AND la.user_id = u.id
		WHERE u.id IN (`+in+`) ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("routing candidates: %w", err)
	}
	defer rows.Close()
	var out []*RoutingCandidate
	byID := map[int64]*RoutingCandidate{}
	for rows.Next() {
		c := &RoutingCandidate{OpenByChannel: map[string]int64{}}
		var deact, total, messaging, email, calls sql.NullInt64
		var hours []byte
		var member int64
		if err := rows.Scan(&c.UserID, &c.Role, &deact, &c.Status, &hours, &total, &messaging, &email, &calls,
			&c.LastAssigned, &member); err != nil {
			return nil, mapErr(err)
		}
		c.Deactivated, c.InboxMember = deact.Valid, member != 0
		if hours != nil {
			c.WorkingHours = json.RawMessage(hours)
		}
		c.Capacity = Capacity{UserID: c.UserID, Total: nullInt(total), Messaging: nullInt(messaging),
			Email: nullInt(email), Calls: nullInt(calls)}
		out = append(out, c)
		byID[c.UserID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("routing candidates: %w", err)
	}
	rows.Close()

	// The load comes from the counters (migration 00010), less the conversation being routed
	// when it is already counted.
	in, idArgs = idPlaceholders(ids, 1)
	args = append([]any{excludeConversationID}, idArgs...)
	counts, err := tx.tx.QueryContext(ctx, `SELECT oc.user_id, COALESCE(ch.kind, ''), oc.n
		FROM user_open_counts oc LEFT JOIN channels ch ON ch.id = oc.channel_id
		WHERE oc.user_id IN (`+in+`) AND oc.n <> 0
		UNION ALL
		SELECT c.assignee_id, COALESCE(ch.kind, ''), -1
		FROM conversations c LEFT JOIN channels ch ON ch.id = c.channel_id
		WHERE c.id = $1 AND c.assignee_id IN (`+in+`) AND c.status = 'open' AND c.spam = 0 AND c.trashed_at IS NULL`, args...)
	if err != nil {
		return nil, fmt.Errorf("routing open counts: %w", err)
	}
	defer counts.Close()
	for counts.Next() {
		var userID, n int64
		var kind string
		if err := counts.Scan(&userID, &kind, &n); err != nil {
			return nil, mapErr(err)
		}
		if c := byID[userID]; c != nil {
			c.OpenByChannel[kind] += n
			c.OpenTotal += n
		}
	}
	if err := counts.Err(); err != nil {
		return nil, fmt.Errorf("routing open counts: %w", err)
	}
	return out, nil
}

// RecordRoutingAssignment remembers that routing gave userID a conversation of channelID, for
// round robin. The stamp is at least the channel's latest plus one, so assignments made within
// one millisecond (or under a test's fixed clock) still order strictly.
func (tx *Tx) RecordRoutingAssignment(ctx context.Context, channelID, userID, at int64) error {
	var latest int64
	if err := tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_assigned_at), 0) FROM routing_last_assigned
		WHERE channel_id = $1`, channelID).Scan(&latest); err != nil {
		return fmt.Errorf("latest routing assignment: %w", err)
	}
	stamp := max(at, latest+1)
	_, err := tx.exec(ctx, `INSERT INTO routing_last_assigned (channel_id, user_id, last_assigned_at) VALUES ($1, $2, $3)
		ON CONFLICT (channel_id, user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at`,
		channelID, userID, stamp)
	if err != nil {
		return fmt.Errorf("record routing assignment: %w", err)
	}
	return nil
}

// MarkRoutingWaiting records that a conversation waits for someone to route it to. A
// conversation already waiting keeps its place (reports false).
func (tx *Tx) MarkRoutingWaiting(ctx context.Context, conversationID, channelID, since int64) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO routing_waiting (conversation_id, channel_id, since) VALUES ($1, $2, $3)
		ON CONFLICT (conversation_id) DO NOTHING`, conversationID, channelID, since)
	if err != nil {
		return false, fmt.Errorf("mark conversation %d waiting: %w", conversationID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ClearRoutingWaiting removes a conversation from the waiting list (a no-op when it is not there).
func (tx *Tx) ClearRoutingWaiting(ctx context.Context, conversationID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM routing_waiting WHERE conversation_id = $1`, conversationID); err != nil {
		return fmt.Errorf("clear waiting conversation %d: %w", conversationID, err)
	}
	return nil
}

// WaitingConversation is one entry of the routing waiting list.
type WaitingConversation struct {
	ConversationID int64
	ChannelID      int64
	Since          int64
	// PreviousAssigneeID is the conversation's, read without a lock: a hint for skipping work.
	PreviousAssigneeID *int64
}

// RoutingWaiting returns up to limit entries of the waiting list after the cursor (since, id),
// oldest first. Entries of conversations that stopped waiting are included; the caller checks.
func (tx *Tx) RoutingWaiting(ctx context.Context, afterSince, afterID int64, limit int) ([]WaitingConversation, error) {
	return routingWaiting(ctx, tx.tx, afterSince, afterID, limit)
}

// RoutingWaiting returns the conversations waiting for routing that still need it (open,
// unassigned, not spam, not in the trash), oldest first.
func (s *Store) RoutingWaiting(ctx context.Context) ([]WaitingConversation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT w.conversation_id, w.channel_id, w.since, c.previous_assignee_id
		FROM routing_waiting w
		JOIN conversations c ON c.id = w.conversation_id
		WHERE c.status = 'open' AND c.assignee_id IS NULL AND c.spam = 0 AND c.trashed_at IS NULL
		ORDER BY w.since, w.conversation_id`)
	if err != nil {
		return nil, fmt.Errorf("waiting conversations: %w", err)
	}
	return scanWaiting(rows)
}

func routingWaiting(ctx context.Context, q queryer, afterSince, afterID int64, limit int) ([]WaitingConversation, error) {
	rows, err := q.QueryContext(ctx, `SELECT w.conversation_id, w.channel_id, w.since, c.previous_assignee_id
		FROM routing_waiting w JOIN conversations c ON c.id = w.conversation_id
		WHERE w.since > $1 OR (w.since = $1 AND w.conversation_id > $2)
		ORDER BY w.since, w.conversation_id LIMIT $3`, afterSince, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("waiting conversations: %w", err)
	}
	return scanWaiting(rows)
}

func scanWaiting(rows *sql.Rows) ([]WaitingConversation, error) {
	defer rows.Close()
	var out []WaitingConversation
	for rows.Next() {
		var w WaitingConversation
		var prev sql.NullInt64
		if err := rows.Scan(&w.ConversationID, &w.ChannelID, &w.Since, &prev); err != nil {
			return nil, mapErr(err)
		}
		w.PreviousAssigneeID = nullInt(prev)
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

// ConversationNoWait reads and locks a conversation like Conversation, except that on
// PostgreSQL a row another transaction holds is not waited for: it reports ErrNotFound. Routing
// uses it while it holds the routing lock, so it never waits on a transaction that may itself be
// waiting for the routing lock.
func (tx *Tx) ConversationNoWait(ctx context.Context, id int64) (*Conversation, error) {
	lock := ""
	if tx.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	return tx.conversation(ctx, id, lock)
}

// ChannelFilter selects channels for a list.
type ChannelFilter struct {
	// VisibleTo limits the list to the inboxes the user may see (agents); nil lists every inbox's.
	VisibleTo *User
	InboxID   *int64
}

// Channels lists connected (not archived) channels in id order.
func (s *Store) Channels(ctx context.Context, f ChannelFilter) ([]*Channel, error) {
	var a qargs
	var where []string
	where = append(where, `c.archived_at IS NULL`)
	if f.InboxID != nil {
		where = append(where, `c.inbox_id = `+a.add(*f.InboxID))
	}
	if f.VisibleTo != nil && !f.VisibleTo.IsAdmin() {
		where = append(where, `c.inbox_id IN (`+VisibleInboxes(a.add(f.VisibleTo.ID))+`)`)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE `+
		strings.Join(where, " AND ")+` ORDER BY c.id`, a.args...)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return scanChannels(rows)
}
