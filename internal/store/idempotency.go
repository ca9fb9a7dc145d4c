package store

import "context"

// IdempotentResponse is a stored response to a create sent with an Idempotency-Key.
type IdempotentResponse struct {
	Method string
	Path   string
	Status int
	Body   string
}

// IdempotentResponse returns the response stored for the user's key.
func (s *Store) IdempotentResponse(ctx context.Context, userID int64, key string) (*IdempotentResponse, error) {
	var r IdempotentResponse
	err := s.write.QueryRowContext(ctx, `SELECT method, path, status, body FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&r.Method, &r.Path, &r.Status, &r.Body)
	if err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// SaveIdempotentResponse records a response; a key already stored keeps its first response.
func (s *Store) SaveIdempotentResponse(ctx context.Context, userID int64, key string, r IdempotentResponse) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, status, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, key) DO NOTHING`,
		userID, key, r.Method, r.Path, r.Status, r.Body, Now())
	return mapErr(err)
}
