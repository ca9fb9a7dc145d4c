package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var conv *store.Conversation
		var uploader *store.User
		err := s.InTx(ctx, func(tx *store.Tx) error {
			uploader = &store.User{Email: "ana@example.com", Name: "Ana", Role: "agent"}
			if err := tx.CreateUser(ctx, uploader); err != nil {
				return err
			}
			in := &store.Inbox{Name: "Support", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			conv = &store.Conversation{Number: n, InboxID: in.ID, Subject: "Invoice"}
			return tx.InsertConversation(ctx, conv)
		})
		if err != nil {
			t.Fatal(err)
		}

		old := &store.File{ID: "old", UploaderID: &uploader.ID, Name: "old.txt", ContentType: "text/plain", Size: 3,
			SHA256: "ab", StorageKey: "ol/old", CreatedAt: 1000}
		fresh := &store.File{ID: "fresh", UploaderID: &uploader.ID, Name: "report.pdf", ContentType: "application/pdf",
			Size: 12345, SHA256: "cd", StorageKey: "fr/fresh", CreatedAt: 5000}
		inbound := &store.File{ID: "inbound", Name: "photo.png", ContentType: "image/png", Size: 1, SHA256: "ef",
			StorageKey: "in/inbound", CreatedAt: 500}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for _, f := range []*store.File{old, fresh, inbound} {
				if err := tx.InsertFile(ctx, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertFile(ctx, old) }); !store.IsConflict(err) {
			t.Fatalf("a taken id: %v", err)
		}

		got, err := s.File(ctx, "fresh")
		if err != nil || got.Name != "report.pdf" || got.Size != 12345 || got.UploaderID == nil || *got.UploaderID != uploader.ID ||
			got.ConversationID != nil || got.Attached() || got.StorageKey != "fr/fresh" {
			t.Fatalf("file: %+v %v", got, err)
		}
		if _, err := s.File(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing file: %v", err)
		}

		// Attaching twice keeps the first time.
		for _, now := range []int64{7000, 9000} {
			if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AttachFile(ctx, "fresh", conv.ID, now) }); err != nil {
				t.Fatal(err)
			}
		}
		got, err = s.File(ctx, "fresh")
		if err != nil || got.ConversationID == nil || *got.ConversationID != conv.ID || got.AttachedAt == nil || *got.AttachedAt != 7000 {
			t.Fatalf("attached: %+v %v", got, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AttachFile(ctx, "nope", conv.ID, 1) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("attach a missing file: %v", err)
		}

		// Loose: never attached and older than the cutoff; attached files stay.
		loose, err := s.LooseFiles(ctx, 2000, 10)
		if err != nil || len(loose) != 2 || loose[0].ID != "inbound" || loose[1].ID != "old" {
			t.Fatalf("loose files: %+v %v", loose, err)
		}
		if loose, err := s.LooseFiles(ctx, 2000, 1); err != nil || len(loose) != 1 {
			t.Fatalf("limit: %+v %v", loose, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteFile(ctx, "old") }); err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteFile(ctx, "old") }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}

		// The sweep's delete checks again: a file listed as loose and attached since stays.
		listed, err := s.LooseFiles(ctx, 2000, 10)
		if err != nil || len(listed) != 1 || listed[0].ID != "inbound" {
			t.Fatalf("loose before attach: %+v %v", listed, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AttachFile(ctx, "inbound", conv.ID, 9500) }); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"inbound", "fresh"} {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if gone, err := tx.DeleteLooseFile(ctx, id, 1<<62); err != nil || gone {
					t.Fatalf("swept attached file %s: %v %v", id, gone, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A file on one conversation does not move to another.
		var other *store.Conversation
		err = s.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			other = &store.Conversation{Number: n, InboxID: conv.InboxID, Subject: "Other"}
			return tx.InsertConversation(ctx, other)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AttachFile(ctx, "fresh", other.ID, 9600) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("attach to a second conversation: %v", err)
		}
		if got, err := s.File(ctx, "fresh"); err != nil || *got.ConversationID != conv.ID {
			t.Fatalf("moved: %+v %v", got, err)
		}
		// A loose file is deleted once.
		loner := &store.File{ID: "loner", Name: "x.txt", ContentType: "text/plain", Size: 1, SHA256: "00",
			StorageKey: "lo/loner", CreatedAt: 100}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertFile(ctx, loner) }); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				gone, err := tx.DeleteLooseFile(ctx, "loner", 2000)
				if err != nil || gone != want {
					t.Fatalf("delete loose #%d: %v %v", i, gone, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		// EnsureSetting: the first value wins.
		v, err := s.EnsureSetting(ctx, "files_test_key", "first")
		if err != nil || v != "first" {
			t.Fatalf("ensure: %q %v", v, err)
		}
		if v, err := s.EnsureSetting(ctx, "files_test_key", "second"); err != nil || v != "first" {
			t.Fatalf("ensure again: %q %v", v, err)
		}
	})
}
