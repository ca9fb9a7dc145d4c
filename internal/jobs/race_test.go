//go:build race

package jobs_test

// raceEnabled lets the heaviest tests shrink under the race detector, which slows the pure-Go
// SQLite driver by an order of magnitude.
const raceEnabled = true
