package workspace

import (
	"testing"
	"time"
)

// SetClock moves the package's clock (password link and pending sign-in expiry, TOTP steps)
// for the rest of a test.
func SetClock(t testing.TB, at func() time.Time) {
	old := now
	now = at
	t.Cleanup(func() { now = old })
}
