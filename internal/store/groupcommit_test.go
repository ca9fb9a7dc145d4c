package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Concurrent grouped transactions: each caller's work is committed or undone on its own, its
// events go with it, and a panicking caller panics in its own goroutine, alone.
func TestInGroupTxIsolatesCallers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 120
		errs := make([]error, n)
		panics := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer func() { panics[i] = recover() }()
				errs[i] = s.InGroupTx(ctx, func(tx *store.Tx) error {
					if err := tx.SetSetting(ctx, "group."+strconv.Itoa(i), "v"); err != nil {
						return err
					}
					tx.Emit("test.grouped", "k"+strconv.Itoa(i), func(e *store.Event) error {
						e.Data = json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))
						return nil
					})
					switch i % 10 {
					case 3:
						return errors.New("refused")
					case 7:
						// The grouped path runs callers' work on the leader's goroutine; a
						// panic must come back to its own caller. (On PostgreSQL InGroupTx is
						// InTx, whose panics are not recovered at all.)
						if i == 7 && s.Dialect() == store.SQLite {
							panic("boom")
						} else if i == 7 {
							return errors.New("boom")
						}
					}
					return nil
				})
			})
		}
		wg.Wait()
		if s.Dialect() == store.SQLite && store.LargestGroup(s) < 2 {
			t.Errorf("no transaction was shared: the largest group held %d calls", store.LargestGroup(s))
		}
		evs, err := s.EventsAfter(ctx, 0, 10*n)
		if err != nil {
			t.Fatal(err)
		}
		emitted := map[int]int{}
		for _, e := range evs {
			if e.Type != "test.grouped" {
				continue
			}
			var d struct{ I int }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			emitted[d.I]++
		}
		for i := range n {
			failed := i%10 == 3 || i == 7
			panicked := i == 7 && s.Dialect() == store.SQLite
			if panicked != (panics[i] != nil) {
				t.Fatalf("call %d: panic %v", i, panics[i])
			}
			if !panicked && failed != (errs[i] != nil) {
				t.Fatalf("call %d: err = %v, want failure %v", i, errs[i], failed)
			}
			_, err := s.Setting(ctx, "group."+strconv.Itoa(i))
			if stored := err == nil; stored == failed {
				t.Errorf("call %d: stored = %v (err %v), want %v", i, stored, err, !failed)
			}
			// On PostgreSQL events are numbered later, by the node's sequencer (events.go), and
			// InGroupTx is plain InTx there: the events are the grouped path's to prove.
			if want := map[bool]int{true: 0, false: 1}[failed]; s.Dialect() == store.SQLite && emitted[i] != want {
				t.Errorf("call %d: %d events, want %d", i, emitted[i], want)
			}
		}
	})
}
