package imapsync

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// recorder is a Deliver that remembers what it got, like the real one commits it: by
// Message-ID, counting every call.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int // Message-ID (the test name) → Deliver calls that succeeded
	// fail, when set, runs first and its error is returned instead of storing.
	fail    func(id string) error
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) deliver(_ context.Context, raw []byte) error {
	id := messageName(raw)
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(id); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.calls[id]++
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// messageName returns the name testMessage put into the Message-ID.
func messageName(raw []byte) string {
	_, rest, ok := bytes.Cut(raw, []byte("Message-ID: <"))
	if !ok {
		return "?"
	}
	name, _, _ := bytes.Cut(rest, []byte("@"))
	return string(name)
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

// names returns the names delivered, sorted.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id := range r.calls {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

// waitFor waits until every id has been delivered.
func (r *recorder) waitFor(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		missing := ""
		for _, id := range ids {
			if r.count(id) == 0 {
				missing = id
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("message %s not delivered; delivered: %v", missing, r.names())
		}
	}
}

// exactlyOnce fails unless the delivered names are exactly ids, each delivered once.
func (r *recorder) exactlyOnce(t *testing.T, ids ...string) {
	t.Helper()
	want := append([]string(nil), ids...)
	sort.Strings(want)
	got := r.names()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for _, id := range ids {
		if n := r.count(id); n != 1 {
			t.Fatalf("message %s delivered %d times", id, n)
		}
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// newChannel makes an inbox with an email channel for the checkpoint to belong to.
func newChannel(t *testing.T, s *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	var ch store.Channel
	err := s.InTx(ctx, func(tx *store.Tx) error {
		in := &store.Inbox{Name: fmt.Sprintf("Support %d", time.Now().UnixNano()), Access: "everyone"}
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		ch = store.Channel{InboxID: in.ID, Kind: "email", Name: "support@example.com", Authorized: true}
		_, err := tx.InsertChannel(ctx, &ch)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch.ID
}

// running is a Fetcher started by startFetcher.
type runningFetcher struct {
	f      *Fetcher
	rounds chan error
	cancel context.CancelFunc
	done   chan struct{}
}

// startFetcher runs f until the test ends (or stop), with short test timings.
func startFetcher(t *testing.T, f *Fetcher) *runningFetcher {
	t.Helper()
	rf := &runningFetcher{f: f, rounds: make(chan error, 1000), done: make(chan struct{})}
	f.onRound = func(err error) { rf.rounds <- err }
	if f.backoffBase == 0 {
		f.backoffBase = 100 * time.Millisecond
	}
	if f.Log == nil {
		f.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rf.cancel = cancel
	go func() {
		defer close(rf.done)
		if err := f.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(rf.stop)
	return rf
}

func (rf *runningFetcher) stop() {
	rf.cancel()
	<-rf.done
}

// round waits for the next round's outcome.
func (rf *runningFetcher) round(t *testing.T) error {
	t.Helper()
	select {
	case err := <-rf.rounds:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no round within 20 s")
		return nil
	}
}

// okRound waits for the next round and fails the test if it failed.
func (rf *runningFetcher) okRound(t *testing.T) {
	t.Helper()
	if err := rf.round(t); err != nil {
		t.Fatalf("round failed: %v", err)
	}
}

func state(t *testing.T, s *store.Store, ch int64) *store.EmailIMAPState {
	t.Helper()
	st, err := s.EmailIMAPState(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitCheckpoint waits until the stored checkpoint reaches uid.
func waitCheckpoint(t *testing.T, s *store.Store, ch int64, uid uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.EmailIMAPState(context.Background(), ch)
		if err == nil && st.LastUID >= uid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint did not reach uid %d: %+v, %v", uid, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
