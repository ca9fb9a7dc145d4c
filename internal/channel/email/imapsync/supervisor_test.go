package imapsync

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestSupervisorLease: two supervisors (two nodes) on one store fetch each mailbox once; when
// one node stops, its lease is released and the other takes its mailboxes over; a mailbox no
// longer listed is stopped and released.
func TestSupervisorLease(t *testing.T) {
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Each engine gets its own two mailboxes: the server outlives the subtest.
		prefix := t.Name()[len("TestSupervisorLease/"):]
		sales, support := prefix+"Sales", prefix+"Support"
		salesCh, supportCh := newChannel(t, s), newChannel(t, s)
		mailbox := map[int64]string{salesCh: sales, supportCh: support}
		for _, mb := range mailbox {
			if err := c.Create(mb, nil).Wait(); err != nil {
				t.Fatal(err)
			}
			appendMessages(t, c, mb, mb, 3, time.Now())
		}

		var mu sync.Mutex
		by := map[string]map[int64]bool{} // owner → channels it delivered for
		deliveries := map[string]int{}    // message → deliveries
		listed := map[int64]bool{salesCh: true, supportCh: true}
		changed := make(chan struct{}, 1)
		newSupervisor := func(owner string) *Supervisor {
			return &Supervisor{
				Store: s,
				Owner: owner,
				List: func(context.Context) ([]Mailbox, error) {
					mu.Lock()
					defer mu.Unlock()
					var out []Mailbox
					for ch, mb := range mailbox {
						if listed[ch] {
							cfg := d.config(mb)
							cfg.Backfill = time.Hour
							out = append(out, Mailbox{ChannelID: ch, Config: cfg})
						}
					}
					return out, nil
				},
				Deliver: func(_ context.Context, ch int64, raw []byte) error {
					mu.Lock()
					if by[owner] == nil {
						by[owner] = map[int64]bool{}
					}
					by[owner][ch] = true
					deliveries[messageName(raw)]++
					mu.Unlock()
					select {
					case changed <- struct{}{}:
					default:
					}
					return nil
				},
				Log:      slog.New(slog.DiscardHandler),
				Interval: 100 * time.Millisecond,
				LeaseTTL: time.Second,
				newFetcher: func(f *Fetcher) {
					f.backoffBase = 100 * time.Millisecond
				},
			}
		}
		type node struct {
			cancel context.CancelFunc
			done   chan struct{}
		}
		run := func(owner string) node {
			ctx, cancel := context.WithCancel(ctx)
			n := node{cancel, make(chan struct{})}
			sup := newSupervisor(owner)
			go func() {
				defer close(n.done)
				if err := sup.Run(ctx); err != nil {
					t.Error(err)
				}
			}()
			t.Cleanup(func() { n.cancel(); <-n.done })
			return n
		}
		waitDelivered := func(names ...string) {
			t.Helper()
			deadline := time.After(20 * time.Second)
			for {
				mu.Lock()
				missing := ""
				for _, n := range names {
					if deliveries[n] == 0 {
						missing = n
					}
				}
				mu.Unlock()
				if missing == "" {
					return
				}
				select {
				case <-changed:
				case <-time.After(50 * time.Millisecond):
				case <-deadline:
					t.Fatalf("%s not delivered", missing)
				}
			}
		}
		onceEach := func() {
			t.Helper()
			mu.Lock()
			defer mu.Unlock()
			for name, n := range deliveries {
				if n != 1 {
					t.Fatalf("%s delivered %d times", name, n)
				}
			}
			for ch := range mailbox {
				owners := 0
				for _, chans := range by {
					if chans[ch] {
						owners++
					}
				}
				if owners > 1 {
					t.Fatalf("channel %d fetched by %d nodes: %v", ch, owners, by)
				}
			}
		}
		owner := func(ch int64) string { return state(t, s, ch).LeaseOwner }

		a, b := run("node-a"), run("node-b")
		waitDelivered(append(names(sales, 3), names(support, 3)...)...)
		// A second fetcher of the same mailbox would deliver again within a few intervals.
		time.Sleep(500 * time.Millisecond)
		onceEach()
		for ch := range mailbox {
			if o := owner(ch); o != "node-a" && o != "node-b" {
				t.Fatalf("channel %d lease owner %q", ch, o)
			}
		}

		// The node holding Sales stops; the other takes it over.
		holder, other, otherName := a, b, "node-b"
		if owner(salesCh) == "node-b" {
			holder, other, otherName = b, a, "node-a"
		}
		holder.cancel()
		<-holder.done
		appendMessages(t, c, sales, prefix+"takeover", 1, time.Now())
		waitDelivered(prefix + "takeover-0")
		if o := owner(salesCh); o != otherName {
			t.Fatalf("Sales lease owner %q after the takeover, want %s", o, otherName)
		}
		mu.Lock()
		if len(deliveries) != 7 {
			t.Errorf("deliveries %v", deliveries)
		}
		mu.Unlock()

		// Sales is no longer listed: its fetcher stops and its lease is released.
		mu.Lock()
		listed[salesCh] = false
		mu.Unlock()
		deadline := time.Now().Add(10 * time.Second)
		for owner(salesCh) != "" {
			if time.Now().After(deadline) {
				t.Fatalf("the lease of an unlisted mailbox was not released: %q", owner(salesCh))
			}
			time.Sleep(50 * time.Millisecond)
		}
		appendMessages(t, c, sales, prefix+"unlisted", 1, time.Now())
		appendMessages(t, c, support, prefix+"still", 1, time.Now())
		waitDelivered(prefix + "still-0")
		mu.Lock()
		if deliveries[prefix+"unlisted-0"] != 0 {
			t.Error("a mailbox no longer listed was fetched")
		}
		mu.Unlock()

		// Shutdown releases the remaining leases.
		other.cancel()
		<-other.done
		if o := owner(supportCh); o != "" {
			t.Fatalf("lease still held after shutdown: %q", o)
		}
		if st := state(t, s, supportCh); st.LastSuccessAt == 0 || st.Failing() {
			t.Fatalf("support state: %+v", st)
		}
	})
}
