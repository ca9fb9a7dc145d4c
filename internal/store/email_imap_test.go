package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// newEmailChannel makes an inbox with one email channel and returns the channel's id.
func newEmailChannel(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	ctx := context.Background()
	var ch store.Channel
	err := s.InTx(ctx, func(tx *store.Tx) error {
		in := &store.Inbox{Name: "Support " + name, Access: "everyone"}
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		ch = store.Channel{InboxID: in.ID, Kind: "email", Name: name, Authorized: true}
		_, err := tx.InsertChannel(ctx, &ch)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch.ID
}

func TestEmailIMAPCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ch := newEmailChannel(t, s, "imap@example.com")

		if _, err := s.EmailIMAPState(ctx, ch); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("state of a new channel: %v, want ErrNotFound", err)
		}
		cp := store.EmailIMAPCheckpoint{UIDValidity: 4000000000, LastUID: 10, BackfillUntilUID: 12, BackfillSince: 1700000000000}
		if err := s.SaveEmailIMAPCheckpoint(ctx, ch, cp); err != nil {
			t.Fatal(err)
		}
		got, err := s.EmailIMAPState(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		// A UIDVALIDITY above 2^31 must survive the round trip (it is an unsigned 32-bit number).
		if got.EmailIMAPCheckpoint != cp || got.ChannelID != ch || got.UpdatedAt == 0 {
			t.Fatalf("state = %+v, want checkpoint %+v", got, cp)
		}

		save := func(c store.EmailIMAPCheckpoint) store.EmailIMAPCheckpoint {
			t.Helper()
			if err := s.SaveEmailIMAPCheckpoint(ctx, ch, c); err != nil {
				t.Fatal(err)
			}
			st, err := s.EmailIMAPState(ctx, ch)
			if err != nil {
				t.Fatal(err)
			}
			return st.EmailIMAPCheckpoint
		}
		cp.LastUID = 11
		if got := save(cp); got.LastUID != 11 {
			t.Fatalf("advance: last uid %d, want 11", got.LastUID)
		}
		// Never back within one UIDVALIDITY (a lagging fetcher that lost its lease).
		stale := cp
		stale.LastUID = 5
		if got := save(stale); got.LastUID != 11 {
			t.Fatalf("moved back: last uid %d, want 11", got.LastUID)
		}
		// A new UIDVALIDITY starts over, lower UIDs included.
		fresh := store.EmailIMAPCheckpoint{UIDValidity: 7, LastUID: 2}
		if got := save(fresh); got != fresh {
			t.Fatalf("new uidvalidity: %+v, want %+v", got, fresh)
		}
	})
}

func TestEmailIMAPStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ch := newEmailChannel(t, s, "imap@example.com")

		// An error before any checkpoint (the first connect failed) creates the row.
		if err := s.RecordEmailIMAPError(ctx, ch, "login: NO [AUTHENTICATIONFAILED]", 1000); err != nil {
			t.Fatal(err)
		}
		st, err := s.EmailIMAPState(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastError != "login: NO [AUTHENTICATIONFAILED]" || st.LastErrorAt != 1000 || st.LastSuccessAt != 0 || !st.Failing() {
			t.Fatalf("after error: %+v", st)
		}
		if err := s.RecordEmailIMAPSuccess(ctx, ch, 2000); err != nil {
			t.Fatal(err)
		}
		st, _ = s.EmailIMAPState(ctx, ch)
		if st.LastSuccessAt != 2000 || st.Failing() || st.LastError == "" {
			t.Fatalf("after success: %+v (the last error stays, for history)", st)
		}
		// Recording the outcome does not touch the checkpoint or the lease.
		if err := s.SaveEmailIMAPCheckpoint(ctx, ch, store.EmailIMAPCheckpoint{UIDValidity: 3, LastUID: 9}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClaimEmailIMAPLease(ctx, ch, "node-a", 5000, 2500); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		long := strings.Repeat("é", 5000) + "\x00\xff"
		if err := s.RecordEmailIMAPError(ctx, ch, long, 3000); err != nil {
			t.Fatalf("a long, invalid error text must be storable: %v", err)
		}
		st, _ = s.EmailIMAPState(ctx, ch)
		if !st.Failing() || st.LastSuccessAt != 2000 || st.LastUID != 9 || st.LeaseOwner != "node-a" || len(st.LastError) > 4100 {
			t.Fatalf("after second error: %+v", st)
		}
	})
}

func TestEmailIMAPLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ch := newEmailChannel(t, s, "imap@example.com")
		claim := func(owner string, until, now int64) bool {
			t.Helper()
			ok, err := s.ClaimEmailIMAPLease(ctx, ch, owner, until, now)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim("a", 1100, 1000) {
			t.Fatal("a could not take a free lease")
		}
		if claim("b", 1200, 1050) {
			t.Fatal("b took a's lease before it expired")
		}
		if !claim("a", 1300, 1090) {
			t.Fatal("a could not renew its own lease")
		}
		if claim("b", 1400, 1300) {
			t.Fatal("b took a's lease at the instant it ends")
		}
		if !claim("b", 1500, 1301) {
			t.Fatal("b could not take an expired lease")
		}
		if err := s.ReleaseEmailIMAPLease(ctx, ch, "a"); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.EmailIMAPState(ctx, ch); st.LeaseOwner != "b" {
			t.Fatalf("a released b's lease: %+v", st)
		}
		if err := s.ReleaseEmailIMAPLease(ctx, ch, "b"); err != nil {
			t.Fatal(err)
		}
		if !claim("a", 1600, 1302) {
			t.Fatal("a could not take a released lease")
		}
		// A checkpoint written meanwhile leaves the lease alone.
		if err := s.SaveEmailIMAPCheckpoint(ctx, ch, store.EmailIMAPCheckpoint{UIDValidity: 1, LastUID: 1}); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.EmailIMAPState(ctx, ch); st.LeaseOwner != "a" || st.LeaseUntil != 1600 {
			t.Fatalf("lease after checkpoint: %+v", st)
		}
		if _, err := s.ClaimEmailIMAPLease(ctx, ch, "", 1, 1); err == nil {
			t.Fatal("empty owner accepted")
		}
	})
}

// TestEmailIMAPLeaseConcurrent: many nodes claiming one free (or expired) lease at the same
// moment, on fresh and existing rows; exactly one wins each time.
func TestEmailIMAPLeaseConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const nodes = 8
		for round := range 6 {
			// Even rounds: a channel without a row (the claims race on the INSERT); odd rounds:
			// the previous round's row, whose lease has expired by then.
			ch := newEmailChannel(t, s, fmt.Sprintf("imap%d@example.com", round))
			if round%2 == 1 {
				if ok, err := s.ClaimEmailIMAPLease(ctx, ch, "old", 10, 1); err != nil || !ok {
					t.Fatalf("setup claim: %v %v", ok, err)
				}
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var winners []string
			start := make(chan struct{})
			for n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					owner := fmt.Sprintf("node-%d", n)
					<-start
					ok, err := s.ClaimEmailIMAPLease(ctx, ch, owner, 100000, 1000)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						winners = append(winners, owner)
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("round %d: winners %v, want exactly one", round, winners)
			}
			st, err := s.EmailIMAPState(ctx, ch)
			if err != nil {
				t.Fatal(err)
			}
			if st.LeaseOwner != winners[0] {
				t.Fatalf("round %d: stored owner %q, winner %q", round, st.LeaseOwner, winners[0])
			}
		}
	})
}
