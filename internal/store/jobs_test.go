package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func enqueue(t *testing.T, s *store.Store, j store.NewJob) int64 {
	t.Helper()
	var id int64
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = tx.EnqueueJob(context.Background(), j)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func claim(t *testing.T, s *store.Store, node string) *store.Job {
	t.Helper()
	j, err := s.ClaimJob(context.Background(), node, nil, time.Minute)
	if err != nil {
		t.Fatalf("claim by %s: %v", node, err)
	}
	return j
}

func claimNone(t *testing.T, s *store.Store, node string) {
	t.Helper()
	j, err := s.ClaimJob(context.Background(), node, nil, time.Minute)
	if !errors.Is(err, store.ErrNotFound) {
		if err == nil {
			t.Fatalf("claim by %s: got job %d (%s), want nothing ready", node, j.ID, j.OrderingKey)
		}
		t.Fatalf("claim by %s: %v, want ErrNotFound", node, err)
	}
}

func TestEnqueueRolledBackLeavesNoJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "test"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		jobs, err := s.Jobs(ctx, "", "", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 0 {
			t.Fatalf("jobs after rollback: %d, want 0", len(jobs))
		}
		claimNone(t, s, "n1")
	})
}

func TestClaimCompleteRetryFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := enqueue(t, s, store.NewJob{Kind: "mail", Payload: map[string]int{"n": 7}, MaxAttempts: 3})
		future := enqueue(t, s, store.NewJob{Kind: "mail", RunAt: store.Now() + time.Hour.Milliseconds()})

		j := claim(t, s, "n1")
		if j.ID != id || j.State != store.JobRunning || j.Attempts != 1 || j.MaxAttempts != 3 || j.LockedBy != "n1" ||
			j.LockedUntil == nil || *j.LockedUntil < store.Now()+50_000 {
			t.Fatalf("claimed %+v", j)
		}
		if string(j.Payload) != `{"n": 7}` && string(j.Payload) != `{"n":7}` {
			t.Fatalf("payload %s", j.Payload)
		}
		claimNone(t, s, "n2") // the other job is not due

		if err := s.CompleteJob(ctx, id, "n2"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("complete by another node: %v, want ErrConflict", err)
		}
		if err := s.RetryJobLater(ctx, id, "n1", store.Now()-1, "timeout"); err != nil {
			t.Fatal(err)
		}
		j, err := s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobQueued || j.LastError != "timeout" || j.LockedBy != "" || j.LockedUntil != nil || j.Attempts != 1 {
			t.Fatalf("after retry later: %+v", j)
		}

		j = claim(t, s, "n2")
		if j.ID != id || j.Attempts != 2 {
			t.Fatalf("second claim %+v", j)
		}
		if err := s.FailJob(ctx, id, "n2", "bad address"); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteJob(ctx, id, "n2"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("complete a failed job: %v, want ErrConflict", err)
		}
		failed, err := s.Jobs(ctx, store.JobFailed, "", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || failed[0].ID != id || failed[0].LastError != "bad address" {
			t.Fatalf("failed jobs %+v", failed)
		}

		if _, err := s.RetryFailedJob(ctx, future); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("retry a queued job: %v, want ErrConflict", err)
		}
		if _, err := s.RetryFailedJob(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("retry an unknown job: %v, want ErrNotFound", err)
		}
		j, err = s.RetryFailedJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobQueued || j.Attempts != 0 || j.RunAt > store.Now() {
			t.Fatalf("retried %+v", j)
		}
		j = claim(t, s, "n3")
		if j.ID != id || j.Attempts != 1 {
			t.Fatalf("claim after retry %+v", j)
		}
		if err := s.CompleteJob(ctx, id, "n3"); err != nil {
			t.Fatal(err)
		}
		j, err = s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobDone || j.LockedBy != "" {
			t.Fatalf("done %+v", j)
		}
		if _, err := s.Job(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown job: %v", err)
		}
	})
}

// Whatever an error message holds, recording it must work: a failure to store the outcome would
// leave the job stuck until its lease expired.
func TestJobErrorTextIsStorable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := enqueue(t, s, store.NewJob{Kind: "k"})
		claim(t, s, "n")
		msg := "provider said \xff\xfe\x00 " + strings.Repeat("ü", 5000)
		if err := s.RetryJobLater(ctx, id, "n", store.Now(), msg); err != nil {
			t.Fatal(err)
		}
		j, err := s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(j.LastError, "provider said \uFFFD") || !utf8.ValidString(j.LastError) || len(j.LastError) > 4100 {
			t.Fatalf("last error %q…", j.LastError[:40])
		}
	})
}

func TestClaimKinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := enqueue(t, s, store.NewJob{Kind: "a"})
		b := enqueue(t, s, store.NewJob{Kind: "b"})
		j, err := s.ClaimJob(ctx, "n", []string{"b", "c"}, time.Minute)
		if err != nil || j.ID != b {
			t.Fatalf("claim kinds b,c: %v %+v", err, j)
		}
		if _, err := s.ClaimJob(ctx, "n", []string{"b"}, time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim kind b again: %v", err)
		}
		if j := claim(t, s, "n"); j.ID != a {
			t.Fatalf("claim any: %d, want %d", j.ID, a)
		}
	})
}

func TestClaimOrderingKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a1 := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		b1 := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-2"})
		enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		b2 := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-2"})
		free := enqueue(t, s, store.NewJob{Kind: "k"})

		got := map[int64]bool{}
		for range 3 {
			got[claim(t, s, "n").ID] = true
		}
		if !got[a1] || !got[b1] || !got[free] {
			t.Fatalf("claimed %v, want %d, %d, %d", got, a1, b1, free)
		}
		claimNone(t, s, "n") // the second job of each key waits for the first

		// A transient failure keeps a1 first in line: the next job of its key must not overtake it.
		if err := s.RetryJobLater(ctx, a1, "n", store.Now()+time.Hour.Milliseconds(), "later"); err != nil {
			t.Fatal(err)
		}
		claimNone(t, s, "n")

		// A permanent failure ends b1, so b2 may go.
		if err := s.FailJob(ctx, b1, "n", "gone"); err != nil {
			t.Fatal(err)
		}
		if j := claim(t, s, "n"); j.ID != b2 {
			t.Fatalf("claimed %d, want %d", j.ID, b2)
		}
		claimNone(t, s, "n")
	})
}

// A job of a key must not start while another job of the key runs, even one with a higher id:
// here the lower id is a failed job an admin retries while the next job of the key is running.
func TestClaimRunningJobBlocksRetriedLowerID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		second := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		if j := claim(t, s, "n"); j.ID != first {
			t.Fatalf("claimed %d, want %d", j.ID, first)
		}
		claimNone(t, s, "n")
		if err := s.FailJob(ctx, first, "n", "permanent"); err != nil {
			t.Fatal(err)
		}
		if j := claim(t, s, "n"); j.ID != second {
			t.Fatalf("claimed %d, want %d", j.ID, second)
		}
		if _, err := s.RetryFailedJob(ctx, first); err != nil {
			t.Fatal(err)
		}
		claimNone(t, s, "n") // second still runs
		if err := s.CompleteJob(ctx, second, "n"); err != nil {
			t.Fatal(err)
		}
		if j := claim(t, s, "n"); j.ID != first {
			t.Fatalf("claimed %d, want %d", j.ID, first)
		}
	})
}

func TestClaimExpiredLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		next := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
		// The lease is long enough that a loaded CI machine cannot let it lapse before the
		// first claimNone, and the sleep outlasts it.
		j, err := s.ClaimJob(ctx, "dead", nil, 400*time.Millisecond)
		if err != nil || j.ID != id {
			t.Fatalf("claim: %v %+v", err, j)
		}
		claimNone(t, s, "alive")
		time.Sleep(500 * time.Millisecond)
		// The dead node's job comes back first; its successor still waits.
		j = claim(t, s, "alive")
		if j.ID != id || j.Attempts != 2 || j.LockedBy != "alive" {
			t.Fatalf("reclaimed %+v", j)
		}
		claimNone(t, s, "alive")
		if err := s.CompleteJob(ctx, id, "dead"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("complete by the node that lost the lease: %v", err)
		}
		if err := s.ExtendLease(ctx, id, "alive", store.Now()+time.Hour.Milliseconds()); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteJob(ctx, id, "alive"); err != nil {
			t.Fatal(err)
		}
		if j := claim(t, s, "alive"); j.ID != next {
			t.Fatalf("claimed %d, want %d", j.ID, next)
		}
	})
}

func TestJobsListAndCleanup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ids []int64
		for i := range 5 {
			kind := "a"
			if i%2 == 1 {
				kind = "b"
			}
			ids = append(ids, enqueue(t, s, store.NewJob{Kind: kind}))
		}
		page, err := s.Jobs(ctx, "", "", 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ID != ids[4] || page[1].ID != ids[3] {
			t.Fatalf("first page %v", jobIDs(page))
		}
		page, err = s.Jobs(ctx, "", "", page[1].ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 3 || page[0].ID != ids[2] {
			t.Fatalf("second page %v", jobIDs(page))
		}
		page, err = s.Jobs(ctx, store.JobQueued, "b", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ID != ids[3] || page[1].ID != ids[1] {
			t.Fatalf("queued b %v", jobIDs(page))
		}

		for range 2 {
			j := claim(t, s, "n")
			if err := s.CompleteJob(ctx, j.ID, "n"); err != nil {
				t.Fatal(err)
			}
		}
		j := claim(t, s, "n")
		if err := s.FailJob(ctx, j.ID, "n", "x"); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteDoneJobs(ctx, store.Now()-time.Hour.Milliseconds())
		if err != nil || n != 0 {
			t.Fatalf("delete jobs done over an hour ago: %d %v", n, err)
		}
		n, err = s.DeleteDoneJobs(ctx, store.Now()+1)
		if err != nil || n != 2 {
			t.Fatalf("delete done jobs: %d %v, want 2", n, err)
		}
		rest, err := s.Jobs(ctx, "", "", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != 3 {
			t.Fatalf("left %v", jobIDs(rest))
		}
		for _, j := range rest {
			if j.State == store.JobDone {
				t.Fatalf("done job %d left", j.ID)
			}
		}
	})
}

func jobIDs(jobs []*store.Job) []int64 {
	var ids []int64
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// On PostgreSQL ids are not commit-ordered: a job whose enqueueing transaction commits late can
// have a lower id than a job of its key that already runs. It must wait for that job.
func TestClaimLateCommittedLowerIDWaitsPostgres(t *testing.T) {
	s := storetest.OpenPostgres(t)
	ctx := context.Background()
	enqueued := make(chan int64)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(tx *store.Tx) error {
			id, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
			if err != nil {
				close(enqueued)
				return err
			}
			enqueued <- id
			<-release
			return nil
		})
	}()
	early, ok := <-enqueued
	if !ok {
		t.Fatal(<-done)
	}
	late := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
	if late < early {
		t.Fatalf("ids %d then %d", early, late)
	}
	if j := claim(t, s, "n"); j.ID != late {
		t.Fatalf("claimed %d, want %d", j.ID, late)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	claimNone(t, s, "n")
	if err := s.CompleteJob(ctx, late, "n"); err != nil {
		t.Fatal(err)
	}
	if j := claim(t, s, "n"); j.ID != early {
		t.Fatalf("claimed %d, want %d", j.ID, early)
	}
}

// The races the ordering-key lock and re-check exist for. A claim ("first") has chosen job "late" of
// a key while a job of the same key with a lower id ("early") was still uncommitted. Then early
// commits and a second claim runs before the first finishes. Paused right after choosing, the
// first claim must notice the second took early and give up; paused after its check passed, it
// keeps late and the second claim must leave the key alone. Either way one job of the key runs.
func TestClaimRaceOnOrderingKeyPostgres(t *testing.T) {
	for _, stage := range []string{"chosen", "checked"} {
		t.Run(stage, func(t *testing.T) {
			s := storetest.OpenPostgres(t)
			ctx := context.Background()
			enqueued := make(chan int64)
			release := make(chan struct{})
			committed := make(chan error, 1)
			go func() {
				committed <- s.InTx(ctx, func(tx *store.Tx) error {
					id, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "k", OrderingKey: "conv-1"})
					if err != nil {
						close(enqueued)
						return err
					}
					enqueued <- id
					<-release
					return nil
				})
			}()
			early, ok := <-enqueued
			if !ok {
				t.Fatal(<-committed)
			}
			late := enqueue(t, s, store.NewJob{Kind: "k", OrderingKey: "conv-1"})

			paused := make(chan struct{})
			proceed := make(chan struct{})
			var once sync.Once
			store.SetTestHookClaim(func(at string, id int64) {
				if at == stage && id == late {
					once.Do(func() {
						close(paused)
						<-proceed
					})
				}
			})
			defer store.SetTestHookClaim(nil)

			type result struct {
				job *store.Job
				err error
			}
			first := make(chan result, 1)
			go func() {
				j, err := s.ClaimJob(ctx, "first", nil, time.Minute)
				first <- result{j, err}
			}()
			<-paused
			close(release)
			if err := <-committed; err != nil {
				t.Fatal(err)
			}
			second, errSecond := s.ClaimJob(ctx, "second", nil, time.Minute)
			close(proceed)
			a := <-first

			var running []int64
			for _, id := range []int64{early, late} {
				j, err := s.Job(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if j.State == store.JobRunning {
					running = append(running, id)
				}
			}
			if len(running) != 1 {
				t.Fatalf("running jobs of one key: %v (first claim: %v, second: %v)", running, a.err, errSecond)
			}
			switch stage {
			case "chosen": // the second claim saw the key free and took early
				if errSecond != nil || second.ID != early || !errors.Is(a.err, store.ErrNotFound) {
					t.Fatalf("second %v %+v, first %v", errSecond, second, a.err)
				}
			case "checked": // the first claim held the key; the second left it alone
				if !errors.Is(errSecond, store.ErrNotFound) || a.err != nil || a.job.ID != late {
					t.Fatalf("second %v %+v, first %v %+v", errSecond, second, a.err, a.job)
				}
			}
		})
	}
}
