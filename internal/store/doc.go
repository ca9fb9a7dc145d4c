// Package store owns Parley's database: it opens SQLite or PostgreSQL, applies the embedded
// migrations and is the only package that writes SQL. Everything else calls its typed methods.
//
// Conventions: times are unix milliseconds (int64) set from Go, ids are int64, booleans are 0/1
// integers on both engines, JSON is TEXT on SQLite and JSONB on PostgreSQL. Placeholders are $1…
// on both engines. Methods return ErrNotFound or ErrConflict rather than nil results.
package store
