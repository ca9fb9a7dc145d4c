package store_test

import (
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// A filtered conversation (EMAIL-8) is stored in the spam column as 2: it reads back as
// Filtered, is listed only by the Filtered view, and is left out of every view, count and open
// count that leaves spam out — without any of their conditions knowing about it.
func TestFilteredConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		now := store.Now()
		insert := func(tx *store.Tx, name string, c store.Conversation) error {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			c.Number = n
			if err := tx.InsertConversation(ctx, &c); err != nil {
				return err
			}
			f.ids[name] = c.ID
			return nil
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range []struct {
				name string
				c    store.Conversation
			}{
				// Assigned to the agent on channel A: it must not count as open for them.
				{"a-filtered", store.Conversation{InboxID: f.a.ID, ChannelID: &f.chA, Filtered: true, AssigneeID: &f.agent.ID}},
				{"a-filtered-old", store.Conversation{InboxID: f.a.ID, Filtered: true, LastActivityAt: now - 86400_000}},
				{"a-filtered-trash", store.Conversation{InboxID: f.a.ID, Filtered: true, TrashedAt: &now}},
				{"b-filtered", store.Conversation{InboxID: f.b.ID, Filtered: true}},
				// Both set: spam wins.
				{"a-spam-and-filtered", store.Conversation{InboxID: f.a.ID, Spam: true, Filtered: true}},
			} {
				if err := insert(tx, c.name, c.c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		c, err := s.Conversation(ctx, f.ids["a-filtered"], f.agent.ID)
		if err != nil || !c.Filtered || c.Spam {
			t.Fatalf("filtered conversation reads back as %+v, %v", c, err)
		}
		if c, err := s.Conversation(ctx, f.ids["a-spam-and-filtered"], f.agent.ID); err != nil || !c.Spam || c.Filtered {
			t.Errorf("spam and filtered reads back as spam=%v filtered=%v, %v; want spam only", c.Spam, c.Filtered, err)
		}

		list := func(u *store.User, cf store.ConversationFilter) []int64 {
			t.Helper()
			cf.ForUser, cf.VisibleOnly = u.ID, !u.IsAdmin()
			got, _, err := s.Conversations(ctx, cf)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			return ids
		}
		if got, want := list(f.agent, store.ConversationFilter{Filtered: true}), []int64{f.ids["a-filtered"], f.ids["a-filtered-old"]}; !slices.Equal(got, want) {
			t.Errorf("agent's Filtered view %v, want %v (newest first, not the trashed one, not inbox B's)", got, want)
		}
		if got := list(f.admin, store.ConversationFilter{Filtered: true}); len(got) != 3 {
			t.Errorf("admin's Filtered view %v, want 3", got)
		}
		if got := list(f.agent, store.ConversationFilter{Filtered: true, Trashed: true}); !slices.Equal(got, []int64{f.ids["a-filtered-trash"]}) {
			t.Errorf("filtered in the trash %v", got)
		}
		for _, name := range []string{"a-filtered", "a-filtered-old", "b-filtered"} {
			id := f.ids[name]
			for what, cf := range map[string]store.ConversationFilter{
				"open":       {Status: "open"},
				"all":        {},
				"unassigned": {Status: "open", Unassigned: true},
				"mine":       {Status: "open", AssigneeID: &f.agent.ID},
				"spam":       {Spam: true},
			} {
				if slices.Contains(list(f.admin, cf), id) {
					t.Errorf("%s is listed by the %s view", name, what)
				}
			}
		}
		// A contact's history shows everything.
		if got := list(f.admin, store.ConversationFilter{AnyState: true, InboxID: &f.b.ID}); !slices.Contains(got, f.ids["b-filtered"]) {
			t.Errorf("AnyState leaves out the filtered conversation: %v", got)
		}

		// The counts are the seed's (TestViewCounts): the filtered conversations add nothing.
		vc, err := s.ViewCounts(ctx, f.agent, store.Now())
		if err != nil {
			t.Fatal(err)
		}
		if vc.Open != 4 || vc.Unassigned != 2 || vc.Mine != 1 || vc.ByChannel[f.chA] != 3 {
			t.Errorf("agent counts with filtered conversations %+v", vc)
		}
		open := func() int64 {
			t.Helper()
			m, err := s.OpenAssigned(ctx, f.agent.ID)
			if err != nil {
				t.Fatal(err)
			}
			return m["email"]
		}
		if n := open(); n != 1 {
			t.Errorf("agent's open email conversations %d, want 1 (a-mine, not the filtered one)", n)
		}

		// Moving it to the inbox makes it count, and filing it again uncounts it (the triggers of
		// migration 00010 see spam go from 2 to 0 and back).
		move := func(filtered bool) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				c, err := tx.Conversation(ctx, f.ids["a-filtered"])
				if err != nil {
					return err
				}
				c.Filtered = filtered
				return tx.UpdateConversation(ctx, c)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		move(false)
		if n := open(); n != 2 {
			t.Errorf("after moving to the inbox: %d open, want 2", n)
		}
		if got := list(f.agent, store.ConversationFilter{Status: "open", AssigneeID: &f.agent.ID}); !slices.Contains(got, f.ids["a-filtered"]) {
			t.Errorf("moved to the inbox but not in Mine: %v", got)
		}
		move(true)
		if n := open(); n != 1 {
			t.Errorf("after filing again: %d open, want 1", n)
		}

		idx, err := s.IndexesForTest(ctx, "conversations")
		if err != nil {
			t.Fatal(err)
		}
		if !idx["conversations_filtered_activity"] {
			t.Error("no index conversations_filtered_activity")
		}
	})
}
