package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

var (
	// ErrNotFound means the row does not exist (or the caller may not see it).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint or a concurrent change refused the write.
	ErrConflict = errors.New("conflict")
)

//go:embed migrations
var migrations embed.FS

// Store is the database handle. On SQLite writes go through a single connection (SQLite allows one
// writer; a pool of writers only adds lock contention) and reads through a separate pool on the same
// WAL file. On PostgreSQL transactions and reads have a pool each (openPostgres).
type Store struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// dsn is the PostgreSQL URL, for the dedicated LISTEN connection (events.go).
	dsn string
	// eventsCommitted is called after a commit that wrote events (see OnEventsCommitted).
	eventsCommitted atomic.Pointer[func()]
	// group batches concurrent InGroupTx calls into shared transactions (groupcommit.go).
	group groupCommitter
}

// Open connects to databaseURL, or to a SQLite file in dataDir when databaseURL is empty.
// It does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*Store, error) {
	if databaseURL == "" || strings.HasPrefix(databaseURL, "sqlite:") || strings.HasPrefix(databaseURL, "file:") {
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "file:")
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o750); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
			path = filepath.Join(dataDir, "parley.db")
		}
		return openSQLite(ctx, path)
	}
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return openPostgres(ctx, databaseURL)
	}
	return nil, fmt.Errorf("database url %q: want postgres://… or empty for SQLite", redact(databaseURL))
}

// sqliteReadConns is the size of the SQLite read pool (WAL readers run in parallel).
const sqliteReadConns = 8

func openSQLite(ctx context.Context, path string) (*Store, error) {
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	// The writer keeps its statement journal in memory: group commit runs each request in a
	// savepoint, and SQLite saves the original of every page a savepoint changes in a
	// sub-journal that spills to a temporary file past 64 KiB — a write system call per page,
	// 5 % of the CPU of an ingest run, in its serial part. (A larger page cache did not pay:
	// the writer seldom reads a page it does not hold, and every commit walks the whole cache.)
	write, err := openSQLiteDB("file:" + path + "?" + pragmas + "&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := openSQLiteDB("file:" + path + "?" + pragmas + "&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, err
	}
	// Every connection is kept: opening one parses the whole schema and loses its prepared
	// statements, and with the default of two idle connections a burst of concurrent reads
	// closed and reopened the rest — 17 % of the CPU of an ingest run went to opening
	// connections (BENCHMARKS.md, PERF-1).
	read.SetMaxOpenConns(sqliteReadConns)
	read.SetMaxIdleConns(sqliteReadConns)
	read.SetConnMaxIdleTime(0)
	s := &Store{dialect: SQLite, write: write, read: read}
	if err := write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}

// PostgreSQL connections per process: transactions and reads outside one have a pool each.
const (
	postgresWriteConns = 20
	postgresReadConns  = 12
)

// openPostgres opens two pools on the database. Reads outside a transaction (lists, search,
// pages) have every execution planned with its parameters (withCustomPlans). Transactions keep
// PostgreSQL's default: after five runs a prepared statement reuses its generic plan. Their
// statements are the same key lookups and writes every time, and planning each anew was about
// 40 % of PostgreSQL's CPU time while ingesting (BENCHMARKS.md, PERF-1).
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	write, err := openPostgresPool(ctx, dsn, postgresWriteConns)
	if err != nil {
		return nil, err
	}
	read, err := openPostgresPool(ctx, withCustomPlans(dsn), postgresReadConns)
	if err != nil {
		write.Close()
		return nil, err
	}
	return &Store{dialect: Postgres, write: write, read: read, dsn: dsn}, nil
}

func openPostgresPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", redact(dsn), err)
	}
	return db, nil
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error { return s.read.PingContext(ctx) }

// Migrate applies the embedded migrations. On PostgreSQL goose holds a session advisory lock so
// several nodes starting together migrate once.
func (s *Store) Migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	gd := goose.DialectSQLite3
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
		locker, err := newPostgresLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, s.write, dir, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Tx is one write transaction. Store methods that change data hang off Tx so that a domain
// operation composes them into one commit.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	// events are written just before the commit (events.go).
	events    []pendingEvent
	eventKeys map[string]int
	// deferSearch holds IndexText's rows back until just before the commit (search.go);
	// searchTexts are those rows.
	deferSearch bool
	searchTexts []searchText
}

// Dialect reports the engine.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// InTx runs fn in a write transaction and commits when it returns nil.
// On PostgreSQL a serialization failure or deadlock is retried a few times.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err != nil && s.dialect == Postgres && attempt < 4 && retryablePG(err) {
			continue
		}
		return err
	}
}

func (s *Store) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err != nil {
			_ = sqlTx.Rollback() // the original error matters more than a failed rollback
		}
	}()
	tx := &Tx{tx: sqlTx, dialect: s.dialect}
	if err = fn(tx); err != nil {
		return err
	}
	wroteEvents, err := tx.flushEvents(ctx)
	if err != nil {
		return err
	}
	if wroteEvents && testHookAfterEventSeq != nil {
		testHookAfterEventSeq(ctx)
	}
	if err = sqlTx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	if wroteEvents {
		if hook := s.eventsCommitted.Load(); hook != nil {
			(*hook)()
		}
	}
	return nil
}

func retryablePG(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// queryer is what reads need: the read pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs a statement and maps constraint violations to ErrConflict.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, query, args...)
	return res, mapErr(err)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (tx *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := tx.tx.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id); err != nil {
		return 0, mapErr(err)
	}
	return id, nil
}

// mapErr turns driver errors into the store's sentinel errors, keeping the original text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "23503") {
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.Message)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %s", ErrConflict, sqErr.Error())
		}
	}
	return err
}

// IsConflict reports whether err is (or wraps) ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// Now is the store's clock in unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

// b2i stores a bool as 0/1, the portable boolean of this schema.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
