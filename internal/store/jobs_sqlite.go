package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// claimJobSQLite claims a job on SQLite. The transaction began IMMEDIATE, so it holds the
// database's one write lock from its first statement and reads the latest data: claims from every
// connection and every process on the file run one after another, and the choice and the update
// cannot be interleaved with another claim.
func (tx *Tx) claimJobSQLite(ctx context.Context, node string, kinds []string, lease time.Duration) (*Job, error) {
	now := Now()
	for _, ready := range jobReadyConditions {
		q, args := claimCandidateQuery(ready.where, ready.order, now, kinds, nil, `j.id`, ``)
		var id int64
		err := tx.tx.QueryRowContext(ctx, q, args...).Scan(&id)
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("claim job: choose: %w", err)
		}
		return tx.markClaimed(ctx, id, node, now, lease)
	}
	return nil, ErrNotFound
}

// anyJobClaimableSQLite reports, from the read pool, whether a claim could find a job now.
func (s *Store) anyJobClaimableSQLite(ctx context.Context, kinds []string) (bool, error) {
	cond := `((` + jobReadyConditions[0].where + `) OR (` + jobReadyConditions[1].where + `))`
	q, args := claimCandidateQuery(cond, `j.id`, Now(), kinds, nil, `j.id`, ``)
	var id int64
	err := mapErr(s.read.QueryRowContext(ctx, q, args...).Scan(&id))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim job: look: %w", err)
	}
	return true, nil
}
