package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// maxJobError bounds last_error so a handler returning a huge error (a whole HTTP body) cannot
// bloat the table.
const maxJobError = 4000

const jobColumns = `id, kind, payload, ordering_key, state, attempts, max_attempts, run_at, locked_by,
	locked_until, last_error, created_at, updated_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var payload []byte
	var lockedUntil sql.NullInt64
	err := row.Scan(&j.ID, &j.Kind, &payload, &j.OrderingKey, &j.State, &j.Attempts, &j.MaxAttempts, &j.RunAt,
		&j.LockedBy, &lockedUntil, &j.LastError, &j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	// The driver may reuse its buffer; the job outlives the row.
	j.Payload = append([]byte(nil), payload...)
	if lockedUntil.Valid {
		j.LockedUntil = &lockedUntil.Int64
	}
	return &j, nil
}

// A job may be claimed, apart from ordering, when it is queued and due, or when it is running under
// a lease that expired (its node died or hung). The two are looked for separately, abandoned jobs
// first, because each then walks an index in order and stops at the first claimable row instead of
// sorting every ready job. $1 is now.
var jobReadyConditions = []struct{ where, order string }{
	{`j.state = 'running' AND j.locked_until < $1`, `j.locked_until, j.id`},
	{`j.state = 'queued' AND j.run_at <= $1`, `j.run_at, j.id`},
}

// jobBlocked is true when job j may not start because of its ordering key: another job of the key
// with a lower id is unfinished (queued or running), or another job of the key is running under a
// live lease whatever its id. The second half matters when a lower id becomes visible after a
// higher one started: a transaction that enqueued it committed late (ids are not commit-ordered on
// PostgreSQL) or an admin retried a failed job. Jobs without a key are never blocked. Each EXISTS
// is a range of the (ordering_key, state, id) index. $1 is now.
const jobBlocked = `(j.ordering_key <> '' AND (
	EXISTS (SELECT 1 FROM jobs o WHERE o.ordering_key = j.ordering_key AND o.state IN ('queued', 'running') AND o.id < j.id)
	OR EXISTS (SELECT 1 FROM jobs o WHERE o.ordering_key = j.ordering_key AND o.state = 'running' AND o.id <> j.id
		AND o.locked_until >= $1)))`

// claimCandidateQuery builds the query choosing a claimable job of one readiness condition, with
// optional kinds to keep and ordering keys to leave out; suffix ends it (a row lock clause).
func claimCandidateQuery(cond, order string, now int64, kinds, skipKeys []string, columns, suffix string) (string, []any) {
	args := []any{now}
	q := `SELECT ` + columns + ` FROM jobs j WHERE ` + cond + ` AND NOT ` + jobBlocked
	if len(kinds) > 0 {
		var in string
		in, args = placeholders(len(args)+1, kinds, args)
		q += ` AND j.kind IN (` + in + `)`
	}
	if len(skipKeys) > 0 {
		var in string
		in, args = placeholders(len(args)+1, skipKeys, args)
		q += ` AND j.ordering_key NOT IN (` + in + `)`
	}
	return q + ` ORDER BY ` + order + ` LIMIT 1` + suffix, args
}

// placeholders returns "$n, $n+1, …" for len(values) parameters starting at n, and appends the
// values to args. Keeps IN lists parameterised on both engines.
func placeholders(n int, values []string, args []any) (string, []any) {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(n+i))
		args = append(args, v)
	}
	return b.String(), args
}

// ClaimJob claims the job that has waited longest among those ready to run, for node, for lease.
// kinds limits the claim to those kinds; none means any kind. Claiming marks the job running,
// locked by node until now+lease, and counts the attempt. It returns ErrNotFound when nothing is
// ready. However many processes share the database, a job is claimed by one of them at a time,
// and jobs sharing an ordering key run one at a time in id order.
func (s *Store) ClaimJob(ctx context.Context, node string, kinds []string, lease time.Duration) (*Job, error) {
	if node == "" {
		return nil, fmt.Errorf("claim job: empty node name")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim job: lease must be positive")
	}
	if s.dialect == SQLite {
		// Idle polls would otherwise take the one write lock every time; look first with a reader.
		if ok, err := s.anyJobClaimableSQLite(ctx, kinds); err != nil || !ok {
			if err == nil {
				err = ErrNotFound
			}
			return nil, err
		}
	}
	var job *Job
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if tx.dialect == Postgres {
			job, err = tx.claimJobPostgres(ctx, node, kinds, lease)
		} else {
			job, err = tx.claimJobSQLite(ctx, node, kinds, lease)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

// markClaimed turns a chosen job into a running one held by node.
func (tx *Tx) markClaimed(ctx context.Context, id int64, node string, now int64, lease time.Duration) (*Job, error) {
	return scanJob(tx.tx.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', locked_by = $2,
		locked_until = $3, attempts = attempts + 1, updated_at = $4
		WHERE id = $1 RETURNING `+jobColumns, id, node, now+lease.Milliseconds(), now))
}

// finishJob applies an outcome to a job still held by node. A job whose lease was taken over by
// another claim (or that was otherwise changed) is left alone and ErrConflict returned, so a
// late worker cannot overwrite the outcome of the attempt that replaced it.
func (s *Store) finishJob(ctx context.Context, what string, id int64, node string, set string, args ...any) error {
	return s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE jobs SET `+set+` WHERE id = $1 AND locked_by = $2 AND state = 'running'`,
			append([]any{id, node}, args...)...)
		if err != nil {
			return fmt.Errorf("%s job %d: %w", what, id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s job %d: %w", what, id, err)
		}
		if n == 0 {
			return fmt.Errorf("%s job %d: %w: not running under this node's lease", what, id, ErrConflict)
		}
		return nil
	})
}

// CompleteJob marks a job node holds as done.
func (s *Store) CompleteJob(ctx context.Context, id int64, node string) error {
	return s.finishJob(ctx, "complete", id, node,
		`state = 'done', locked_by = '', locked_until = NULL, last_error = '', updated_at = $3`, Now())
}

// RetryJobLater puts a job node holds back in the queue to run again at runAt (unix ms).
func (s *Store) RetryJobLater(ctx context.Context, id int64, node string, runAt int64, lastError string) error {
	return s.finishJob(ctx, "retry", id, node,
		`state = 'queued', locked_by = '', locked_until = NULL, run_at = $3, last_error = $4, updated_at = $5`,
		runAt, truncateError(lastError), Now())
}

// FailJob marks a job node holds as failed for good; it stays visible until an admin retries it.
func (s *Store) FailJob(ctx context.Context, id int64, node string, lastError string) error {
	return s.finishJob(ctx, "fail", id, node,
		`state = 'failed', locked_by = '', locked_until = NULL, last_error = $3, updated_at = $4`,
		truncateError(lastError), Now())
}

// ExtendLease moves the lease of a job node holds to until (unix ms).
func (s *Store) ExtendLease(ctx context.Context, id int64, node string, until int64) error {
	return s.finishJob(ctx, "extend lease of", id, node, `locked_until = $3, updated_at = $4`, until, Now())
}

// truncateError makes an error message storable: valid UTF-8 without NUL bytes (PostgreSQL text
// refuses both, and an unstorable message would leave the job stuck until its lease ran out),
// at most maxJobError bytes.
func truncateError(msg string) string {
	msg = strings.ReplaceAll(strings.ToValidUTF8(msg, "\uFFFD"), "\x00", "\uFFFD")
	if len(msg) <= maxJobError {
		return msg
	}
	cut := maxJobError
	// Do not split a UTF-8 sequence: PostgreSQL refuses invalid text.
	for cut > 0 && msg[cut]&0xC0 == 0x80 {
		cut--
	}
	return msg[:cut] + "…"
}

// Job returns one job.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	return scanJob(s.read.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs j WHERE j.id = $1`, id))
}

// Jobs lists jobs newest first. state and kind filter when not empty; beforeID > 0 continues a
// listing after the last id of the previous page.
func (s *Store) Jobs(ctx context.Context, state, kind string, beforeID int64, limit int) ([]*Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list jobs: limit must be positive")
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if state != "" {
		add("j.state = $%d", state)
	}
	if kind != "" {
		add("j.kind = $%d", kind)
	}
	if beforeID > 0 {
		add("j.id < $%d", beforeID)
	}
	q := `SELECT ` + jobColumns + ` FROM jobs j`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY j.id DESC LIMIT $%d`, len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var jobs []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, nil
}

// RetryFailedJob puts a failed job back in the queue to run now with a fresh count of attempts.
// It returns ErrNotFound for an unknown job and ErrConflict for one that is not failed. The last
// error is kept until the job next finishes, so the reason for the retry stays visible.
func (s *Store) RetryFailedJob(ctx context.Context, id int64) (*Job, error) {
	var job *Job
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		job, err = tx.RetryFailedJob(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

// RetryFailedJob is Store.RetryFailedJob inside a transaction (to audit it with the change).
func (tx *Tx) RetryFailedJob(ctx context.Context, id int64) (*Job, error) {
	now := Now()
	j, err := scanJob(tx.tx.QueryRowContext(ctx, `UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2,
		locked_by = '', locked_until = NULL, updated_at = $2
		WHERE id = $1 AND state = 'failed' RETURNING `+jobColumns, id, now))
	if errors.Is(err, ErrNotFound) {
		var state string
		if err := tx.tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = $1`, id).Scan(&state); err != nil {
			return nil, mapErr(err)
		}
		return nil, fmt.Errorf("retry job %d: %w: the job is %s, not failed", id, ErrConflict, state)
	}
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	return j, nil
}

// deleteDoneBatch bounds one DELETE so the cleanup never holds SQLite's single writer for long.
const deleteDoneBatch = 1000

// DeleteDoneJobs deletes jobs that finished successfully before olderThan (unix ms) and returns how
// many went. Failed jobs are kept: they wait for an admin.
func (s *Store) DeleteDoneJobs(ctx context.Context, olderThan int64) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.InTx(ctx, func(tx *Tx) error {
			res, err := tx.exec(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
				WHERE state = 'done' AND updated_at < $1 ORDER BY id LIMIT $2)`, olderThan, deleteDoneBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("delete done jobs: %w", err)
		}
		total += n
		if n < deleteDoneBatch {
			return total, nil
		}
	}
}
