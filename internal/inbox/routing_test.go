package inbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// routingFixture is a workspace for routing: inbox R open to a1, a2, a3, an owner and an admin
// directly and to team T (a4 primary, a5 secondary); an agent outside R; a messaging channel and
// an email channel in R. The routing clock is fixed (Monday 2025-06-02 10:00 UTC) and moved by
// setting clock.
type routingFixture struct {
	t   *testing.T
	s   *store.Store
	svc *inbox.Service
	// clock is the routing clock in unix ms.
	clock atomic.Int64

	admin, owner, a1, a2, a3, a4, a5, outsider *store.User
	team                                       *store.Team
	inbox                                      *store.Inbox
	ch, mail                                   *store.Channel
	n                                          atomic.Int64
}

func newRoutingFixture(t *testing.T, s *store.Store) *routingFixture {
	t.Helper()
	f := &routingFixture{t: t, s: s}
	f.clock.Store(time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC).UnixMilli())
	f.svc = &inbox.Service{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Senders: map[string]channel.Sender{"chat": &fakeSender{}}, Now: func() time.Time { return time.UnixMilli(f.clock.Load()).UTC() }}
	ctx := t.Context()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		mk := func(name, role string) *store.User {
			u := &store.User{Email: name + "@example.com", Name: name, Role: role, Locale: "en", TimeZone: "UTC"}
			if err := tx.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		f.admin, f.owner = mk("admin", "admin"), mk("owner", "owner")
		f.a1, f.a2, f.a3, f.a4, f.a5 = mk("a1", "agent"), mk("a2", "agent"), mk("a3", "agent"), mk("a4", "agent"), mk("a5", "agent")
		f.outsider = mk("outsider", "agent")
		f.team = &store.Team{Name: "T"}
		if err := tx.CreateTeam(ctx, f.team); err != nil {
			return err
		}
		for _, m := range []store.TeamMember{{TeamID: f.team.ID, UserID: f.a4.ID, IsPrimary: true}, {TeamID: f.team.ID, UserID: f.a5.ID}} {
			if _, err := tx.SetTeamMember(ctx, m); err != nil {
				return err
			}
		}
		f.inbox = &store.Inbox{Name: "R", Access: "specific", UserIDs: []int64{f.a1.ID, f.a2.ID, f.a3.ID, f.owner.ID, f.admin.ID},
			TeamIDs: []int64{f.team.ID}}
		if err := tx.CreateInbox(ctx, f.inbox); err != nil {
			return err
		}
		f.ch = &store.Channel{InboxID: f.inbox.ID, Kind: "chat", Name: "Chat", Authorized: true}
		if _, err := tx.InsertChannel(ctx, f.ch); err != nil {
			return err
		}
		f.mail = &store.Channel{InboxID: f.inbox.ID, Kind: "email", Name: "Mail", Authorized: true}
		_, err := tx.InsertChannel(ctx, f.mail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *routingFixture) setClock(rfc3339 string) {
	tm, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		f.t.Fatal(err)
	}
	f.clock.Store(tm.UnixMilli())
}

func userIDs(users ...*store.User) []int64 {
	out := []int64{}
	for _, u := range users {
		out = append(out, u.ID)
	}
	return out
}

func (f *routingFixture) rule(ch *store.Channel, in inbox.RuleInput) {
	f.t.Helper()
	if in.AssignTo == "" {
		in.AssignTo = routing.AssignUsersAndTeams
	}
	if in.Strategy == "" {
		in.Strategy = routing.RoundRobin
	}
	if _, err := f.svc.SetRoutingRule(f.t.Context(), f.admin, ch.ID, in); err != nil {
		f.t.Fatalf("set routing rule: %v", err)
	}
}

// receive opens a conversation on ch from a new customer (or continues thread when given).
func (f *routingFixture) receive(ch *store.Channel, thread string, edit ...func(*inbox.Inbound)) *store.Conversation {
	f.t.Helper()
	n := f.n.Add(1)
	if thread == "" {
		thread = fmt.Sprintf("thread-%d", n)
	}
	in := inbox.Inbound{ChannelID: ch.ID, ThreadKey: thread, ContactName: fmt.Sprintf("Customer %d", n),
		ContactIdentities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("customer%d@example.net", n)}},
		ExternalID:        fmt.Sprintf("m-%d", n), Text: "Hello"}
	for _, e := range edit {
		e(&in)
	}
	_, c, _, err := f.svc.Receive(f.t.Context(), in)
	if err != nil {
		f.t.Fatalf("receive: %v", err)
	}
	return c
}

func (f *routingFixture) conv(id int64) *store.Conversation {
	f.t.Helper()
	c, err := f.s.Conversation(f.t.Context(), id, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// assignee returns the conversation's assignee id, 0 for none.
func (f *routingFixture) assignee(id int64) int64 {
	f.t.Helper()
	if c := f.conv(id); c.AssigneeID != nil {
		return *c.AssigneeID
	}
	return 0
}

func (f *routingFixture) wantAssignee(c *store.Conversation, u *store.User) {
	f.t.Helper()
	want := int64(0)
	if u != nil {
		want = u.ID
	}
	if got := f.assignee(c.ID); got != want {
		types, data := f.events(c.ID)
		f.t.Fatalf("conversation %d: assignee %d, want %d; events %v %v", c.ID, got, want, types, data)
	}
}

func (f *routingFixture) events(id int64) ([]string, []map[string]any) {
	f.t.Helper()
	evs, err := f.s.ConversationEvents(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var types []string
	var data []map[string]any
	for _, e := range evs {
		var d map[string]any
		if err := json.Unmarshal(e.Data, &d); err != nil {
			f.t.Fatal(err)
		}
		types, data = append(types, e.Type), append(data, d)
	}
	return types, data
}

// lastEvent returns the newest event of a type, failing when there is none.
func (f *routingFixture) lastEvent(id int64, typ string) map[string]any {
	f.t.Helper()
	types, data := f.events(id)
	for i := len(types) - 1; i >= 0; i-- {
		if types[i] == typ {
			return data[i]
		}
	}
	f.t.Fatalf("conversation %d has no %s event: %v", id, typ, types)
	return nil
}

func (f *routingFixture) count(id int64, typ string) int {
	types, _ := f.events(id)
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// waiting returns the ids of the conversations waiting for routing, oldest first.
func (f *routingFixture) waiting() []int64 {
	f.t.Helper()
	ws, err := f.s.RoutingWaiting(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	out := []int64{}
	for _, w := range ws {
		out = append(out, w.ConversationID)
	}
	return out
}

func (f *routingFixture) away(actor, u *store.User) {
	f.t.Helper()
	if _, err := f.svc.SetAvailability(f.t.Context(), actor, u.ID, inbox.StatusAway); err != nil {
		f.t.Fatal(err)
	}
}

func (f *routingFixture) available(actor, u *store.User) {
	f.t.Helper()
	if _, err := f.svc.SetAvailability(f.t.Context(), actor, u.ID, inbox.StatusAvailable); err != nil {
		f.t.Fatal(err)
	}
}

func (f *routingFixture) capacity(u *store.User, l routing.Limits) {
	f.t.Helper()
	if _, err := f.svc.SetCapacity(f.t.Context(), f.admin, u.ID, l); err != nil {
		f.t.Fatal(err)
	}
}

func (f *routingFixture) update(c *store.Conversation, p inbox.Patch) {
	f.t.Helper()
	if _, err := f.svc.Update(f.t.Context(), f.admin, c.ID, p); err != nil {
		f.t.Fatalf("update %d: %v", c.ID, err)
	}
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

func numbers(v any) []int64 {
	out := []int64{}
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, num(x))
	}
	return out
}

// skips renders an explanation's skipped list as "user:reason" strings.
func skips(f *routingFixture, data map[string]any) []string {
	out := []string{}
	list, _ := data["skipped"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		s := fmt.Sprintf("%d:%s", num(m["user_id"]), m["reason"])
		if l, ok := m["limit"]; ok {
			s += ":" + l.(string)
		}
		out = append(out, s)
	}
	return out
}

func skip(u *store.User, reason string) string { return fmt.Sprintf("%d:%s", u.ID, reason) }

func TestRoutingDefaultLeavesUnassigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		c := f.receive(f.ch, "")
		f.wantAssignee(c, nil)
		if types, _ := f.events(c.ID); slices.Contains(types, "assigned") || slices.Contains(types, "routing_waiting") {
			t.Errorf("events %v: routing ran without a rule", types)
		}
		// A rule that is saved but disabled changes nothing either.
		f.rule(f.ch, inbox.RuleInput{Enabled: false, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		c = f.receive(f.ch, "")
		f.wantAssignee(c, nil)
		if w := f.waiting(); len(w) != 0 {
			t.Errorf("waiting %v", w)
		}
	})
}

func TestRoutingUsersAndTeamsRoundRobin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		// a1 directly, team T: a4 is a primary member, a5 a secondary one and never routed to.
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), TeamIDs: []int64{f.team.ID}, OnlyAvailable: true})
		var got []int64
		for range 4 {
			got = append(got, f.assignee(f.receive(f.ch, "").ID))
		}
		if want := userIDs(f.a1, f.a4, f.a1, f.a4); !slices.Equal(got, want) {
			t.Fatalf("assignees %v, want %v (round robin over a1 and primary member a4)", got, want)
		}
		c := f.receive(f.ch, "")
		data := f.lastEvent(c.ID, "assigned")
		if num(data["assignee_id"]) != f.a1.ID || data["reason"] != "routing" || data["strategy"] != "round_robin" {
			t.Errorf("assigned event %v", data)
		}
		if got := numbers(data["eligible"]); !slices.Equal(got, userIDs(f.a1, f.a4)) {
			t.Errorf("eligible %v", got)
		}
		if got := skips(f, data); len(got) != 0 {
			t.Errorf("skipped %v", got)
		}
		rule := data["rule"].(map[string]any)
		if num(rule["channel_id"]) != f.ch.ID || rule["assign_to"] != "users_and_teams" || !slices.Equal(numbers(rule["user_ids"]), userIDs(f.a1)) ||
			!slices.Equal(numbers(rule["team_ids"]), []int64{f.team.ID}) || rule["only_available"] != true || rule["strategy"] != "round_robin" {
			t.Errorf("rule %v", rule)
		}
		evs, err := s.ConversationEvents(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type == "assigned" && e.ActorID != nil {
				t.Errorf("automatic assignment with actor %d", *e.ActorID)
			}
		}

		// Round robin is per channel: the email channel starts its own order.
		f.rule(f.mail, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a2, f.a4), OnlyAvailable: true})
		got = nil
		for range 3 {
			got = append(got, f.assignee(f.receive(f.mail, "").ID))
		}
		if want := userIDs(f.a2, f.a4, f.a2); !slices.Equal(got, want) {
			t.Fatalf("email assignees %v, want %v", got, want)
		}
	})
}

func TestRoutingBalancedAndTieBreak(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		// a1 already has two open conversations (assigned by hand), a2 one, a3 none.
		for _, u := range []*store.User{f.a1, f.a1, f.a2} {
			c := f.receive(f.mail, "")
			f.update(c, inbox.Patch{AssigneeID: &u.ID})
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2, f.a3), OnlyAvailable: true, Strategy: routing.Balanced})
		var got []int64
		for range 5 {
			got = append(got, f.assignee(f.receive(f.ch, "").ID))
		}
		// Open a1 2, a2 1, a3 0 → a3; a2 1 = a3 1, the lower id → a2; a3 1 → a3; all at 2, the
		// lowest id → a1; a2 2 = a3 2 → a2.
		if want := userIDs(f.a3, f.a2, f.a3, f.a1, f.a2); !slices.Equal(got, want) {
			t.Fatalf("assignees %v, want %v", got, want)
		}
		if data := f.lastEvent(f.receive(f.ch, "").ID, "assigned"); data["strategy"] != "balanced" {
			t.Errorf("strategy %v", data["strategy"])
		}
	})
}

func TestRoutingSkipsIneligibleAndExplains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		f.away(f.a1, f.a1)    // a1 sets themselves away
		f.away(f.admin, f.a2) // an admin overrides a2
		f.capacity(f.a3, routing.Limits{Total: ptr(int64(0))})
		deactivated := f.a4
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2, f.a3, f.a4, f.owner, f.admin), OnlyAvailable: true})
		// The rule's validation refuses non-members; a member who leaves the inbox, and one who
		// is deactivated afterwards, stay in the rule and are skipped.
		err := s.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.RoutingRule(ctx, f.ch.ID)
			if err != nil {
				return err
			}
			r.UserIDs = append(r.UserIDs, f.outsider.ID)
			if err := tx.SetRoutingRule(ctx, r); err != nil {
				return err
			}
			now := store.Now()
			deactivated.DeactivatedAt = &now
			return tx.UpdateUser(ctx, deactivated)
		})
		if err != nil {
			t.Fatal(err)
		}
		c := f.receive(f.ch, "")
		f.wantAssignee(c, f.admin)
		data := f.lastEvent(c.ID, "assigned")
		want := []string{skip(f.a1, "away"), skip(f.a2, "away"), skip(f.a3, "at_capacity") + ":total",
			skip(f.a4, "deactivated"), skip(f.outsider, "not_inbox_member"), skip(f.owner, "role")}
		slices.Sort(want)
		got := skips(f, data)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("skipped %v, want %v", got, want)
		}
		if !slices.Equal(numbers(data["eligible"]), userIDs(f.admin)) {
			t.Errorf("eligible %v", data["eligible"])
		}

		// The user sees who set them away.
		a, err := f.svc.Availability(ctx, f.a2, f.a2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "away" || a.SetBy == nil || *a.SetBy != f.admin.ID || a.EffectiveStatus != "away" || a.AwayReason != "away" {
			t.Errorf("a2's availability %+v", a)
		}
		a, err = f.svc.Availability(ctx, f.a1, f.a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.SetBy == nil || *a.SetBy != f.a1.ID {
			t.Errorf("a1's availability %+v: set by themselves", a)
		}
		// Agents may not set others; setting back to available works for oneself.
		if _, err := f.svc.SetAvailability(ctx, f.a1, f.a2.ID, "available"); err == nil {
			t.Error("an agent set another user's availability")
		} else {
			wantCode(t, err, "admin_only")
		}
		_, err = f.svc.SetAvailability(ctx, f.a2, f.a2.ID, "busy")
		wantCode(t, err, "invalid_status")
		f.available(f.a2, f.a2)

		// With only_available off, away users are eligible again.
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: false})
		c = f.receive(f.ch, "")
		f.wantAssignee(c, f.a1)
	})
}

func TestRoutingWorkingHoursAcrossTimeZones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		weekdays := func(tz string) routing.WorkingHours {
			day := []routing.Interval{{Start: "09:00", End: "17:00"}}
			return routing.WorkingHours{Enabled: true, TimeZone: tz,
				Days: map[string][]routing.Interval{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}
		}
		if _, err := f.svc.SetWorkingHours(ctx, f.a1, f.a1.ID, weekdays("Asia/Tokyo")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetWorkingHours(ctx, f.admin, f.a2.ID, weekdays("America/New_York")); err != nil {
			t.Fatal(err)
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2), OnlyAvailable: true})

		f.setClock("2025-06-03T01:00:00Z") // Tuesday 10:00 in Tokyo, Monday 21:00 in New York
		c := f.receive(f.ch, "")
		f.wantAssignee(c, f.a1)
		if got := skips(f, f.lastEvent(c.ID, "assigned")); !slices.Equal(got, []string{skip(f.a2, "outside_working_hours")}) {
			t.Errorf("skipped %v", got)
		}
		f.setClock("2025-06-03T14:00:00Z") // 23:00 in Tokyo, 10:00 in New York
		f.wantAssignee(f.receive(f.ch, ""), f.a2)

		a, err := f.svc.Availability(ctx, f.a1, f.a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "available" || a.EffectiveStatus != "away" || a.AwayReason != "outside_working_hours" {
			t.Errorf("a1 at night in Tokyo: %+v", a)
		}

		// Saturday: nobody works; the conversation waits and says why.
		f.setClock("2025-06-07T12:00:00Z")
		c = f.receive(f.ch, "")
		f.wantAssignee(c, nil)
		data := f.lastEvent(c.ID, "routing_waiting")
		if data["reason"] != "nobody_eligible" {
			t.Errorf("waiting reason %v", data["reason"])
		}
		if got := skips(f, data); !slices.Equal(got, []string{skip(f.a1, "outside_working_hours"), skip(f.a2, "outside_working_hours")}) {
			t.Errorf("skipped %v", got)
		}
		// The periodic check finds nothing to do until Tokyo's Monday morning (Sunday 23:59 UTC
		// is 08:59 there), then assigns the waiting conversation.
		f.setClock("2025-06-08T23:59:00Z")
		if n, err := f.svc.RouteWaiting(ctx); err != nil || n != 0 {
			t.Fatalf("route waiting before hours: %d %v", n, err)
		}
		f.setClock("2025-06-09T00:00:00Z")
		if n, err := f.svc.RouteWaiting(ctx); err != nil || n != 1 {
			t.Fatalf("route waiting at 09:00 Tokyo: %d %v", n, err)
		}
		f.wantAssignee(c, f.a1)
		if f.count(c.ID, "routing_waiting") != 1 {
			t.Error("the periodic check must not repeat the waiting event")
		}

		// Disabled working hours count as always inside.
		off := weekdays("Asia/Tokyo")
		off.Enabled = false
		if _, err := f.svc.SetWorkingHours(ctx, f.a1, f.a1.ID, off); err != nil {
			t.Fatal(err)
		}
		f.setClock("2025-06-07T12:00:00Z")
		f.wantAssignee(f.receive(f.ch, ""), f.a1)

		// Someone else's hours are an admin's business.
		_, err = f.svc.SetWorkingHours(ctx, f.a1, f.a2.ID, weekdays("UTC"))
		wantCode(t, err, "admin_only")
		bad := weekdays("Mars/Olympus")
		_, err = f.svc.SetWorkingHours(ctx, f.a1, f.a1.ID, bad)
		wantCode(t, err, "invalid_time_zone")
	})
}

func TestRoutingWorkingHoursDaylightSaving(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		// Sundays 09:00–17:00 in Stockholm; the clocks go forward on 2025-03-30.
		sunday := routing.WorkingHours{Enabled: true, TimeZone: "Europe/Stockholm",
			Days: map[string][]routing.Interval{"sun": {{Start: "09:00", End: "17:00"}}}}
		if _, err := f.svc.SetWorkingHours(t.Context(), f.a1, f.a1.ID, sunday); err != nil {
			t.Fatal(err)
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		f.setClock("2025-03-23T07:30:00Z") // 08:30 CET: not yet
		f.wantAssignee(f.receive(f.ch, ""), nil)
		f.setClock("2025-03-30T07:30:00Z") // 09:30 CEST: the same UTC instant a week later is inside
		c := f.receive(f.ch, "")
		f.wantAssignee(c, f.a1)
		// The conversation waiting since the week before is taken by the next periodic check.
		if n, err := f.svc.RouteWaiting(t.Context()); err != nil || n != 1 {
			t.Fatalf("route waiting: %d %v", n, err)
		}
		if w := f.waiting(); len(w) != 0 {
			t.Errorf("still waiting %v", w)
		}
	})
}

func TestRoutingCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		// a1: one messaging conversation at a time, five in total; a2: two in total.
		f.capacity(f.a1, routing.Limits{Total: ptr(int64(5)), Messaging: ptr(int64(1))})
		f.capacity(f.a2, routing.Limits{Total: ptr(int64(2))})
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2), OnlyAvailable: true})
		f.rule(f.mail, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: true})

		c1 := f.receive(f.ch, "")
		f.wantAssignee(c1, f.a1)
		c2 := f.receive(f.ch, "")
		f.wantAssignee(c2, f.a2)
		c3 := f.receive(f.ch, "") // a1 is full for messaging, a2 has room for one more
		f.wantAssignee(c3, f.a2)
		if got := skips(f, f.lastEvent(c3.ID, "assigned")); !slices.Equal(got, []string{skip(f.a1, "at_capacity") + ":messaging"}) {
			t.Errorf("skipped %v", got)
		}
		// Email is another category: a1 still takes email.
		m1 := f.receive(f.mail, "")
		f.wantAssignee(m1, f.a1)
		// Everyone full for messaging: the conversation waits.
		c4 := f.receive(f.ch, "")
		f.wantAssignee(c4, nil)
		data := f.lastEvent(c4.ID, "routing_waiting")
		if data["reason"] != "everyone_at_capacity" {
			t.Errorf("reason %v", data["reason"])
		}
		if got := skips(f, data); !slices.Equal(got, []string{skip(f.a1, "at_capacity") + ":messaging", skip(f.a2, "at_capacity") + ":total"}) {
			t.Errorf("skipped %v", got)
		}
		// Spam and trashed conversations do not count.
		f.update(c2, inbox.Patch{Spam: ptr(true)})
		f.wantAssignee(c4, f.a2) // marking a2's conversation as spam freed a slot
		capa, err := f.svc.Capacity(ctx, f.a1, f.a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if capa.OpenTotal != 2 || capa.OpenByCategory["messaging"] != 1 || capa.OpenByCategory["email"] != 1 || capa.OpenByCategory["calls"] != 0 ||
			*capa.Limits.Total != 5 || *capa.Limits.Messaging != 1 || capa.Limits.Email != nil {
			t.Errorf("a1's capacity %+v", capa)
		}
		// Manual assignment may exceed capacity (CONV-4).
		extra := f.receive(f.ch, "")
		f.wantAssignee(extra, nil) // waits: both full
		f.update(extra, inbox.Patch{AssigneeID: &f.a2.ID})
		f.wantAssignee(extra, f.a2)
		if w := f.waiting(); len(w) != 0 {
			t.Errorf("a manually assigned conversation still waits: %v", w)
		}
		// Only admins set capacity, within bounds.
		_, err = f.svc.SetCapacity(ctx, f.a1, f.a1.ID, routing.Limits{})
		wantCode(t, err, "admin_only")
		_, err = f.svc.SetCapacity(ctx, f.admin, f.a1.ID, routing.Limits{Email: ptr(int64(-1))})
		wantCode(t, err, "invalid_capacity")
		_, err = f.svc.SetCapacity(ctx, f.admin, 999999, routing.Limits{})
		wantCode(t, err, "user_not_found")
	})
}

func TestRoutingWaitingAssignedWhenRoomAppears(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		one := routing.Limits{Total: ptr(int64(1))}
		f.capacity(f.a1, one)
		f.capacity(f.a2, one)
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2), OnlyAvailable: true})
		c1, c2 := f.receive(f.ch, ""), f.receive(f.ch, "")
		f.wantAssignee(c1, f.a1)
		f.wantAssignee(c2, f.a2)
		w1, w2 := f.receive(f.ch, ""), f.receive(f.ch, "")
		if got := f.waiting(); !slices.Equal(got, []int64{w1.ID, w2.ID}) {
			t.Fatalf("waiting %v, want %v", got, []int64{w1.ID, w2.ID})
		}

		// Closing a1's conversation frees a slot: the oldest waiting conversation takes it.
		f.update(c1, inbox.Patch{Status: ptr("closed")})
		f.wantAssignee(w1, f.a1)
		f.wantAssignee(w2, nil)
		data := f.lastEvent(w1.ID, "assigned")
		if data["reason"] != "routing" || num(data["assignee_id"]) != f.a1.ID || data["strategy"] != "round_robin" {
			t.Errorf("assigned event %v", data)
		}

		// Reassigning a2's conversation to someone else frees a2.
		f.update(c2, inbox.Patch{AssigneeID: &f.a3.ID})
		f.wantAssignee(w2, f.a2)

		// Unassigning by hand frees a slot too; the unassigned conversation itself does not wait
		// (a person decided).
		w3 := f.receive(f.ch, "")
		f.wantAssignee(w3, nil)
		f.update(w1, inbox.Patch{Unassign: true})
		f.wantAssignee(w3, f.a1)
		f.wantAssignee(w1, nil)
		if got := f.waiting(); len(got) != 0 {
			t.Errorf("waiting %v", got)
		}

		// Raising a limit.
		w4 := f.receive(f.ch, "")
		f.wantAssignee(w4, nil)
		f.capacity(f.a2, routing.Limits{Total: ptr(int64(2))})
		f.wantAssignee(w4, f.a2)

		// Becoming available: a3 joins the rule while away.
		f.away(f.a3, f.a3)
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2, f.a3), OnlyAvailable: true})
		w5 := f.receive(f.ch, "")
		f.wantAssignee(w5, nil)
		f.available(f.a3, f.a3)
		f.wantAssignee(w5, f.a3)

		// A waiting conversation closed, spammed or trashed by hand stops waiting.
		f.capacity(f.a3, one)
		w6 := f.receive(f.ch, "")
		f.wantAssignee(w6, nil)
		f.update(w6, inbox.Patch{Status: ptr("closed")})
		if got := f.waiting(); len(got) != 0 {
			t.Errorf("a closed conversation still waits: %v", got)
		}
		// Turning the rule off drops what waits.
		w7 := f.receive(f.ch, "")
		f.wantAssignee(w7, nil)
		f.rule(f.ch, inbox.RuleInput{Enabled: false, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		f.capacity(f.a1, routing.Limits{})
		f.wantAssignee(w7, nil)
	})
}

func TestRoutingContactOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		var owned, unowned store.Contact
		err := s.InTx(ctx, func(tx *store.Tx) error {
			owned = store.Contact{Name: "Owned", OwnerID: &f.a3.ID, Properties: json.RawMessage("{}")}
			if err := tx.InsertContact(ctx, &owned); err != nil {
				return err
			}
			unowned = store.Contact{Name: "Unowned", Properties: json.RawMessage("{}")}
			return tx.InsertContact(ctx, &unowned)
		})
		if err != nil {
			t.Fatal(err)
		}
		from := func(c store.Contact) func(*inbox.Inbound) {
			return func(in *inbox.Inbound) { in.ContactID = &c.ID; in.ContactIdentities = nil }
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, AssignTo: routing.AssignContactOwner, UserIDs: userIDs(f.a1), OnlyAvailable: true})

		c := f.receive(f.ch, "", from(owned))
		f.wantAssignee(c, f.a3)
		data := f.lastEvent(c.ID, "assigned")
		if data["strategy"] != "contact_owner" || data["fallback"] != nil || !slices.Equal(numbers(data["eligible"]), userIDs(f.a3)) {
			t.Errorf("owner assignment %v", data)
		}
		// No owner: the users and teams.
		c = f.receive(f.ch, "", from(unowned))
		f.wantAssignee(c, f.a1)
		if data := f.lastEvent(c.ID, "assigned"); data["fallback"] != true || data["strategy"] != "round_robin" {
			t.Errorf("fallback assignment %v", data)
		}
		// The owner is away: fallback, and the explanation says why.
		f.away(f.admin, f.a3)
		c = f.receive(f.ch, "", from(owned))
		f.wantAssignee(c, f.a1)
		data = f.lastEvent(c.ID, "assigned")
		if data["fallback"] != true || !slices.Equal(skips(f, data), []string{skip(f.a3, "away")}) {
			t.Errorf("fallback for an away owner %v", data)
		}
		// The owner outside the inbox cannot take it either.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			owned.OwnerID = &f.outsider.ID
			return tx.UpdateContact(ctx, &owned)
		})
		if err != nil {
			t.Fatal(err)
		}
		c = f.receive(f.ch, "", from(owned))
		f.wantAssignee(c, f.a1)
		if got := skips(f, f.lastEvent(c.ID, "assigned")); !slices.Equal(got, []string{skip(f.outsider, "not_inbox_member")}) {
			t.Errorf("skipped %v", got)
		}
	})
}

func TestRoutingReopened(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2), OnlyAvailable: true})
		c := f.receive(f.ch, "ticket")
		f.wantAssignee(c, f.a1)
		f.update(c, inbox.Patch{Status: ptr("closed")})

		// The customer writes again: back to a1, who is eligible — no new assignment.
		f.receive(f.ch, "ticket")
		f.wantAssignee(c, f.a1)
		if n := f.count(c.ID, "assigned"); n != 1 {
			t.Errorf("%d assignments, want 1", n)
		}
		if f.conv(c.ID).Status != "open" {
			t.Fatal("not reopened")
		}

		// a1 is away when the customer writes again: routing picks a2 and says why.
		f.update(c, inbox.Patch{Status: ptr("closed")})
		f.away(f.a1, f.a1)
		f.receive(f.ch, "ticket")
		f.wantAssignee(c, f.a2)
		data := f.lastEvent(c.ID, "assigned")
		if num(data["previous_assignee_id"]) != f.a1.ID || !slices.Equal(skips(f, data), []string{skip(f.a1, "away")}) {
			t.Errorf("reassignment %v", data)
		}

		// Nobody eligible on reopen: unassigned (to the Unassigned view, not an away agent's
		// queue) and waiting; the previous assignee is tried first when it is offered again.
		f.update(c, inbox.Patch{Status: ptr("closed")})
		f.away(f.a2, f.a2)
		f.receive(f.ch, "ticket")
		f.wantAssignee(c, nil)
		if got := f.waiting(); !slices.Equal(got, []int64{c.ID}) {
			t.Fatalf("waiting %v", got)
		}
		if data := f.lastEvent(c.ID, "unassigned"); data["reason"] != "routing" || num(data["previous_assignee_id"]) != f.a2.ID {
			t.Errorf("unassigned event %v", data)
		}
		// a1 becomes available without offering anything (as if by a write elsewhere), then a2:
		// round robin would pick a1 (assigned longer ago), but a2 had the conversation.
		err := s.InTx(t.Context(), func(tx *store.Tx) error {
			return tx.SetAvailabilityStatus(t.Context(), f.a1.ID, "available", &f.a1.ID, store.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		f.available(f.a2, f.a2)
		f.wantAssignee(c, f.a2)
		if data := f.lastEvent(c.ID, "assigned"); data["strategy"] != "previous_assignee" {
			t.Errorf("strategy %v", data["strategy"])
		}

		// Reopened by hand while unassigned: the previous assignee if eligible, else routing.
		f.update(c, inbox.Patch{Unassign: true, Status: ptr("closed")})
		f.update(c, inbox.Patch{Status: ptr("open")})
		f.wantAssignee(c, f.a2)
		if data := f.lastEvent(c.ID, "assigned"); data["strategy"] != "previous_assignee" {
			t.Errorf("strategy %v", data["strategy"])
		}
		f.update(c, inbox.Patch{Unassign: true, Status: ptr("closed")})
		f.away(f.a2, f.a2)
		f.update(c, inbox.Patch{Status: ptr("open")})
		f.wantAssignee(c, f.a1)
		// A conversation reopened by hand with its assignee keeps it, eligible or not: a person
		// acted on it.
		f.update(c, inbox.Patch{Status: ptr("closed")})
		f.away(f.a1, f.a1)
		f.update(c, inbox.Patch{Status: ptr("open")})
		f.wantAssignee(c, f.a1)
	})
}

func TestRoutingAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		f.away(f.admin, f.a1)
		f.away(f.admin, f.a1) // no change: no entry
		f.capacity(f.a1, routing.Limits{Total: ptr(int64(3))})
		if _, err := f.svc.SetWorkingHours(ctx, f.a1, f.a1.ID, routing.WorkingHours{Enabled: true, TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		entries, _, err := s.AuditLog(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action)
		}
		want := []string{inbox.ActionRoutingChanged, inbox.ActionWorkingHoursChanged, inbox.ActionCapacityChanged, inbox.ActionAvailabilityChanged}
		if !slices.Equal(got, want) {
			t.Fatalf("audit %v, want %v", got, want)
		}
		var d map[string]any
		if err := json.Unmarshal(entries[3].Data, &d); err != nil {
			t.Fatal(err)
		}
		if *entries[3].ActorID != f.admin.ID || *entries[3].TargetID != f.a1.ID || d["status"] != "away" || d["previous_status"] != "available" {
			t.Errorf("availability entry %+v %v", entries[3], d)
		}
	})
}

func TestRoutingRuleValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		set := func(actor *store.User, ch int64, in inbox.RuleInput) error {
			if in.AssignTo == "" {
				in.AssignTo = routing.AssignUsersAndTeams
			}
			if in.Strategy == "" {
				in.Strategy = routing.RoundRobin
			}
			_, err := f.svc.SetRoutingRule(ctx, actor, ch, in)
			return err
		}
		wantCode(t, set(f.a1, f.ch.ID, inbox.RuleInput{}), "admin_only")
		wantCode(t, set(f.admin, f.ch.ID, inbox.RuleInput{Strategy: "random"}), "invalid_strategy")
		wantCode(t, set(f.admin, f.ch.ID, inbox.RuleInput{AssignTo: "bots"}), "invalid_assign_to")
		wantCode(t, set(f.admin, f.ch.ID, inbox.RuleInput{UserIDs: []int64{999999}}), "unknown_user")
		wantCode(t, set(f.admin, f.ch.ID, inbox.RuleInput{TeamIDs: []int64{999999}}), "unknown_team")
		wantCode(t, set(f.admin, f.ch.ID, inbox.RuleInput{UserIDs: userIDs(f.outsider)}), "user_not_inbox_member")
		wantCode(t, set(f.admin, 999999, inbox.RuleInput{}), "channel_not_found")
		// Team members need not be checked one by one: a5 (secondary) and anyone added later are
		// judged when routing.
		if err := set(f.admin, f.ch.ID, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a2, f.a1, f.a2), TeamIDs: []int64{f.team.ID}, OnlyAvailable: true}); err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.RoutingRule(ctx, f.a1, f.ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Enabled || !slices.Equal(r.UserIDs, userIDs(f.a1, f.a2)) || !slices.Equal(r.TeamIDs, []int64{f.team.ID}) {
			t.Errorf("rule %+v", r)
		}
		_, err = f.svc.RoutingRule(ctx, f.outsider, f.ch.ID)
		wantCode(t, err, "channel_not_found")
		chans, err := f.svc.Channels(ctx, f.outsider, nil)
		if err != nil || len(chans) != 0 {
			t.Errorf("outsider sees channels %v %v", chans, err)
		}
		chans, err = f.svc.Channels(ctx, f.a4, &f.inbox.ID) // a member through the team
		if err != nil || len(chans) != 2 || chans[0].ID != f.ch.ID || chans[1].ID != f.mail.ID {
			t.Errorf("member sees channels %v %v", chans, err)
		}
	})
}

// TestRoutingConcurrentArrivals proves ROUTE-4 under concurrency: three agents with room for one
// conversation each, twenty conversations arriving at once. Exactly three are assigned, one to
// each agent; the rest wait. Closing one assigns the oldest waiting conversation.
func TestRoutingConcurrentArrivals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		one := routing.Limits{Total: ptr(int64(1))}
		for _, u := range []*store.User{f.a1, f.a2, f.a3} {
			f.capacity(u, one)
		}
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1, f.a2, f.a3), OnlyAvailable: true})
		const arrivals = 20
		convs := make([]*store.Conversation, arrivals)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, arrivals)
		for i := range arrivals {
			wg.Go(func() {
				<-start
				_, c, _, err := f.svc.Receive(t.Context(), inbox.Inbound{ChannelID: f.ch.ID, ThreadKey: fmt.Sprintf("rush-%d", i),
					ContactIdentities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("rush%d@example.net", i)}}, Text: "Help"})
				if err != nil {
					errs <- err
					return
				}
				convs[i] = c
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("receive: %v", err)
		}
		perUser := map[int64]int{}
		var assigned []*store.Conversation
		for _, c := range convs {
			if a := f.assignee(c.ID); a != 0 {
				perUser[a]++
				assigned = append(assigned, c)
			}
		}
		if len(assigned) != 3 || perUser[f.a1.ID] != 1 || perUser[f.a2.ID] != 1 || perUser[f.a3.ID] != 1 {
			t.Fatalf("assigned %d: per user %v, want one each", len(assigned), perUser)
		}
		waiting := f.waiting()
		if len(waiting) != arrivals-3 {
			t.Fatalf("%d waiting, want %d", len(waiting), arrivals-3)
		}
		for _, id := range waiting {
			if f.count(id, "routing_waiting") != 1 {
				t.Errorf("conversation %d: want one routing_waiting event", id)
			}
		}
		freed := f.assignee(assigned[0].ID)
		f.update(assigned[0], inbox.Patch{Status: ptr("closed")})
		if got := f.assignee(waiting[0]); got != freed {
			t.Fatalf("oldest waiting conversation %d: assignee %d, want %d", waiting[0], got, freed)
		}
		if got := f.waiting(); !slices.Equal(got, waiting[1:]) {
			t.Errorf("waiting %v, want %v", got, waiting[1:])
		}
	})
}

// TestRoutingConcurrentDrainAndArrival races the two kinds of decision that share nothing but
// the routing lock: a new conversation arriving, and the periodic check offering a waiting one,
// at the moment an agent with room for one more conversation comes on shift. Whatever the
// interleaving, the agent gets exactly one.
func TestRoutingConcurrentDrainAndArrival(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		ctx := t.Context()
		f.capacity(f.a1, routing.Limits{Total: ptr(int64(1))})
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		setStatus := func(status string) {
			t.Helper()
			// Straight to the store: no offer of waiting conversations, as when working hours start.
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetAvailabilityStatus(ctx, f.a1.ID, status, &f.a1.ID, store.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for round := range 8 {
			setStatus("away")
			waiting := f.receive(f.ch, "")
			f.wantAssignee(waiting, nil)
			setStatus("available")
			var arrived *store.Conversation
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				_, c, _, err := f.svc.Receive(ctx, inbox.Inbound{ChannelID: f.ch.ID, ThreadKey: fmt.Sprintf("race-%d", round),
					ContactIdentities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("race%d@example.net", round)}}, Text: "Hi"})
				if err != nil {
					t.Error(err)
				}
				arrived = c
			})
			wg.Go(func() {
				<-start
				if _, err := f.svc.RouteWaiting(ctx); err != nil {
					t.Error(err)
				}
			})
			close(start)
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			got := 0
			for _, c := range []*store.Conversation{waiting, arrived} {
				if f.assignee(c.ID) == f.a1.ID {
					got++
				}
			}
			if got != 1 {
				t.Fatalf("round %d: a1 has %d of the two conversations, capacity 1", round, got)
			}
			for _, c := range []*store.Conversation{waiting, arrived} {
				f.update(c, inbox.Patch{Status: ptr("closed")})
			}
		}
	})
}

// TestRoutingReplyTakesWaitingConversation: replying assigns the replier, which ends the wait;
// a person unassigning it later leaves it in Unassigned instead of routing it behind their back.
func TestRoutingReplyTakesWaitingConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newRoutingFixture(t, s)
		f.capacity(f.a1, routing.Limits{Total: ptr(int64(0))})
		f.rule(f.ch, inbox.RuleInput{Enabled: true, UserIDs: userIDs(f.a1), OnlyAvailable: true})
		c := f.receive(f.ch, "")
		f.wantAssignee(c, nil)
		if _, err := f.svc.Reply(t.Context(), f.a2, c.ID, inbox.ReplyInput{Text: "On it"}); err != nil {
			t.Fatal(err)
		}
		f.wantAssignee(c, f.a2)
		if got := f.waiting(); len(got) != 0 {
			t.Errorf("waiting %v", got)
		}
		if _, err := f.svc.Update(t.Context(), f.a2, c.ID, inbox.Patch{Unassign: true}); err != nil {
			t.Fatal(err)
		}
		f.capacity(f.a1, routing.Limits{})
		if n, err := f.svc.RouteWaiting(t.Context()); err != nil || n != 0 {
			t.Fatalf("route waiting: %d %v", n, err)
		}
		f.wantAssignee(c, nil)
	})
}
