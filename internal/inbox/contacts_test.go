package inbox_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		c, err := f.svc.CreateContact(f.ctx, f.agent, inbox.ContactInput{
			Name: " Ada Lovelace ", Company: "Analytical", Emails: []string{"ADA@example.com"},
			Phones: []string{"+44 20 7946 0958"}, OwnerID: &f.agent.ID,
			Properties: json.RawMessage(`{"plan": "pro", "seats": 3}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Ada Lovelace" || c.Company != "Analytical" || *c.OwnerID != f.agent.ID ||
			!slices.Equal(inbox.ContactEmails(c), []string{"ada@example.com"}) ||
			!slices.Equal(inbox.ContactPhones(c), []string{"+442079460958"}) {
			t.Fatalf("created = %+v", c)
		}
		var props map[string]any
		if err := json.Unmarshal(c.Properties, &props); err != nil || props["plan"] != "pro" {
			t.Fatalf("properties = %s", c.Properties)
		}

		// Validation.
		for _, tc := range []struct {
			in   inbox.ContactInput
			code string
		}{
			{inbox.ContactInput{Emails: []string{"not an email"}}, "invalid_email"},
			{inbox.ContactInput{Emails: []string{"Ada <ada@example.com>"}}, "invalid_email"},
			{inbox.ContactInput{Emails: []string{"ada@localhost"}}, "invalid_email"},
			{inbox.ContactInput{Phones: []string{"0701234567"}}, "invalid_phone"},
			{inbox.ContactInput{Phones: []string{"+1234567"}}, "invalid_phone"},
			{inbox.ContactInput{Phones: []string{"+1234567890123456"}}, "invalid_phone"},
			{inbox.ContactInput{Properties: json.RawMessage(`[1]`)}, "invalid_properties"},
			{inbox.ContactInput{OwnerID: ptr(int64(9999))}, "owner_not_found"},
			{inbox.ContactInput{Emails: []string{"ada@example.com"}}, "identity_taken"},
		} {
			_, err := f.svc.CreateContact(f.ctx, f.agent, tc.in)
			wantCode(t, err, tc.code)
		}

		// Update: fields, identities, merged properties.
		got, err := f.svc.UpdateContact(f.ctx, f.agent, c.ID, inbox.ContactPatch{
			Name: ptr("Ada King"), ClearOwner: true, Blocked: ptr(true),
			Properties: json.RawMessage(`{"plan": "enterprise", "seats": null, "region": "eu"}`),
			AddEmails:  []string{"ada.king@example.com", "ada@example.com"}, RemovePhones: []string{"+442079460958"},
			AddPhones: []string{"+46701234567"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ada King" || got.Company != "Analytical" || got.OwnerID != nil || !got.Blocked ||
			!slices.Equal(inbox.ContactEmails(got), []string{"ada@example.com", "ada.king@example.com"}) ||
			!slices.Equal(inbox.ContactPhones(got), []string{"+46701234567"}) {
			t.Fatalf("updated = %+v", got)
		}
		props = nil
		if err := json.Unmarshal(got.Properties, &props); err != nil {
			t.Fatal(err)
		}
		if props["plan"] != "enterprise" || props["region"] != "eu" || props["seats"] != nil {
			t.Fatalf("merged properties = %v", props)
		}
		other, err := f.svc.CreateContact(f.ctx, f.agent, inbox.ContactInput{Name: "Other", Emails: []string{"other@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.UpdateContact(f.ctx, f.agent, other.ID, inbox.ContactPatch{AddEmails: []string{"ADA@example.com"}})
		wantCode(t, err, "identity_taken")
		_, err = f.svc.UpdateContact(f.ctx, f.agent, 9999, inbox.ContactPatch{Name: ptr("x")})
		wantCode(t, err, "contact_not_found")
		_, _, err = f.svc.Contact(f.ctx, f.agent, 9999)
		wantCode(t, err, "contact_not_found")

		// Inbound mail from the added address threads to this contact.
		_, conv := f.receive("t", "hello", func(in *inbox.Inbound) {
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "Ada.King@example.com"}}
		})
		if *conv.ContactID != c.ID {
			t.Fatalf("inbound matched contact %d, want %d", *conv.ContactID, c.ID)
		}
		_, convs, err := f.svc.Contact(f.ctx, f.agent, c.ID)
		if err != nil || len(convs) != 1 || convs[0].ID != conv.ID || !convs[0].Spam {
			t.Fatalf("contact conversations = %v, %v", convs, err) // blocked: listed, flagged spam
		}
	})
}

// A contact is visible to agents who can see one of its conversations, or to everyone while it
// has none; once it writes into an inbox, agents outside that inbox lose it.
func TestContactVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		c, err := f.svc.CreateContact(f.ctx, f.agent, inbox.ContactInput{Name: "Hand made", Emails: []string{"hand@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*store.User{f.agent, f.seller, f.outsider, f.admin} {
			if _, _, err := f.svc.Contact(f.ctx, u, c.ID); err != nil {
				t.Fatalf("%s cannot see a contact without conversations: %v", u.Email, err)
			}
		}
		f.receive("t", "hello", func(in *inbox.Inbound) {
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "hand@example.com"}}
		})
		_, _, _, err = f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSales.ID, ThreadKey: "s", Text: "x", ContactID: &c.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			u     *store.User
			convs int
		}{{f.agent, 1}, {f.seller, 1}, {f.admin, 2}} {
			_, convs, err := f.svc.Contact(f.ctx, tc.u, c.ID)
			if err != nil || len(convs) != tc.convs {
				t.Fatalf("%s sees %d conversations, want %d (%v)", tc.u.Email, len(convs), tc.convs, err)
			}
			list, _, err := f.svc.Contacts(f.ctx, tc.u, "hand", 10, "")
			if err != nil || len(list) != 1 {
				t.Fatalf("%s lists %d contacts, %v", tc.u.Email, len(list), err)
			}
		}
		_, _, err = f.svc.Contact(f.ctx, f.outsider, c.ID)
		wantCode(t, err, "contact_not_found")
		if list, _, err := f.svc.Contacts(f.ctx, f.outsider, "hand", 10, ""); err != nil || len(list) != 0 {
			t.Fatalf("outsider lists %d contacts, %v", len(list), err)
		}
	})
}

func TestContactList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		var all []int64
		for i, name := range []string{"Ada", "Grace", "Alan", "Barbara", "Edsger", "Donald", "Ken"} {
			c, err := f.svc.CreateContact(f.ctx, f.outsider, inbox.ContactInput{
				Name: name, Emails: []string{name + "@example.com"}, Phones: []string{"+4670000000" + itoa(int64(i))},
			})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, c.ID)
		}
		var got []int64
		cursor := ""
		for range 10 {
			list, next, err := f.svc.Contacts(f.ctx, f.outsider, "", 3, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				got = append(got, c.ID)
				if len(c.Identities) != 2 {
					t.Fatalf("contact %d identities = %v", c.ID, c.Identities)
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		slices.Reverse(got) // newest first
		if !slices.Equal(got, all) {
			t.Fatalf("pages = %v, want %v", got, all)
		}
		for q, want := range map[string]int{"grace": 1, "GRACE@EXAMPLE": 1, "a": 7, "+46700000003": 1, "%": 0, "_": 0, "nobody": 0} {
			list, _, err := f.svc.Contacts(f.ctx, f.agent, q, 50, "")
			if err != nil || len(list) != want {
				t.Errorf("q=%q: %d contacts, want %d (%v)", q, len(list), want, err)
			}
		}
		_, _, err := f.svc.Contacts(f.ctx, f.agent, "", 10, "x")
		wantCode(t, err, "invalid_cursor")
	})
}
