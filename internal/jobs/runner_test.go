package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// eachDatabase runs fn on every engine with open, which returns a new, separately pooled handle to
// one fresh database each time it is called — what another process (or a restarted one) would get.
func eachDatabase(t *testing.T, fn func(t *testing.T, open func() *store.Store)) {
	t.Helper()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var url, dir string
			if e.Name == "postgres" {
				url = storetest.NewPostgresDatabase(t)
			} else {
				dir = t.TempDir()
			}
			fn(t, func() *store.Store { return openStore(t, url, dir) })
		})
	}
}

func openStore(t *testing.T, url, dir string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newRunner returns a runner tuned for tests: quick polls and millisecond backoff.
func newRunner(t *testing.T, s *store.Store, handlers map[string]jobs.Handler) *jobs.Runner {
	return &jobs.Runner{
		Store:        s,
		Handlers:     handlers,
		Log:          testLog(t),
		PollInterval: 20 * time.Millisecond,
		Backoff:      func(int) time.Duration { return time.Millisecond },
	}
}

// start runs r until the returned stop is called (or the test ends); stop waits for Run to return.
func start(t *testing.T, r *jobs.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, s *store.Store, jobs ...store.NewJob) []int64 {
	t.Helper()
	var ids []int64
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		for _, j := range jobs {
			id, err := tx.EnqueueJob(context.Background(), j)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitState(t *testing.T, s *store.Store, id int64, state string) *store.Job {
	t.Helper()
	var j *store.Job
	waitFor(t, fmt.Sprintf("job %d to be %s", id, state), func() bool {
		var err error
		j, err = s.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State == state
	})
	return j
}

// counter counts handler calls by job id.
type counter struct {
	mu    sync.Mutex
	calls map[int64]int
}

func (c *counter) add(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[int64]int{}
	}
	c.calls[id]++
	return c.calls[id]
}

func (c *counter) get(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// syncBuffer is a log sink safe for the runner's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestJobRunsOnceAndIsDone(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var c counter
		var gotPayload []byte
		var mu sync.Mutex
		r := newRunner(t, s, map[string]jobs.Handler{"mail": func(ctx context.Context, j *store.Job) error {
			mu.Lock()
			gotPayload = j.Payload
			mu.Unlock()
			c.add(j.ID)
			return nil
		}})
		var logs syncBuffer
		r.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		start(t, r)
		id := enqueue(t, s, store.NewJob{Kind: "mail", Payload: map[string]string{"body": "secret-body-text"}})[0]
		r.Wake()
		j := waitState(t, s, id, store.JobDone)
		time.Sleep(100 * time.Millisecond) // several polls: it must not run again
		if n := c.get(id); n != 1 {
			t.Fatalf("handler ran %d times", n)
		}
		if j.Attempts != 1 {
			t.Fatalf("attempts %d", j.Attempts)
		}
		mu.Lock()
		var p map[string]string
		err := json.Unmarshal(gotPayload, &p)
		mu.Unlock()
		if err != nil || p["body"] != "secret-body-text" {
			t.Fatalf("payload %v %v", p, err)
		}
		out := logs.String()
		if !strings.Contains(out, "job done") || !strings.Contains(out, fmt.Sprintf("job_id=%d", id)) ||
			!strings.Contains(out, "kind=mail") || !strings.Contains(out, "attempt=1") {
			t.Fatalf("log lacks the outcome:\n%s", out)
		}
		if strings.Contains(out, "secret-body-text") {
			t.Fatalf("log shows the payload:\n%s", out)
		}
	})
}

func TestTransientFailureRetriesWithBackoff(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"flaky": func(ctx context.Context, j *store.Job) error {
			n := c.add(j.ID)
			if j.Attempts != n {
				return fmt.Errorf("attempt %d on call %d", j.Attempts, n)
			}
			switch n {
			case 1:
				return errors.New("connection refused")
			case 2:
				panic("nil map") // a panic is a transient failure too
			}
			return nil
		}})
		var mu sync.Mutex
		var backoffs []int
		r.Backoff = func(attempt int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, attempt)
			mu.Unlock()
			return 50 * time.Millisecond
		}
		start(t, r)
		id := enqueue(t, s, store.NewJob{Kind: "flaky"})[0]
		began := time.Now()
		r.Wake()
		j := waitState(t, s, id, store.JobDone)
		if took := time.Since(began); took < 100*time.Millisecond {
			t.Fatalf("two retries took %v, less than their backoff", took)
		}
		if c.get(id) != 3 || j.Attempts != 3 {
			t.Fatalf("calls %d attempts %d, want 3", c.get(id), j.Attempts)
		}
		if j.LastError != "" {
			t.Fatalf("last error kept after success: %q", j.LastError)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(backoffs, []int{1, 2}) {
			t.Fatalf("backoff asked for attempts %v, want [1 2]", backoffs)
		}
	})
}

func TestPermanentFailureStops(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"send": func(ctx context.Context, j *store.Job) error {
			c.add(j.ID)
			return fmt.Errorf("deliver: %w", channel.Permanent(errors.New("550 no such mailbox")))
		}})
		start(t, r)
		ids := enqueue(t, s, store.NewJob{Kind: "send"}, store.NewJob{Kind: "nobody-handles-this"})
		r.Wake()
		j := waitState(t, s, ids[0], store.JobFailed)
		if c.get(ids[0]) != 1 || j.Attempts != 1 || !strings.Contains(j.LastError, "550 no such mailbox") {
			t.Fatalf("calls %d, job %+v", c.get(ids[0]), j)
		}
		j = waitState(t, s, ids[1], store.JobFailed)
		if j.LastError != "no handler for kind nobody-handles-this" {
			t.Fatalf("unknown kind: %+v", j)
		}
	})
}

func TestMaxAttemptsFails(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"flaky": func(ctx context.Context, j *store.Job) error {
			return fmt.Errorf("try %d failed", c.add(j.ID))
		}})
		start(t, r)
		id := enqueue(t, s, store.NewJob{Kind: "flaky", MaxAttempts: 3})[0]
		r.Wake()
		j := waitState(t, s, id, store.JobFailed)
		time.Sleep(100 * time.Millisecond)
		if c.get(id) != 3 || j.Attempts != 3 || j.LastError != "try 3 failed" {
			t.Fatalf("calls %d, job %+v", c.get(id), j)
		}
	})
}

// Jobs of one ordering key run strictly in id order even when the first fails twice, while
// jobs of other keys go ahead.
func TestOrderingKey(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var mu sync.Mutex
		var order []string
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"deliver": func(ctx context.Context, j *store.Job) error {
			var p struct{ Name string }
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return err
			}
			n := c.add(j.ID)
			mu.Lock()
			order = append(order, p.Name)
			mu.Unlock()
			if p.Name == "a1" && n <= 2 {
				return errors.New("provider down")
			}
			return nil
		}})
		r.Backoff = func(int) time.Duration { return 100 * time.Millisecond }
		start(t, r)
		ids := enqueue(t, s,
			store.NewJob{Kind: "deliver", OrderingKey: "conversation:1", Payload: map[string]string{"name": "a1"}},
			store.NewJob{Kind: "deliver", OrderingKey: "conversation:1", Payload: map[string]string{"name": "a2"}},
			store.NewJob{Kind: "deliver", OrderingKey: "conversation:2", Payload: map[string]string{"name": "b1"}},
			store.NewJob{Kind: "deliver", OrderingKey: "conversation:1", Payload: map[string]string{"name": "a3"}},
			store.NewJob{Kind: "deliver", OrderingKey: "conversation:2", Payload: map[string]string{"name": "b2"}},
			store.NewJob{Kind: "deliver", Payload: map[string]string{"name": "free"}},
		)
		r.Wake()
		for _, id := range ids {
			waitState(t, s, id, store.JobDone)
		}
		mu.Lock()
		defer mu.Unlock()
		var a, b []string
		for _, name := range order {
			switch name[0] {
			case 'a':
				a = append(a, name)
			case 'b':
				b = append(b, name)
			}
		}
		if !slices.Equal(a, []string{"a1", "a1", "a1", "a2", "a3"}) || !slices.Equal(b, []string{"b1", "b2"}) {
			t.Fatalf("order %v", order)
		}
		// Other keys did not wait for conversation 1's retries.
		if i := slices.Index(order, "b2"); i < 0 || i > slices.Index(order, "a2") || slices.Index(order, "free") > slices.Index(order, "a2") {
			t.Fatalf("other jobs waited for the failing key: %v", order)
		}
	})
}

// A job claimed by a node that died (claimed through the store and never finished) runs again
// once its lease expires.
func TestExpiredLeaseIsReclaimed(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		id := enqueue(t, s, store.NewJob{Kind: "k"})[0]
		// Taken before the claim: the lease runs from inside ClaimJob, so measuring after it
		// could see the job reclaimed "early" by the time ClaimJob took to return. The lease is
		// in whole milliseconds, hence the 10 ms of slack below.
		claimed := time.Now()
		if _, err := s.ClaimJob(context.Background(), "dead-node", nil, 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error {
			c.add(j.ID)
			return nil
		}})
		start(t, r)
		j := waitState(t, s, id, store.JobDone)
		if time.Since(claimed) < 290*time.Millisecond {
			t.Fatalf("reclaimed before the lease expired")
		}
		if c.get(id) != 1 || j.Attempts != 2 {
			t.Fatalf("calls %d attempts %d", c.get(id), j.Attempts)
		}
	})
}

// A handler that overruns the lease has its context cancelled before the lease ends, so the
// runner still holds the job when it records the failed attempt.
func TestHandlerCancelledAtLease(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"slow": func(ctx context.Context, j *store.Job) error {
			if c.add(j.ID) > 1 {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return errors.New("the context was not cancelled")
			}
		}})
		r.Lease = 500 * time.Millisecond
		start(t, r)
		id := enqueue(t, s, store.NewJob{Kind: "slow"})[0]
		began := time.Now()
		r.Wake()
		j := waitState(t, s, id, store.JobDone)
		if took := time.Since(began); took > 5*time.Second {
			t.Fatalf("took %v", took)
		}
		if c.get(id) != 2 || j.Attempts != 2 {
			t.Fatalf("calls %d attempts %d", c.get(id), j.Attempts)
		}
	})
}

// A job whose last attempt's node died is not run again: it may be what kills nodes.
func TestExpiredLastAttemptFails(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		id := enqueue(t, s, store.NewJob{Kind: "k", MaxAttempts: 1})[0]
		if _, err := s.ClaimJob(context.Background(), "dead-node", nil, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		var c counter
		r := newRunner(t, s, map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error {
			c.add(j.ID)
			return nil
		}})
		start(t, r)
		j := waitState(t, s, id, store.JobFailed)
		if c.get(id) != 0 || !strings.Contains(j.LastError, "lease expired") {
			t.Fatalf("calls %d, job %+v", c.get(id), j)
		}
	})
}

// Cancelling Run lets the handler in flight finish, with its context intact, and records it done.
func TestGracefulShutdown(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		started := make(chan struct{})
		release := make(chan struct{})
		handlerErr := make(chan error, 1)
		r := newRunner(t, s, map[string]jobs.Handler{"slow": func(ctx context.Context, j *store.Job) error {
			close(started)
			<-release
			handlerErr <- ctx.Err()
			return nil
		}})
		stop := start(t, r)
		ids := enqueue(t, s, store.NewJob{Kind: "slow"}, store.NewJob{Kind: "later", RunAt: store.Now() + 200})
		r.Wake()
		<-started
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
			t.Fatal("Run returned while a handler was running")
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		<-stopped
		if err := <-handlerErr; err != nil {
			t.Fatalf("handler context ended by shutdown: %v", err)
		}
		j, err := s.Job(context.Background(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobDone {
			t.Fatalf("state %s after shutdown", j.State)
		}
		// Nothing was claimed after the shutdown began, though the second job became due.
		j, err = s.Job(context.Background(), ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobQueued || j.Attempts != 0 {
			t.Fatalf("job claimed during shutdown: %+v", j)
		}
	})
}

// Queued work survives a restart: a new runner on a new store handle runs it.
func TestJobsSurviveRestart(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		first := open()
		blocked := map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error {
			return errors.New("not yet")
		}}
		r1 := newRunner(t, first, blocked)
		r1.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
		stop := start(t, r1)
		ids := enqueue(t, first,
			store.NewJob{Kind: "k", OrderingKey: "x"}, store.NewJob{Kind: "k", OrderingKey: "x"}, store.NewJob{Kind: "k"})
		r1.Wake()
		waitFor(t, "a failed attempt", func() bool {
			j, err := first.Job(context.Background(), ids[0])
			return err == nil && j.Attempts > 0 && j.State == store.JobQueued
		})
		stop()
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}

		second := open()
		var c counter
		r2 := newRunner(t, second, map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error {
			c.add(j.ID)
			return nil
		}})
		start(t, r2)
		for _, id := range ids {
			waitState(t, second, id, store.JobDone)
			if c.get(id) != 1 {
				t.Fatalf("job %d ran %d times after the restart", id, c.get(id))
			}
		}
	})
}

func TestWakeStartsAtOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		r := newRunner(t, s, map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error { return nil }})
		r.PollInterval = time.Hour
		start(t, r)
		time.Sleep(50 * time.Millisecond) // let the first poll find nothing
		id := enqueue(t, s, store.NewJob{Kind: "k"})[0]
		r.Wake()
		waitState(t, s, id, store.JobDone)
	})
}

func TestOldDoneJobsDeleted(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		s := open()
		handlers := map[string]jobs.Handler{"k": func(ctx context.Context, j *store.Job) error { return nil }}
		r := newRunner(t, s, handlers)
		stop := start(t, r)
		ids := enqueue(t, s, store.NewJob{Kind: "k"}, store.NewJob{Kind: "gone"})
		r.Wake()
		waitState(t, s, ids[0], store.JobDone)
		waitState(t, s, ids[1], store.JobFailed)
		stop()
		time.Sleep(10 * time.Millisecond)

		r = newRunner(t, s, handlers)
		r.KeepDone = time.Millisecond
		start(t, r)
		waitFor(t, "the done job to be deleted", func() bool {
			_, err := s.Job(context.Background(), ids[0])
			return errors.Is(err, store.ErrNotFound)
		})
		if j, err := s.Job(context.Background(), ids[1]); err != nil || j.State != store.JobFailed {
			t.Fatalf("failed job: %+v %v", j, err)
		}
	})
}

func TestBackoff(t *testing.T) {
	for attempt := range 40 {
		bound := min(2*time.Second<<min(max(attempt, 1)-1, 20), time.Hour)
		for range 50 {
			d := jobs.Backoff(attempt)
			if d < time.Second || d > bound {
				t.Fatalf("Backoff(%d) = %v, want within [1s, %v]", attempt, d, bound)
			}
		}
	}
	// Full jitter: repeated delays for one attempt differ.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[jobs.Backoff(10)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("Backoff(10) took only %d values in 20 draws", len(seen))
	}
}

// concurrency records what handlers did across runners.
type concurrency struct {
	mu        sync.Mutex
	active    map[string]int     // jobs of a key running now
	attempts  map[string][]int64 // ids of a key in the order their attempts started
	successes map[int64]int
	overlaps  []string
}

func newConcurrency() *concurrency {
	return &concurrency{active: map[string]int{}, attempts: map[string][]int64{}, successes: map[int64]int{}}
}

// handler fails the first attempt of every seventh job transiently, to mix retries into the run.
func (c *concurrency) handler(ctx context.Context, j *store.Job) error {
	key := j.OrderingKey
	c.mu.Lock()
	if key != "" {
		c.active[key]++
		if c.active[key] > 1 {
			c.overlaps = append(c.overlaps, fmt.Sprintf("job %d of %s ran with another", j.ID, key))
		}
	}
	c.attempts[key] = append(c.attempts[key], j.ID)
	c.mu.Unlock()

	time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
	fail := j.ID%7 == 0 && j.Attempts == 1

	c.mu.Lock()
	defer c.mu.Unlock()
	if key != "" {
		c.active[key]--
	}
	if fail {
		return errors.New("transient")
	}
	c.successes[j.ID]++
	return nil
}

func (c *concurrency) done(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.successes) >= n
}

// check asserts every job succeeded exactly once and no key ran two jobs at once; with inOrder,
// also that each key's attempts started in id order (a retry repeats its id, never goes back).
func (c *concurrency) check(t *testing.T, ids []int64, inOrder bool) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.overlaps) > 0 {
		t.Fatalf("jobs of one key overlapped: %v", c.overlaps)
	}
	for _, id := range ids {
		if c.successes[id] != 1 {
			t.Fatalf("job %d succeeded %d times", id, c.successes[id])
		}
	}
	if len(c.successes) != len(ids) {
		t.Fatalf("%d jobs succeeded, want %d", len(c.successes), len(ids))
	}
	if !inOrder {
		return
	}
	for key, seq := range c.attempts {
		if key != "" && !slices.IsSorted(seq) {
			t.Fatalf("key %s ran out of order: %v", key, seq)
		}
	}
}

// jobCount is n, or a fraction of it for SQLite under the race detector: SQLite serialises every
// claim anyway, and the race detector makes its pure-Go driver many times slower.
func jobCount(t *testing.T, n int) int {
	if raceEnabled && strings.HasSuffix(t.Name(), "/sqlite") {
		return n * 2 / 5
	}
	return n
}

func startNodes(t *testing.T, open func() *store.Store, c *concurrency) []*store.Store {
	var stores []*store.Store
	for i := range 2 {
		s := open()
		stores = append(stores, s)
		r := newRunner(t, s, map[string]jobs.Handler{"work": c.handler})
		r.Workers = 4
		r.Node = fmt.Sprintf("node-%d", i)
		r.Log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		start(t, r)
	}
	return stores
}

// waitAllDone waits until the database holds n done jobs (the last outcomes may still be being
// recorded when the handlers have all returned) and no other.
func waitAllDone(t *testing.T, s *store.Store, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d jobs done in the database", n), func() bool {
		all, err := s.Jobs(context.Background(), "", "", 0, n+1)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range all {
			if j.State != store.JobDone {
				return false
			}
		}
		return len(all) == n
	})
}

// Two processes' worth of runners (separate store handles, 4 workers each) share 500 jobs across
// 20 ordering keys plus unordered ones: each job is handled exactly once, each key's jobs run one
// at a time and in id order.
func TestClaimOnceAcrossNodes(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		c := newConcurrency()
		stores := startNodes(t, open, c)
		var batch []store.NewJob
		for i := range jobCount(t, 500) {
			key := ""
			if i%5 != 0 {
				key = fmt.Sprintf("conversation:%d", rand.IntN(20))
			}
			batch = append(batch, store.NewJob{Kind: "work", OrderingKey: key})
		}
		ids := enqueue(t, stores[0], batch...)
		waitFor(t, "jobs to succeed", func() bool { return c.done(len(ids)) })
		waitAllDone(t, stores[1], len(ids))
		time.Sleep(100 * time.Millisecond) // a duplicate run would show now
		c.check(t, ids, true)
	})
}

// Jobs enqueued while runners run, by several writers sharing keys: on PostgreSQL a job can then
// become visible after a higher id of its key already started (ids are not commit-ordered). Every
// job still runs once and no key runs two jobs at once.
func TestClaimOnceWithConcurrentEnqueue(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func() *store.Store) {
		c := newConcurrency()
		stores := startNodes(t, open, c)
		var mu sync.Mutex
		var ids []int64
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				s := stores[w%2]
				for range jobCount(t, 300) / 6 {
					key := fmt.Sprintf("conversation:%d", rand.IntN(4))
					if rand.IntN(5) == 0 {
						key = ""
					}
					var id int64
					err := s.InTx(context.Background(), func(tx *store.Tx) error {
						var err error
						id, err = tx.EnqueueJob(context.Background(), store.NewJob{Kind: "work", OrderingKey: key})
						if err == nil {
							// Keep the transaction open a moment so commits interleave with claims.
							time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
						}
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		waitFor(t, "jobs to succeed", func() bool { return c.done(len(ids)) })
		waitAllDone(t, stores[0], len(ids))
		time.Sleep(100 * time.Millisecond) // a duplicate run would show now
		c.check(t, ids, false)
	})
}
