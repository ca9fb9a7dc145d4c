package inbox

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Patch is a change to a conversation. Nil fields are left as they are.
type Patch struct {
	Status *string // open | closed
	// AssigneeID assigns a user; Unassign removes the assignee (and wins over AssigneeID).
	AssigneeID *int64
	Unassign   bool
	// TeamID assigns a team; ClearTeam removes it (and wins over TeamID).
	TeamID    *int64
	ClearTeam bool
	Priority  *string   // none | low | medium | high | urgent
	Tags      *[]string // replaces the set of tags
	// SnoozedUntil snoozes until a time (unix ms, in the future); Unsnooze ends a snooze.
	SnoozedUntil *int64
	Unsnooze     bool
	// InboxID moves the conversation to another inbox the actor may see.
	InboxID *int64
	// Spam marks the conversation as spam or not; "not spam" puts it in the inbox, also when it
	// was filtered before it was marked spam.
	Spam *bool
	// Filtered files the conversation under the Filtered view (true) or moves a filtered one to
	// the inbox (false). Spam set to true in the same patch wins.
	Filtered *bool
	Trashed  *bool
}

// snoozeMax bounds how far ahead a conversation may be snoozed.
const snoozeMax = 5 * 365 * 24 * time.Hour

// Tag limits keep the tag list usable in a list row and a filter.
const (
	maxTags      = 50
	maxTagLength = 64
)

// Update applies a patch in one transaction. Every change that takes effect writes a timeline
// event naming the actor; setting a field to the value it has is no change.
func (s *Service) Update(ctx context.Context, actor *store.User, conversationID int64, p Patch) (*store.Conversation, error) {
	if _, err := s.visibleConversation(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	if err := validatePatch(&p); err != nil {
		return nil, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Conversation(ctx, conversationID)
		if errors.Is(err, store.ErrNotFound) {
			return conversationNotFound(conversationID)
		} else if err != nil {
			return err
		}
		if ok, err := tx.InboxVisibleTo(ctx, actor, c.InboxID); err != nil {
			return err
		} else if !ok {
			return conversationNotFound(conversationID)
		}
		u := &updater{ctx: ctx, tx: tx, actor: actor, c: c, now: store.Now()}
		before := *c
		if err := u.apply(p); err != nil {
			return err
		}
		return s.routeAfterUpdate(ctx, tx, &before, c)
	})
	if err != nil {
		return nil, err
	}
	return s.visibleConversation(ctx, actor, conversationID)
}

func validatePatch(p *Patch) error {
	if p.Status != nil && !slices.Contains(statuses, *p.Status) {
		return problem.Field("invalid_status", "status", "must be open or closed")
	}
	if p.Priority != nil && !slices.Contains(priorities, *p.Priority) {
		return problem.Field("invalid_priority", "priority", "must be one of none, low, medium, high, urgent")
	}
	if p.Tags != nil {
		tags, err := normalizeTags(*p.Tags)
		if err != nil {
			return err
		}
		p.Tags = &tags
	}
	if p.SnoozedUntil != nil && !p.Unsnooze {
		now := store.Now()
		if *p.SnoozedUntil <= now {
			return problem.Field("invalid_snoozed_until", "snoozed_until", "must be in the future")
		}
		if *p.SnoozedUntil > now+snoozeMax.Milliseconds() {
			return problem.Field("invalid_snoozed_until", "snoozed_until", "must be within five years")
		}
	}
	if p.AssigneeID != nil && *p.AssigneeID <= 0 && !p.Unassign {
		return problem.Field("assignee_not_member", "assignee_id", "is not a user who can see this inbox")
	}
	return nil
}

// normalizeTags trims, de-duplicates and sorts tags, refusing empty or overlong ones.
func normalizeTags(in []string) ([]string, error) {
	out := []string{}
	for _, t := range in {
		t = strings.Join(strings.Fields(cleanText(t)), " ")
		if t == "" {
			return nil, problem.Field("invalid_tag", "tags", "must not hold empty tags")
		}
		if utf8.RuneCountInString(t) > maxTagLength {
			return nil, problem.Field("invalid_tag", "tags", "each tag must be at most 64 characters")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, problem.Field("invalid_tag", "tags", "must hold at most 50 tags")
	}
	slices.Sort(out)
	return out, nil
}

// updater applies one patch to a locked conversation.
type updater struct {
	ctx     context.Context
	tx      *store.Tx
	actor   *store.User
	c       *store.Conversation
	now     int64
	changed bool
	// explain is merged into the data of an assignment's event: routing's reasons (ROUTE-6).
	explain map[string]any
}

// event appends a timeline event; a nil actor (routing) records an automatic action.
func (u *updater) event(typ string, data map[string]any) error {
	u.changed = true
	var actorID *int64
	if u.actor != nil {
		actorID = &u.actor.ID
	}
	return addEvent(u.ctx, u.tx, u.c.ID, actorID, typ, data)
}

func (u *updater) apply(p Patch) error {
	c := u.c
	// Move first: who may be assigned depends on the inbox the conversation ends up in.
	if p.InboxID != nil && *p.InboxID != c.InboxID {
		if err := u.move(*p.InboxID); err != nil {
			return err
		}
	}
	switch {
	case p.Unassign:
		if err := u.setAssignee(nil, "manual"); err != nil {
			return err
		}
	case p.AssigneeID != nil:
		if err := u.setAssignee(p.AssigneeID, "manual"); err != nil {
			return err
		}
	}
	switch {
	case p.ClearTeam:
		if c.TeamID != nil {
			prev := *c.TeamID
			c.TeamID = nil
			if err := u.event("team_unassigned", map[string]any{"previous_team_id": prev}); err != nil {
				return err
			}
		}
	case p.TeamID != nil && (c.TeamID == nil || *c.TeamID != *p.TeamID):
		if _, err := u.tx.Team(u.ctx, *p.TeamID); errors.Is(err, store.ErrNotFound) {
			return problem.Field("team_not_found", "team_id", "is not a team")
		} else if err != nil {
			return err
		}
		data := map[string]any{"team_id": *p.TeamID}
		if c.TeamID != nil {
			data["previous_team_id"] = *c.TeamID
		}
		c.TeamID = p.TeamID
		if err := u.event("team_assigned", data); err != nil {
			return err
		}
	}
	if p.Status != nil && *p.Status != c.Status {
		c.Status = *p.Status
		if c.Status == "closed" {
			c.ClosedAt = &u.now
			if err := u.event("closed", nil); err != nil {
				return err
			}
		} else {
			c.ClosedAt = nil
			if err := u.event("reopened", map[string]any{"reason": "manual"}); err != nil {
				return err
			}
		}
	}
	if p.Priority != nil && *p.Priority != c.Priority {
		prev := c.Priority
		c.Priority = *p.Priority
		if err := u.event("priority_changed", map[string]any{"priority": c.Priority, "previous_priority": prev}); err != nil {
			return err
		}
	}
	if p.Tags != nil && !slices.Equal(*p.Tags, c.Tags) {
		var added, removed []string
		for _, t := range *p.Tags {
			if !slices.Contains(c.Tags, t) {
				added = append(added, t)
			}
		}
		for _, t := range c.Tags {
			if !slices.Contains(*p.Tags, t) {
				removed = append(removed, t)
			}
		}
		if err := u.tx.SetConversationTags(u.ctx, c.ID, *p.Tags); err != nil {
			return err
		}
		c.Tags = *p.Tags
		if err := u.event("tags_changed", map[string]any{"tags": c.Tags, "added": nonNil(added), "removed": nonNil(removed)}); err != nil {
			return err
		}
	}
	switch {
	case p.Unsnooze:
		if c.SnoozedUntil != nil {
			c.SnoozedUntil = nil
			if err := u.event("unsnoozed", map[string]any{"reason": "manual"}); err != nil {
				return err
			}
		}
	case p.SnoozedUntil != nil && (c.SnoozedUntil == nil || *c.SnoozedUntil != *p.SnoozedUntil):
		c.SnoozedUntil = p.SnoozedUntil
		if err := u.event("snoozed", map[string]any{"snoozed_until": time.UnixMilli(*p.SnoozedUntil).UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	if p.Filtered != nil && *p.Filtered != c.Filtered && (p.Spam == nil || !*p.Spam) {
		// One place at a time: filing a spam conversation takes it out of spam.
		c.Filtered, c.Spam = *p.Filtered, false
		typ := "unfiltered"
		if c.Filtered {
			typ = "filtered"
		}
		if err := u.event(typ, map[string]any{"reason": "manual"}); err != nil {
			return err
		}
	}
	if p.Spam != nil && *p.Spam != c.Spam {
		c.Spam = *p.Spam
		// Marked spam it is spam, not filtered; marked not spam it goes to the inbox.
		c.Filtered = false
		typ := "marked_not_spam"
		if c.Spam {
			typ = "marked_spam"
		}
		if err := u.event(typ, map[string]any{"reason": "manual"}); err != nil {
			return err
		}
	}
	if p.Trashed != nil && *p.Trashed != (c.TrashedAt != nil) {
		if *p.Trashed {
			c.TrashedAt = &u.now
			if err := u.event("trashed", nil); err != nil {
				return err
			}
		} else {
			c.TrashedAt = nil
			if err := u.event("restored", nil); err != nil {
				return err
			}
		}
	}
	if !u.changed {
		return nil
	}
	if err := u.tx.UpdateConversation(u.ctx, c); err != nil {
		return err
	}
	events.ConversationUpdated(u.tx, c)
	return nil
}

// move puts the conversation in another inbox. The actor must see that inbox; an assignee who
// cannot see it is unassigned, since they could no longer open the conversation.
func (u *updater) move(inboxID int64) error {
	ok, err := u.tx.InboxVisibleTo(u.ctx, u.actor, inboxID)
	if err != nil {
		return err
	}
	if !ok {
		return problem.Field("inbox_not_found", "inbox_id", "is not an inbox you can see")
	}
	from := u.c.InboxID
	u.c.InboxID = inboxID
	events.ConversationRemoved(u.tx, u.c.ID, from, "moved")
	if err := u.event("moved", map[string]any{"from_inbox_id": from, "to_inbox_id": inboxID}); err != nil {
		return err
	}
	if u.c.AssigneeID != nil {
		assignee, err := u.tx.User(u.ctx, *u.c.AssigneeID)
		if err != nil {
			return err
		}
		ok, err := u.tx.InboxVisibleTo(u.ctx, assignee, inboxID)
		if err != nil {
			return err
		}
		if !ok {
			return u.setAssignee(nil, "no access to the new inbox")
		}
	}
	return nil
}

// setAssignee assigns the conversation to a user who is active and can see its inbox, or
// unassigns it (id nil), remembering the previous assignee (ROUTE-7 sends a reopened
// conversation back to them).
func (u *updater) setAssignee(id *int64, reason string) error {
	c := u.c
	if id == nil {
		if c.AssigneeID == nil {
			return nil
		}
		prev := *c.AssigneeID
		c.PreviousAssigneeID, c.AssigneeID = &prev, nil
		return u.event("unassigned", map[string]any{"previous_assignee_id": prev, "reason": reason})
	}
	if c.AssigneeID != nil && *c.AssigneeID == *id {
		return nil
	}
	notMember := problem.Field("assignee_not_member", "assignee_id", "is not an active user who can see this inbox")
	assignee, err := u.tx.User(u.ctx, *id)
	if errors.Is(err, store.ErrNotFound) {
		return notMember
	} else if err != nil {
		return err
	}
	if assignee.DeactivatedAt != nil {
		return notMember
	}
	ok, err := u.tx.InboxVisibleTo(u.ctx, assignee, c.InboxID)
	if err != nil {
		return err
	}
	if !ok {
		return notMember
	}
	data := map[string]any{"assignee_id": assignee.ID, "reason": reason}
	for k, v := range u.explain {
		data[k] = v
	}
	if c.AssigneeID != nil {
		prev := *c.AssigneeID
		c.PreviousAssigneeID = &prev
		data["previous_assignee_id"] = prev
	}
	c.AssigneeID = &assignee.ID
	return u.event("assigned", data)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
