package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestChatVisitorContext: a session's browser and time zone are kept (an empty time zone keeps
// the one known), pages are recorded newest first with a reload not counted twice, only the last
// MaxChatPageViews are kept, and one visitor's pages never show as another's.
func TestChatVisitorContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := &store.Inbox{Name: "Website", Access: "everyone"}
		ch := &store.Channel{Kind: "chat", Name: "Website"}
		var a, b *store.ChatVisitor
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			ch.InboxID = in.ID
			if _, err := tx.InsertChannel(ctx, ch); err != nil {
				return err
			}
			for i, p := range []**store.ChatVisitor{&a, &b} {
				v := &store.ChatVisitor{ChannelID: ch.ID, TokenHash: fmt.Sprintf("hash-%d", i), CreatedAt: 1000}
				if err := tx.InsertChatVisitor(ctx, v); err != nil {
					return err
				}
				*p = v
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		inTx := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := s.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		inTx(func(tx *store.Tx) error {
			return tx.SetChatVisitorBrowser(ctx, a.ID, "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "Europe/Stockholm")
		})
		inTx(func(tx *store.Tx) error { return tx.SetChatVisitorBrowser(ctx, a.ID, "Mozilla/5.0 Firefox/129.0", "") })
		inTx(func(tx *store.Tx) error { return tx.RecordChatPage(ctx, a.ID, "https://x.test/", "Home", 2000) })
		inTx(func(tx *store.Tx) error {
			return tx.RecordChatPage(ctx, a.ID, "https://x.test/", "Home (reloaded)", 2500)
		})
		inTx(func(tx *store.Tx) error {
			return tx.RecordChatPage(ctx, a.ID, "https://x.test/pricing", "Pricing", 3000)
		})
		inTx(func(tx *store.Tx) error { return tx.RecordChatPage(ctx, b.ID, "https://x.test/b", "B", 3000) })

		got, err := s.ChatVisitorContext(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.UserAgent != "Mozilla/5.0 Firefox/129.0" || got.TimeZone != "Europe/Stockholm" || got.PageTitle != "Pricing" ||
			got.Visitor.PageURL != "https://x.test/pricing" || got.Visitor.LastSeenAt != 3000 {
			t.Fatalf("context %+v", got)
		}
		if len(got.Pages) != 2 || got.Pages[0].URL != "https://x.test/pricing" || got.Pages[1].Title != "Home (reloaded)" ||
			got.Pages[1].At != 2500 {
			t.Fatalf("pages %+v", got.Pages)
		}

		for i := range store.MaxChatPageViews + 5 {
			inTx(func(tx *store.Tx) error {
				return tx.RecordChatPage(ctx, a.ID, fmt.Sprintf("https://x.test/p%d", i), "", int64(4000+i))
			})
		}
		got, err = s.ChatVisitorContext(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Pages) != store.MaxChatPageViews || got.Pages[0].URL != fmt.Sprintf("https://x.test/p%d", store.MaxChatPageViews+4) ||
			got.Pages[len(got.Pages)-1].URL != "https://x.test/p5" {
			t.Fatalf("after %d more pages: %d kept, newest %+v, oldest %+v", store.MaxChatPageViews+5, len(got.Pages), got.Pages[0], got.Pages[len(got.Pages)-1])
		}
		n, err := store.CountChatPageViews(ctx, s, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n != store.MaxChatPageViews {
			t.Fatalf("%d rows kept, want %d", n, store.MaxChatPageViews)
		}
		other, err := s.ChatVisitorContext(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(other.Pages) != 1 || other.Pages[0].URL != "https://x.test/b" || other.UserAgent != "" {
			t.Fatalf("visitor b: %+v", other)
		}
		if _, err := s.ChatVisitorContext(ctx, b.ID+100); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown visitor: %v", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.RecordChatPage(ctx, b.ID+100, "https://x.test/", "", 1) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("page of an unknown visitor: %v", err)
		}
	})
}
