package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// viewsFixture: an agent who sees inbox A (through team T) but not inbox B, an admin, and open,
// snoozed, closed, spam and trashed conversations in both inboxes.
type viewsFixture struct {
	agent, admin *store.User
	a, b         *store.Inbox
	team         *store.Team
	chA, chB     int64
	ids          map[string]int64
}

func seedViews(t *testing.T, s *store.Store) *viewsFixture {
	t.Helper()
	ctx := t.Context()
	f := &viewsFixture{ids: map[string]int64{}}
	now := store.Now()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		f.agent = &store.User{Email: "agent@example.com", Name: "Ana", Role: "agent"}
		f.admin = &store.User{Email: "admin@example.com", Name: "Adam", Role: "admin"}
		for _, u := range []*store.User{f.agent, f.admin} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		f.team = &store.Team{Name: "Billing"}
		if err := tx.CreateTeam(ctx, f.team); err != nil {
			return err
		}
		if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: f.team.ID, UserID: f.agent.ID}); err != nil {
			return err
		}
		f.a = &store.Inbox{Name: "A", Access: "specific", TeamIDs: []int64{f.team.ID}}
		f.b = &store.Inbox{Name: "B", Access: "specific"}
		for _, in := range []*store.Inbox{f.a, f.b} {
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
		}
		var err error
		if f.chA, err = tx.InsertChannel(ctx, &store.Channel{InboxID: f.a.ID, Kind: "email", Name: "Mail A"}); err != nil {
			return err
		}
		if f.chB, err = tx.InsertChannel(ctx, &store.Channel{InboxID: f.b.ID, Kind: "chat", Name: "Chat B"}); err != nil {
			return err
		}
		later, earlier := now+3600_000, now-3600_000
		for _, c := range []struct {
			name string
			c    store.Conversation
		}{
			{"a-unassigned", store.Conversation{InboxID: f.a.ID, ChannelID: &f.chA}},
			{"a-mine", store.Conversation{InboxID: f.a.ID, ChannelID: &f.chA, AssigneeID: &f.agent.ID, TeamID: &f.team.ID}},
			{"a-admin", store.Conversation{InboxID: f.a.ID, AssigneeID: &f.admin.ID, LastActivityAt: now - 86400_000*3}},
			{"a-snoozed", store.Conversation{InboxID: f.a.ID, ChannelID: &f.chA, SnoozedUntil: &later}},
			{"a-snooze-over", store.Conversation{InboxID: f.a.ID, ChannelID: &f.chA, SnoozedUntil: &earlier}},
			{"a-closed", store.Conversation{InboxID: f.a.ID, Status: "closed"}},
			{"a-spam", store.Conversation{InboxID: f.a.ID, Spam: true}},
			{"a-trash", store.Conversation{InboxID: f.a.ID, TrashedAt: &now}},
			{"b-unassigned", store.Conversation{InboxID: f.b.ID, ChannelID: &f.chB}},
			{"b-snoozed", store.Conversation{InboxID: f.b.ID, SnoozedUntil: &later}},
		} {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			c.c.Number = n
			if err := tx.InsertConversation(ctx, &c.c); err != nil {
				return err
			}
			f.ids[c.name] = c.c.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestViewCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		vc, err := s.ViewCounts(ctx, f.agent, store.Now())
		if err != nil {
			t.Fatal(err)
		}
		// The agent sees inbox A only: 4 open and not snoozed (the ended snooze counts as open).
		if vc.Open != 4 || vc.Unassigned != 2 || vc.Mine != 1 || vc.Snoozed != 1 {
			t.Errorf("agent counts %+v", vc)
		}
		if vc.ByInbox[f.a.ID] != 4 || vc.ByInbox[f.b.ID] != 0 || vc.ByChannel[f.chA] != 3 || vc.ByChannel[f.chB] != 0 || vc.ByTeam[f.team.ID] != 1 {
			t.Errorf("agent groups %+v", vc)
		}
		vc, err = s.ViewCounts(ctx, f.admin, store.Now())
		if err != nil {
			t.Fatal(err)
		}
		if vc.Open != 5 || vc.Unassigned != 3 || vc.Mine != 1 || vc.Snoozed != 2 || vc.ByInbox[f.b.ID] != 1 || vc.ByChannel[f.chB] != 1 {
			t.Errorf("admin counts %+v", vc)
		}

		teams, err := s.TeamsOf(ctx, f.agent.ID)
		if err != nil || len(teams) != 1 || teams[0].Name != "Billing" {
			t.Errorf("teams of agent: %v %v", teams, err)
		}
		if teams, _ := s.TeamsOf(ctx, f.admin.ID); len(teams) != 0 {
			t.Errorf("admin is in no team: %v", teams)
		}
		chs, err := s.VisibleChannels(ctx, f.agent)
		if err != nil || len(chs) != 1 || chs[0].ID != f.chA {
			t.Errorf("agent channels: %v %v", chs, err)
		}
		if chs, _ := s.VisibleChannels(ctx, f.admin); len(chs) != 2 {
			t.Errorf("admin channels: %v", chs)
		}
	})
}

func TestListFilterSnoozedAndActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		ids := func(cf store.ConversationFilter) map[int64]bool {
			t.Helper()
			list, _, err := s.Conversations(ctx, cf)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]bool{}
			for _, c := range list {
				out[c.ID] = true
			}
			return out
		}
		yes, no := true, false
		got := ids(store.ConversationFilter{InboxID: &f.a.ID, Status: "open", Snoozed: &yes})
		if len(got) != 1 || !got[f.ids["a-snoozed"]] {
			t.Errorf("snoozed: %v", got)
		}
		got = ids(store.ConversationFilter{InboxID: &f.a.ID, Status: "open", Snoozed: &no})
		if len(got) != 4 || got[f.ids["a-snoozed"]] || !got[f.ids["a-snooze-over"]] {
			t.Errorf("not snoozed: %v", got)
		}
		from := store.Now() - 86400_000
		got = ids(store.ConversationFilter{InboxID: &f.a.ID, Status: "open", ActiveFrom: &from})
		if got[f.ids["a-admin"]] || !got[f.ids["a-mine"]] {
			t.Errorf("active from: %v", got)
		}
		got = ids(store.ConversationFilter{InboxID: &f.a.ID, Status: "open", ActiveBefore: &from})
		if len(got) != 1 || !got[f.ids["a-admin"]] {
			t.Errorf("active before: %v", got)
		}
	})
}

func TestContactCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var named, anon store.Contact
		err := s.InTx(ctx, func(tx *store.Tx) error {
			named.Name = "Ada"
			if err := tx.InsertContact(ctx, &named); err != nil {
				return err
			}
			if err := tx.InsertContact(ctx, &anon); err != nil {
				return err
			}
			_, err := tx.AddContactIdentity(ctx, anon.ID, store.Identity{Kind: "email", Value: "anon@example.com"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		cards, err := s.ContactCards(ctx, []int64{named.ID, anon.ID, anon.ID, 999999})
		if err != nil {
			t.Fatal(err)
		}
		if len(cards) != 2 || cards[named.ID].Label() != "Ada" || cards[anon.ID].Label() != "anon@example.com" {
			t.Errorf("cards %+v", cards)
		}
		if cards, err := s.ContactCards(ctx, nil); err != nil || len(cards) != 0 {
			t.Errorf("no ids: %v %v", cards, err)
		}
	})
}

func TestSavedViews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := context.Background()
		var first, second *store.SavedView
		err := s.InTx(ctx, func(tx *store.Tx) error {
			first = &store.SavedView{UserID: f.agent.ID, Name: "VIP", Query: "tag=vip"}
			second = &store.SavedView{UserID: f.agent.ID, Name: "Urgent", Query: "priority=urgent"}
			for _, v := range []*store.SavedView{first, second, {UserID: f.admin.ID, Name: "Admin's", Query: "view=mine"}} {
				if err := tx.InsertSavedView(ctx, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.SavedViews(ctx, f.agent.ID)
		if err != nil || len(list) != 2 || list[0].Name != "VIP" || list[1].Query != "priority=urgent" || list[0].Position >= list[1].Position {
			t.Fatalf("agent's views: %+v %v", list, err)
		}
		if _, err := s.SavedView(ctx, f.admin.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another user's view: %v", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			// Another user can neither rename nor delete it.
			other := *first
			other.UserID, other.Name = f.admin.ID, "Stolen"
			if err := tx.UpdateSavedView(ctx, &other); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("rename another's view: %v", err)
			}
			if err := tx.DeleteSavedView(ctx, f.admin.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("delete another's view: %v", err)
			}
			first.Name = "Very important"
			if err := tx.UpdateSavedView(ctx, first); err != nil {
				return err
			}
			return tx.DeleteSavedView(ctx, f.agent.ID, second.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		list, _ = s.SavedViews(ctx, f.agent.ID)
		if len(list) != 1 || list[0].Name != "Very important" || list[0].Query != "tag=vip" {
			t.Errorf("after rename and delete: %+v", list)
		}
		if list, _ := s.SavedViews(ctx, f.admin.ID); len(list) != 1 || list[0].Name != "Admin's" {
			t.Errorf("admin's views: %+v", list)
		}
	})
}

// The Spam and Trash views list only what the agent may see, newest first, and both engines have
// the indexes that let them read a page per inbox instead of sorting every conversation.
func TestSpamAndTrashViews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		now := store.Now()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for name, c := range map[string]store.Conversation{
				"b-spam":     {InboxID: f.b.ID, Spam: true},
				"b-trash":    {InboxID: f.b.ID, TrashedAt: &now},
				"a-spam-old": {InboxID: f.a.ID, Spam: true, LastActivityAt: now - 86400_000},
			} {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				c.Number = n
				if err := tx.InsertConversation(ctx, &c); err != nil {
					return err
				}
				f.ids[name] = c.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
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
		if got, want := list(f.agent, store.ConversationFilter{Spam: true}), []int64{f.ids["a-spam"], f.ids["a-spam-old"]}; !slices.Equal(got, want) {
			t.Errorf("agent spam %v, want %v", got, want)
		}
		if got, want := list(f.agent, store.ConversationFilter{Trashed: true}), []int64{f.ids["a-trash"]}; !slices.Equal(got, want) {
			t.Errorf("agent trash %v, want %v", got, want)
		}
		if got := list(f.admin, store.ConversationFilter{Spam: true}); len(got) != 3 {
			t.Errorf("admin spam %v", got)
		}
		if got := list(f.admin, store.ConversationFilter{Trashed: true}); len(got) != 2 {
			t.Errorf("admin trash %v", got)
		}
		idx, err := s.IndexesForTest(ctx, "conversations")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"conversations_view_counts", "conversations_channel_activity", "conversations_team_activity",
			"conversations_spam_activity", "conversations_trash_activity"} {
			if !idx[name] {
				t.Errorf("no index %s", name)
			}
		}
	})
}
