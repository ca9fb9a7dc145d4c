package store

import (
	"context"
	"fmt"
)

// VisibleInboxes returns SQL selecting the ids of inboxes the user bound to placeholder p may see
// (p is like "$3"): inboxes open to everyone, inboxes naming the user, and inboxes naming a team
// the user is a member of. Admins see every inbox; callers skip this clause for them.
func VisibleInboxes(p string) string {
	return fmt.Sprintf(`SELECT vi.id FROM inboxes vi WHERE vi.access = 'everyone'
		OR EXISTS (SELECT 1 FROM inbox_users viu WHERE viu.inbox_id = vi.id AND viu.user_id = %[1]s)
		OR EXISTS (SELECT 1 FROM inbox_teams vit JOIN team_members vtm ON vtm.team_id = vit.team_id
			WHERE vit.inbox_id = vi.id AND vtm.user_id = %[1]s)`, p)
}

// userSeesInbox1 is SQL that holds when the user u (a users row in the query) is let into the
// inbox bound to $1 by its access: open to everyone, naming the user, or naming a team of
// theirs. Roles are the query's own matter.
const userSeesInbox1 = `EXISTS (SELECT 1 FROM inboxes i WHERE i.id = $1 AND (i.access = 'everyone'
	OR EXISTS (SELECT 1 FROM inbox_users iu WHERE iu.inbox_id = i.id AND iu.user_id = u.id)
	OR EXISTS (SELECT 1 FROM inbox_teams it JOIN team_members tm ON tm.team_id = it.team_id
		WHERE it.inbox_id = i.id AND tm.user_id = u.id)))`

// CanSeeInbox reports whether the user may see the inbox's conversations.
func (s *Store) CanSeeInbox(ctx context.Context, u *User, inboxID int64) (bool, error) {
	if u.IsAdmin() {
		var one int
		err := s.read.QueryRowContext(ctx, `SELECT 1 FROM inboxes WHERE id = $1`, inboxID).Scan(&one)
		if err != nil {
			if mapErr(err) == ErrNotFound {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+VisibleInboxes("$1")+`) v WHERE v.id = $2`, u.ID, inboxID).Scan(&n)
	return n > 0, err
}
