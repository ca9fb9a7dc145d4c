package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// jobKeyLockSpace is the first half of the two-key advisory lock taken on an ordering key while a
// job of that key is being claimed, so these locks never collide with other advisory locks (goose
// uses the one-key form).
const jobKeyLockSpace = 0x70617231 // "par1"

// testHookClaim, when set by a test, runs at stages of a claim ("chosen": the job's row is locked;
// "checked": its ordering key is locked and checked), so the test can interleave another claim
// where the ordering rules are most fragile.
var testHookClaim func(stage string, id int64)

// claimJobAttempts bounds how many candidates one claim looks at when their ordering keys are
// being claimed by other processes at the same moment; after that the caller polls again.
const claimJobAttempts = 16

// claimJobPostgres claims a job on PostgreSQL, where several processes claim concurrently under
// READ COMMITTED.
//
// A candidate is chosen and its row locked with FOR UPDATE SKIP LOCKED, so two claimers never take
// the same row: one skips the row the other locked, and one that waited past a concurrent claim's
// commit re-checks the row's new state (running) and drops it.
//
// Ordering keys need more, because the check that no other job of the key is unfinished or running
// reads a snapshot taken when the statement started: two claimers with different snapshots could
// each pick a different job of one key (say job 6 seen alone by one, and job 5, whose enqueueing
// transaction committed late, seen by the other with job 6 still queued). So for a keyed candidate
// the claim takes a transaction-scoped advisory lock on the key — skipping the key if another claim
// holds it — and then checks again in a new statement. Under READ COMMITTED that statement's
// snapshot is taken after the lock was granted, so it sees every earlier claim of the key (a lock
// is released only after its transaction's commit is visible). Claims of one key are therefore
// serialised and each sees the previous one; with the row-level rules in jobBlocked no two jobs of
// a key run under live leases at once, and none starts while a lower id is unfinished.
func (tx *Tx) claimJobPostgres(ctx context.Context, node string, kinds []string, lease time.Duration) (*Job, error) {
	now := Now()
	var skipKeys []string
	for range claimJobAttempts {
		id, key, err := tx.chooseJobPostgres(ctx, now, kinds, skipKeys)
		if err != nil {
			return nil, err
		}
		if testHookClaim != nil {
			testHookClaim("chosen", id)
		}
		if key == "" {
			return tx.markClaimed(ctx, id, node, now, lease)
		}
		var locked bool
		if err := tx.tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`,
			jobKeyLockSpace, key).Scan(&locked); err != nil {
			return nil, fmt.Errorf("claim job: lock ordering key: %w", err)
		}
		if locked {
			// This statement's snapshot postdates the lock, so it sees every earlier claim of the key.
			var blocked bool
			if err := tx.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs j WHERE j.id = $2 AND `+jobBlocked+`)`,
				now, id).Scan(&blocked); err != nil {
				return nil, fmt.Errorf("claim job: check ordering: %w", err)
			}
			if !blocked {
				if testHookClaim != nil {
					testHookClaim("checked", id)
				}
				return tx.markClaimed(ctx, id, node, now, lease)
			}
		}
		// Another claim holds the key, or the job turned out to be behind another: other keys may
		// still have work.
		skipKeys = append(skipKeys, key)
	}
	return nil, ErrNotFound
}

// chooseJobPostgres locks the first claimable job, skipping rows other claims have locked.
func (tx *Tx) chooseJobPostgres(ctx context.Context, now int64, kinds, skipKeys []string) (int64, string, error) {
	for _, ready := range jobReadyConditions {
		q, args := claimCandidateQuery(ready.where, ready.order, now, kinds, skipKeys, `j.id, j.ordering_key`,
			` FOR UPDATE OF j SKIP LOCKED`)
		var id int64
		var key string
		err := tx.tx.QueryRowContext(ctx, q, args...).Scan(&id, &key)
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, "", fmt.Errorf("claim job: choose: %w", err)
		}
		return id, key, nil
	}
	return 0, "", ErrNotFound
}
