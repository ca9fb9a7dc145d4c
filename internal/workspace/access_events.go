package workspace

import (
	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
)

// recordAccessChange tells realtime hubs that who may see which inbox changed. Every change to
// access is an audited admin action, so the audit helper calls this for each entry it writes:
// a new change to access cannot forget to notify the hubs without also escaping the audit log.
// Hubs recompute the visibility of the named users (or of everyone) before they deliver any later
// event, so an agent removed from an inbox stops receiving its events at once, and a deactivated
// user's sockets are closed.
func recordAccessChange(tx *store.Tx, action string, targetID int64, data any) {
	switch action {
	case ActionInboxCreated, ActionInboxUpdated, ActionInboxDeleted,
		ActionTeamCreated, ActionTeamUpdated, ActionTeamDeleted:
		// An inbox's grants or a whole team: recompute everyone (rare admin actions).
		events.AccessChanged(tx)
	case ActionTeamMemberAdded, ActionTeamMemberUpdated, ActionTeamMemberRemoved:
		if m, ok := data.(map[string]any); ok {
			if id, ok := m["user_id"].(int64); ok {
				events.AccessChanged(tx, id)
				return
			}
		}
		events.AccessChanged(tx)
	case ActionUserRoleChanged, ActionUserDeactivated, ActionUserReactivated:
		events.AccessChanged(tx, targetID)
	}
}
