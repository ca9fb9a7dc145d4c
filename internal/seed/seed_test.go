package seed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestSeedCountsAndData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		o := seed.Options{Conversations: 200, Messages: 3, Users: 6, Teams: 2, Inboxes: 3, Seed: 7,
			Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
		sum, err := seed.Run(ctx, s, o)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := s.RowCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int64{"conversations": 200, "contacts": 100, "users": 6, "teams": 2,
			"inboxes": 3, "channels": 6} {
			if counts[table] != want || sum.Added[table] != want {
				t.Errorf("%s: %d rows (summary says %d), want %d", table, counts[table], sum.Added[table], want)
			}
		}
		if m := counts["messages"]; m < 200 || m > 200*5 {
			t.Errorf("messages: %d, want 1 to 5 per conversation", m)
		}
		if got, want := counts["search_index"], counts["conversations"]+counts["messages"]; got != want {
			t.Errorf("search index: %d rows, want one per subject and message (%d)", got, want)
		}

		// The data is usable through the normal reads.
		list, next, err := s.Conversations(ctx, store.ConversationFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 50 || next == nil {
			t.Fatalf("list: %d rows, next %v", len(list), next)
		}
		for i := 1; i < len(list); i++ {
			if list[i].LastActivityAt > list[i-1].LastActivityAt {
				t.Fatal("list not ordered by last activity")
			}
		}
		found, _, err := s.Conversations(ctx, store.ConversationFilter{Q: seed.Vocabulary()[0]})
		if err != nil || len(found) == 0 {
			t.Fatalf("searching the most common word found %d (%v)", len(found), err)
		}

		// Ids and numbers continue after the seeded rows.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			c := &store.Conversation{Number: n, InboxID: list[0].InboxID}
			return tx.InsertConversation(ctx, c)
		})
		if err != nil {
			t.Fatalf("a conversation after seeding: %v", err)
		}

		// A second run refuses the database in use, unless forced.
		if _, err := seed.Run(ctx, s, o); !errors.Is(err, seed.ErrNotEmpty) {
			t.Fatalf("second run: %v, want ErrNotEmpty", err)
		}
		o.Force = true
		sum, err = seed.Run(ctx, s, o)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Added["conversations"] != 200 || sum.Added["users"] != 6 {
			t.Fatalf("forced run added %v", sum.Added)
		}
	})
}

func TestSeedIsRepeatable(t *testing.T) {
	ctx := context.Background()
	o := seed.Options{Conversations: 50, Messages: 4, Users: 4, Teams: 1, Inboxes: 2, Seed: 3,
		Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	var subjects [2][]string
	for i := range subjects {
		s := storetest.OpenSQLite(t)
		if _, err := seed.Run(ctx, s, o); err != nil {
			t.Fatal(err)
		}
		list, _, err := s.Conversations(ctx, store.ConversationFilter{Limit: 200, AnyState: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			subjects[i] = append(subjects[i], c.Subject)
		}
	}
	if len(subjects[0]) != 50 || len(subjects[0]) != len(subjects[1]) {
		t.Fatalf("listed %d and %d conversations", len(subjects[0]), len(subjects[1]))
	}
	for i := range subjects[0] {
		if subjects[0][i] != subjects[1][i] {
			t.Fatalf("run 2 differs at %d: %q vs %q", i, subjects[0][i], subjects[1][i])
		}
	}
}

func TestSeedRefusesBadOptions(t *testing.T) {
	s := storetest.OpenSQLite(t)
	for _, o := range []seed.Options{
		{Conversations: -1, Messages: 1, Users: 1, Inboxes: 1},
		{Conversations: 1, Messages: 0, Users: 1, Inboxes: 1},
		{Conversations: 1, Messages: 1, Users: 0, Inboxes: 1},
		{Conversations: 1, Messages: 1, Users: 1, Inboxes: 0},
		{Conversations: 1, Messages: 1, Users: 1, Inboxes: 3, Channels: 2},
	} {
		if _, err := seed.Run(context.Background(), s, o); err == nil {
			t.Errorf("%+v: accepted", o)
		}
	}
}
