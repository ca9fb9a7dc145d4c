package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestEmailFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var a, b store.Inbox
		err := s.InTx(ctx, func(tx *store.Tx) error {
			a = store.Inbox{Name: "A", Access: "everyone"}
			b = store.Inbox{Name: "B", Access: "everyone"}
			if err := tx.CreateInbox(ctx, &a); err != nil {
				return err
			}
			return tx.CreateInbox(ctx, &b)
		})
		if err != nil {
			t.Fatal(err)
		}
		set := func(inboxID int64, f store.EmailFilters) {
			t.Helper()
			if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.SetEmailFilters(ctx, inboxID, f) }); err != nil {
				t.Fatal(err)
			}
		}
		get := func(inboxID int64) *store.EmailFilters {
			t.Helper()
			f, err := s.EmailFilters(ctx, inboxID)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if f := get(a.ID); f.Allow == nil || f.Deny == nil || len(f.Allow)+len(f.Deny) != 0 {
			t.Errorf("new inbox's lists %+v, want two empty lists", f)
		}

		set(a.ID, store.EmailFilters{
			Allow: []string{"vip@spammy.example", "partner.example", "boss@corp.example", "both.example", "mail.corp.example"},
			Deny:  []string{"spammy.example", "corp.example", "both.example", "nobody@partner.example", "sub.partner.example"},
		})
		set(b.ID, store.EmailFilters{Deny: []string{"partner.example"}})
		if f := get(a.ID); !slices.Equal(f.Allow, []string{"boss@corp.example", "both.example", "mail.corp.example", "partner.example", "vip@spammy.example"}) ||
			len(f.Deny) != 5 || f.Deny[0] != "both.example" {
			t.Errorf("inbox A's lists %+v", f)
		}

		verdict := func(inboxID int64, address string) string {
			t.Helper()
			var v string
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				v, err = tx.EmailFilterVerdict(ctx, inboxID, address)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// The read pool's variant (the email channel's, before its transaction) agrees.
			if rv, err := s.EmailFilterVerdict(ctx, inboxID, address); err != nil || rv != v {
				t.Errorf("%q: Store says %q %v, Tx says %q", address, rv, err, v)
			}
			return v
		}
		for _, c := range []struct {
			address, want string
		}{
			{"vip@spammy.example", "allow"},              // the exact address beats its domain's deny
			{"VIP@Spammy.Example", "allow"},              // in any case
			{"other@spammy.example", "deny"},             // the domain
			{"x@mx.spammy.example", "deny"},              // a subdomain matches its parent
			{"x@a.b.spammy.example", "deny"},             // at any depth
			{"x@notspammy.example", ""},                  // but not a longer name ending the same way
			{"x@partner.example", "allow"},               //
			{"nobody@partner.example", "deny"},           // the exact address beats its domain's allow
			{"x@sub.partner.example", "deny"},            // a subdomain's entry beats its parent's
			{"x@a.sub.partner.example", "deny"},          // and covers its own subdomains
			{"boss@corp.example", "allow"},               //
			{"x@corp.example", "deny"},                   //
			{"x@mail.corp.example", "allow"},             // the subdomain's allow beats the parent's deny
			{"x@both.example", "allow"},                  // the same entry on both lists: allow wins
			{"x@elsewhere.example", ""},                  //
			{"spammy.example", ""},                       // no address
			{"x@", ""},                                   //
			{"", ""},                                     //
			{" other@spammy.example. ", "deny"},          // trimmed, and the root's dot dropped
			{"a@b@spammy.example", "deny"},               // the domain follows the last @
			{"x@example", ""},                            // a bare top-level name matches no entry
			{"x@" + deep(40) + "spammy.example", "deny"}, // a very deep domain still finds its parent
		} {
			if got := verdict(a.ID, c.address); got != c.want {
				t.Errorf("inbox A, %q: %q, want %q", c.address, got, c.want)
			}
		}
		if got := verdict(b.ID, "x@partner.example"); got != "deny" {
			t.Errorf("inbox B has its own lists: %q", got)
		}
		if got := verdict(b.ID, "vip@spammy.example"); got != "" {
			t.Errorf("inbox A's entries leak into inbox B: %q", got)
		}

		// Setting replaces both lists, and a list of a thousand entries goes in whole.
		var many []string
		for i := range 1000 {
			many = append(many, fmt.Sprintf("sender%d@bulk.example", i))
		}
		set(a.ID, store.EmailFilters{Allow: many})
		if f := get(a.ID); len(f.Allow) != 1000 || len(f.Deny) != 0 {
			t.Errorf("after replacing: %d allowed, %d denied", len(f.Allow), len(f.Deny))
		}
		if got := verdict(a.ID, "other@spammy.example"); got != "" {
			t.Errorf("a replaced entry still decides: %q", got)
		}
		if got := verdict(a.ID, "sender999@bulk.example"); got != "allow" {
			t.Errorf("the last of a thousand entries: %q", got)
		}
		set(a.ID, store.EmailFilters{})
		if f := get(a.ID); len(f.Allow)+len(f.Deny) != 0 {
			t.Errorf("after clearing: %+v", f)
		}

		// Deleting the inbox deletes its lists.
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteInbox(ctx, b.ID) }); err != nil {
			t.Fatal(err)
		}
		if f := get(b.ID); len(f.Deny) != 0 {
			t.Errorf("a deleted inbox's lists remain: %+v", f)
		}
	})
}

// deep is n labels of a host name, each followed by a dot.
func deep(n int) string {
	out := ""
	for i := range n {
		out += fmt.Sprintf("l%d.", i)
	}
	return out
}
