package store

import (
	"context"
	"encoding/json"
)

// NewJob describes a job to enqueue.
type NewJob struct {
	Kind    string
	Payload any // marshalled to JSON
	// OrderingKey makes jobs with the same key run one at a time in the order they were enqueued
	// (e.g. every delivery of one conversation). Empty means no ordering.
	OrderingKey string
	MaxAttempts int   // 0 means 12
	RunAt       int64 // 0 means now
}

// EnqueueJob adds a job inside the transaction of the change that causes it, so the job exists
// exactly when the change does (the outbox pattern).
func (tx *Tx) EnqueueJob(ctx context.Context, j NewJob) (int64, error) {
	payload, err := json.Marshal(j.Payload)
	if err != nil {
		return 0, err
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = 12
	}
	now := Now()
	if j.RunAt == 0 {
		j.RunAt = now
	}
	return tx.insert(ctx, `INSERT INTO jobs (kind, payload, ordering_key, state, attempts, max_attempts, run_at, created_at, updated_at)
		VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6)`, j.Kind, string(payload), j.OrderingKey, j.MaxAttempts, j.RunAt, now)
}
