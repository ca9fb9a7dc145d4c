package store

import (
	"github.com/pressly/goose/v3/lock"
)

// newPostgresLocker serialises migrations across nodes with a session advisory lock.
func newPostgresLocker() (lock.SessionLocker, error) {
	return lock.NewPostgresSessionLocker()
}
