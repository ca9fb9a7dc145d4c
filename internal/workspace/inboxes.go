package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Inbox access.
const (
	AccessEveryone = "everyone"
	AccessSpecific = "specific"
)

// NewInbox is what creating an inbox takes. UserIDs and TeamIDs are only for access "specific".
type NewInbox struct {
	Name    string
	Access  string
	UserIDs []int64
	TeamIDs []int64
}

// InboxPatch is a partial change to an inbox; nil fields are left as they are. Switching access
// to "everyone" drops the user and team grants.
type InboxPatch struct {
	Name    *string
	Access  *string
	UserIDs *[]int64
	TeamIDs *[]int64
}

func inboxNotFound(id int64) error {
	return problem.NotFoundf("inbox_not_found", "no inbox %d", id)
}

// Inboxes lists the inboxes viewer may see; one page and whether more follow.
func (s *Service) Inboxes(ctx context.Context, viewer *store.User, afterID int64, limit int) ([]*store.Inbox, bool, error) {
	return s.Store.Inboxes(ctx, store.InboxFilter{VisibleTo: viewer, AfterID: afterID, Limit: limit})
}

// Inbox returns one inbox if viewer may see it; otherwise it does not exist for them.
func (s *Service) Inbox(ctx context.Context, viewer *store.User, id int64) (*store.Inbox, error) {
	if viewer != nil {
		ok, err := s.Store.CanSeeInbox(ctx, viewer, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, inboxNotFound(id)
		}
	}
	in, err := s.Store.Inbox(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, inboxNotFound(id)
	}
	return in, err
}

// checkInboxGrants validates access with its grants and that every user and team exists.
// A deactivated user may not be granted access, but one granted before deactivation keeps the
// grant (it is harmless while they cannot sign in, and restored with them), so users already in
// granted are not refused: otherwise deactivating a member would block every edit of the inbox.
func checkInboxGrants(ctx context.Context, tx *store.Tx, in *store.Inbox, granted []int64) error {
	switch in.Access {
	case AccessEveryone:
		if len(in.UserIDs) > 0 || len(in.TeamIDs) > 0 {
			return problem.Field("invalid_access", "access", `user_ids and team_ids apply only when access is "specific"`)
		}
	case AccessSpecific:
	default:
		return problem.Field("invalid_access", "access", `must be "everyone" or "specific"`)
	}
	for _, uid := range in.UserIDs {
		u, err := tx.User(ctx, uid)
		if errors.Is(err, store.ErrNotFound) {
			return problem.Field("unknown_user", "user_ids", fmt.Sprintf("user %d does not exist", uid))
		} else if err != nil {
			return err
		}
		if u.DeactivatedAt != nil && !slices.Contains(granted, uid) {
			return problem.Field("user_deactivated", "user_ids", fmt.Sprintf("user %d is deactivated", uid))
		}
	}
	for _, tid := range in.TeamIDs {
		if _, err := tx.Team(ctx, tid); errors.Is(err, store.ErrNotFound) {
			return problem.Field("unknown_team", "team_ids", fmt.Sprintf("team %d does not exist", tid))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateInbox creates an inbox (admins only).
func (s *Service) CreateInbox(ctx context.Context, actor *store.User, in NewInbox) (*store.Inbox, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name, err := cleanName("name", in.Name)
	if err != nil {
		return nil, err
	}
	inbox := &store.Inbox{Name: name, Access: in.Access, UserIDs: normalizeIDs(in.UserIDs), TeamIDs: normalizeIDs(in.TeamIDs)}
	if inbox.Access == "" {
		inbox.Access = AccessEveryone
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := checkInboxGrants(ctx, tx, inbox, nil); err != nil {
			return err
		}
		if err := tx.CreateInbox(ctx, inbox); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionInboxCreated, "inbox", inbox.ID, map[string]any{
			"name": inbox.Name, "access": inbox.Access, "user_ids": inbox.UserIDs, "team_ids": inbox.TeamIDs})
	})
	if err != nil {
		return nil, err
	}
	return inbox, nil
}

// UpdateInbox changes an inbox's name, access or grants (admins only).
func (s *Service) UpdateInbox(ctx context.Context, actor *store.User, id int64, p InboxPatch) (*store.Inbox, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var out *store.Inbox
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		in, err := tx.Inbox(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return inboxNotFound(id)
		} else if err != nil {
			return err
		}
		before := *in
		changes := map[string]any{}
		if p.Name != nil {
			name, err := cleanName("name", *p.Name)
			if err != nil {
				return err
			}
			if name != in.Name {
				changes["name"] = map[string]string{"from": in.Name, "to": name}
				in.Name = name
			}
		}
		if p.Access != nil && *p.Access != in.Access {
			changes["access"] = map[string]string{"from": in.Access, "to": *p.Access}
			in.Access = *p.Access
			if in.Access == AccessEveryone && p.UserIDs == nil && p.TeamIDs == nil {
				in.UserIDs, in.TeamIDs = nil, nil
			}
		}
		if p.UserIDs != nil {
			in.UserIDs = normalizeIDs(*p.UserIDs)
		}
		if p.TeamIDs != nil {
			in.TeamIDs = normalizeIDs(*p.TeamIDs)
		}
		if err := checkInboxGrants(ctx, tx, in, before.UserIDs); err != nil {
			return err
		}
		if !sameIDs(before.UserIDs, in.UserIDs) {
			changes["user_ids"] = map[string][]int64{"from": before.UserIDs, "to": nonNil(in.UserIDs)}
		}
		if !sameIDs(before.TeamIDs, in.TeamIDs) {
			changes["team_ids"] = map[string][]int64{"from": before.TeamIDs, "to": nonNil(in.TeamIDs)}
		}
		in.UserIDs, in.TeamIDs = nonNil(in.UserIDs), nonNil(in.TeamIDs)
		out = in
		if len(changes) == 0 {
			return nil
		}
		if err := tx.UpdateInbox(ctx, in); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionInboxUpdated, "inbox", id, changes)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sameIDs(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// DeleteInbox deletes an inbox that has no conversations and no channels (admins only).
func (s *Service) DeleteInbox(ctx context.Context, actor *store.User, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	notEmpty := problem.Conflictf("inbox_not_empty", "the inbox still has conversations or channels; move or remove them first")
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		in, err := tx.Inbox(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return inboxNotFound(id)
		} else if err != nil {
			return err
		}
		used, err := tx.InboxInUse(ctx, id)
		if err != nil {
			return err
		}
		if used {
			return notEmpty
		}
		if err := tx.DeleteInbox(ctx, id); err != nil {
			if store.IsConflict(err) {
				return notEmpty
			}
			return err
		}
		return audit(ctx, tx, actor, ActionInboxDeleted, "inbox", id, map[string]any{"name": in.Name})
	})
}
