package imapsync

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/parley-inbox/parley/internal/store/storetest"
)

const day = 24 * time.Hour

// TestFetchBackfill: the first connect fetches exactly the messages whose INTERNALDATE lies
// within the backfill period, without marking anything read or removing anything; mail that
// arrives later is fetched whatever its date.
func TestFetchBackfill(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	now := time.Now()
	appendMessages(t, c, "INBOX", "old", 3, now.Add(-10*day))
	// Within the day SEARCH SINCE is widened by, but before the exact cut.
	appendMessages(t, c, "INBOX", "edge", 1, now.Add(-3*day-6*time.Hour))
	appendMessages(t, c, "INBOX", "recent", 2, now.Add(-time.Hour))
	// An old message after recent ones in UID order (copied in from an archive).
	appendMessages(t, c, "INBOX", "archived", 1, now.Add(-20*day))
	appendMessages(t, c, "INBOX", "today", 1, now)

	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("INBOX")
	cfg.Backfill = 3 * day
	cfg.PollInterval = time.Hour // only IDLE can bring the late message in time
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	rec.exactlyOnce(t, "recent-0", "recent-1", "today-0")

	st := state(t, s, ch)
	if st.LastUID != 8 || st.BackfillUntilUID != 8 || st.UIDValidity == 0 || st.LastSuccessAt == 0 || st.Failing() {
		t.Fatalf("state after backfill: %+v", st)
	}

	// New mail is new mail, even with an old date.
	appendMessages(t, c, "INBOX", "late", 1, now.Add(-30*day))
	rec.waitFor(t, "late-0")
	rec.exactlyOnce(t, "recent-0", "recent-1", "today-0", "late-0")

	// Nothing marked read, nothing moved or deleted.
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 9 {
		t.Fatalf("mailbox has %d messages, want 9", sel.NumMessages)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if slices.Contains(m.Flags, imap.FlagSeen) || slices.Contains(m.Flags, imap.FlagDeleted) {
			t.Fatalf("message %d has flags %v", m.SeqNum, m.Flags)
		}
	}
}

// TestFetchNewMailOnly: Backfill 0 leaves the mail already there alone.
func TestFetchNewMailOnly(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	appendMessages(t, c, "INBOX", "before", 2, time.Now())
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: d.config(""), Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	if got := rec.names(); len(got) != 0 {
		t.Fatalf("delivered %v before any new mail", got)
	}
	appendMessages(t, c, "INBOX", "after", 2, time.Now().Add(-40*day))
	rec.waitFor(t, names("after", 2)...)
	rec.exactlyOnce(t, names("after", 2)...)
}

// TestFetchRestart: a new Fetcher on the same store continues where the last one stopped.
func TestFetchRestart(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	appendMessages(t, c, "INBOX", "first", 5, time.Now())
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("INBOX")
	cfg.Backfill = day

	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	rf.stop()
	rec.exactlyOnce(t, names("first", 5)...)

	appendMessages(t, c, "INBOX", "downtime", 3, time.Now())
	rf = startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	rf.stop()
	rec.exactlyOnce(t, append(names("first", 5), names("downtime", 3)...)...)

	rf = startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	rf.stop()
	if rec.total() != 8 {
		t.Fatalf("%d deliveries after a restart without new mail, want 8", rec.total())
	}
}

// TestUIDValidityChange: a recreated mailbox (new UIDVALIDITY, UIDs from 1 again) is fetched
// again by the backfill rule, and the log says so.
func TestUIDValidityChange(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	if err := c.Create("Support", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMessages(t, c, "Support", "before", 3, time.Now())
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("Support")
	cfg.Backfill = day
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	rf.stop()
	old := state(t, s, ch)
	if old.LastUID != 3 {
		t.Fatalf("last uid %d, want 3", old.LastUID)
	}

	if err := c.Delete("Support").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Support", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMessages(t, c, "Support", "recreated", 2, time.Now())
	appendMessages(t, c, "Support", "ancient", 1, time.Now().Add(-5*day))

	var logs logBuffer
	rf = startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	rf.okRound(t)
	rf.stop()
	// UIDs 1 and 2 lie below the old checkpoint: only the reset fetches them.
	rec.exactlyOnce(t, append(names("before", 3), names("recreated", 2)...)...)
	st := state(t, s, ch)
	if st.UIDValidity == old.UIDValidity || st.LastUID != 3 {
		t.Fatalf("state after the change: %+v (before: %+v)", st, old)
	}
	if !strings.Contains(logs.String(), "UIDVALIDITY changed") {
		t.Fatalf("the log does not tell about the change:\n%s", logs.String())
	}
}

// TestIdle: a message appended while the fetcher waits arrives through IDLE (polling is set
// to an hour), and IDLE is re-issued on its timer, each time with a round.
func TestIdle(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	c := d.Client()
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("INBOX")
	cfg.PollInterval = time.Hour
	f := &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver}
	rf := startFetcher(t, f)
	rf.okRound(t)
	for i := range 3 {
		start := time.Now()
		appendMessages(t, c, "INBOX", "pushed"+string(rune('a'+i)), 1, time.Now())
		rec.waitFor(t, "pushed"+string(rune('a'+i))+"-0")
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("IDLE pickup took %v", took)
		}
	}
	rec.exactlyOnce(t, "pusheda-0", "pushedb-0", "pushedc-0")
	// Deliver has run; stopping before the checkpoint is saved would (rightly) re-deliver.
	waitCheckpoint(t, s, ch, 3)
	rf.stop()

	// Re-issuing IDLE: with a short timer, rounds keep coming without new mail.
	f = &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver, idleRestart: 200 * time.Millisecond}
	rf = startFetcher(t, f)
	for range 4 {
		rf.okRound(t)
	}
	if rec.total() != 3 {
		t.Fatalf("re-issued IDLE re-delivered: %d deliveries", rec.total())
	}
}

// TestPollWithoutIdle: a server without IDLE is polled every PollInterval.
func TestPollWithoutIdle(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{NoIdle: true})
	c := d.Client()
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	if caps.Has(imap.CapIdle) {
		t.Fatalf("the test server advertises IDLE: %v", caps)
	}
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("INBOX")
	cfg.PollInterval = 300 * time.Millisecond
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	appendMessages(t, c, "INBOX", "polled", 2, time.Now())
	rec.waitFor(t, names("polled", 2)...)
	rec.exactlyOnce(t, names("polled", 2)...)
}

// TestDeliverError: a failing Deliver stops the round before that message, the error is
// recorded, and the next round continues from there without re-delivering.
func TestDeliverError(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	appendMessages(t, d.Client(), "INBOX", "m", 5, time.Now())
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	var failures atomic.Int32
	rec.fail = func(id string) error {
		if id == "m-2" && failures.Add(1) <= 2 {
			return errors.New("database is down")
		}
		return nil
	}
	cfg := d.config("INBOX")
	cfg.Backfill = day
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	err := rf.round(t)
	if err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("first round: %v, want the Deliver error", err)
	}
	st := state(t, s, ch)
	if st.LastUID != 2 || !st.Failing() || !strings.Contains(st.LastError, "database is down") || st.LastErrorAt == 0 {
		t.Fatalf("state after the failed round: %+v", st)
	}
	if err := rf.round(t); err == nil {
		t.Fatal("second round succeeded; Deliver fails twice")
	}
	rf.okRound(t)
	rec.exactlyOnce(t, names("m", 5)...)
	st = state(t, s, ch)
	if st.LastUID != 5 || st.Failing() {
		t.Fatalf("state after recovery: %+v", st)
	}
}

// TestThousandMessages: a mailbox of 1,000 messages ends delivered exactly once, also when
// the fetcher dies between a Deliver and its checkpoint half-way through.
func TestThousandMessages(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	start := time.Now()
	appendMessages(t, d.Client(), "INBOX", "bulk", 1000, time.Now().Add(-time.Hour))
	t.Logf("appended 1000 messages in %v", time.Since(start))

	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()
	cfg := d.config("INBOX")
	cfg.Backfill = day

	// The first fetcher "crashes" right after the 400th Deliver committed: its checkpoint
	// write sees a cancelled context.
	ctx, crash := context.WithCancel(context.Background())
	var delivered atomic.Int32
	first := &Fetcher{ChannelID: ch, Config: cfg, Store: s, Log: slog.New(slog.DiscardHandler),
		Deliver: func(ctx context.Context, raw []byte) error {
			if err := rec.deliver(ctx, raw); err != nil {
				return err
			}
			if delivered.Add(1) == 400 {
				crash()
			}
			return nil
		}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := first.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		crash()
		t.Fatal("the first fetcher did not stop")
	}
	if n := rec.total(); n != 400 {
		t.Fatalf("%d deliveries before the crash, want 400", n)
	}
	if last := state(t, s, ch).LastUID; last != 399 {
		t.Fatalf("checkpoint after the crash: %d, want 399", last)
	}

	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: cfg, Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	all := names("bulk", 1000)
	if got := rec.names(); len(got) != 1000 {
		t.Fatalf("%d distinct messages delivered, want 1000", len(got))
	}
	for _, id := range all {
		want := 1
		if id == "bulk-399" {
			want = 2 // committed, then re-delivered: the checkpoint did not record it
		}
		if n := rec.count(id); n != want {
			t.Fatalf("%s delivered %d times, want %d", id, n, want)
		}
	}
	if st := state(t, s, ch); st.LastUID != 1000 {
		t.Fatalf("final checkpoint %d, want 1000", st.LastUID)
	}
}

// TestReconnect: a wrong password is recorded as the channel's error; a server restart
// breaks the connection, is recorded, and the fetcher reconnects and goes on.
func TestReconnect(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, dovecotOptions{})
	s := storetest.OpenSQLite(t)
	ch := newChannel(t, s)
	rec := newRecorder()

	bad := d.config("INBOX")
	bad.Password = "wrong"
	rf := startFetcher(t, &Fetcher{ChannelID: ch, Config: bad, Store: s, Deliver: rec.deliver})
	err := rf.round(t)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepLogin {
		t.Fatalf("round with a wrong password: %v", err)
	}
	rf.stop()
	st := state(t, s, ch)
	if !st.Failing() || !strings.Contains(st.LastError, "login") || st.LastSuccessAt != 0 {
		t.Fatalf("state after a wrong password: %+v", st)
	}

	rf = startFetcher(t, &Fetcher{ChannelID: ch, Config: d.config("INBOX"), Store: s, Deliver: rec.deliver})
	rf.okRound(t)
	d.Restart()
	if err := rf.round(t); err == nil {
		t.Fatal("no error recorded for the dropped connection")
	}
	// Reconnected: the next good round.
	for {
		if err := rf.round(t); err == nil {
			break
		}
	}
	appendMessages(t, d.Client(), "INBOX", "after-restart", 1, time.Now())
	rec.waitFor(t, "after-restart-0")
	st = state(t, s, ch)
	if st.Failing() || st.LastSuccessAt < st.LastErrorAt {
		t.Fatalf("state after reconnecting: %+v", st)
	}
}
