package store_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// BotActive (the Bots view, CHAT-9) lists only the conversations whose bot run is active: not
// one whose bot handed off or ended, not one that never had a bot, and still only in the inboxes
// the user may see; the search narrows it like any other view.
func TestConversationFilterBotActive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := seedViews(t, s)
		ctx := t.Context()
		var botID int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			b := &store.Bot{Name: "Greeter", Definition: json.RawMessage(`{"schema":1,"version":1,"steps":[]}`)}
			if err := tx.InsertBot(ctx, b); err != nil {
				return err
			}
			botID = b.ID
			for name, status := range map[string]string{"a-unassigned": store.BotRunActive, "a-mine": store.BotRunHandedOff,
				"b-unassigned": store.BotRunActive, "a-closed": store.BotRunEnded} {
				id, ok := f.ids[name]
				if !ok {
					t.Fatalf("the seed has no %s", name)
				}
				if err := tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: id, BotID: b.ID, Version: 1, FlowID: 1,
					State: json.RawMessage(`{}`), Status: status}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		list := func(u *store.User, cf store.ConversationFilter) []int64 {
			t.Helper()
			cf.ForUser, cf.VisibleOnly, cf.BotActive = u.ID, !u.IsAdmin(), true
			got, _, err := s.Conversations(ctx, cf)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			slices.Sort(ids)
			return ids
		}
		want := []int64{f.ids["a-unassigned"], f.ids["b-unassigned"]}
		slices.Sort(want)
		if got := list(f.admin, store.ConversationFilter{Status: "open"}); !slices.Equal(got, want) {
			t.Errorf("admin's Bots view %v, want %v", got, want)
		}
		if got := list(f.agent, store.ConversationFilter{Status: "open"}); !slices.Equal(got, []int64{f.ids["a-unassigned"]}) {
			t.Errorf("agent's Bots view %v, want only inbox A's", got)
		}
		if got := list(f.admin, store.ConversationFilter{Status: "open", InboxID: &f.b.ID}); !slices.Equal(got, []int64{f.ids["b-unassigned"]}) {
			t.Errorf("Bots view of inbox B %v", got)
		}
		if got := list(f.admin, store.ConversationFilter{Q: "nothing matches this"}); len(got) != 0 {
			t.Errorf("Bots view searched for nothing: %v", got)
		}
		// The bot's deletion takes its runs with it.
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteBot(ctx, botID) }); err != nil {
			t.Fatal(err)
		}
		if got := list(f.admin, store.ConversationFilter{}); len(got) != 0 {
			t.Errorf("Bots view after the bot was deleted: %v", got)
		}
	})
}
