package inbox_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func ids(list []store.Conversation) []int64 {
	out := []int64{}
	for _, c := range list {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

func (f *fixture) list(u *store.User, flt inbox.Filter) []int64 {
	f.t.Helper()
	list, _, err := f.svc.Conversations(f.ctx, u, flt)
	if err != nil {
		f.t.Fatalf("list %+v: %v", flt, err)
	}
	return ids(list)
}

func TestSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, invoice := f.receive("t1", "My invoice from March is wrong", func(in *inbox.Inbound) { in.Subject = "Billing trouble" })
		_, shipping := f.receive("t2", "Where is my parcel?", func(in *inbox.Inbound) {
			in.ContactName = "Grace Hopper"
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "grace@navy.example"}, {Kind: "phone", Value: "+15551234567"}}
		})
		_, other := f.receive("t3", "Unrelated hello", func(in *inbox.Inbound) {
			in.ContactName = "Alan"
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "alan@example.org"}}
			in.HTML = "<p>Café crème</p>"
			in.Text = ""
		})
		if _, err := f.svc.Comment(f.ctx, f.agent, other.ID, inbox.CommentInput{Body: "escalate to zanzibar team"}); err != nil {
			t.Fatal(err)
		}
		f.update(f.agent, invoice.ID, inbox.Patch{Status: ptr("closed")}) // closed ones are found too

		cases := []struct {
			q    string
			want []int64
		}{
			{"invoice", []int64{invoice.ID}},
			{"INVOICE march", []int64{invoice.ID}},
			{"billing", []int64{invoice.ID}},             // subject
			{"trou", []int64{invoice.ID}},                // prefix of the last word
			{"parcel", []int64{shipping.ID}},             // message text
			{"zanzibar", []int64{other.ID}},              // comment
			{"grace@navy.example", []int64{shipping.ID}}, // contact email
			{"hopper", []int64{shipping.ID}},             // contact name
			{"+15551234567", []int64{shipping.ID}},       // contact phone
			{"creme", []int64{other.ID}},                 // HTML-only text, diacritics folded on SQLite…
			{"my", []int64{invoice.ID, shipping.ID}},
			{"invoice parcel", []int64{}},
			{"nothing-like-this", []int64{}},
		}
		if s.Dialect() == store.Postgres {
			cases[9] = struct {
				q    string
				want []int64
			}{"café", []int64{other.ID}} // …and matched as written on PostgreSQL
		}
		for _, tc := range cases {
			got := f.list(f.agent, inbox.Filter{Q: tc.q})
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("q=%q: got %v, want %v", tc.q, got, want)
			}
		}
		// Hostile input is searched as text and never breaks the query.
		hostile := []string{`"`, `""`, `'`, `"unterminated`, `*`, `**`, `a*b`, `NEAR(a b)`, `invoice NEAR/2 march`,
			`(`, `)`, `((invoice`, `invoice OR parcel`, `NOT invoice`, `-invoice`, `invoice AND`, `^invoice`, `col:invoice`,
			`body:invoice`, `{body}: x`, `a & b | !c`, `'':*`, `\`, `\'`, `%_%`, `:*`, `<->`, `日本語 テスト`, "emoji 🎉",
			"\x00", "\xff\xfe", "tab\tsep", `!!!`, `[x]`, `+`, `@`, `invoice"`, `"invoice" "march"`}
		for _, q := range hostile {
			if _, _, err := f.svc.Conversations(f.ctx, f.agent, inbox.Filter{Q: q}); err != nil {
				t.Errorf("q=%q: %v", q, err)
			}
		}
		if got := f.list(f.agent, inbox.Filter{Q: `invoice"`}); !slices.Equal(got, []int64{invoice.ID}) {
			t.Errorf("quote-suffixed word: %v", got)
		}
		_, _, err := f.svc.Conversations(f.ctx, f.agent, inbox.Filter{Q: string(make([]byte, 600))})
		wantCode(t, err, "invalid_query")
	})
}

func TestFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, a := f.receive("a", "a")
		_, b := f.receive("b", "b", func(in *inbox.Inbound) {
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "b@example.com"}}
		})
		_, c, _, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSales.ID, ThreadKey: "c", Text: "c"})
		if err != nil {
			t.Fatal(err)
		}
		f.update(f.admin, a.ID, inbox.Patch{AssigneeID: &f.agent.ID, Priority: ptr("high"), Tags: &[]string{"vip"}, TeamID: &f.team.ID})
		f.update(f.admin, b.ID, inbox.Patch{Status: ptr("closed")})
		trashed := f.receive
		_, d := trashed("d", "d")
		f.update(f.admin, d.ID, inbox.Patch{Trashed: ptr(true)})

		all := []int64{a.ID, b.ID, c.ID}
		cases := []struct {
			name string
			u    *store.User
			flt  inbox.Filter
			want []int64
		}{
			{"admin all", f.admin, inbox.Filter{}, all},
			{"agent all", f.agent, inbox.Filter{}, []int64{a.ID, b.ID}},
			{"seller all", f.seller, inbox.Filter{}, []int64{c.ID}},
			{"inbox", f.admin, inbox.Filter{InboxID: &f.sales.ID}, []int64{c.ID}},
			{"open", f.admin, inbox.Filter{Status: "open"}, []int64{a.ID, c.ID}},
			{"closed", f.admin, inbox.Filter{Status: "closed"}, []int64{b.ID}},
			{"me", f.agent, inbox.Filter{AssigneeID: "me"}, []int64{a.ID}},
			{"none", f.admin, inbox.Filter{AssigneeID: "none"}, []int64{b.ID, c.ID}},
			{"assignee id", f.admin, inbox.Filter{AssigneeID: itoa(f.agent.ID)}, []int64{a.ID}},
			{"team", f.admin, inbox.Filter{TeamID: &f.team.ID}, []int64{a.ID}},
			{"channel", f.admin, inbox.Filter{ChannelID: &f.chSup.ID}, []int64{a.ID, b.ID}},
			{"contact", f.admin, inbox.Filter{ContactID: b.ContactID}, []int64{b.ID}},
			{"tag", f.admin, inbox.Filter{Tag: "vip"}, []int64{a.ID}},
			{"priority", f.admin, inbox.Filter{Priority: "high"}, []int64{a.ID}},
			{"trash", f.admin, inbox.Filter{Trashed: true}, []int64{d.ID}},
			{"agent trash", f.seller, inbox.Filter{Trashed: true}, []int64{}},
		}
		for _, tc := range cases {
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := f.list(tc.u, tc.flt); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, want)
			}
		}
		for _, tc := range []struct {
			flt  inbox.Filter
			code string
		}{
			{inbox.Filter{Status: "x"}, "invalid_status"},
			{inbox.Filter{Priority: "x"}, "invalid_priority"},
			{inbox.Filter{AssigneeID: "x"}, "invalid_assignee_id"},
			{inbox.Filter{Sort: "x"}, "invalid_sort"},
			{inbox.Filter{Cursor: "garbage"}, "invalid_cursor"},
		} {
			_, _, err := f.svc.Conversations(f.ctx, f.admin, tc.flt)
			wantCode(t, err, tc.code)
		}
	})
}

func TestConversationPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		const n = 23
		var want []int64
		for i := range n {
			// Receives within one millisecond share last_activity_at; the id breaks the tie.
			_, c := f.receive(fmt.Sprintf("t%d", i), "x")
			want = append(want, c.ID)
		}
		for _, sort := range []string{"newest", "oldest"} {
			var got []int64
			var order []store.Conversation
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > n {
					t.Fatal("pagination does not end")
				}
				list, next, err := f.svc.Conversations(f.ctx, f.agent, inbox.Filter{Sort: sort, Limit: 5, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(list) > 5 {
					t.Fatalf("page of %d", len(list))
				}
				order = append(order, list...)
				for _, c := range list {
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if len(got) != n {
				t.Fatalf("%s: got %d rows, want %d", sort, len(got), n)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: rows %v, want each of %v once", sort, got, want)
			}
			for i := 1; i < len(order); i++ {
				p, c := order[i-1], order[i]
				less := p.LastActivityAt < c.LastActivityAt || (p.LastActivityAt == c.LastActivityAt && p.ID < c.ID)
				if (sort == "oldest") != less {
					t.Fatalf("%s: row %d out of order", sort, i)
				}
			}
		}
	})
}

func TestUnreadAndMarkRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "one")
		if !f.conversation(f.agent, c.ID).Unread || !f.conversation(f.admin, c.ID).Unread {
			t.Fatal("new conversation not unread")
		}
		if err := f.svc.MarkRead(f.ctx, f.agent, c.ID); err != nil {
			t.Fatal(err)
		}
		if f.conversation(f.agent, c.ID).Unread {
			t.Fatal("still unread after MarkRead")
		}
		if !f.conversation(f.admin, c.ID).Unread {
			t.Fatal("read for someone who did not read it")
		}
		list, _, _ := f.svc.Conversations(f.ctx, f.agent, inbox.Filter{})
		if len(list) != 1 || list[0].Unread {
			t.Fatalf("list unread = %+v", list)
		}
		f.receive("t", "two")
		if !f.conversation(f.agent, c.ID).Unread {
			t.Fatal("new inbound message did not make it unread")
		}
	})
}

func TestCommentsAndTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hello")
		// Items of one millisecond sort by kind, not by when they happened: let the clock tick
		// between the steps whose order the test checks.
		tick := func() { time.Sleep(2 * time.Millisecond) }
		tick()
		com, err := f.svc.Comment(f.ctx, f.agent, c.ID, inbox.CommentInput{
			Body:           "Can @admin@example.com look? cc @Seller@Example.com, not me@@x or mail@agent@example.com",
			MentionTeamIDs: []int64{f.team.ID},
			MentionUserIDs: []int64{f.agent.ID},
		})
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			UserIDs []int64 `json:"user_ids"`
			TeamIDs []int64 `json:"team_ids"`
		}
		if err := json.Unmarshal(com.Mentions, &m); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.UserIDs, []int64{f.agent.ID, f.admin.ID, f.seller.ID}) || !slices.Equal(m.TeamIDs, []int64{f.team.ID}) {
			t.Fatalf("mentions = %+v", m)
		}
		_, err = f.svc.Comment(f.ctx, f.agent, c.ID, inbox.CommentInput{Body: " "})
		wantCode(t, err, "empty_comment")
		_, err = f.svc.Comment(f.ctx, f.agent, c.ID, inbox.CommentInput{Body: "x", MentionUserIDs: []int64{9999}})
		wantCode(t, err, "unknown_mention")
		_, err = f.svc.Comment(f.ctx, f.agent, c.ID, inbox.CommentInput{Body: "x", MentionTeamIDs: []int64{9999}})
		wantCode(t, err, "unknown_mention")

		tick()
		if _, err := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "answer"}); err != nil {
			t.Fatal(err)
		}
		tick()
		f.update(f.agent, c.ID, inbox.Patch{Status: ptr("closed")})
		items, err := f.svc.Timeline(f.ctx, f.agent, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for i, it := range items {
			kinds = append(kinds, it.Kind)
			if i > 0 && it.CreatedAt < items[i-1].CreatedAt {
				t.Fatalf("timeline out of order at %d", i)
			}
			switch it.Kind {
			case "message":
				if it.Message == nil {
					t.Fatal("message item without message")
				}
			case "comment":
				if it.Comment == nil || it.Comment.ID != com.ID {
					t.Fatal("comment item wrong")
				}
			case "event":
				if it.Event == nil {
					t.Fatal("event item without event")
				}
				kinds[len(kinds)-1] = it.Event.Type
			}
		}
		want := []string{"created", "message", "comment", "assigned", "message", "closed"}
		if !slices.Equal(kinds, want) {
			t.Fatalf("timeline = %v, want %v", kinds, want)
		}
	})
}
