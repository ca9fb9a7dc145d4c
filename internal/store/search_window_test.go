package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// A search that starts from a small window of the newest matches (and checks each contact
// instead of collecting them) lists exactly what reading every match lists: same rows, same
// order, same pages, for both sort orders, with filters and cursors.
func TestSearchWindowIsExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := seed.Run(ctx, s, seed.Options{Conversations: 300, Messages: 3, Users: 6, Teams: 2, Inboxes: 3,
			Seed: 5, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		// Revive some old conversations, so that list order and id order disagree.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, id := range []int64{3, 17, 42, 99} {
				c, err := tx.Conversation(ctx, id)
				if err != nil {
					return err
				}
				c.LastActivityAt = time.Date(2026, 6, 1, 11, 0, int(id), 0, time.UTC).UnixMilli()
				c.Status = "open"
				if err := tx.UpdateConversation(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		words := seed.Vocabulary()
		queries := []string{words[0], words[5] + " " + words[0], words[40], words[len(words)-1],
			"ref", "Ada", "example", "zzzznothing"}
		agent := int64(2)
		filters := []store.ConversationFilter{
			{Limit: 25},
			{Limit: 25, Oldest: true},
			{Limit: 10, Status: "open"},
			{Limit: 20, Status: "closed", Oldest: true},
			{Limit: 15, ForUser: agent, VisibleOnly: true},
			{Limit: 20, AssigneeID: &agent},
		}
		pages := func(f store.ConversationFilter) []int64 {
			t.Helper()
			var ids []int64
			for range 100 {
				list, next, err := s.Conversations(ctx, f)
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				for _, c := range list {
					ids = append(ids, c.ID)
				}
				if next == nil {
					return ids
				}
				f.After = next
			}
			t.Fatalf("%+v: more than 100 pages", f)
			return nil
		}
		for _, q := range queries {
			for _, f := range filters {
				f.Q = q
				restore := store.SetSearchWindow(1_000_000, 1_000_000)
				want := pages(f)
				restore()
				for _, w := range [][2]int{{1, 1}, {20, 5}} {
					restore := store.SetSearchWindow(w[0], w[1])
					got := pages(f)
					restore()
					if !slices.Equal(got, want) {
						t.Fatalf("q=%q %+v window %v:\n got %v\nwant %v", q, f, w, got, want)
					}
				}
			}
		}
	})
}
