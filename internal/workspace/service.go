package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Service is the workspace domain. Build it with its fields set.
type Service struct {
	Store *store.Store
	Log   *slog.Logger
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Audit actions written by this package.
const (
	ActionUserCreated       = "user.created"
	ActionUserUpdated       = "user.updated"
	ActionUserRoleChanged   = "user.role_changed"
	ActionUserDeactivated   = "user.deactivated"
	ActionUserReactivated   = "user.reactivated"
	ActionUserPasswordReset = "user.password_reset"
	ActionTokenCreated      = "token.created"
	ActionTokenRevoked      = "token.revoked"
	ActionTeamCreated       = "team.created"
	ActionTeamUpdated       = "team.updated"
	ActionTeamDeleted       = "team.deleted"
	ActionTeamMemberAdded   = "team.member_added"
	ActionTeamMemberUpdated = "team.member_updated"
	ActionTeamMemberRemoved = "team.member_removed"
	ActionInboxCreated      = "inbox.created"
	ActionInboxUpdated      = "inbox.updated"
	ActionInboxDeleted      = "inbox.deleted"
)

// audit appends one audit entry inside tx. actor nil means the system (CLI, first start).
func audit(ctx context.Context, tx *store.Tx, actor *store.User, action, targetType string, targetID int64, data any) error {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	e := &store.AuditEntry{Action: action, TargetType: targetType, Data: raw}
	if actor != nil {
		e.ActorID = &actor.ID
	}
	if targetID != 0 {
		e.TargetID = &targetID
	}
	recordAccessChange(tx, action, targetID, data)
	return tx.AddAuditEntry(ctx, e)
}

// requireAdmin refuses actors who are not owners or admins; nil (the system) may do anything.
func requireAdmin(actor *store.User) error {
	if actor != nil && !actor.IsAdmin() {
		return problem.Forbiddenf("admin_only", "only owners and admins may do this")
	}
	return nil
}

// AuditLog lists audit entries newest first; one page and whether more follow.
func (s *Service) AuditLog(ctx context.Context, actor *store.User, f store.AuditFilter) ([]*store.AuditEntry, bool, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, false, err
	}
	return s.Store.AuditLog(ctx, f)
}
