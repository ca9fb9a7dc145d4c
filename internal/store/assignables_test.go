package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestAssignablesAndRecentTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		users := map[string]*store.User{}
		var support, other *store.Inbox
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, u := range []struct{ name, role string }{
				{"olivia owner", "owner"}, {"Bea Member", "agent"}, {"Carl Teammate", "agent"},
				{"Dora Outsider", "agent"}, {"Emil Gone", "agent"},
			} {
				usr := &store.User{Email: u.name + "@example.com", Name: u.name, Role: u.role, Locale: "en", TimeZone: "UTC"}
				if err := tx.CreateUser(ctx, usr); err != nil {
					return err
				}
				users[u.name] = usr
			}
			gone := users["Emil Gone"]
			gone.DeactivatedAt = new(int64)
			if err := tx.UpdateUser(ctx, gone); err != nil {
				return err
			}
			team := &store.Team{Name: "Billing"}
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: team.ID, UserID: users["Carl Teammate"].ID}); err != nil {
				return err
			}
			support = &store.Inbox{Name: "Support", Access: "specific", UserIDs: []int64{users["Bea Member"].ID, gone.ID},
				TeamIDs: []int64{team.ID}}
			if err := tx.CreateInbox(ctx, support); err != nil {
				return err
			}
			other = &store.Inbox{Name: "Other", Access: "specific"}
			if err := tx.CreateInbox(ctx, other); err != nil {
				return err
			}
			if err := tx.SetAvailabilityStatus(ctx, users["Bea Member"].ID, "away", nil, store.Now()); err != nil {
				return err
			}
			if err := tx.SetWorkingHours(ctx, users["Carl Teammate"].ID, json.RawMessage(`{"enabled":true,"time_zone":"UTC","days":{}}`), store.Now()); err != nil {
				return err
			}
			three := int64(3)
			if err := tx.SetCapacity(ctx, &store.Capacity{UserID: users["Bea Member"].ID, Total: &three}); err != nil {
				return err
			}
			// Bea has two open conversations (one in another inbox), one closed, one spam.
			bea := users["Bea Member"].ID
			for i, c := range []store.Conversation{
				{InboxID: support.ID, AssigneeID: &bea},
				{InboxID: other.ID, AssigneeID: &bea},
				{InboxID: support.ID, AssigneeID: &bea, Status: "closed"},
				{InboxID: support.ID, AssigneeID: &bea, Spam: true},
			} {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				c.Number = n
				if err := tx.InsertConversation(ctx, &c); err != nil {
					return err
				}
				tags := [][]string{{"vip", "Refund"}, {"secret-other"}, {"billing"}, {"vip"}}[i]
				if err := tx.SetConversationTags(ctx, c.ID, tags); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		got, err := s.Assignables(ctx, support.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range got {
			names = append(names, a.Name)
		}
		// By name, case-insensitively; the owner sees every inbox; outsiders and the deactivated do not.
		if want := []string{"Bea Member", "Carl Teammate", "olivia owner"}; !slices.Equal(names, want) {
			t.Fatalf("assignables %v, want %v", names, want)
		}
		bea, carl, owner := got[0], got[1], got[2]
		if bea.Status != "away" || bea.CapacityTotal == nil || *bea.CapacityTotal != 3 || bea.OpenTotal != 2 {
			t.Fatalf("bea: %+v", bea)
		}
		if carl.Status != "available" || carl.WorkingHours == nil || carl.CapacityTotal != nil || carl.OpenTotal != 0 {
			t.Fatalf("carl: %+v", carl)
		}
		if owner.Role != "owner" || owner.WorkingHours != nil {
			t.Fatalf("owner: %+v", owner)
		}
		if got, err := s.Assignables(ctx, other.ID); err != nil || len(got) != 1 || got[0].Name != "olivia owner" {
			t.Fatalf("other inbox: %+v %v", got, err)
		}

		tags, err := s.RecentInboxTags(ctx, support.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"billing", "Refund", "vip"}; !slices.Equal(tags, want) {
			t.Fatalf("tags %v, want %v", tags, want)
		}
		if tags, err := s.RecentInboxTags(ctx, 999999); err != nil || len(tags) != 0 {
			t.Fatalf("unknown inbox: %v %v", tags, err)
		}
	})
}

// OpenTotal comes from the open-count counters: it follows a conversation closed, reassigned,
// marked spam, trashed and reopened, on both engines.
func TestAssignablesOpenTotalFollowsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ana, ben *store.User
		var inbox *store.Inbox
		var ids []int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			ana = &store.User{Email: "ana@example.com", Name: "Ana", Role: "agent", Locale: "en", TimeZone: "UTC"}
			ben = &store.User{Email: "ben@example.com", Name: "Ben", Role: "agent", Locale: "en", TimeZone: "UTC"}
			for _, u := range []*store.User{ana, ben} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			inbox = &store.Inbox{Name: "Support", Access: "everyone"}
			if err := tx.CreateInbox(ctx, inbox); err != nil {
				return err
			}
			for range 3 {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				c := store.Conversation{InboxID: inbox.ID, Number: n, AssigneeID: &ana.ID}
				if err := tx.InsertConversation(ctx, &c); err != nil {
					return err
				}
				ids = append(ids, c.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		change := func(id int64, fn func(c *store.Conversation)) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				c, err := tx.Conversation(ctx, id)
				if err != nil {
					return err
				}
				fn(c)
				return tx.UpdateConversation(ctx, c)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		want := func(wantAna, wantBen int64) {
			t.Helper()
			got, err := s.Assignables(ctx, inbox.ID)
			if err != nil {
				t.Fatal(err)
			}
			open := map[int64]int64{}
			for _, a := range got {
				open[a.ID] = a.OpenTotal
			}
			if open[ana.ID] != wantAna || open[ben.ID] != wantBen {
				t.Fatalf("open totals ana %d ben %d, want %d %d", open[ana.ID], open[ben.ID], wantAna, wantBen)
			}
		}
		want(3, 0)
		change(ids[0], func(c *store.Conversation) { c.Status = "closed" })
		want(2, 0)
		change(ids[1], func(c *store.Conversation) { c.AssigneeID = &ben.ID })
		want(1, 1)
		change(ids[2], func(c *store.Conversation) { c.Spam = true })
		want(0, 1)
		now := store.Now()
		change(ids[1], func(c *store.Conversation) { c.TrashedAt = &now })
		want(0, 0)
		change(ids[0], func(c *store.Conversation) { c.Status = "open" })
		want(1, 0)
	})
}
