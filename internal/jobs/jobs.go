// Package jobs runs the durable job queue (outbox) kept in the jobs table: jobs are enqueued by
// store.Tx.EnqueueJob inside the transaction of the change that causes them, then claimed by
// workers in any parley process, retried with exponential backoff and jitter, and stopped at a
// permanent failure. Jobs sharing an ordering key run one at a time in the order enqueued.
package jobs

import (
	"context"

	"github.com/parley-inbox/parley/internal/store"
)

// Handler performs one job. It returns nil on success. An error with a method Permanent() bool
// that reports true (see channel.Permanent) stops retrying; any other error is retried until
// job.MaxAttempts. job.Attempts counts this attempt, so a handler can tell it is the last one.
type Handler func(ctx context.Context, job *store.Job) error
