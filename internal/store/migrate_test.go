package store_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Both engines must carry the same migration versions, so a feature never exists on one only.
func TestMigrationVersionsMatch(t *testing.T) {
	list := func(dir string) []string {
		var names []string
		err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, filepath.Base(p))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	sq, pg := list("migrations/sqlite"), list("migrations/postgres")
	if len(sq) == 0 || !slices.Equal(sq, pg) {
		t.Fatalf("migration files differ:\nsqlite:   %v\npostgres: %v", sq, pg)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
