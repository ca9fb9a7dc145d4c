package workspace

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Team is a team with its members.
type Team struct {
	store.Team
	Members []store.TeamMember
}

// NewTeam is what creating a team takes. Members' TeamID is ignored.
type NewTeam struct {
	Name    string
	Members []store.TeamMember
}

// TeamPatch is a partial change to a team; nil fields are left as they are. Members, when set,
// replaces the whole membership.
type TeamPatch struct {
	Name    *string
	Members *[]store.TeamMember
}

func teamNotFound(id int64) error {
	return problem.NotFoundf("team_not_found", "no team %d", id)
}

// Teams lists teams with their members; one page and whether more follow.
func (s *Service) Teams(ctx context.Context, afterID int64, limit int) ([]*Team, bool, error) {
	teams, more, err := s.Store.Teams(ctx, afterID, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]*Team, len(teams))
	ids := make([]int64, len(teams))
	byID := make(map[int64]*Team, len(teams))
	for i, t := range teams {
		out[i] = &Team{Team: *t, Members: []store.TeamMember{}}
		ids[i] = t.ID
		byID[t.ID] = out[i]
	}
	members, err := s.Store.TeamMembers(ctx, ids...)
	if err != nil {
		return nil, false, err
	}
	for _, m := range members {
		byID[m.TeamID].Members = append(byID[m.TeamID].Members, m)
	}
	return out, more, nil
}

// Team returns one team with its members.
func (s *Service) Team(ctx context.Context, id int64) (*Team, error) {
	t, err := s.Store.Team(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, teamNotFound(id)
	} else if err != nil {
		return nil, err
	}
	members, err := s.Store.TeamMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	if members == nil {
		members = []store.TeamMember{}
	}
	return &Team{Team: *t, Members: members}, nil
}

func (s *Service) teamTx(ctx context.Context, tx *store.Tx, id int64) (*Team, error) {
	t, err := tx.Team(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, teamNotFound(id)
	} else if err != nil {
		return nil, err
	}
	members, err := tx.TeamMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	if members == nil {
		members = []store.TeamMember{}
	}
	return &Team{Team: *t, Members: members}, nil
}

// checkTeamName validates a name and that no other team has it (ignoring case).
func checkTeamName(ctx context.Context, tx *store.Tx, name string, exceptID int64) (string, error) {
	n, err := cleanName("name", name)
	if err != nil {
		return "", err
	}
	taken, err := tx.TeamNameTaken(ctx, n, exceptID)
	if err != nil {
		return "", err
	}
	if taken {
		return "", problem.Conflictf("team_name_taken", "another team is called %q", n)
	}
	return n, nil
}

// checkMembers refuses duplicates, unknown users and deactivated users.
func checkMembers(ctx context.Context, tx *store.Tx, members []store.TeamMember) error {
	seen := map[int64]bool{}
	for _, m := range members {
		if seen[m.UserID] {
			return problem.Field("duplicate_member", "members", fmt.Sprintf("user %d is listed twice", m.UserID))
		}
		seen[m.UserID] = true
		if err := checkActiveUser(ctx, tx, "members", m.UserID); err != nil {
			return err
		}
	}
	return nil
}

// checkActiveUser reports an unknown_user or user_deactivated problem on field when the user
// cannot be given access or membership.
func checkActiveUser(ctx context.Context, tx *store.Tx, field string, userID int64) error {
	u, err := tx.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.Field("unknown_user", field, fmt.Sprintf("user %d does not exist", userID))
	} else if err != nil {
		return err
	}
	if u.DeactivatedAt != nil {
		return problem.Field("user_deactivated", field, fmt.Sprintf("user %d is deactivated", userID))
	}
	return nil
}

// CreateTeam creates a team with its members (admins only).
func (s *Service) CreateTeam(ctx context.Context, actor *store.User, in NewTeam) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var out *Team
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		name, err := checkTeamName(ctx, tx, in.Name, 0)
		if err != nil {
			return err
		}
		if err := checkMembers(ctx, tx, in.Members); err != nil {
			return err
		}
		t := &store.Team{Name: name}
		if err := tx.CreateTeam(ctx, t); err != nil {
			if store.IsConflict(err) {
				return problem.Conflictf("team_name_taken", "another team is called %q", name)
			}
			return err
		}
		members := make([]store.TeamMember, 0, len(in.Members))
		for _, m := range in.Members {
			m.TeamID = t.ID
			if _, err := tx.SetTeamMember(ctx, m); err != nil {
				return err
			}
			members = append(members, m)
		}
		if err := audit(ctx, tx, actor, ActionTeamCreated, "team", t.ID,
			map[string]any{"name": t.Name, "members": memberIDs(members)}); err != nil {
			return err
		}
		out = &Team{Team: *t, Members: members}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Team(ctx, out.ID)
}

func memberIDs(ms []store.TeamMember) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return ids
}

// UpdateTeam renames a team and/or replaces its members (admins only).
func (s *Service) UpdateTeam(ctx context.Context, actor *store.User, id int64, p TeamPatch) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.teamTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			name, err := checkTeamName(ctx, tx, *p.Name, id)
			if err != nil {
				return err
			}
			if name != t.Name {
				old := t.Name
				t.Name = name
				if err := tx.UpdateTeam(ctx, &t.Team); err != nil {
					if store.IsConflict(err) {
						return problem.Conflictf("team_name_taken", "another team is called %q", name)
					}
					return err
				}
				if err := audit(ctx, tx, actor, ActionTeamUpdated, "team", id,
					map[string]any{"name": map[string]string{"from": old, "to": name}}); err != nil {
					return err
				}
			}
		}
		if p.Members == nil {
			return nil
		}
		want := *p.Members
		if err := checkMembers(ctx, tx, want); err != nil {
			return err
		}
		keep := map[int64]bool{}
		for _, m := range want {
			keep[m.UserID] = true
			if _, err := s.setMember(ctx, tx, actor, id, m.UserID, m.IsPrimary, t.Members); err != nil {
				return err
			}
		}
		for _, m := range t.Members {
			if !keep[m.UserID] {
				if err := s.removeMember(ctx, tx, actor, id, m.UserID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Team(ctx, id)
}

// setMember adds or updates one membership and audits what changed. current is the team's
// membership before the change.
func (s *Service) setMember(ctx context.Context, tx *store.Tx, actor *store.User, teamID, userID int64, primary bool, current []store.TeamMember) (bool, error) {
	for _, m := range current {
		if m.UserID == userID && m.IsPrimary == primary {
			return false, nil // nothing to change, nothing to audit
		}
	}
	added, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: teamID, UserID: userID, IsPrimary: primary})
	if err != nil {
		return false, err
	}
	action := ActionTeamMemberUpdated
	if added {
		action = ActionTeamMemberAdded
	}
	return added, audit(ctx, tx, actor, action, "team", teamID, map[string]any{"user_id": userID, "is_primary": primary})
}

func (s *Service) removeMember(ctx context.Context, tx *store.Tx, actor *store.User, teamID, userID int64) error {
	if err := tx.RemoveTeamMember(ctx, teamID, userID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("member_not_found", "user %d is not a member of team %d", userID, teamID)
		}
		return err
	}
	return audit(ctx, tx, actor, ActionTeamMemberRemoved, "team", teamID, map[string]any{"user_id": userID})
}

// DeleteTeam deletes a team (admins only). Its memberships and inbox grants go with it.
func (s *Service) DeleteTeam(ctx context.Context, actor *store.User, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.Team(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return teamNotFound(id)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteTeam(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTeamDeleted, "team", id, map[string]any{"name": t.Name})
	})
}

// SetTeamMember adds a user to a team or changes whether the membership is primary (admins only).
func (s *Service) SetTeamMember(ctx context.Context, actor *store.User, teamID, userID int64, primary bool) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := s.teamTx(ctx, tx, teamID)
		if err != nil {
			return err
		}
		existing := false
		for _, m := range t.Members {
			existing = existing || m.UserID == userID
		}
		if !existing {
			if err := checkActiveUser(ctx, tx, "user_id", userID); err != nil {
				if p, ok := problem.As(err); ok && p.Code == "unknown_user" {
					return userNotFound(userID)
				}
				return err
			}
		}
		_, err = s.setMember(ctx, tx, actor, teamID, userID, primary, t.Members)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Team(ctx, teamID)
}

// RemoveTeamMember removes a user from a team (admins only).
func (s *Service) RemoveTeamMember(ctx context.Context, actor *store.User, teamID, userID int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Team(ctx, teamID); errors.Is(err, store.ErrNotFound) {
			return teamNotFound(teamID)
		} else if err != nil {
			return err
		}
		return s.removeMember(ctx, tx, actor, teamID, userID)
	})
}

// normalizeIDs drops duplicates and keeps the first-seen order.
func normalizeIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
