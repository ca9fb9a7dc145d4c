package inbox_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Filing a conversation under Filtered (EMAIL-8) and taking it out again: each move is one
// timeline event naming the actor, the conversation leaves and re-enters the inbox's views, and
// spam and Filtered are one place at a time.
func TestFilteredPatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "Out of office until Monday")
		f.update(f.admin, c.ID, inbox.Patch{AssigneeID: &f.agent.ID})
		inOpen := func() bool { return slices.Contains(f.list(f.agent, inbox.Filter{Status: "open"}), c.ID) }
		inFiltered := func() bool { return slices.Contains(f.list(f.agent, inbox.Filter{Filtered: true}), c.ID) }
		inSpam := func() bool { return slices.Contains(f.list(f.agent, inbox.Filter{Spam: true}), c.ID) }
		open := func() int64 {
			t.Helper()
			vc, err := f.svc.ViewCounts(f.ctx, f.agent)
			if err != nil {
				t.Fatal(err)
			}
			return vc.Mine
		}
		if !inOpen() || inFiltered() || open() != 1 {
			t.Fatal("a new conversation is not in the inbox")
		}
		expectEvent := func(step, typ string) {
			t.Helper()
			evs, err := s.ConversationEvents(f.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			if last.Type != typ || last.ActorID == nil || *last.ActorID != f.agent.ID {
				t.Fatalf("%s: last event %s by %v, want %s by the agent", step, last.Type, last.ActorID, typ)
			}
		}
		count := func() int {
			types, _ := f.events(c.ID)
			return len(types)
		}

		got := f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(true)})
		if !got.Filtered || got.Spam {
			t.Fatalf("filed: %+v", got)
		}
		expectEvent("file", "filtered")
		if inOpen() || !inFiltered() || inSpam() || open() != 0 {
			t.Errorf("filed: open %v, filtered %v, spam %v, Mine count %d", inOpen(), inFiltered(), inSpam(), open())
		}
		n := count()
		f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(true)})
		if count() != n {
			t.Error("filing a filtered conversation again wrote an event")
		}

		got = f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(false)})
		if got.Filtered || got.Spam || got.AssigneeID == nil || *got.AssigneeID != f.agent.ID {
			t.Fatalf("moved to the inbox: %+v", got)
		}
		expectEvent("move to inbox", "unfiltered")
		if !inOpen() || inFiltered() || open() != 1 {
			t.Errorf("moved to the inbox: open %v, filtered %v, Mine count %d", inOpen(), inFiltered(), open())
		}

		// Marked spam, a filtered conversation is spam only; marked not spam, it is in the inbox.
		f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(true)})
		got = f.update(f.agent, c.ID, inbox.Patch{Spam: ptr(true)})
		if !got.Spam || got.Filtered || !inSpam() || inFiltered() {
			t.Fatalf("filtered, then spam: %+v", got)
		}
		expectEvent("spam", "marked_spam")
		n = count()
		f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(false)})
		if count() != n {
			t.Error("unfiltering a spam conversation changed it")
		}
		got = f.update(f.agent, c.ID, inbox.Patch{Spam: ptr(false)})
		if got.Spam || got.Filtered || !inOpen() {
			t.Fatalf("not spam: %+v", got)
		}

		// Filing a spam conversation takes it out of spam; spam wins in one patch with both.
		f.update(f.agent, c.ID, inbox.Patch{Spam: ptr(true)})
		got = f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(true)})
		if got.Spam || !got.Filtered {
			t.Fatalf("spam, then filtered: %+v", got)
		}
		expectEvent("file spam", "filtered")
		got = f.update(f.agent, c.ID, inbox.Patch{Filtered: ptr(true), Spam: ptr(true)})
		if !got.Spam || got.Filtered {
			t.Fatalf("filtered and spam in one patch: %+v", got)
		}
		if _, data := f.lastEvent(c.ID); data["reason"] != "manual" {
			t.Errorf("event data %v, want reason manual", data)
		}

		// Someone who cannot see the conversation cannot file it.
		if _, err := f.svc.Update(f.ctx, f.outsider, c.ID, inbox.Patch{Filtered: ptr(false)}); err == nil {
			t.Error("an outsider moved the conversation")
		}
	})
}

func TestEmailFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := f.ctx
		got, err := f.svc.EmailFilters(ctx, f.admin, f.support.ID)
		if err != nil || len(got.Allow)+len(got.Deny) != 0 {
			t.Fatalf("new inbox: %+v %v", got, err)
		}

		got, err = f.svc.SetEmailFilters(ctx, f.admin, f.support.ID,
			[]string{" VIP@Customer.example ", "", "@Partner.Example", "partner.example", "b.example."},
			[]string{"spam.example", "  "})
		if err != nil {
			t.Fatal(err)
		}
		want := store.EmailFilters{Allow: []string{"b.example", "partner.example", "vip@customer.example"}, Deny: []string{"spam.example"}}
		if !slices.Equal(got.Allow, want.Allow) || !slices.Equal(got.Deny, want.Deny) {
			t.Fatalf("set: %+v, want %+v", got, want)
		}
		if read, _ := f.svc.EmailFilters(ctx, f.admin, f.support.ID); !slices.Equal(read.Allow, want.Allow) || !slices.Equal(read.Deny, want.Deny) {
			t.Errorf("read back: %+v", read)
		}
		if read, _ := f.svc.EmailFilters(ctx, f.admin, f.sales.ID); len(read.Allow)+len(read.Deny) != 0 {
			t.Errorf("another inbox's lists: %+v", read)
		}

		audit := func() []*store.AuditEntry {
			t.Helper()
			entries, _, err := s.AuditLog(ctx, store.AuditFilter{Action: inbox.ActionEmailFiltersChanged})
			if err != nil {
				t.Fatal(err)
			}
			return entries
		}
		entries := audit()
		if len(entries) != 1 || *entries[0].ActorID != f.admin.ID || *entries[0].TargetID != f.support.ID {
			t.Fatalf("audit entries %+v", entries)
		}
		// The same lists written differently are no change.
		if _, err := f.svc.SetEmailFilters(ctx, f.admin, f.support.ID,
			[]string{"partner.example", "vip@customer.example", "B.example"}, []string{"spam.example"}); err != nil {
			t.Fatal(err)
		}
		if n := len(audit()); n != 1 {
			t.Errorf("a no-op was audited: %d entries", n)
		}
		if _, err := f.svc.SetEmailFilters(ctx, f.admin, f.support.ID, []string{"partner.example"}, []string{"spam.example", "x@y.example"}); err != nil {
			t.Fatal(err)
		}
		entries = audit()
		var data map[string]map[string][]string
		if err := json.Unmarshal(entries[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(data["allow"]["removed"], []string{"b.example", "vip@customer.example"}) || len(data["allow"]["added"]) != 0 ||
			!slices.Equal(data["deny"]["added"], []string{"x@y.example"}) {
			t.Errorf("audit data %s", entries[0].Data)
		}

		// The verdict the receiving side asks for sees what was set.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for addr, want := range map[string]string{"ann@partner.example": "allow", "x@y.example": "deny",
				"bob@mail.spam.example": "deny", "vip@customer.example": ""} {
				if v, err := tx.EmailFilterVerdict(ctx, f.support.ID, addr); err != nil || v != want {
					t.Errorf("verdict for %s: %q %v, want %q", addr, v, err, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// Admins only, for reading too: the lists need account access.
		for _, u := range []*store.User{f.agent, f.outsider} {
			if _, err := f.svc.EmailFilters(ctx, u, f.support.ID); !isCode(err, "admin_only") {
				t.Errorf("%s reads the lists: %v", u.Email, err)
			}
			if _, err := f.svc.SetEmailFilters(ctx, u, f.support.ID, nil, nil); !isCode(err, "admin_only") {
				t.Errorf("%s sets the lists: %v", u.Email, err)
			}
		}
		if _, err := f.svc.EmailFilters(ctx, f.admin, 987654); !isCode(err, "inbox_not_found") {
			t.Errorf("unknown inbox: %v", err)
		}
		if _, err := f.svc.SetEmailFilters(ctx, f.admin, 987654, []string{"a.example"}, nil); !isCode(err, "inbox_not_found") {
			t.Errorf("unknown inbox: %v", err)
		}

		// A bad entry is named, with its place in its list; nothing is written.
		_, err = f.svc.SetEmailFilters(ctx, f.admin, f.support.ID, []string{"ok.example"}, []string{"fine.example", "", "not an address"})
		p, ok := problem.As(err)
		if !ok || p.Code != "invalid_email_filter" || p.Fields["deny[2]"] == "" || !strings.Contains(p.Detail, `"not an address"`) {
			t.Fatalf("bad entry: %v (%+v)", err, p)
		}
		if read, _ := f.svc.EmailFilters(ctx, f.admin, f.support.ID); !slices.Equal(read.Allow, []string{"partner.example"}) {
			t.Errorf("a refused change was written: %+v", read)
		}
		var many []string
		for i := range inbox.MaxEmailFilters + 1 {
			many = append(many, fmt.Sprintf("s%d@many.example", i))
		}
		if _, err := f.svc.SetEmailFilters(ctx, f.admin, f.support.ID, many, nil); !isCode(err, "too_many_email_filters") {
			t.Errorf("%d entries: %v", len(many), err)
		}
		// Duplicates do not count against the limit.
		if _, err := f.svc.SetEmailFilters(ctx, f.admin, f.support.ID, append(many[:inbox.MaxEmailFilters], many[0]), nil); err != nil {
			t.Errorf("%d entries with a duplicate: %v", inbox.MaxEmailFilters+1, err)
		}
	})
}

func TestNormalizeEmailFilter(t *testing.T) {
	for in, want := range map[string]string{
		"name@example.com":            "name@example.com",
		" Name@Example.COM ":          "name@example.com",
		"example.com":                 "example.com",
		"@example.com":                "example.com",
		"EXAMPLE.com.":                "example.com",
		"mail.example.co.uk":          "mail.example.co.uk",
		"first.last+tag@example.io":   "first.last+tag@example.io",
		"o'brien@example.ie":          "o'brien@example.ie",
		"bücher.example":              "bücher.example",
		"xn--bcher-kva.example":       "xn--bcher-kva.example",
		"a-b.example":                 "a-b.example",
		"1and1.com":                   "1and1.com",
		"":                            "",
		"example":                     "",
		"localhost":                   "",
		"@":                           "",
		"name@":                       "",
		"name@example":                "",
		"a@b@example.com":             "",
		"name with space@example.com": "",
		"<name@example.com>":          "",
		"\"quoted\"@example.com":      "",
		"name@exa mple.com":           "",
		"name@-example.com":           "",
		"name@example-.com":           "",
		"name@example..com":           "",
		".name@example.com":           "",
		"na..me@example.com":          "",
		"name,other@example.com":      "",
		"192.168.0.1":                 "",
		"name@[192.168.0.1]":          "",
		"*.example.com":               "",
		"http://example.com":          "",
		"example.com/path":            "",
		"exa_mple.com":                "",
	} {
		got, ok := inbox.NormalizeEmailFilter(in)
		if ok != (want != "") || got != want {
			t.Errorf("NormalizeEmailFilter(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	long := ""
	for range 64 {
		long += "a"
	}
	if _, ok := inbox.NormalizeEmailFilter(long + ".example"); ok {
		t.Error("a 64-character label was accepted")
	}
	if _, ok := inbox.NormalizeEmailFilter(long + "a@example.com"); ok {
		t.Error("a 65-character local part was accepted")
	}
}

func isCode(err error, code string) bool {
	p, ok := problem.As(err)
	return ok && p.Code == code
}
