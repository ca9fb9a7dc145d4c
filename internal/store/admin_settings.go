package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Reads for the web app's admin settings pages: lists that would otherwise cost one query per
// row (users' availability, everyone's tokens, a custom channel's webhook deliveries).

// Availabilities returns the availability of each of userIDs in one query; users without a row
// get the defaults, as Availability gives them.
func (s *Store) Availabilities(ctx context.Context, userIDs []int64) (map[int64]*Availability, error) {
	out := make(map[int64]*Availability, len(userIDs))
	for _, id := range userIDs {
		out[id] = &Availability{UserID: id, Status: "available"}
	}
	if len(userIDs) == 0 {
		return out, nil
	}
	in, args := idPlaceholders(userIDs, 0)
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, status, set_by, set_at, working_hours, updated_at
		FROM user_availability WHERE user_id IN (`+in+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("availabilities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a := &Availability{}
		var setBy, setAt sql.NullInt64
		var hours []byte
		if err := rows.Scan(&a.UserID, &a.Status, &setBy, &setAt, &hours, &a.UpdatedAt); err != nil {
			return nil, fmt.Errorf("availabilities: %w", err)
		}
		a.SetBy, a.SetAt = nullInt(setBy), nullInt(setAt)
		if hours != nil {
			a.WorkingHours = json.RawMessage(append([]byte(nil), hours...))
		}
		out[a.UserID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("availabilities: %w", err)
	}
	return out, nil
}

// AllAPITokens lists every user's tokens that are not revoked, newest first, at most limit.
func (s *Store) AllAPITokens(ctx context.Context, limit int) ([]*APIToken, error) {
	if limit <= 0 {
		limit = 200
	}
	return s.queryTokens(ctx, `SELECT `+tokenColumns+` FROM api_tokens t
		WHERE t.revoked_at IS NULL ORDER BY t.id DESC LIMIT $1`, limit)
}

// CustomChannelJobs lists the jobs that call a custom channel's webhook, newest first: the
// deliveries (jobs of deliverKind, payload {"message_id": …}) of messages sent on any of the
// channel's accounts, and its account events (jobs of accountKind, payload {"channel_id": …}).
// beforeID > 0 continues after the last id of the previous page. The kinds are parameters
// because they belong to the packages that run the jobs.
func (s *Store) CustomChannelJobs(ctx context.Context, customChannelID int64, deliverKind, accountKind string, beforeID int64, limit int) ([]*Job, error) {
	if limit <= 0 {
		limit = 50
	}
	messageID, channelID := `CAST(json_extract(j.payload, '$.message_id') AS INTEGER)`,
		`CAST(json_extract(j.payload, '$.channel_id') AS INTEGER)`
	if s.dialect == Postgres {
		messageID, channelID = `(j.payload->>'message_id')::bigint`, `(j.payload->>'channel_id')::bigint`
	}
	q := `SELECT ` + jobColumns + ` FROM jobs j
		WHERE ((j.kind = $2 AND EXISTS (SELECT 1 FROM messages m JOIN channels c ON c.id = m.channel_id
				WHERE m.id = ` + messageID + ` AND c.custom_channel_id = $1))
			OR (j.kind = $3 AND ` + channelID + ` = $1))`
	args := []any{customChannelID, deliverKind, accountKind}
	if beforeID > 0 {
		args = append(args, beforeID)
		q += fmt.Sprintf(` AND j.id < $%d`, len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY j.id DESC LIMIT $%d`, len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("custom channel jobs: %w", err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("custom channel jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("custom channel jobs: %w", err)
	}
	return out, nil
}
