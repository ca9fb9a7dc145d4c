package inbox_test

import (
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestOpenCountsFollowEveryChange: the per-assignee open counters that routing and capacity
// read (kept by triggers) equal a recount from the conversation list after a random mix of
// assignments, closes, reopens, spam, trash, restores and moves between inboxes.
func TestOpenCountsFollowEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		rng := rand.New(rand.NewPCG(7, 11))
		users := []*store.User{f.admin, f.agent, f.seller}
		var ids []int64
		for i := range 12 {
			_, c := f.receive("thread-"+itoa(int64(i)), "hello")
			ids = append(ids, c.ID)
		}
		for range 150 {
			id := ids[rng.IntN(len(ids))]
			var p inbox.Patch
			switch rng.IntN(8) {
			case 0, 1, 2:
				p.AssigneeID = ptr(users[rng.IntN(len(users))].ID)
			case 3:
				p.Unassign = true
			case 4:
				p.Status = ptr([]string{"open", "closed"}[rng.IntN(2)])
			case 5:
				p.Spam = ptr(rng.IntN(2) == 0)
			case 6:
				p.Trashed = ptr(rng.IntN(2) == 0)
			case 7:
				p.InboxID = ptr([]int64{f.support.ID, f.sales.ID}[rng.IntN(2)])
			}
			// Some random changes are refused (an assignee who cannot see the inbox); a refused
			// change must leave the counters alone too.
			if _, err := f.svc.Update(f.ctx, f.admin, id, p); err != nil {
				if _, ok := problem.As(err); !ok {
					t.Fatalf("update %d with %+v: %v", id, p, err)
				}
			}
		}
		total := 0
		for _, u := range users {
			want := map[string]int64{}
			list, _, err := f.svc.Conversations(f.ctx, f.admin, inbox.Filter{AssigneeID: itoa(u.ID), Status: "open", Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			total += len(list)
			want[testKind] = int64(len(list)) // every fixture channel is of the test kind
			got, err := s.OpenAssigned(f.ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want[testKind] == 0 {
				delete(want, testKind)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: counters %v, recount %v", u.Email, got, want)
			}
		}
		if total == 0 {
			t.Fatal("the random changes left nobody with an open conversation; the test checked nothing")
		}
	})
}
