package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// What the conversation header's menus read in one go: who a conversation may be assigned to,
// with their availability and load, and the tags in use nearby.

// Assignable is an active user who can see an inbox, with what the assign menu shows of them.
type Assignable struct {
	ID        int64
	Name      string
	AvatarURL string
	Role      string
	// Status is what the user set (available | away); WorkingHours is their schedule's JSON,
	// nil when never set. Together they say whether routing counts them as available.
	Status       string
	WorkingHours json.RawMessage
	// CapacityTotal is their limit of open conversations (nil: no limit); OpenTotal counts the
	// open conversations assigned to them (open, not spam, not in the trash), read from the
	// counters routing reads (migration 00010) rather than counted over each user's backlog.
	CapacityTotal *int64
	OpenTotal     int64
}

// Assignables lists the active users who can see the inbox — owners and admins see every inbox
// — sorted by name, with availability and open counts, in one query: the header needs them all
// on every render and a query per user would not do on a large team.
func (s *Store) Assignables(ctx context.Context, inboxID int64) ([]Assignable, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.id, u.name, u.avatar_url, u.role,
			COALESCE(a.status, 'available'), a.working_hours, k.total,
			CAST(COALESCE((SELECT SUM(oc.n) FROM user_open_counts oc WHERE oc.user_id = u.id), 0) AS BIGINT)
		FROM users u
		LEFT JOIN user_availability a ON a.user_id = u.id
		LEFT JOIN user_capacity k ON k.user_id = u.id
		WHERE u.deactivated_at IS NULL AND (u.role IN ('owner', 'admin') OR `+userSeesInbox1+`)
		ORDER BY u.id`, inboxID)
	if err != nil {
		return nil, fmt.Errorf("assignables of inbox %d: %w", inboxID, err)
	}
	defer rows.Close()
	var out []Assignable
	for rows.Next() {
		var a Assignable
		var hours []byte
		var total sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Name, &a.AvatarURL, &a.Role, &a.Status, &hours, &total, &a.OpenTotal); err != nil {
			return nil, mapErr(err)
		}
		if hours != nil {
			a.WorkingHours = json.RawMessage(hours)
		}
		a.CapacityTotal = nullInt(total)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("assignables of inbox %d: %w", inboxID, err)
	}
	// Sorted here rather than in SQL so both engines agree whatever their collation.
	slices.SortStableFunc(out, func(a, b Assignable) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// recentTagWindow is how many of an inbox's latest open and closed conversations the tag
// suggestions look at: enough to know the tags in use, few enough to stay a couple of index reads.
const recentTagWindow = 250

// RecentInboxTags returns the distinct tags of the inbox's most recently active conversations,
// sorted. Suggestions come from the inbox itself, so nobody learns the tags of inboxes they
// cannot see, and a database of any size costs the same few hundred rows.
func (s *Store) RecentInboxTags(ctx context.Context, inboxID int64) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT ct.tag FROM conversation_tags ct
		WHERE ct.conversation_id IN (
			SELECT id FROM (SELECT c.id FROM conversations c WHERE c.inbox_id = $1 AND c.status = 'open'
				ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2) o
			UNION ALL
			SELECT id FROM (SELECT c.id FROM conversations c WHERE c.inbox_id = $1 AND c.status = 'closed'
				ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2) cl)`, inboxID, recentTagWindow)
	if err != nil {
		return nil, fmt.Errorf("recent tags of inbox %d: %w", inboxID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent tags of inbox %d: %w", inboxID, err)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out, nil
}
