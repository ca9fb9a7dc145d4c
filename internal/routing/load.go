package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/store"
)

// Input names the conversation a snapshot is loaded for.
type Input struct {
	Rule         *store.RoutingRule
	Channel      *store.Channel
	Conversation *store.Conversation
	// PreviousAssigneeID is tried first for a reopened conversation (ROUTE-7); nil otherwise.
	PreviousAssigneeID *int64
	Now                time.Time
}

// Load reads the snapshot for one decision inside tx. The caller holds the routing lock
// (tx.LockRouting), so the open counts it reads stay true until the decision is committed.
func Load(ctx context.Context, tx *store.Tx, in Input) (Snapshot, error) {
	s := Snapshot{Now: in.Now, Rule: in.Rule, Category: channel.Category(in.Channel.Kind)}
	// The rule's own lists, not the channel's stored ones: a chatflow hands off with a rule of
	// its own (chatflow.HandOff). A channel's rule was read in this transaction, so they agree.
	selected, err := tx.RoutingSelectionOf(ctx, in.Rule.UserIDs, in.Rule.TeamIDs)
	if err != nil {
		return s, err
	}
	ids := slices.Clone(selected)
	var ownerID *int64
	if in.Rule.AssignTo == AssignContactOwner && in.Conversation.ContactID != nil {
		contact, err := tx.Contact(ctx, *in.Conversation.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return s, fmt.Errorf("routing: contact owner: %w", err)
		}
		if contact != nil && contact.OwnerID != nil {
			ownerID = contact.OwnerID
			ids = append(ids, *ownerID)
		}
	}
	if in.PreviousAssigneeID != nil {
		ids = append(ids, *in.PreviousAssigneeID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.RoutingCandidates(ctx, in.Conversation.InboxID, in.Channel.ID, in.Conversation.ID, ids)
	if err != nil {
		return s, err
	}
	byID := make(map[int64]*Candidate, len(rows))
	for _, r := range rows {
		byID[r.UserID] = candidate(r)
	}
	for _, id := range selected {
		if c := byID[id]; c != nil {
			s.Selected = append(s.Selected, c)
		}
	}
	if ownerID != nil {
		s.Owner = byID[*ownerID]
	}
	if in.PreviousAssigneeID != nil {
		s.Previous = byID[*in.PreviousAssigneeID]
	}
	return s, nil
}

func candidate(r *store.RoutingCandidate) *Candidate {
	c := &Candidate{
		UserID: r.UserID, Role: r.Role, Deactivated: r.Deactivated, InboxMember: r.InboxMember,
		Status: r.Status, LastAssigned: r.LastAssigned, OpenTotal: r.OpenTotal,
		Limits:         Limits{Total: r.Capacity.Total, Messaging: r.Capacity.Messaging, Email: r.Capacity.Email, Calls: r.Capacity.Calls},
		OpenByCategory: map[string]int64{},
	}
	for kind, n := range r.OpenByChannel {
		if cat := channel.Category(kind); cat != "" {
			c.OpenByCategory[cat] += n
		}
	}
	if r.WorkingHours != nil {
		// Schedules are checked when saved; one that no longer parses is ignored rather than
		// failing the receipt of a customer's message.
		if w, err := ParseWorkingHours(r.WorkingHours); err == nil {
			c.WorkingHours = w
		}
	}
	return c
}
