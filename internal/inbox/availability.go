package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// Availability, working hours and capacity (SPEC ACCESS-6, ACCESS-7), and the channels' routing
// rules. Each change is audited and, when it may make room for a waiting conversation, drains
// the waiting list in its own transaction (ROUTE-4).

// Audit actions written by this file.
const (
	ActionAvailabilityChanged = "user.availability_changed"
	ActionWorkingHoursChanged = "user.working_hours_changed"
	ActionCapacityChanged     = "user.capacity_changed"
	ActionRoutingChanged      = "channel.routing_changed"
)

// Availability statuses.
const (
	StatusAvailable = "available"
	StatusAway      = "away"
)

// maxCapacity bounds a capacity limit; more open conversations than this is no limit at all.
const maxCapacity = 10000

// maxRoutingIDs bounds the users and the teams a rule may name.
const maxRoutingIDs = 500

// Availability is a user's availability as people see it.
type Availability struct {
	UserID int64
	// Status is what the user (or an admin) set: available or away.
	Status string
	// SetBy and SetAt say who set Status and when; nil when nobody ever did. A user set away by
	// an admin sees who it was.
	SetBy *int64
	SetAt *int64
	// EffectiveStatus is what routing sees now: away when Status is away or the user is outside
	// their working hours; AwayReason says which ("" when available).
	EffectiveStatus string
	AwayReason      string
	// WorkingHours is the user's schedule (never nil: a disabled schedule when none was set).
	WorkingHours *routing.WorkingHours
}

// Capacity is a user's capacity limits with the open conversations that count against them.
type Capacity struct {
	UserID int64
	Limits routing.Limits
	// Open counts the open conversations assigned to the user, in total and by category.
	OpenTotal      int64
	OpenByCategory map[string]int64
}

func noSuchUser(id int64) error { return problem.NotFoundf("user_not_found", "no user %d", id) }

func noSuchChannel(id int64) error {
	return problem.NotFoundf("channel_not_found", "no channel %d", id)
}

// mustBeSelfOrAdmin refuses an actor changing someone else's settings unless they are an admin.
func mustBeSelfOrAdmin(actor *store.User, userID int64) error {
	if err := requireActor(actor); err != nil {
		return err
	}
	if actor.ID != userID && !actor.IsAdmin() {
		return problem.Forbiddenf("admin_only", "only owners and admins may change other users' availability")
	}
	return nil
}

func mustBeAdmin(actor *store.User) error {
	if err := requireActor(actor); err != nil {
		return err
	}
	if !actor.IsAdmin() {
		return problem.Forbiddenf("admin_only", "only owners and admins may do this")
	}
	return nil
}

// audit appends an audit entry for a change by actor.
func auditChange(ctx context.Context, tx *store.Tx, actor *store.User, action, targetType string, targetID int64, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return tx.AddAuditEntry(ctx, &store.AuditEntry{ActorID: &actor.ID, Action: action, TargetType: targetType,
		TargetID: &targetID, Data: raw})
}

// userInTx reads a user inside tx, mapping a missing one to user_not_found.
func userInTx(ctx context.Context, tx *store.Tx, id int64) (*store.User, error) {
	u, err := tx.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchUser(id)
	}
	return u, err
}

// workingHours reads the stored schedule, or a disabled one in the user's time zone.
func workingHours(a *store.Availability, u *store.User) *routing.WorkingHours {
	if a.WorkingHours != nil {
		if w, err := routing.ParseWorkingHours(a.WorkingHours); err == nil {
			return w
		}
	}
	w := &routing.WorkingHours{TimeZone: u.TimeZone}
	if w.Normalize() != nil {
		w.TimeZone = "UTC"
		_ = w.Normalize() // UTC with no intervals is always valid
	}
	return w
}

func (s *Service) availabilityOf(a *store.Availability, u *store.User) *Availability {
	out := &Availability{UserID: u.ID, Status: a.Status, SetBy: a.SetBy, SetAt: a.SetAt,
		EffectiveStatus: StatusAvailable, WorkingHours: workingHours(a, u)}
	switch {
	case a.Status != StatusAvailable:
		out.EffectiveStatus, out.AwayReason = StatusAway, routing.SkipAway
	case !out.WorkingHours.Inside(s.now()):
		out.EffectiveStatus, out.AwayReason = StatusAway, routing.SkipOutsideWorkingHours
	}
	return out
}

// Availability returns a user's availability; any signed-in user may see anyone's.
func (s *Service) Availability(ctx context.Context, actor *store.User, userID int64) (*Availability, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	u, err := s.Store.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchUser(userID)
	} else if err != nil {
		return nil, err
	}
	a, err := s.Store.Availability(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.availabilityOf(a, u), nil
}

// SetAvailability sets a user available or away: the user themselves, or an admin overriding
// them. Setting the status it already has changes nothing (not even who set it).
func (s *Service) SetAvailability(ctx context.Context, actor *store.User, userID int64, status string) (*Availability, error) {
	if err := mustBeSelfOrAdmin(actor, userID); err != nil {
		return nil, err
	}
	if status != StatusAvailable && status != StatusAway {
		return nil, problem.Field("invalid_status", "status", "must be available or away")
	}
	var out *Availability
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := userInTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		a, err := tx.Availability(ctx, userID)
		if err != nil {
			return err
		}
		if a.Status != status {
			now := s.now().UnixMilli()
			if err := tx.SetAvailabilityStatus(ctx, userID, status, &actor.ID, now); err != nil {
				return err
			}
			if err := auditChange(ctx, tx, actor, ActionAvailabilityChanged, "user", userID,
				map[string]any{"status": status, "previous_status": a.Status}); err != nil {
				return err
			}
			prev := a.Status
			a.Status, a.SetBy, a.SetAt = status, &actor.ID, &now
			if prev == StatusAway {
				if _, err := s.drainWaiting(ctx, tx); err != nil {
					return err
				}
			}
		}
		out = s.availabilityOf(a, u)
		return nil
	})
	return out, err
}

// WorkingHours returns a user's schedule (disabled, in their time zone, when none was set).
func (s *Service) WorkingHours(ctx context.Context, actor *store.User, userID int64) (*routing.WorkingHours, error) {
	a, err := s.Availability(ctx, actor, userID)
	if err != nil {
		return nil, err
	}
	return a.WorkingHours, nil
}

// SetWorkingHours replaces a user's schedule: the user themselves or an admin. An empty time zone
// means the user's own.
func (s *Service) SetWorkingHours(ctx context.Context, actor *store.User, userID int64, w routing.WorkingHours) (*routing.WorkingHours, error) {
	if err := mustBeSelfOrAdmin(actor, userID); err != nil {
		return nil, err
	}
	var out *routing.WorkingHours
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := userInTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if w.TimeZone == "" {
			w.TimeZone = u.TimeZone
		}
		if err := w.Normalize(); err != nil {
			return err
		}
		raw, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("working hours: %w", err)
		}
		a, err := tx.Availability(ctx, userID)
		if err != nil {
			return err
		}
		out = &w
		if a.WorkingHours != nil {
			if prev, err := routing.ParseWorkingHours(a.WorkingHours); err == nil {
				if same, _ := json.Marshal(prev); string(same) == string(raw) {
					return nil
				}
			}
		}
		if err := tx.SetWorkingHours(ctx, userID, raw, s.now().UnixMilli()); err != nil {
			return err
		}
		if err := auditChange(ctx, tx, actor, ActionWorkingHoursChanged, "user", userID, w); err != nil {
			return err
		}
		_, err = s.drainWaiting(ctx, tx)
		return err
	})
	return out, err
}

// Capacity returns a user's capacity limits and open conversations; any signed-in user may see
// anyone's (whoever reassigns by hand sees the count against the limit).
func (s *Service) Capacity(ctx context.Context, actor *store.User, userID int64) (*Capacity, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	if _, err := s.Store.User(ctx, userID); errors.Is(err, store.ErrNotFound) {
		return nil, noSuchUser(userID)
	} else if err != nil {
		return nil, err
	}
	c, err := s.Store.Capacity(ctx, userID)
	if err != nil {
		return nil, err
	}
	open, err := s.Store.OpenAssigned(ctx, userID)
	if err != nil {
		return nil, err
	}
	return capacityOf(c, open), nil
}

func capacityOf(c *store.Capacity, open map[string]int64) *Capacity {
	out := &Capacity{UserID: c.UserID, OpenByCategory: map[string]int64{},
		Limits: routing.Limits{Total: c.Total, Messaging: c.Messaging, Email: c.Email, Calls: c.Calls}}
	for _, cat := range channel.Categories {
		out.OpenByCategory[cat] = 0
	}
	for kind, n := range open {
		out.OpenTotal += n
		if cat := channel.Category(kind); cat != "" {
			out.OpenByCategory[cat] += n
		}
	}
	return out
}

// SetCapacity replaces a user's capacity limits (nil: no limit). Admins only. Manual assignment
// may exceed them (CONV-4); routing skips users at a limit (ROUTE-4).
func (s *Service) SetCapacity(ctx context.Context, actor *store.User, userID int64, l routing.Limits) (*Capacity, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	for field, v := range map[string]*int64{"total": l.Total, "messaging": l.Messaging, "email": l.Email, "calls": l.Calls} {
		if v != nil && (*v < 0 || *v > maxCapacity) {
			return nil, problem.Field("invalid_capacity", field, fmt.Sprintf("must be a whole number from 0 to %d, or null for no limit", maxCapacity))
		}
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := userInTx(ctx, tx, userID); err != nil {
			return err
		}
		prev, err := tx.Capacity(ctx, userID)
		if err != nil {
			return err
		}
		c := &store.Capacity{UserID: userID, Total: l.Total, Messaging: l.Messaging, Email: l.Email, Calls: l.Calls,
			UpdatedAt: s.now().UnixMilli()}
		if eqLimit(prev.Total, c.Total) && eqLimit(prev.Messaging, c.Messaging) && eqLimit(prev.Email, c.Email) && eqLimit(prev.Calls, c.Calls) {
			return nil
		}
		if err := tx.SetCapacity(ctx, c); err != nil {
			return err
		}
		if err := auditChange(ctx, tx, actor, ActionCapacityChanged, "user", userID, map[string]any{
			"total": l.Total, "messaging": l.Messaging, "email": l.Email, "calls": l.Calls}); err != nil {
			return err
		}
		_, err = s.drainWaiting(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Capacity(ctx, actor, userID)
}

func eqLimit(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Channels lists the connected channels of the inboxes the actor may see (admins: all),
// optionally of one inbox.
func (s *Service) Channels(ctx context.Context, actor *store.User, inboxID *int64) ([]*store.Channel, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	return s.Store.Channels(ctx, store.ChannelFilter{VisibleTo: actor, InboxID: inboxID})
}

// Channel returns one channel whose inbox the actor may see; otherwise channel_not_found.
func (s *Service) Channel(ctx context.Context, actor *store.User, id int64) (*store.Channel, error) {
	return s.visibleChannel(ctx, actor, id)
}

// visibleChannel returns a channel whose inbox the actor may see; otherwise channel_not_found,
// exactly as for an id that does not exist.
func (s *Service) visibleChannel(ctx context.Context, actor *store.User, id int64) (*store.Channel, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	ch, err := s.Store.Channel(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchChannel(id)
	} else if err != nil {
		return nil, err
	}
	ok, err := s.Store.CanSeeInbox(ctx, actor, ch.InboxID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchChannel(id)
	}
	return ch, nil
}

// RoutingRule returns a channel's automatic-assignment rule to anyone who may see its inbox.
func (s *Service) RoutingRule(ctx context.Context, actor *store.User, channelID int64) (*store.RoutingRule, error) {
	if _, err := s.visibleChannel(ctx, actor, channelID); err != nil {
		return nil, err
	}
	return s.Store.RoutingRule(ctx, channelID)
}

// RuleInput is a routing rule as an admin sets it.
type RuleInput struct {
	Enabled       bool
	AssignTo      string // users_and_teams | contact_owner
	UserIDs       []int64
	TeamIDs       []int64
	OnlyAvailable bool
	Strategy      string // round_robin | balanced
}

// SetRoutingRule replaces a channel's rule (admins). Its users must be active members of the
// channel's inbox and its teams must exist; the users a team adds are checked when routing.
func (s *Service) SetRoutingRule(ctx context.Context, actor *store.User, channelID int64, in RuleInput) (*store.RoutingRule, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	if !slices.Contains(routing.AssignTargets, in.AssignTo) {
		return nil, problem.Field("invalid_assign_to", "assign_to", "must be users_and_teams or contact_owner")
	}
	if !slices.Contains(routing.Strategies, in.Strategy) {
		return nil, problem.Field("invalid_strategy", "strategy", "must be round_robin or balanced")
	}
	users, teams := sortedIDs(in.UserIDs), sortedIDs(in.TeamIDs)
	if len(users) > maxRoutingIDs {
		return nil, problem.Field("invalid_user_ids", "user_ids", fmt.Sprintf("must name at most %d users", maxRoutingIDs))
	}
	if len(teams) > maxRoutingIDs {
		return nil, problem.Field("invalid_team_ids", "team_ids", fmt.Sprintf("must name at most %d teams", maxRoutingIDs))
	}
	rule := &store.RoutingRule{ChannelID: channelID, Enabled: in.Enabled, AssignTo: in.AssignTo, UserIDs: users,
		TeamIDs: teams, OnlyAvailable: in.OnlyAvailable, Strategy: in.Strategy, UpdatedBy: &actor.ID}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ch, err := tx.Channel(ctx, channelID)
		if errors.Is(err, store.ErrNotFound) {
			return noSuchChannel(channelID)
		} else if err != nil {
			return err
		}
		if err := checkRuleUsers(ctx, tx, ch, users); err != nil {
			return err
		}
		for _, id := range teams {
			if _, err := tx.Team(ctx, id); errors.Is(err, store.ErrNotFound) {
				return problem.Field("unknown_team", "team_ids", fmt.Sprintf("team %d does not exist", id))
			} else if err != nil {
				return err
			}
		}
		rule.UpdatedAt = s.now().UnixMilli()
		if err := tx.SetRoutingRule(ctx, rule); err != nil {
			return err
		}
		if err := auditChange(ctx, tx, actor, ActionRoutingChanged, "channel", channelID, routing.RuleJSON(rule)); err != nil {
			return err
		}
		_, err = s.drainWaiting(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rule, nil
}

func checkRuleUsers(ctx context.Context, tx *store.Tx, ch *store.Channel, ids []int64) error {
	found, err := tx.RoutingCandidates(ctx, ch.InboxID, ch.ID, 0, ids)
	if err != nil {
		return err
	}
	byID := map[int64]*store.RoutingCandidate{}
	for _, c := range found {
		byID[c.UserID] = c
	}
	for _, id := range ids {
		c := byID[id]
		switch {
		case c == nil:
			return problem.Field("unknown_user", "user_ids", fmt.Sprintf("user %d does not exist", id))
		case c.Deactivated:
			return problem.Field("user_deactivated", "user_ids", fmt.Sprintf("user %d is deactivated", id))
		case !c.InboxMember:
			return problem.Field("user_not_inbox_member", "user_ids", fmt.Sprintf("user %d is not a member of the channel's inbox", id))
		}
	}
	return nil
}

// sortedIDs de-duplicates and sorts ids (never nil).
func sortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	if out == nil {
		out = []int64{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
