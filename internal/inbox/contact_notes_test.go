package inbox_test

import (
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestContactNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		// Ada writes to support and to sales: the agent and the seller both see her, each
		// only with their own inbox's conversation; the outsider does not see her at all.
		_, sup := f.receive("t-sup", "help")
		_, sales := f.receive("t-sales", "pricing?", func(in *inbox.Inbound) { in.ChannelID = f.chSales.ID })
		ada := *sup.ContactID
		if *sales.ContactID != ada {
			t.Fatalf("one email, two contacts: %d %d", ada, *sales.ContactID)
		}
		for _, tc := range []struct {
			u    *store.User
			want []int64
		}{{f.agent, []int64{sup.ID}}, {f.seller, []int64{sales.ID}}, {f.admin, []int64{sales.ID, sup.ID}}} {
			_, convs, err := f.svc.Contact(f.ctx, tc.u, ada)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range convs {
				got = append(got, c.ID)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("%s sees conversations %v, want %v", tc.u.Email, got, tc.want)
			}
		}

		n1, err := f.svc.AddContactNote(f.ctx, f.agent, ada, "  Prefers email.\n")
		if err != nil {
			t.Fatal(err)
		}
		if n1.Body != "Prefers email." || n1.AuthorID != f.agent.ID || n1.AuthorName != "agent" || n1.ContactID != ada {
			t.Fatalf("note = %+v", n1)
		}
		n2, err := f.svc.AddContactNote(f.ctx, f.seller, ada, "Asked about the pro plan")
		if err != nil {
			t.Fatal(err)
		}
		notes, err := f.svc.ContactNotes(f.ctx, f.agent, ada)
		if err != nil || len(notes) != 2 || notes[0].ID != n2.ID || notes[1].ID != n1.ID {
			t.Fatalf("notes (newest first) = %+v, %v", notes, err)
		}

		// Bad input and invisible contacts.
		_, err = f.svc.AddContactNote(f.ctx, f.agent, ada, " \n ")
		wantCode(t, err, "empty_note")
		_, err = f.svc.AddContactNote(f.ctx, f.outsider, ada, "hello")
		wantCode(t, err, "contact_not_found")
		_, err = f.svc.ContactNotes(f.ctx, f.outsider, ada)
		wantCode(t, err, "contact_not_found")
		wantCode(t, f.svc.DeleteContactNote(f.ctx, f.outsider, ada, n1.ID), "contact_not_found")
		_, err = f.svc.AddContactNote(f.ctx, nil, ada, "hello")
		wantCode(t, err, "unauthorized")

		// Only the author or an admin deletes a note, and only through its own contact.
		wantCode(t, f.svc.DeleteContactNote(f.ctx, f.seller, ada, n1.ID), "note_not_yours")
		other, err := f.svc.CreateContact(f.ctx, f.agent, inbox.ContactInput{Name: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.DeleteContactNote(f.ctx, f.agent, other.ID, n1.ID), "note_not_found")
		if err := f.svc.DeleteContactNote(f.ctx, f.agent, ada, n1.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.DeleteContactNote(f.ctx, f.agent, ada, n1.ID), "note_not_found")
		if err := f.svc.DeleteContactNote(f.ctx, f.admin, ada, n2.ID); err != nil {
			t.Fatal(err)
		}
		if notes, err := f.svc.ContactNotes(f.ctx, f.admin, ada); err != nil || len(notes) != 0 {
			t.Fatalf("after deletes: %+v %v", notes, err)
		}
	})
}
