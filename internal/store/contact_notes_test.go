package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestContactNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ana := &store.User{Email: "ana@example.com", Name: "Ana Agent", Role: "agent", Locale: "en", TimeZone: "UTC"}
		ada := &store.Contact{Name: "Ada"}
		bob := &store.Contact{Name: "Bob"}
		var notes []*store.ContactNote
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, ana); err != nil {
				return err
			}
			for _, c := range []*store.Contact{ada, bob} {
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
			}
			// Two notes in the same millisecond still list newest (highest id) first.
			for i, body := range []string{"first", "second", "third"} {
				n := &store.ContactNote{ContactID: ada.ID, AuthorID: ana.ID, Body: body, CreatedAt: 1000 + int64(i/2)}
				if err := tx.InsertContactNote(ctx, n); err != nil {
					return err
				}
				notes = append(notes, n)
			}
			return tx.InsertContactNote(ctx, &store.ContactNote{ContactID: bob.ID, AuthorID: ana.ID, Body: "bob's"})
		})
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.ContactNotes(ctx, ada.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].Body != "third" || list[1].Body != "second" || list[2].Body != "first" {
			t.Fatalf("notes = %+v", list)
		}
		if n := list[0]; n.AuthorName != "Ana Agent" || n.AuthorID != ana.ID || n.ContactID != ada.ID || n.UpdatedAt != n.CreatedAt {
			t.Fatalf("note = %+v", n)
		}
		if list, err := s.ContactNotes(ctx, ada.ID, 2); err != nil || len(list) != 2 {
			t.Fatalf("limit 2: %v %v", list, err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.ContactNote(ctx, notes[1].ID)
			if err != nil || n.Body != "second" || n.AuthorName != "Ana Agent" {
				t.Fatalf("get: %+v %v", n, err)
			}
			if err := tx.DeleteContactNote(ctx, notes[1].ID); err != nil {
				return err
			}
			if err := tx.DeleteContactNote(ctx, notes[1].ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
			if _, err := tx.ContactNote(ctx, notes[1].ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deleted note: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if list, err := s.ContactNotes(ctx, ada.ID, 0); err != nil || len(list) != 2 {
			t.Fatalf("after delete: %v %v", list, err)
		}
		if list, err := s.ContactNotes(ctx, 99999, 0); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("no notes must be an empty list: %#v %v", list, err)
		}
	})
}
