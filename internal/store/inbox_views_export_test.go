package store

import "context"

// IndexesForTest returns the names of the indexes on table, on either engine. Tests only.
func (s *Store) IndexesForTest(ctx context.Context, table string) (map[string]bool, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1`
	if s.dialect == Postgres {
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`
	}
	rows, err := s.read.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}
