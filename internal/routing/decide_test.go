package routing

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
)

var monday10UTC = utc("2025-06-02T10:00:00Z")

func n(v int64) *int64 { return &v }

// agent is an eligible candidate: an available agent in the inbox without limits or hours.
func agent(id int64, edit ...func(*Candidate)) *Candidate {
	c := &Candidate{UserID: id, Role: "agent", InboxMember: true, Status: "available", OpenByCategory: map[string]int64{}}
	for _, e := range edit {
		e(c)
	}
	return c
}

func rule(edit ...func(*store.RoutingRule)) *store.RoutingRule {
	r := store.DefaultRoutingRule(7)
	r.Enabled = true
	for _, e := range edit {
		e(r)
	}
	return r
}

func snapshot(r *store.RoutingRule, selected ...*Candidate) Snapshot {
	return Snapshot{Now: monday10UTC, Rule: r, Category: "messaging", Selected: selected}
}

func TestCheckReasons(t *testing.T) {
	offHours := mustHours(t, `{"enabled": true, "time_zone": "UTC", "days": {"sat": [{"start": "09:00", "end": "17:00"}]}}`)
	cases := []struct {
		name          string
		c             *Candidate
		onlyAvailable bool
		reason, limit string
	}{
		{"eligible", agent(1), true, "", ""},
		{"admin", agent(1, func(c *Candidate) { c.Role = "admin" }), true, "", ""},
		{"owner", agent(1, func(c *Candidate) { c.Role = "owner" }), true, SkipRole, ""},
		{"deactivated first", agent(1, func(c *Candidate) { c.Deactivated = true; c.InboxMember = false; c.Status = "away" }), true, SkipDeactivated, ""},
		{"not member", agent(1, func(c *Candidate) { c.InboxMember = false; c.Status = "away" }), true, SkipNotInboxMember, ""},
		{"away", agent(1, func(c *Candidate) { c.Status = "away"; c.WorkingHours = offHours }), true, SkipAway, ""},
		{"away ignored", agent(1, func(c *Candidate) { c.Status = "away" }), false, "", ""},
		{"off hours", agent(1, func(c *Candidate) { c.WorkingHours = offHours }), true, SkipOutsideWorkingHours, ""},
		{"off hours ignored", agent(1, func(c *Candidate) { c.WorkingHours = offHours }), false, "", ""},
		{"total full", agent(1, func(c *Candidate) { c.Limits.Total = n(2); c.OpenTotal = 2 }), true, SkipAtCapacity, "total"},
		{"total room", agent(1, func(c *Candidate) { c.Limits.Total = n(3); c.OpenTotal = 2 }), true, "", ""},
		{"zero limit", agent(1, func(c *Candidate) { c.Limits.Total = n(0) }), true, SkipAtCapacity, "total"},
		{"category full", agent(1, func(c *Candidate) {
			c.Limits.Messaging = n(1)
			c.OpenByCategory["messaging"] = 1
			c.OpenTotal = 1
		}), true, SkipAtCapacity, "messaging"},
		{"other category full", agent(1, func(c *Candidate) {
			c.Limits.Email = n(1)
			c.OpenByCategory["email"] = 1
			c.OpenTotal = 1
		}), true, "", ""},
		{"capacity even when availability is ignored", agent(1, func(c *Candidate) { c.Limits.Total = n(1); c.OpenTotal = 1 }), false, SkipAtCapacity, "total"},
	}
	for _, c := range cases {
		reason, limit := Check(c.c, c.onlyAvailable, "messaging", monday10UTC)
		if reason != c.reason || limit != c.limit {
			t.Errorf("%s: got %q %q, want %q %q", c.name, reason, limit, c.reason, c.limit)
		}
	}
}

func TestDecideRoundRobin(t *testing.T) {
	// Never assigned first, then least recently assigned; ties by id.
	cands := []*Candidate{
		agent(1, func(c *Candidate) { c.LastAssigned = 300 }),
		agent(2, func(c *Candidate) { c.LastAssigned = 100 }),
		agent(3, func(c *Candidate) { c.LastAssigned = 200 }),
		agent(4, func(c *Candidate) { c.LastAssigned = 100 }),
	}
	d := Decide(snapshot(rule(), cands...))
	if d.AssigneeID != 2 || d.By != RoundRobin {
		t.Fatalf("got %+v, want user 2 (least recently assigned, lower id than 4)", d)
	}
	if !reflect.DeepEqual(d.Eligible, []int64{1, 2, 3, 4}) || len(d.Skipped) != 0 {
		t.Errorf("eligible %v skipped %v", d.Eligible, d.Skipped)
	}
	cands = append(cands, agent(5))
	if d := Decide(snapshot(rule(), cands...)); d.AssigneeID != 5 {
		t.Errorf("got %d, want 5 who never had one", d.AssigneeID)
	}
	// Simulate a run: each pick moves to the back.
	cands = []*Candidate{agent(1), agent(2), agent(3)}
	var order []int64
	for i := range 6 {
		d := Decide(snapshot(rule(), cands...))
		order = append(order, d.AssigneeID)
		cands[d.AssigneeID-1].LastAssigned = int64(i + 1)
	}
	if !reflect.DeepEqual(order, []int64{1, 2, 3, 1, 2, 3}) {
		t.Errorf("round robin order %v", order)
	}
}

func TestDecideBalanced(t *testing.T) {
	r := rule(func(r *store.RoutingRule) { r.Strategy = Balanced })
	cands := []*Candidate{
		agent(1, func(c *Candidate) { c.OpenTotal = 4 }),
		agent(2, func(c *Candidate) { c.OpenTotal = 2; c.LastAssigned = 9 }),
		agent(3, func(c *Candidate) { c.OpenTotal = 2 }),
	}
	// Fewest open wins regardless of when they last got one; the tie 2/3 goes to the lower id.
	if d := Decide(snapshot(r, cands...)); d.AssigneeID != 2 || d.By != Balanced {
		t.Fatalf("got %+v, want user 2", d)
	}
	cands[1].OpenTotal = 3
	if d := Decide(snapshot(r, cands...)); d.AssigneeID != 3 {
		t.Fatalf("got %d, want user 3", d.AssigneeID)
	}
}

func TestDecideSkipsAndExplains(t *testing.T) {
	cands := []*Candidate{
		agent(1, func(c *Candidate) { c.Status = "away" }),
		agent(2, func(c *Candidate) { c.Limits.Total = n(1); c.OpenTotal = 1 }),
		agent(3),
		agent(4, func(c *Candidate) { c.InboxMember = false }),
		agent(5, func(c *Candidate) { c.Deactivated = true }),
	}
	r := rule(func(r *store.RoutingRule) { r.UserIDs = []int64{1, 2, 3, 4, 5} })
	d := Decide(snapshot(r, cands...))
	if d.AssigneeID != 3 {
		t.Fatalf("got %+v, want 3", d)
	}
	want := []Skip{{1, SkipAway, ""}, {2, SkipAtCapacity, "total"}, {4, SkipNotInboxMember, ""}, {5, SkipDeactivated, ""}}
	if !reflect.DeepEqual(d.Skipped, want) {
		t.Errorf("skipped %+v, want %+v", d.Skipped, want)
	}
	b, err := json.Marshal(Explain(r, d))
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"eligible":[3],"rule":{"assign_to":"users_and_teams","channel_id":7,"only_available":true,"strategy":"round_robin","team_ids":[],"user_ids":[1,2,3,4,5]},` +
		`"skipped":[{"user_id":1,"reason":"away"},{"user_id":2,"reason":"at_capacity","limit":"total"},{"user_id":4,"reason":"not_inbox_member"},{"user_id":5,"reason":"deactivated"}],"strategy":"round_robin"}`
	if string(b) != wantJSON {
		t.Errorf("explanation\n%s\nwant\n%s", b, wantJSON)
	}

	// With only_available off the away user is eligible and, never assigned with the lowest id, wins.
	r.OnlyAvailable = false
	if d := Decide(snapshot(r, cands...)); d.AssigneeID != 1 || !reflect.DeepEqual(d.Eligible, []int64{1, 3}) {
		t.Errorf("only_available off: got %+v", d)
	}
}

func TestDecideNobody(t *testing.T) {
	full := func(c *Candidate) { c.Limits.Total = n(1); c.OpenTotal = 1 }
	d := Decide(snapshot(rule(), agent(1, full), agent(2, full)))
	if d.AssigneeID != 0 || !d.AllAtCapacity() || len(d.Eligible) != 0 {
		t.Fatalf("everyone full: %+v", d)
	}
	if got := Explain(rule(), d)["reason"]; got != "everyone_at_capacity" {
		t.Errorf("reason %v", got)
	}
	d = Decide(snapshot(rule(), agent(1, full), agent(2, func(c *Candidate) { c.Status = "away" })))
	if d.AssigneeID != 0 || d.AllAtCapacity() {
		t.Fatalf("one away, one full: %+v", d)
	}
	if got := Explain(rule(), d)["reason"]; got != "nobody_eligible" {
		t.Errorf("reason %v", got)
	}
	d = Decide(snapshot(rule()))
	if d.AssigneeID != 0 || d.AllAtCapacity() || d.Skipped == nil || d.Eligible == nil {
		t.Fatalf("nobody selected: %+v", d)
	}
}

func TestDecideContactOwner(t *testing.T) {
	r := rule(func(r *store.RoutingRule) { r.AssignTo = AssignContactOwner })
	s := snapshot(r, agent(1), agent(2))
	s.Owner = agent(9)
	if d := Decide(s); d.AssigneeID != 9 || d.By != ByContactOwner || d.Fallback {
		t.Fatalf("owner eligible: %+v", d)
	}
	s.Owner = agent(9, func(c *Candidate) { c.Status = "away" })
	d := Decide(s)
	if d.AssigneeID != 1 || d.By != RoundRobin || !d.Fallback || !reflect.DeepEqual(d.Skipped, []Skip{{9, SkipAway, ""}}) {
		t.Fatalf("owner away: %+v", d)
	}
	if Explain(r, d)["fallback"] != true {
		t.Error("the explanation must say it fell back")
	}
	s.Owner = nil
	if d := Decide(s); d.AssigneeID != 1 || !d.Fallback || len(d.Skipped) != 0 {
		t.Fatalf("no owner: %+v", d)
	}
	// The owner is also selected and away: skipped once.
	s.Owner = agent(1, func(c *Candidate) { c.Status = "away" })
	s.Selected = []*Candidate{s.Owner, agent(2)}
	if d := Decide(s); d.AssigneeID != 2 || len(d.Skipped) != 1 {
		t.Fatalf("owner selected and away: %+v", d)
	}
}

func TestDecidePreviousAssignee(t *testing.T) {
	s := snapshot(rule(), agent(1), agent(2))
	s.Previous = agent(5) // not selected by the rule: still gets it back
	if d := Decide(s); d.AssigneeID != 5 || d.By != ByPreviousAssignee {
		t.Fatalf("previous eligible: %+v", d)
	}
	s.Previous = agent(5, func(c *Candidate) { c.Limits.Total = n(0) })
	if d := Decide(s); d.AssigneeID != 1 || d.By != RoundRobin || d.Skipped[0] != (Skip{5, SkipAtCapacity, "total"}) {
		t.Fatalf("previous full: %+v", d)
	}
}
