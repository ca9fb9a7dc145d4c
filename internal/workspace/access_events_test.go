package workspace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// accessEvents returns the access.changed events written after *last, as "all" or the user ids.
func accessEvents(t *testing.T, s *store.Store, last *int64) []string {
	t.Helper()
	// On PostgreSQL events are numbered a moment after commit, by each node's sequencer.
	if err := s.SequenceAllEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := s.EventsAfter(context.Background(), *last, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		*last = e.Seq
		if e.Type != events.TypeAccessChanged {
			continue
		}
		if e.InboxID != nil {
			t.Errorf("access.changed has inbox %d: it must reach no client", *e.InboxID)
		}
		var d events.AccessData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.All {
			out = append(out, "all")
		} else {
			out = append(out, fmt.Sprint(d.UserIDs))
		}
	}
	return out
}

// TestAccessChangesAreEvents: every change to who may see which inbox writes access.changed in
// its own transaction, naming the users affected, so realtime hubs re-check them at once
// (SPEC ACCESS-9); other changes write none.
func TestAccessChangesAreEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		agent := mustUser(t, ws, nil, "agent@example.com", "agent")
		other := mustUser(t, ws, nil, "other@example.com", "agent")
		var last int64
		check := func(what string, want ...string) {
			t.Helper()
			if got := accessEvents(t, s, &last); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: access.changed %v, want %v", what, got, want)
			}
		}
		check("creating users")

		in, err := ws.CreateInbox(ctx, nil, workspace.NewInbox{Name: "Support", Access: workspace.AccessSpecific, UserIDs: []int64{agent.ID}})
		if err != nil {
			t.Fatal(err)
		}
		check("create inbox", "all")
		users := []int64{other.ID}
		if _, err := ws.UpdateInbox(ctx, nil, in.ID, workspace.InboxPatch{UserIDs: &users}); err != nil {
			t.Fatal(err)
		}
		check("change an inbox's users", "all")
		team, err := ws.CreateTeam(ctx, nil, workspace.NewTeam{Name: "Tier 2"})
		if err != nil {
			t.Fatal(err)
		}
		check("create team", "all")
		if _, err := ws.SetTeamMember(ctx, nil, team.ID, agent.ID, true); err != nil {
			t.Fatal(err)
		}
		check("add a team member", fmt.Sprint([]int64{agent.ID}))
		if err := ws.RemoveTeamMember(ctx, nil, team.ID, agent.ID); err != nil {
			t.Fatal(err)
		}
		check("remove a team member", fmt.Sprint([]int64{agent.ID}))
		admin := "admin"
		if _, err := ws.UpdateUser(ctx, nil, other.ID, workspace.UserPatch{Role: &admin}); err != nil {
			t.Fatal(err)
		}
		check("change a role", fmt.Sprint([]int64{other.ID}))
		yes := true
		if _, err := ws.UpdateUser(ctx, nil, agent.ID, workspace.UserPatch{Deactivated: &yes}); err != nil {
			t.Fatal(err)
		}
		check("deactivate", fmt.Sprint([]int64{agent.ID}))
		title := "Lead"
		if _, err := ws.UpdateUser(ctx, nil, other.ID, workspace.UserPatch{JobTitle: &title}); err != nil {
			t.Fatal(err)
		}
		check("change a job title")
	})
}
