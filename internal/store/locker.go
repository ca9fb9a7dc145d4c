package store

import (
	"github.com/pressly/goose/v3/lock"
)

// newPostgresLocker serialises migrations across nodes with a session advisory lock.
func newPostgresLocker() (lock.SessionLocker, error) {
	// Nodes starting together: the ones that find the lock taken retry every second (goose's
	// default is every 5 s), for up to 5 minutes.
	return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
}
