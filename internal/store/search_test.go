package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// seedSearch stores one conversation with indexed text, so search queries have rows to test.
func seedSearch(tb testing.TB, s *store.Store) int64 {
	tb.Helper()
	ctx := context.Background()
	var id int64
	err := s.InTx(ctx, func(tx *store.Tx) error {
		in := &store.Inbox{Name: "Support", Access: "everyone"}
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		n, err := tx.NextConversationNumber(ctx)
		if err != nil {
			return err
		}
		c := &store.Conversation{Number: n, InboxID: in.ID, Subject: "Invoice for March"}
		if err := tx.InsertConversation(ctx, c); err != nil {
			return err
		}
		id = c.ID
		for _, text := range []string{c.Subject, `He said "refund" (twice) & left: café`, "ada@example.com wrote"} {
			if err := tx.IndexText(ctx, c.ID, text); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestSearchQueryMatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		id := seedSearch(t, s)
		for q, want := range map[string]bool{
			"invoice": true, "Invoi": true, "march invoice": true, `"refund"`: true, "(twice)": true,
			"ada@example.com": true, "invoice april": false, "refun": true, "efund": false, "": true,
		} {
			list, _, err := s.Conversations(t.Context(), store.ConversationFilter{Q: q})
			if err != nil {
				t.Fatalf("q=%q: %v", q, err)
			}
			if got := len(list) == 1 && list[0].ID == id; got != want {
				t.Errorf("q=%q: found=%v, want %v", q, got, want)
			}
		}
	})
}

func TestSearchQueryQuoting(t *testing.T) {
	for _, tc := range []struct {
		q              string
		sqlite, postgr string
	}{
		{"", "", ""},
		{"  *** ( ) ", "", ""},
		{"invoice", `"invoice"*`, `'invoice':*`},
		{`say "hi"`, `"say" """hi"""*`, `'say' & '"hi"':*`},
		{`it's a\b`, `"it's" "a\b"*`, `'it''s' & 'a b':*`},
		{"NEAR(a b)", `"NEAR(a" "b)"*`, `'NEAR(a' & 'b)':*`},
	} {
		if got := store.SearchQuery(store.SQLite, tc.q); got != tc.sqlite {
			t.Errorf("sqlite %q: got %s, want %s", tc.q, got, tc.sqlite)
		}
		if got := store.SearchQuery(store.Postgres, tc.q); got != tc.postgr {
			t.Errorf("postgres %q: got %s, want %s", tc.q, got, tc.postgr)
		}
	}
}

// FuzzSearchQuery runs arbitrary user queries through both engines' full-text search: none
// may fail, whatever operators, quotes or bytes they hold.
func FuzzSearchQuery(f *testing.F) {
	for _, seed := range []string{"invoice", `"`, `'`, "*", "NEAR(a b)", "a OR b", "-x", "col:x", "((", `\`,
		"\x00", "\xff", "日本語", `'':*`, "a & b | !c", "<->", "^x", `"a" "b"*`, "x*y", "{a b}", "+-"} {
		f.Add(seed)
	}
	var stores []*store.Store
	for _, e := range storetest.Engines(f) {
		s := e.Open(f)
		seedSearch(f, s)
		stores = append(stores, s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, s := range stores {
			if _, _, err := s.Conversations(context.Background(), store.ConversationFilter{Q: q, Limit: 5}); err != nil {
				t.Fatalf("%s: q=%q (built %q): %v", s.Dialect(), q, store.SearchQuery(s.Dialect(), q), err)
			}
		}
		if built := store.SearchQuery(store.SQLite, q); strings.Count(built, `"`)%2 != 0 {
			t.Fatalf("unbalanced quotes in %q", built)
		}
	})
}
