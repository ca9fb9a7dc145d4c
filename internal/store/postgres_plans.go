package store

import "net/url"

// withCustomPlans asks PostgreSQL to plan every execution of a prepared statement with its
// actual parameters. pgx prepares and caches every statement, and after five executions
// PostgreSQL may switch a statement to a generic plan made without the parameters' values — for
// a search, a plan that cannot tell a word in half the messages from a word in none, which
// measured up to a hundred times slower (BENCHMARKS.md). Planning these queries costs tens of
// microseconds. A plan_cache_mode already in the URL is kept. Only the read pool uses it
// (openPostgres).
func withCustomPlans(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // sql.Open reports the malformed URL
	}
	q := u.Query()
	if q.Get("plan_cache_mode") != "" {
		return dsn
	}
	q.Set("plan_cache_mode", "force_custom_plan")
	u.RawQuery = q.Encode()
	return u.String()
}
