package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/store"
)

// What a rule assigns to, and how it picks among eligible users.
const (
	AssignUsersAndTeams = "users_and_teams"
	AssignContactOwner  = "contact_owner"

	RoundRobin = "round_robin"
	Balanced   = "balanced"
)

// AssignTargets and Strategies are the values a rule accepts.
var (
	AssignTargets = []string{AssignUsersAndTeams, AssignContactOwner}
	Strategies    = []string{RoundRobin, Balanced}
)

// How a decision picked its assignee, besides the rule's strategy.
const (
	ByPreviousAssignee = "previous_assignee"
	ByContactOwner     = "contact_owner"
)

// Why a user was skipped.
const (
	SkipDeactivated         = "deactivated"
	SkipRole                = "role" // owners are not routed to (ROUTE-2: agents and admins)
	SkipNotInboxMember      = "not_inbox_member"
	SkipAway                = "away"
	SkipOutsideWorkingHours = "outside_working_hours"
	SkipAtCapacity          = "at_capacity"
)

// Limits are a user's capacity limits; nil means no limit.
type Limits struct {
	Total     *int64
	Messaging *int64
	Email     *int64
	Calls     *int64
}

// For returns the limit of a capacity category (channel.Category…).
func (l Limits) For(category string) *int64 {
	switch category {
	case channel.CategoryMessaging:
		return l.Messaging
	case channel.CategoryEmail:
		return l.Email
	case channel.CategoryCalls:
		return l.Calls
	}
	return nil
}

// Candidate is one user as routing sees them at the moment of a decision.
type Candidate struct {
	UserID       int64
	Role         string
	Deactivated  bool
	InboxMember  bool
	Status       string        // available | away
	WorkingHours *WorkingHours // nil: none
	Limits       Limits
	// OpenTotal and OpenByCategory count the open conversations assigned to the user, not
	// counting the one being routed.
	OpenTotal      int64
	OpenByCategory map[string]int64
	// LastAssigned orders round robin: when routing last gave them a conversation of this
	// channel (0: never).
	LastAssigned int64
}

// Snapshot is everything one decision needs.
type Snapshot struct {
	Now  time.Time
	Rule *store.RoutingRule
	// Category is the capacity category of the conversation's channel.
	Category string
	// Previous is the user a reopened conversation goes back to if eligible (ROUTE-7); nil for a
	// new conversation.
	Previous *Candidate
	// Owner is the contact's owner under a contact_owner rule; nil when the contact has none.
	Owner *Candidate
	// Selected are the users the rule selects (teams expanded to primary members), in id order.
	Selected []*Candidate
}

// Skip says why one user did not get the conversation.
type Skip struct {
	UserID int64  `json:"user_id"`
	Reason string `json:"reason"`
	// Limit names the limit reached when Reason is at_capacity: "total" or the category.
	Limit string `json:"limit,omitempty"`
}

// Decision is routing's answer for one conversation.
type Decision struct {
	// AssigneeID is the chosen user; 0 when nobody is eligible and the conversation waits.
	AssigneeID int64
	// By is how the assignee was picked: previous_assignee, contact_owner, or the strategy.
	By string
	// Fallback is set when a contact_owner rule fell back to its users and teams.
	Fallback bool
	// Eligible lists the users who could have had it, in id order.
	Eligible []int64
	// Skipped lists the users considered and not eligible, each with the first reason found.
	Skipped []Skip
}

// AllAtCapacity reports, for a decision without assignee, whether capacity alone stood in the
// way: someone was considered and everyone considered was at a limit (ROUTE-4, as opposed to
// nobody eligible at all, ROUTE-5).
func (d Decision) AllAtCapacity() bool {
	if d.AssigneeID != 0 || len(d.Skipped) == 0 {
		return false
	}
	for _, s := range d.Skipped {
		if s.Reason != SkipAtCapacity {
			return false
		}
	}
	return true
}

// Check returns why c may not get a conversation of the category now, or "" when they may
// (ROUTE-2). With onlyAvailable off, status and working hours are ignored: both are availability.
func Check(c *Candidate, onlyAvailable bool, category string, now time.Time) (reason, limit string) {
	switch {
	case c.Deactivated:
		return SkipDeactivated, ""
	case c.Role != "agent" && c.Role != "admin":
		return SkipRole, ""
	case !c.InboxMember:
		return SkipNotInboxMember, ""
	case onlyAvailable && c.Status != "available":
		return SkipAway, ""
	case onlyAvailable && !c.WorkingHours.Inside(now):
		return SkipOutsideWorkingHours, ""
	}
	if l := c.Limits.Total; l != nil && c.OpenTotal >= *l {
		return SkipAtCapacity, "total"
	}
	if l := c.Limits.For(category); l != nil && c.OpenByCategory[category] >= *l {
		return SkipAtCapacity, category
	}
	return "", ""
}

// Decide picks the assignee of one conversation: the previous assignee of a reopened
// conversation when eligible (ROUTE-7); else under a contact_owner rule the contact's owner when
// eligible; else the eligible selected user the strategy prefers (ROUTE-3) — round robin: least
// recently given a conversation of this channel; balanced: fewest open conversations — with ties
// broken by the lower user id. Nobody eligible leaves AssigneeID 0 (ROUTE-4, ROUTE-5).
func Decide(s Snapshot) Decision {
	d := Decision{Eligible: []int64{}, Skipped: []Skip{}}
	skipped := map[int64]bool{}
	check := func(c *Candidate) bool {
		if skipped[c.UserID] {
			return false
		}
		reason, limit := Check(c, s.Rule.OnlyAvailable, s.Category, s.Now)
		if reason != "" {
			skipped[c.UserID] = true
			d.Skipped = append(d.Skipped, Skip{UserID: c.UserID, Reason: reason, Limit: limit})
			return false
		}
		return true
	}
	if p := s.Previous; p != nil && check(p) {
		d.AssigneeID, d.By, d.Eligible = p.UserID, ByPreviousAssignee, []int64{p.UserID}
		return d
	}
	if s.Rule.AssignTo == AssignContactOwner {
		if o := s.Owner; o != nil && check(o) {
			d.AssigneeID, d.By, d.Eligible = o.UserID, ByContactOwner, []int64{o.UserID}
			return d
		}
		d.Fallback = true
	}
	var eligible []*Candidate
	for _, c := range s.Selected {
		if check(c) {
			eligible = append(eligible, c)
			d.Eligible = append(d.Eligible, c.UserID)
		}
	}
	slices.Sort(d.Eligible)
	if len(eligible) == 0 {
		return d
	}
	d.By = s.Rule.Strategy
	best := slices.MinFunc(eligible, func(a, b *Candidate) int {
		if s.Rule.Strategy == Balanced {
			return cmp.Or(cmp.Compare(a.OpenTotal, b.OpenTotal), cmp.Compare(a.UserID, b.UserID))
		}
		return cmp.Or(cmp.Compare(a.LastAssigned, b.LastAssigned), cmp.Compare(a.UserID, b.UserID))
	})
	d.AssigneeID = best.UserID
	return d
}

// RuleJSON is the rule as an explanation quotes it.
func RuleJSON(r *store.RoutingRule) map[string]any {
	return map[string]any{
		"channel_id": r.ChannelID, "assign_to": r.AssignTo, "user_ids": nonNil(r.UserIDs), "team_ids": nonNil(r.TeamIDs),
		"only_available": r.OnlyAvailable, "strategy": r.Strategy,
	}
}

// Explain is the data of the timeline event recording a decision (ROUTE-6): the rule, how the
// assignee was picked, who was eligible and who was skipped and why.
func Explain(r *store.RoutingRule, d Decision) map[string]any {
	data := map[string]any{"rule": RuleJSON(r), "eligible": d.Eligible, "skipped": d.Skipped}
	if d.AssigneeID != 0 {
		data["strategy"] = d.By
	} else if d.AllAtCapacity() {
		data["reason"] = "everyone_at_capacity"
	} else {
		data["reason"] = "nobody_eligible"
	}
	if d.Fallback {
		data["fallback"] = true
	}
	return data
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
