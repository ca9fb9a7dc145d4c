// Package storetest opens real databases for tests: a fresh SQLite file, and a fresh PostgreSQL
// database cloned from a migrated template when PARLEY_TEST_POSTGRES_URL is set. CI sets it and
// sets CI=true, in which case a missing PostgreSQL fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/parley-inbox/parley/internal/store"
)

// Engine is one database engine a test runs on.
type Engine struct {
	Name string
	Open func(t testing.TB) *store.Store
}

// Engines lists SQLite and, when configured, PostgreSQL.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", Open: OpenSQLite}}
	if os.Getenv("PARLEY_TEST_POSTGRES_URL") != "" {
		engines = append(engines, Engine{Name: "postgres", Open: OpenPostgres})
	} else if os.Getenv("CI") == "true" {
		t.Fatal("PARLEY_TEST_POSTGRES_URL is not set; CI must test PostgreSQL too")
	}
	return engines
}

// Each runs fn as a subtest on every engine with a fresh, migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// OpenSQLite returns a migrated store on a new SQLite file in a temporary directory.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// OpenPostgres returns a migrated store on a new PostgreSQL database, dropped when the test ends.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	url := PostgresURL(t)
	templateOnce.Do(func() { templateName, templateErr = makeTemplate(url) })
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	name := "parley_t_" + randomHex(6)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName)); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), WithDatabase(url, name), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		DropDatabase(url, name)
	})
	return s
}

// NewPostgresDatabase creates an empty database for tests that run servers themselves and returns
// its URL; it is dropped when the test ends.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	url := PostgresURL(t)
	name := "parley_t_" + randomHex(6)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DropDatabase(url, name) })
	return WithDatabase(url, name)
}

// PostgresURL returns PARLEY_TEST_POSTGRES_URL or skips (fails under CI).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARLEY_TEST_POSTGRES_URL is not set; CI must test PostgreSQL too")
		}
		t.Skip("PARLEY_TEST_POSTGRES_URL not set")
	}
	return u
}

func makeTemplate(baseURL string) (string, error) {
	name := fmt.Sprintf("parley_tmpl_%d_%s", os.Getpid(), randomHex(3))
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	dropDeadTemplates(admin)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create template database: %w", err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, WithDatabase(baseURL, name), "")
	if err != nil {
		return "", err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return "", err
	}
	// A test binary cannot run code at exit, so its template outlives it; the next run drops it
	// (dropDeadTemplates) once its process is gone.
	return name, nil
}

// dropDeadTemplates drops template databases whose test process has exited.
func dropDeadTemplates(admin *sql.DB) {
	rows, err := admin.Query(`SELECT datname FROM pg_database WHERE datname LIKE 'parley_tmpl_%'`)
	if err != nil {
		return
	}
	var dead []string
	for rows.Next() {
		var name string
		var pid int
		if rows.Scan(&name) == nil {
			if _, err := fmt.Sscanf(name, "parley_tmpl_%d_", &pid); err == nil {
				if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
					dead = append(dead, name)
				}
			}
		}
	}
	rows.Close()
	for _, name := range dead {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") // best effort
	}
}

// DropDatabase drops a test database, ending any connections still open to it.
func DropDatabase(baseURL, name string) {
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		return
	}
	defer admin.Close()
	_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") // best effort cleanup
}

// WithDatabase returns baseURL pointing at database name.
func WithDatabase(baseURL, name string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return baseURL
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}
