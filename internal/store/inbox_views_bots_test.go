package store_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// A conversation a bot has (active run) is the Bots view's, not Unassigned's (CONV-8): the
// Unassigned list and count leave it out, All open and search keep it, the Bots count is what
// the Bots list shows, and once the run ends the conversation is back in Unassigned.
func TestViewCountsAndListsWithBots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		runs := map[string]string{
			"a-unassigned":  store.BotRunActive,    // the bot's: Bots, not Unassigned
			"a-mine":        store.BotRunActive,    // assigned meanwhile: Bots and Mine
			"a-snoozed":     store.BotRunActive,    // Bots lists it snoozed or not
			"a-snooze-over": store.BotRunHandedOff, // the people's again: Unassigned
			"a-closed":      store.BotRunActive,    // not open: in no count
			"a-spam":        store.BotRunActive,
			"b-unassigned":  store.BotRunActive,
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			b := &store.Bot{Name: "Greeter", Definition: json.RawMessage(`{"schema":1,"version":1,"steps":[]}`)}
			if err := tx.InsertBot(ctx, b); err != nil {
				return err
			}
			for name, status := range runs {
				if err := tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: f.ids[name], BotID: b.ID, Version: 1,
					FlowID: 1, State: json.RawMessage(`{}`), Status: status}); err != nil {
					return err
				}
			}
			return tx.IndexText(ctx, f.ids["a-unassigned"], "pineapple delivery")
		})
		if err != nil {
			t.Fatal(err)
		}
		notSnoozed := false
		list := func(u *store.User, cf store.ConversationFilter) []int64 {
			t.Helper()
			cf.ForUser, cf.VisibleOnly = u.ID, !u.IsAdmin()
			got, _, err := s.Conversations(ctx, cf)
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			slices.Sort(ids)
			return ids
		}
		ids := func(names ...string) []int64 {
			out := []int64{}
			for _, n := range names {
				out = append(out, f.ids[n])
			}
			slices.Sort(out)
			return out
		}
		unassigned := store.ConversationFilter{Status: "open", Unassigned: true, Snoozed: &notSnoozed}
		bots := store.ConversationFilter{Status: "open", BotActive: true}
		open := store.ConversationFilter{Status: "open", Snoozed: &notSnoozed}

		check := func(u *store.User, wantUnassigned, wantBots, wantOpen []int64) {
			t.Helper()
			if got := list(u, unassigned); !slices.Equal(got, wantUnassigned) {
				t.Errorf("%s's Unassigned list %v, want %v", u.Name, got, wantUnassigned)
			}
			if got := list(u, bots); !slices.Equal(got, wantBots) {
				t.Errorf("%s's Bots list %v, want %v", u.Name, got, wantBots)
			}
			if got := list(u, open); !slices.Equal(got, wantOpen) {
				t.Errorf("%s's All open list %v, want %v", u.Name, got, wantOpen)
			}
			vc, err := s.ViewCounts(ctx, u, store.Now())
			if err != nil {
				t.Fatal(err)
			}
			if vc.Unassigned != int64(len(wantUnassigned)) || vc.Bots != int64(len(wantBots)) || vc.Open != int64(len(wantOpen)) {
				t.Errorf("%s's counts: unassigned %d, bots %d, open %d; the lists have %d, %d, %d",
					u.Name, vc.Unassigned, vc.Bots, vc.Open, len(wantUnassigned), len(wantBots), len(wantOpen))
			}
		}
		check(f.agent, ids("a-snooze-over"), ids("a-unassigned", "a-mine", "a-snoozed"),
			ids("a-unassigned", "a-mine", "a-admin", "a-snooze-over"))
		check(f.admin, ids("a-snooze-over"), ids("a-unassigned", "a-mine", "a-snoozed", "b-unassigned"),
			ids("a-unassigned", "a-mine", "a-admin", "a-snooze-over", "b-unassigned"))
		vc, err := s.ViewCounts(ctx, f.agent, store.Now())
		if err != nil {
			t.Fatal(err)
		}
		if vc.Mine != 1 || vc.Snoozed != 1 || vc.ByInbox[f.a.ID] != 4 || vc.ByChannel[f.chA] != 3 {
			t.Errorf("the bot changed other counts: %+v", vc)
		}

		// Search finds the bot's conversation; searching within Unassigned does not.
		if got := list(f.agent, store.ConversationFilter{Status: "open", Q: "pineapple"}); !slices.Equal(got, ids("a-unassigned")) {
			t.Errorf("search: %v", got)
		}
		if got := list(f.agent, store.ConversationFilter{Q: "pineapple"}); !slices.Equal(got, ids("a-unassigned")) {
			t.Errorf("search of every status: %v", got)
		}
		withQ := unassigned
		withQ.Q = "pineapple"
		if got := list(f.agent, withQ); len(got) != 0 {
			t.Errorf("search within Unassigned: %v", got)
		}

		// The bot hands off: the conversation moves from Bots to Unassigned, in lists and counts.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.SetBotRunStatus(ctx, f.ids["a-unassigned"], store.BotRunActive, store.BotRunHandedOff)
			if err == nil && !ok {
				t.Error("the run was not active")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		check(f.agent, ids("a-unassigned", "a-snooze-over"), ids("a-mine", "a-snoozed"),
			ids("a-unassigned", "a-mine", "a-admin", "a-snooze-over"))
		check(f.admin, ids("a-unassigned", "a-snooze-over"), ids("a-mine", "a-snoozed", "b-unassigned"),
			ids("a-unassigned", "a-mine", "a-admin", "a-snooze-over", "b-unassigned"))
	})
}
