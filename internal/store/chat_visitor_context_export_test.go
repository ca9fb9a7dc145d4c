package store

import "context"

// CountChatPageViews counts every stored page view of a visitor, beyond what
// ChatVisitorContext returns, so a test can see that old ones are trimmed.
func CountChatPageViews(ctx context.Context, s *Store, visitorID int64) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_page_views WHERE visitor_id = $1`, visitorID).Scan(&n)
	return n, err
}
