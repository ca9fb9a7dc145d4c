package imapsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// Defaults used when the matching Supervisor field is zero.
const (
	DefaultSupervisorInterval = 30 * time.Second
	// A lease outlives a few missed renewals, so a slow database round does not hand a
	// mailbox to another node, yet a crashed node's mailboxes move on within minutes.
	DefaultLeaseTTL = 3 * DefaultSupervisorInterval
)

// Mailbox is one IMAP email channel to fetch.
// Mailboxes are compared with ==: List must return the same Config.TLS pointer for unchanged
// settings, or the fetcher restarts on every listing.
type Mailbox struct {
	ChannelID int64
	Config    Config
}

// Supervisor runs a Fetcher for every listed mailbox whose lease this node holds. Set the
// fields, then call Run.
type Supervisor struct {
	Store *store.Store
	// List returns the mailboxes to fetch (every IMAP email channel). A failed List keeps the
	// running fetchers as they are.
	List func(ctx context.Context) ([]Mailbox, error)
	// Deliver is the Fetcher's Deliver, for a channel.
	Deliver func(ctx context.Context, channelID int64, raw []byte) error
	Log     *slog.Logger
	// Owner names this node in leases; it must differ between nodes. Host name, process
	// id and a random suffix when "".
	Owner string
	// Interval between listing, starting and stopping fetchers and renewing leases;
	// DefaultSupervisorInterval when 0. LeaseTTL is how long a lease lasts unrenewed;
	// DefaultLeaseTTL (or 3 × Interval, if larger) when 0.
	Interval time.Duration
	LeaseTTL time.Duration

	// newFetcher lets tests set the Fetcher's hooks.
	newFetcher func(f *Fetcher)
}

// running is a fetcher this supervisor started.
type running struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	// leaseUntil is the end of the lease as last renewed (unix ms, our clock).
	leaseUntil int64
}

// Run supervises until ctx ends, then stops every fetcher, releases their leases and
// returns.
func (s *Supervisor) Run(ctx context.Context) error {
	log, owner := s.Log, s.Owner
	if log == nil {
		log = slog.Default()
	}
	if owner == "" {
		owner = defaultOwner()
	}
	interval := orDefault(s.Interval, DefaultSupervisorInterval)
	ttl := orDefault(s.LeaseTTL, max(DefaultLeaseTTL, 3*interval))
	fetchers := map[int64]*running{}
	var wg sync.WaitGroup

	stop := func(id int64, release bool) {
		r := fetchers[id]
		r.cancel()
		<-r.done
		delete(fetchers, id)
		if release {
			// On shutdown ctx has ended; the release must still reach the database.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.Store.ReleaseEmailIMAPLease(rctx, id, owner); err != nil {
				log.Warn("imap: releasing a lease failed", "channel_id", id, "err", err)
			}
		}
	}
	start := func(m Mailbox, until int64) {
		fctx, cancel := context.WithCancel(ctx)
		r := &running{cfg: m.Config, cancel: cancel, done: make(chan struct{}), leaseUntil: until}
		fetchers[m.ChannelID] = r
		f := &Fetcher{
			ChannelID: m.ChannelID,
			Config:    m.Config,
			Store:     s.Store,
			Log:       log,
			Deliver: func(ctx context.Context, raw []byte) error {
				return s.Deliver(ctx, m.ChannelID, raw)
			},
		}
		if s.newFetcher != nil {
			s.newFetcher(f)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(r.done)
			if err := f.Run(fctx); err != nil {
				// Settings that can never work: the error is on the channel; the fetcher
				// starts again when the settings change.
				log.Warn("imap: fetcher stopped", "channel_id", m.ChannelID, "err", err)
			}
		}()
	}

	tick := func() {
		now := store.Now()
		until := now + ttl.Milliseconds()
		list, err := s.List(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("imap: listing mailboxes failed", "err", err)
			}
			// Keep the running fetchers and their leases.
			list = make([]Mailbox, 0, len(fetchers))
			for id, r := range fetchers {
				list = append(list, Mailbox{ChannelID: id, Config: r.cfg})
			}
		}
		listed := make(map[int64]bool, len(list))
		for _, m := range list {
			listed[m.ChannelID] = true
			r := fetchers[m.ChannelID]
			ok, err := s.Store.ClaimEmailIMAPLease(ctx, m.ChannelID, owner, until, now)
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return
				}
				log.Warn("imap: renewing a lease failed", "channel_id", m.ChannelID, "err", err)
				// Without a renewal the lease may pass to another node when it ends: stop
				// fetching before then.
				if r != nil && r.leaseUntil-interval.Milliseconds() <= store.Now() {
					stop(m.ChannelID, false)
				}
			case !ok:
				if r != nil {
					log.Warn("imap: lost the lease on a mailbox", "channel_id", m.ChannelID)
					stop(m.ChannelID, false)
				}
			case r == nil:
				start(m, until)
			case r.cfg != m.Config:
				stop(m.ChannelID, false)
				start(m, until)
			default:
				// Also when the fetcher stopped on settings that can never work: it starts
				// again when they change, and no other node would do better meanwhile.
				r.leaseUntil = until
			}
		}
		for id := range fetchers {
			if !listed[id] {
				stop(id, true)
			}
		}
	}

	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		tick()
		select {
		case <-ctx.Done():
			for id := range fetchers {
				stop(id, true)
			}
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}
