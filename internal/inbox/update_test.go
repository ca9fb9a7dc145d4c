package inbox_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestUpdateEveryField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")
		snooze := time.Now().Add(2 * time.Hour).Truncate(time.Second).UnixMilli()
		steps := []struct {
			name  string
			patch inbox.Patch
			event string
			check func(c *store.Conversation) bool
			data  map[string]any // expected entries of the event's data
		}{
			{"close", inbox.Patch{Status: ptr("closed")}, "closed",
				func(c *store.Conversation) bool { return c.Status == "closed" && c.ClosedAt != nil }, nil},
			{"reopen", inbox.Patch{Status: ptr("open")}, "reopened",
				func(c *store.Conversation) bool { return c.Status == "open" && c.ClosedAt == nil }, nil},
			{"assign", inbox.Patch{AssigneeID: &f.agent.ID}, "assigned",
				func(c *store.Conversation) bool { return c.AssigneeID != nil && *c.AssigneeID == f.agent.ID },
				map[string]any{"assignee_id": float64(f.agent.ID)}},
			{"reassign", inbox.Patch{AssigneeID: &f.admin.ID}, "assigned",
				func(c *store.Conversation) bool {
					return *c.AssigneeID == f.admin.ID && c.PreviousAssigneeID != nil && *c.PreviousAssigneeID == f.agent.ID
				},
				map[string]any{"assignee_id": float64(f.admin.ID), "previous_assignee_id": float64(f.agent.ID)}},
			{"unassign", inbox.Patch{Unassign: true}, "unassigned",
				func(c *store.Conversation) bool { return c.AssigneeID == nil && *c.PreviousAssigneeID == f.admin.ID },
				map[string]any{"previous_assignee_id": float64(f.admin.ID)}},
			{"team", inbox.Patch{TeamID: &f.team.ID}, "team_assigned",
				func(c *store.Conversation) bool { return c.TeamID != nil && *c.TeamID == f.team.ID },
				map[string]any{"team_id": float64(f.team.ID)}},
			{"clear team", inbox.Patch{ClearTeam: true}, "team_unassigned",
				func(c *store.Conversation) bool { return c.TeamID == nil }, nil},
			{"priority", inbox.Patch{Priority: ptr("urgent")}, "priority_changed",
				func(c *store.Conversation) bool { return c.Priority == "urgent" },
				map[string]any{"priority": "urgent", "previous_priority": "none"}},
			{"tags", inbox.Patch{Tags: &[]string{"vip", " billing ", "vip"}}, "tags_changed",
				func(c *store.Conversation) bool { return slices.Equal(c.Tags, []string{"billing", "vip"}) }, nil},
			{"retag", inbox.Patch{Tags: &[]string{"billing"}}, "tags_changed",
				func(c *store.Conversation) bool { return slices.Equal(c.Tags, []string{"billing"}) }, nil},
			{"snooze", inbox.Patch{SnoozedUntil: &snooze}, "snoozed",
				func(c *store.Conversation) bool { return c.SnoozedUntil != nil && *c.SnoozedUntil == snooze },
				map[string]any{"snoozed_until": time.UnixMilli(snooze).UTC().Format(time.RFC3339)}},
			{"unsnooze", inbox.Patch{Unsnooze: true}, "unsnoozed",
				func(c *store.Conversation) bool { return c.SnoozedUntil == nil }, nil},
			{"spam", inbox.Patch{Spam: ptr(true)}, "marked_spam",
				func(c *store.Conversation) bool { return c.Spam }, nil},
			{"not spam", inbox.Patch{Spam: ptr(false)}, "marked_not_spam",
				func(c *store.Conversation) bool { return !c.Spam }, nil},
			{"trash", inbox.Patch{Trashed: ptr(true)}, "trashed",
				func(c *store.Conversation) bool { return c.TrashedAt != nil }, nil},
			{"restore", inbox.Patch{Trashed: ptr(false)}, "restored",
				func(c *store.Conversation) bool { return c.TrashedAt == nil }, nil},
		}
		for _, st := range steps {
			before, _ := f.events(c.ID)
			got := f.update(f.admin, c.ID, st.patch)
			if !st.check(got) {
				t.Fatalf("%s: conversation = %+v", st.name, got)
			}
			after, data := f.events(c.ID)
			if len(after) != len(before)+1 || after[len(after)-1] != st.event {
				t.Fatalf("%s: events %v -> %v, want one %s", st.name, before, after, st.event)
			}
			for k, v := range st.data {
				if data[len(data)-1][k] != v {
					t.Fatalf("%s: event data %v, want %s=%v", st.name, data[len(data)-1], k, v)
				}
			}
			evs, _ := s.ConversationEvents(f.ctx, c.ID)
			if a := evs[len(evs)-1].ActorID; a == nil || *a != f.admin.ID {
				t.Fatalf("%s: event actor = %v", st.name, a)
			}
			// Applying the same patch again changes nothing and writes no event.
			f.update(f.admin, c.ID, st.patch)
			if again, _ := f.events(c.ID); len(again) != len(after) {
				t.Fatalf("%s: repeating the patch wrote events %v", st.name, again[len(after):])
			}
		}
	})
}

func TestUpdateValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")
		cases := []struct {
			patch inbox.Patch
			code  string
		}{
			{inbox.Patch{Status: ptr("pending")}, "invalid_status"},
			{inbox.Patch{Priority: ptr("critical")}, "invalid_priority"},
			{inbox.Patch{Tags: &[]string{""}}, "invalid_tag"},
			{inbox.Patch{SnoozedUntil: ptr(time.Now().Add(-time.Minute).UnixMilli())}, "invalid_snoozed_until"},
			{inbox.Patch{AssigneeID: &f.seller.ID}, "assignee_not_member"},   // cannot see support
			{inbox.Patch{AssigneeID: &f.outsider.ID}, "assignee_not_member"}, // cannot see support
			{inbox.Patch{AssigneeID: ptr(int64(9999))}, "assignee_not_member"},
			{inbox.Patch{TeamID: ptr(int64(9999))}, "team_not_found"},
			{inbox.Patch{InboxID: ptr(int64(9999))}, "inbox_not_found"},
		}
		for _, tc := range cases {
			_, err := f.svc.Update(f.ctx, f.admin, c.ID, tc.patch)
			wantCode(t, err, tc.code)
		}
		// An agent cannot move a conversation to an inbox they cannot see.
		_, err := f.svc.Update(f.ctx, f.agent, c.ID, inbox.Patch{InboxID: &f.sales.ID})
		wantCode(t, err, "inbox_not_found")
		// A refused patch changes nothing, not even its valid parts.
		_, err = f.svc.Update(f.ctx, f.admin, c.ID, inbox.Patch{Priority: ptr("high"), TeamID: ptr(int64(9999))})
		wantCode(t, err, "team_not_found")
		if got := f.conversation(f.admin, c.ID); got.Priority != "none" {
			t.Fatalf("refused patch applied: priority %s", got.Priority)
		}
		// A deactivated user cannot be assigned.
		err = s.InTx(f.ctx, func(tx *store.Tx) error {
			u, err := tx.User(f.ctx, f.agent.ID)
			if err != nil {
				return err
			}
			u.DeactivatedAt = ptr(store.Now())
			return tx.UpdateUser(f.ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Update(f.ctx, f.admin, c.ID, inbox.Patch{AssigneeID: &f.agent.ID})
		wantCode(t, err, "assignee_not_member")
	})
}

func TestMoveBetweenInboxes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")
		f.update(f.agent, c.ID, inbox.Patch{AssigneeID: &f.agent.ID})
		// The admin moves it to sales: the agent cannot see sales, so they are unassigned.
		got := f.update(f.admin, c.ID, inbox.Patch{InboxID: &f.sales.ID})
		if got.InboxID != f.sales.ID || got.AssigneeID != nil || *got.PreviousAssigneeID != f.agent.ID {
			t.Fatalf("moved = %+v", got)
		}
		types, data := f.events(c.ID)
		n := len(types)
		if types[n-2] != "moved" || data[n-2]["from_inbox_id"] != float64(f.support.ID) || data[n-2]["to_inbox_id"] != float64(f.sales.ID) ||
			types[n-1] != "unassigned" || data[n-1]["reason"] != "no access to the new inbox" {
			t.Fatalf("events = %v %v", types, data)
		}
		// The agent lost it, the seller (through their team) gained it.
		if _, err := f.svc.Conversation(f.ctx, f.agent, c.ID); err == nil {
			t.Fatal("agent still sees the moved conversation")
		}
		f.conversation(f.seller, c.ID)
		// Moving and assigning in one patch checks the assignee against the new inbox.
		got = f.update(f.admin, c.ID, inbox.Patch{InboxID: &f.support.ID, AssigneeID: &f.agent.ID})
		if got.InboxID != f.support.ID || *got.AssigneeID != f.agent.ID {
			t.Fatalf("moved back = %+v", got)
		}
		// New messages on the thread still land in the conversation, now in support.
		_, c2 := f.receive("t", "again")
		if c2.ID != c.ID {
			t.Fatal("thread lost after the move")
		}
	})
}

func TestOutsiderGetsNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "secret words")
		for _, u := range []*store.User{f.outsider, f.seller} {
			_, err := f.svc.Conversation(f.ctx, u, c.ID)
			wantCode(t, err, "conversation_not_found")
			_, err = f.svc.Update(f.ctx, u, c.ID, inbox.Patch{Status: ptr("closed")})
			wantCode(t, err, "conversation_not_found")
			_, err = f.svc.Timeline(f.ctx, u, c.ID)
			wantCode(t, err, "conversation_not_found")
			_, err = f.svc.Reply(f.ctx, u, c.ID, inbox.ReplyInput{Text: "x"})
			wantCode(t, err, "conversation_not_found")
			_, err = f.svc.Comment(f.ctx, u, c.ID, inbox.CommentInput{Body: "x"})
			wantCode(t, err, "conversation_not_found")
			wantCode(t, f.svc.MarkRead(f.ctx, u, c.ID), "conversation_not_found")
			// An id that exists answers exactly like one that does not.
			_, err = f.svc.Conversation(f.ctx, u, c.ID+1000)
			wantCode(t, err, "conversation_not_found")

			list, _, err := f.svc.Conversations(f.ctx, u, inbox.Filter{})
			if err != nil || len(list) != 0 {
				t.Fatalf("%s lists %d conversations, %v", u.Email, len(list), err)
			}
			list, _, err = f.svc.Conversations(f.ctx, u, inbox.Filter{InboxID: &f.support.ID, Q: "secret"})
			if err != nil || len(list) != 0 {
				t.Fatalf("%s finds %d conversations, %v", u.Email, len(list), err)
			}
			// The contact is known only from the hidden inbox: hidden too, like a missing id.
			_, _, err = f.svc.Contact(f.ctx, u, *c.ContactID)
			wantCode(t, err, "contact_not_found")
			_, err = f.svc.UpdateContact(f.ctx, u, *c.ContactID, inbox.ContactPatch{Name: ptr("x")})
			wantCode(t, err, "contact_not_found")
			_, _, err = f.svc.Contact(f.ctx, u, *c.ContactID+1000)
			wantCode(t, err, "contact_not_found")
			contacts, _, err := f.svc.Contacts(f.ctx, u, "", 50, "")
			if err != nil || len(contacts) != 0 {
				t.Fatalf("%s lists %d contacts, %v", u.Email, len(contacts), err)
			}
		}
		// Nothing was changed by the refused calls.
		if got := f.conversation(f.admin, c.ID); got.Status != "open" {
			t.Fatal("outsider closed the conversation")
		}
		_, convs, err := f.svc.Contact(f.ctx, f.agent, *c.ContactID)
		if err != nil || len(convs) != 1 {
			t.Fatalf("agent sees %d of the contact's conversations, %v", len(convs), err)
		}
		if _, err := f.svc.Conversation(f.ctx, nil, c.ID); err == nil {
			t.Fatal("nil actor saw a conversation")
		}
		var nf interface{ Error() string }
		if _, err := f.svc.Conversation(f.ctx, f.admin, 999999); !errors.As(err, &nf) {
			t.Fatal("missing conversation did not error")
		}
	})
}
