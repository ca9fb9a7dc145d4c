package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// AddAuditEntry appends e to the audit log inside the transaction of the change it records, so the
// log holds an entry exactly when the change happened. Data may be nil ({}). It sets ID and
// CreatedAt. The audit log is append-only: the store has no method to change or delete entries.
func (tx *Tx) AddAuditEntry(ctx context.Context, e *AuditEntry) error {
	data := "{}"
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return fmt.Errorf("audit entry %s: data is not JSON", e.Action)
		}
		data = string(e.Data)
	}
	if e.CreatedAt == 0 {
		e.CreatedAt = Now()
	}
	id, err := tx.insert(ctx, `INSERT INTO audit_log (actor_id, action, target_type, target_id, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ActorID, e.Action, e.TargetType, e.TargetID, data, e.CreatedAt)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	e.ID = id
	return nil
}

// AuditFilter selects audit log entries. Empty fields match everything.
type AuditFilter struct {
	Action     string
	ActorID    int64
	TargetType string
	TargetID   int64
	BeforeID   int64 // cursor: entries with a smaller id
	Limit      int   // 0 means 50
}

// AuditLog lists entries newest first. It returns one page and whether more follow.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT a.id, a.actor_id, a.action, a.target_type, a.target_id, a.data, a.created_at FROM audit_log a WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Action != "" {
		add("a.action = $%d", f.Action)
	}
	if f.ActorID != 0 {
		add("a.actor_id = $%d", f.ActorID)
	}
	if f.TargetType != "" {
		add("a.target_type = $%d", f.TargetType)
	}
	if f.TargetID != 0 {
		add("a.target_id = $%d", f.TargetID)
	}
	if f.BeforeID != 0 {
		add("a.id < $%d", f.BeforeID)
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(" ORDER BY a.id DESC LIMIT $%d", len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []*AuditEntry
	for rows.Next() {
		var e AuditEntry
		var actor, target sql.NullInt64
		var data string
		if err := rows.Scan(&e.ID, &actor, &e.Action, &e.TargetType, &target, &data, &e.CreatedAt); err != nil {
			return nil, false, mapErr(err)
		}
		if actor.Valid {
			e.ActorID = &actor.Int64
		}
		if target.Valid {
			e.TargetID = &target.Int64
		}
		e.Data = json.RawMessage(data)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list audit log: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}
