package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// Defaults of the Runner's settings.
const (
	DefaultWorkers      = 4
	DefaultLease        = 2 * time.Minute
	DefaultPollInterval = time.Second
	// DefaultKeepDone is how long finished jobs stay in the table for inspection.
	DefaultKeepDone = 7 * 24 * time.Hour
)

// Backoff bounds.
const (
	backoffBase = 2 * time.Second
	backoffMax  = time.Hour
	backoffMin  = time.Second
)

// cleanupInterval is how often a runner deletes old done jobs.
const cleanupInterval = time.Hour

// storeTimeout bounds each store call the runner makes, so a stuck database cannot hold a worker
// (or shutdown) forever.
const storeTimeout = 30 * time.Second

// Runner claims jobs from the store and runs them with its handlers. Set the fields, then call
// Run. Every parley process may run one; the store makes sure each job is claimed once.
type Runner struct {
	Store *store.Store
	// Handlers run jobs by kind. A job whose kind has none fails permanently.
	Handlers map[string]Handler
	// Workers is how many jobs run at once in this process (default 4).
	Workers int
	// Node names this process in jobs' locked_by (default hostname-pid-random).
	Node string
	Log  *slog.Logger
	// Lease is how long a claimed job is held before another process may take it over as
	// abandoned (default 2 minutes). A handler's context is cancelled shortly before it ends.
	Lease time.Duration
	// PollInterval is how often an idle runner looks for due jobs (default 1s). Wake starts a
	// look at once.
	PollInterval time.Duration
	// Backoff returns the delay before retrying a job whose attempt-th attempt failed
	// (default the package's Backoff).
	Backoff func(attempt int) time.Duration
	// KeepDone is how long done jobs are kept before deletion (default 7 days).
	KeepDone time.Duration

	initOnce sync.Once
	wake     chan struct{}
}

func (r *Runner) init() {
	r.initOnce.Do(func() {
		r.wake = make(chan struct{}, 1)
		if r.Workers <= 0 {
			r.Workers = DefaultWorkers
		}
		if r.Node == "" {
			r.Node = defaultNode()
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
		if r.Lease <= 0 {
			r.Lease = DefaultLease
		}
		if r.PollInterval <= 0 {
			r.PollInterval = DefaultPollInterval
		}
		if r.Backoff == nil {
			r.Backoff = Backoff
		}
		if r.KeepDone <= 0 {
			r.KeepDone = DefaultKeepDone
		}
	})
}

func defaultNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "parley"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Wake makes the runner look for ready jobs now instead of at its next poll; call it after
// committing a transaction that enqueued jobs. It never blocks, and may be called before Run.
func (r *Runner) Wake() {
	r.init()
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Backoff returns how long to wait before retrying after the attempt-th failed attempt: an upper
// bound that starts at 2s and doubles each attempt up to an hour, with full jitter (a uniform
// random delay below the bound, at least a second) so jobs that failed together, say when a
// provider was down, do not all retry together.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	bound := backoffMax
	if attempt <= 12 { // 2s << 11 already exceeds an hour
		bound = min(backoffBase<<(attempt-1), backoffMax)
	}
	return max(time.Duration(mrand.Int64N(int64(bound))), backoffMin)
}

// Run claims and runs jobs until ctx is cancelled. Then it stops claiming, lets the jobs in
// flight finish (their handlers' contexts are not cancelled by ctx, only by their lease) and
// returns. It returns nil after a shutdown; errors reading the store are logged and retried.
func (r *Runner) Run(ctx context.Context) error {
	r.init()
	if r.Store == nil {
		return errors.New("jobs: runner has no store")
	}
	log := r.Log.With("node", r.Node)
	log.Info("job runner started", "workers", r.Workers, "lease", r.Lease.String())

	var wg sync.WaitGroup
	wg.Go(func() { r.cleanup(ctx) })

	// A slot in slots is one worker; the loop claims a job only when a slot is free, so a
	// process never holds leases on jobs it cannot start yet.
	slots := make(chan struct{}, r.Workers)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
		case slots <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		job, err := r.claim(ctx)
		if err == nil {
			wg.Go(func() {
				defer func() {
					<-slots
					// The job's end may have made the next job of its ordering key ready, or
					// freed the slot another ready job waits for.
					r.Wake()
				}()
				r.execute(ctx, job)
			})
			continue
		}
		<-slots
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("claim job", "err", err)
		}
		poll.Reset(r.PollInterval)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-poll.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	log.Info("job runner stopping; waiting for jobs in flight")
	wg.Wait()
	log.Info("job runner stopped")
	return nil
}

// claim claims one job. The claim itself is not cancelled by shutdown: a claim cancelled between
// its commit and its reply would leave a job held by nobody until its lease ran out.
func (r *Runner) claim(ctx context.Context) (*store.Job, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	return r.Store.ClaimJob(cctx, r.Node, nil, r.Lease)
}

// handlerTimeout leaves a margin before the lease ends to record the outcome while the job is
// still ours.
func (r *Runner) handlerTimeout() time.Duration {
	margin := min(r.Lease/10, 10*time.Second)
	return r.Lease - margin
}

// execute runs one claimed job and records its outcome.
func (r *Runner) execute(ctx context.Context, job *store.Job) {
	log := r.Log.With("node", r.Node, "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempts)
	// In-flight work survives shutdown: only the lease bounds it.
	base := context.WithoutCancel(ctx)

	if job.Attempts > job.MaxAttempts {
		// The lease of the last attempt ran out: the process running it died or hung, perhaps
		// because of this very job. Stop rather than crash node after node.
		r.fail(base, log, job, "lease of the last attempt expired",
			fmt.Sprintf("gave up after %d attempts: the last attempt's lease expired", job.MaxAttempts))
		return
	}
	h, ok := r.Handlers[job.Kind]
	if !ok {
		r.fail(base, log, job, "no handler", fmt.Sprintf("no handler for kind %s", job.Kind))
		return
	}
	if job.Attempts > 1 {
		log.Debug("job retrying", "last_error", job.LastError)
	}
	hctx, cancel := context.WithTimeout(base, r.handlerTimeout())
	start := time.Now()
	err := call(hctx, log, h, job)
	if err != nil && errors.Is(hctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("the attempt ran out of time (%s, the lease less a margin): %w", r.handlerTimeout(), err)
	}
	cancel()
	took := time.Since(start).Milliseconds()

	sctx, scancel := context.WithTimeout(base, storeTimeout)
	defer scancel()
	switch {
	case err == nil:
		if serr := r.Store.CompleteJob(sctx, job.ID, r.Node); serr != nil {
			r.recordFailed(log, serr)
			return
		}
		log.Info("job done", "duration_ms", took)
	case isPermanent(err):
		r.fail(base, log.With("duration_ms", took), job, "permanent error", err.Error())
	case job.Attempts >= job.MaxAttempts:
		r.fail(base, log.With("duration_ms", took), job, "attempts used up", err.Error())
	default:
		delay := r.Backoff(job.Attempts)
		runAt := time.Now().Add(delay).UnixMilli()
		if serr := r.Store.RetryJobLater(sctx, job.ID, r.Node, runAt, err.Error()); serr != nil {
			r.recordFailed(log, serr)
			return
		}
		log.Warn("job failed; will retry", "err", err, "retry_in", delay.String(), "duration_ms", took)
	}
}

// fail marks the job failed for good: why says which rule stopped it, reason becomes its
// last_error. Failed jobs wait for an admin, so this logs at error level.
func (r *Runner) fail(base context.Context, log *slog.Logger, job *store.Job, why, reason string) {
	ctx, cancel := context.WithTimeout(base, storeTimeout)
	defer cancel()
	if err := r.Store.FailJob(ctx, job.ID, r.Node, reason); err != nil {
		r.recordFailed(log, err)
		return
	}
	log.Error("job failed", "why", why, "err", reason, "max_attempts", job.MaxAttempts)
}

// recordFailed logs an outcome that could not be stored. The job stays running until its lease
// expires and then runs again: work is repeated rather than lost.
func (r *Runner) recordFailed(log *slog.Logger, err error) {
	if errors.Is(err, store.ErrConflict) {
		log.Warn("job lease lost before its outcome was recorded; it may run again", "err", err)
		return
	}
	log.Error("record job outcome; the job will run again when its lease expires", "err", err)
}

// call runs the handler, turning a panic into an ordinary (retried) error. The stack goes to the
// log, not to the job's last_error.
func call(ctx context.Context, log *slog.Logger, h Handler, job *store.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("job handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, job)
}

// isPermanent reports whether err, or an error it wraps, says retrying is useless.
func isPermanent(err error) bool {
	for e := range walk(err) {
		if p, ok := e.(interface{ Permanent() bool }); ok && p.Permanent() {
			return true
		}
	}
	return false
}

// walk yields err and every error it wraps, depth first.
func walk(err error) func(yield func(error) bool) {
	return func(yield func(error) bool) {
		var visit func(error) bool
		visit = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return visit(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, inner := range u.Unwrap() {
					if !visit(inner) {
						return false
					}
				}
			}
			return true
		}
		visit(err)
	}
}

// cleanup deletes old done jobs now and then until ctx is cancelled.
func (r *Runner) cleanup(ctx context.Context) {
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		dctx, cancel := context.WithTimeout(ctx, storeTimeout)
		n, err := r.Store.DeleteDoneJobs(dctx, time.Now().Add(-r.KeepDone).UnixMilli())
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			r.Log.Error("delete old done jobs", "node", r.Node, "err", err)
		case n > 0:
			r.Log.Info("deleted old done jobs", "node", r.Node, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
