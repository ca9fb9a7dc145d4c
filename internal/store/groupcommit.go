package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Group commit. SQLite runs one write transaction at a time, so under load receivers queue for
// the write connection and each pays for its own BEGIN, event numbering and COMMIT (which writes
// the pages it changed to the WAL again). InGroupTx lets concurrent callers share a transaction:
// whoever finds no transaction running becomes the leader and runs, in one transaction, every
// call queued meanwhile (up to maxGroup), each inside its own savepoint. A call that fails is
// rolled back to its savepoint and gets its error; the others are committed together. Every
// caller returns only after the commit that holds its work — acknowledging after commit holds
// per request, exactly as with InTx. Nothing waits for company: a lone call runs at once.
//
// On PostgreSQL, InGroupTx is InTx: transactions run in parallel on the pool there, and a shared
// transaction would hold one request's row locks while running the next, inviting deadlocks
// between groups.

// maxGroup bounds the calls in one shared transaction, so one commit does not delay the first
// caller too long.
const maxGroup = 64

type groupCall struct {
	ctx context.Context
	fn  func(tx *Tx) error
	err error
	// panicked holds what fn panicked with; the caller panics with it in its own goroutine, as
	// it would have with InTx, and the others' work is unaffected.
	panicked any
	done     chan struct{} // closed when err is final
	lead     chan struct{} // signalled when this caller is to lead the next group
}

type groupCommitter struct {
	mu      sync.Mutex
	queue   []*groupCall
	running bool
	largest int // the most calls one transaction has held (tests read it)
}

// InGroupTx runs fn in a write transaction that it may share with concurrent callers (see the
// top of this file). fn must do all its work through tx and may run its statements after other
// callers' fns in the same transaction; it must not start a transaction of its own. Like InTx it
// returns fn's error, or nil once fn's work is committed.
func (s *Store) InGroupTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.dialect != SQLite {
		return s.InTx(ctx, fn)
	}
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	leader := !g.running
	g.running = true
	g.mu.Unlock()
	if leader {
		s.leadGroup()
	}
	for {
		select {
		case <-c.done:
			if c.panicked != nil {
				panic(c.panicked)
			}
			return c.err
		case <-c.lead:
			s.leadGroup()
		}
	}
}

// leadGroup runs the queued calls (the leader's own among them) in one transaction, then hands
// leadership to the first caller still queued, so no caller keeps working for others after its
// own commit.
func (s *Store) leadGroup() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	group := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	g.largest = max(g.largest, n)
	g.mu.Unlock()

	defer func() {
		for _, c := range group {
			close(c.done)
		}
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].lead <- struct{}{}
		} else {
			g.running = false
		}
		g.mu.Unlock()
	}()
	s.runGroup(group)
}

// runGroup runs the calls in one transaction, each in a savepoint, and sets each call's err.
func (s *Store) runGroup(group []*groupCall) {
	err := s.InTx(context.Background(), func(tx *Tx) error {
		tx.deferSearch = true
		for _, c := range group {
			c.err = nil
			if err := c.ctx.Err(); err != nil {
				c.err = err
				continue
			}
			fnErr, panicked, err := tx.runSavepoint(c.ctx, c.fn)
			if err != nil {
				return err // the transaction is unusable: roll all of it back
			}
			c.err, c.panicked = fnErr, panicked
		}
		return tx.flushSearch(context.Background())
	})
	if err != nil {
		for _, c := range group {
			if c.err == nil {
				c.err = err
			}
		}
	}
}

// runSavepoint runs fn inside a savepoint of tx: if fn fails (or panics), its statements and the
// events it emitted are undone, fnErr (or panicked) says why, and the transaction carries on. err
// reports a failure of the savepoint itself, after which the transaction must be rolled back.
func (tx *Tx) runSavepoint(ctx context.Context, fn func(tx *Tx) error) (fnErr error, panicked any, err error) {
	events := slices.Clone(tx.events)
	keys := maps.Clone(tx.eventKeys)
	searchTexts := len(tx.searchTexts)
	if _, err := tx.tx.ExecContext(ctx, `SAVEPOINT grouped`); err != nil {
		return nil, nil, fmt.Errorf("savepoint: %w", err)
	}
	fnErr = func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				panicked = p
				err = fmt.Errorf("panic in a grouped transaction: %v", p)
			}
		}()
		return fn(tx)
	}()
	// The background context from here: the savepoint must be closed even if the caller gave up.
	bg := context.Background()
	if fnErr != nil {
		if _, err := tx.tx.ExecContext(bg, `ROLLBACK TO SAVEPOINT grouped`); err != nil {
			return nil, nil, fmt.Errorf("roll back to savepoint after %v: %w", fnErr, err)
		}
		tx.events, tx.eventKeys = events, keys
		tx.searchTexts = tx.searchTexts[:searchTexts]
	}
	if _, err := tx.tx.ExecContext(bg, `RELEASE SAVEPOINT grouped`); err != nil {
		return nil, nil, fmt.Errorf("release savepoint: %w", err)
	}
	return fnErr, panicked, nil
}
