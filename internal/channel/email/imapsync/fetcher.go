package imapsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/parley-inbox/parley/internal/store"
)

const (
	// batchUIDs is how many messages one FETCH asks about, and batchBytes how many bytes of
	// message bodies one FETCH may bring at most (a bigger message comes alone): a large
	// mailbox is never held in memory at once.
	batchUIDs  = 100
	batchBytes = 16 << 20
	// idleRestart re-issues IDLE before servers drop it: RFC 2177 asks clients to end IDLE
	// at least every 29 minutes. Each re-issue also runs a round, which records a success.
	idleRestart = 25 * time.Minute
	// idleStopTimeout bounds waiting for the server's answer to DONE; a peer that does not
	// answer is treated as dead.
	idleStopTimeout = 30 * time.Second
	// Reconnect backoff after a failure: doubling from backoffBase up to backoffMax, with
	// jitter so that many mailboxes on one server do not retry in step.
	backoffBase = time.Second
	backoffMax  = 4 * time.Minute
)

// Fetcher fetches one mailbox into one channel. Set the fields, then call Run.
type Fetcher struct {
	ChannelID int64
	Config    Config
	Store     *store.Store
	// Deliver stores one message (the raw RFC 5322 bytes). It must commit before it returns
	// nil and accept the same message again (a crash between Deliver and the checkpoint
	// re-delivers it). An error stops the round; the message is tried again next round.
	Deliver func(ctx context.Context, raw []byte) error
	Log     *slog.Logger

	log *slog.Logger // Log with the channel's attributes

	// Test hooks: onRound is called after each round (nil on success), and the durations
	// replace the package's constants when set.
	onRound     func(err error)
	idleRestart time.Duration
	backoffBase time.Duration
}

// Run fetches until ctx ends, reconnecting after failures; it returns nil then. It returns an
// error only for settings that can never work.
func (f *Fetcher) Run(ctx context.Context) error {
	f.log = f.Log
	if f.log == nil {
		f.log = slog.Default()
	}
	f.log = f.log.With("channel_id", f.ChannelID, "imap_host", f.Config.Host)
	if err := f.Config.Validate(); err != nil {
		f.recordError(ctx, err)
		return err
	}
	failures := 0
	for {
		worked, err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if worked {
			failures = 0
		}
		f.log.Warn("imap: fetching failed, will retry", "err", err, "failures", failures+1)
		f.recordError(ctx, err)
		if f.onRound != nil {
			f.onRound(err)
		}
		if !sleep(ctx, f.backoff(failures)) {
			return nil
		}
		failures++
	}
}

// backoff is the wait after the n+1th failure in a row.
func (f *Fetcher) backoff(n int) time.Duration {
	base := orDefault(f.backoffBase, backoffBase)
	d := backoffMax
	if n < 20 {
		d = min(base<<n, backoffMax)
	}
	// ±20 % jitter.
	return d - d/5 + rand.N(d*2/5+1)
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f *Fetcher) recordError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	if rerr := f.Store.RecordEmailIMAPError(ctx, f.ChannelID, err.Error(), store.Now()); rerr != nil {
		f.log.Error("imap: recording the error failed", "err", rerr, "imap_err", err)
	}
}

// session runs one connection: connect, catch up, wait for new mail, catch up… until an
// error. worked reports whether at least one round completed.
func (f *Fetcher) session(ctx context.Context) (worked bool, err error) {
	cfg := f.Config.withDefaults()
	s, err := open(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer s.close(false) // the connection is broken, or ctx ended and closed it

	cp, err := f.checkpoint(ctx, s)
	if err != nil {
		return false, err
	}
	var idle bool
	if err := s.guard(cmdTimeout, func() error {
		idle = s.c.Caps().Has(imap.CapIdle) // may send CAPABILITY
		return nil
	}); err != nil {
		return false, err
	}
	f.log.Debug("imap: connected", "mailbox", cfg.Mailbox, "idle", idle, "uid_validity", cp.UIDValidity, "last_uid", cp.LastUID)
	for {
		if err := f.round(ctx, s, &cp); err != nil {
			return worked, err
		}
		worked = true
		if err := f.Store.RecordEmailIMAPSuccess(ctx, f.ChannelID, store.Now()); err != nil {
			return worked, err
		}
		if f.onRound != nil {
			f.onRound(nil)
		}
		if idle {
			err = f.idle(ctx, s)
		} else {
			err = f.poll(ctx, s, cfg.PollInterval)
		}
		if err != nil {
			return worked, err
		}
	}
}

// checkpoint loads the stored checkpoint, or starts one by the backfill rule when there is
// none or the mailbox's UIDVALIDITY changed (its UIDs then mean other messages).
func (f *Fetcher) checkpoint(ctx context.Context, s *session) (store.EmailIMAPCheckpoint, error) {
	validity := s.sel.UIDValidity
	if validity == 0 {
		return store.EmailIMAPCheckpoint{}, errors.New("imap: the server did not report the mailbox's UIDVALIDITY")
	}
	st, err := f.Store.EmailIMAPState(ctx, f.ChannelID)
	switch {
	case err == nil && st.UIDValidity == validity:
		return st.EmailIMAPCheckpoint, nil
	case err == nil && st.UIDValidity != 0:
		f.log.Warn("imap: the mailbox's UIDVALIDITY changed; fetching again from the backfill period",
			"old_uid_validity", st.UIDValidity, "uid_validity", validity, "backfill", f.Config.Backfill)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.EmailIMAPCheckpoint{}, err
	}

	last := uint32(0)
	if s.sel.UIDNext > 0 {
		last = uint32(s.sel.UIDNext) - 1
	} else {
		// UIDNEXT is optional in RFC 3501; the highest UID present does as well.
		res, err := s.search(&imap.SearchCriteria{})
		if err != nil {
			return store.EmailIMAPCheckpoint{}, err
		}
		for _, u := range res.AllUIDs() {
			last = max(last, uint32(u))
		}
	}
	cp := store.EmailIMAPCheckpoint{UIDValidity: validity, LastUID: last}
	if f.Config.Backfill > 0 && last > 0 {
		since := time.Now().Add(-f.Config.Backfill)
		cp.BackfillUntilUID, cp.BackfillSince = last, since.UnixMilli()
		// SEARCH SINCE compares dates only, in the server's time zone: a day earlier surely
		// covers the period; fetching cuts exactly on INTERNALDATE. Every UID below the first
		// match is older, so the checkpoint starts just before it.
		var uids imap.UIDSet
		uids.AddRange(1, imap.UID(last))
		res, err := s.search(&imap.SearchCriteria{UID: []imap.UIDSet{uids}, Since: since.AddDate(0, 0, -1)})
		if err != nil {
			return store.EmailIMAPCheckpoint{}, err
		}
		if found := res.AllUIDs(); len(found) > 0 {
			cp.LastUID = uint32(slices.Min(found)) - 1
		}
	}
	if err := f.Store.SaveEmailIMAPCheckpoint(ctx, f.ChannelID, cp); err != nil {
		return store.EmailIMAPCheckpoint{}, err
	}
	f.log.Info("imap: checkpoint started", "uid_validity", validity, "last_uid", cp.LastUID, "backfill_until_uid", cp.BackfillUntilUID)
	return cp, nil
}

// round delivers every message above the checkpoint, in UID order, moving the checkpoint
// after each one.
func (f *Fetcher) round(ctx context.Context, s *session, cp *store.EmailIMAPCheckpoint) error {
	// Mail that arrives from here on is either in the search below or signalled again.
	select {
	case <-s.exists:
	default:
	}
	if cp.LastUID == ^uint32(0) {
		return nil // no UID can follow
	}
	var above imap.UIDSet
	above.AddRange(imap.UID(cp.LastUID+1), 0) // 0 is "*"
	res, err := s.search(&imap.SearchCriteria{UID: []imap.UIDSet{above}})
	if err != nil {
		return err
	}
	var uids []imap.UID
	for _, u := range res.AllUIDs() {
		// "n:*" also matches the highest UID when it is below n (RFC 3501 §6.4.8).
		if uint32(u) > cp.LastUID {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for chunk := range slices.Chunk(uids, batchUIDs) {
		if err := f.chunk(ctx, s, cp, chunk); err != nil {
			return err
		}
	}
	return nil
}

// chunk handles up to batchUIDs messages: their sizes and dates first, then their bodies in
// batches of at most batchBytes.
func (f *Fetcher) chunk(ctx context.Context, s *session, cp *store.EmailIMAPCheckpoint, uids []imap.UID) error {
	metas, err := s.fetch(cmdTimeout, uids, &imap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true})
	if err != nil {
		return err
	}
	slices.SortFunc(metas, func(a, b *imapclient.FetchMessageBuffer) int { return cmp.Compare(a.UID, b.UID) })

	var batch []imap.UID
	var size int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := f.deliverBatch(ctx, s, cp, batch)
		batch, size = batch[:0], 0
		return err
	}
	for _, m := range metas {
		if uint32(m.UID) <= cp.LastUID {
			continue
		}
		if uint32(m.UID) <= cp.BackfillUntilUID && m.InternalDate.UnixMilli() < cp.BackfillSince {
			continue // older than the backfill period; the checkpoint passes it below
		}
		if len(batch) > 0 && size+m.RFC822Size > batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, m.UID)
		size += m.RFC822Size
	}
	if err := flush(); err != nil {
		return err
	}
	// Messages skipped (too old, or expunged meanwhile) at the end of the chunk.
	if last := uint32(uids[len(uids)-1]); last > cp.LastUID {
		cp.LastUID = last
		if err := f.Store.SaveEmailIMAPCheckpoint(ctx, f.ChannelID, *cp); err != nil {
			return err
		}
	}
	return nil
}

// deliverBatch fetches the bodies of uids (ascending) and delivers them in order.
func (f *Fetcher) deliverBatch(ctx context.Context, s *session, cp *store.EmailIMAPCheckpoint, uids []imap.UID) error {
	// BODY.PEEK[] leaves \Seen alone: the team's mail program still shows the mail unread.
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := s.fetch(bodyTimeout, uids, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	if err != nil {
		return err
	}
	bodies := make(map[imap.UID][]byte, len(msgs))
	for _, m := range msgs {
		bodies[m.UID] = m.FindBodySection(section)
	}
	for _, uid := range uids {
		raw, ok := bodies[uid]
		if !ok {
			continue // expunged since the search; nothing to deliver
		}
		if raw == nil {
			// Answered without the body: not the message, so nothing to deliver or pass.
			return fmt.Errorf("imap fetch: no body for message uid %d", uid)
		}
		delete(bodies, uid)
		if err := f.Deliver(ctx, raw); err != nil {
			return fmt.Errorf("deliver message uid %d: %w", uid, err)
		}
		cp.LastUID = uint32(uid)
		if err := f.Store.SaveEmailIMAPCheckpoint(ctx, f.ChannelID, *cp); err != nil {
			return err
		}
	}
	return nil
}

// idle waits with IDLE until the server reports new mail, idleRestart passes or ctx ends.
func (f *Fetcher) idle(ctx context.Context, s *session) error {
	select {
	case <-s.exists:
		return nil // arrived during the round
	default:
	}
	cmd, err := s.c.Idle()
	if err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	t := time.NewTimer(orDefault(f.idleRestart, idleRestart))
	defer t.Stop()
	select {
	case <-s.exists:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.c.Closed():
	}
	stopped := make(chan error, 1)
	go func() {
		if err := cmd.Close(); err != nil {
			stopped <- err
			return
		}
		stopped <- cmd.Wait()
	}()
	select {
	case err := <-stopped:
		if err != nil {
			return fmt.Errorf("imap idle: %w", err)
		}
		return nil
	case <-time.After(idleStopTimeout):
		_ = s.c.Close() // unblocks the goroutine above
		return errors.New("imap idle: the server did not answer DONE")
	}
}

// poll waits interval for servers without IDLE.
func (f *Fetcher) poll(ctx context.Context, s *session, interval time.Duration) error {
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.exists:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.c.Closed():
		return errors.New("imap: connection closed")
	}
}

// search runs UID SEARCH.
func (s *session) search(criteria *imap.SearchCriteria) (res *imap.SearchData, err error) {
	err = s.guard(cmdTimeout, func() error {
		res, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("imap search: %w", err)
	}
	return res, nil
}

// fetch runs UID FETCH and collects the answers.
func (s *session) fetch(timeout time.Duration, uids []imap.UID, opts *imap.FetchOptions) (msgs []*imapclient.FetchMessageBuffer, err error) {
	err = s.guard(timeout, func() error {
		msgs, err = s.c.Fetch(imap.UIDSetNum(uids...), opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("imap fetch: %w", err)
	}
	return msgs, nil
}
