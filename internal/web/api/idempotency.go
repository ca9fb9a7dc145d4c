package api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// keyLocks serialises requests that share an idempotency key within this process, so a client
// that retries before its first attempt finished waits for it instead of creating twice.
var keyLocks sync.Map // string → *sync.Mutex

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// idempotent runs a create once per (caller, Idempotency-Key) and replays its response after.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, rt Route) {
	u := caller(r)
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		writeError(w, r, s.Log, problem.Field("invalid_idempotency_key", "Idempotency-Key", "must be at most 200 characters"))
		return
	}
	lockKey := strconv.FormatInt(u.ID, 10) + "\x00" + key
	mu, _ := keyLocks.LoadOrStore(lockKey, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer func() {
		mu.(*sync.Mutex).Unlock()
		keyLocks.Delete(lockKey)
	}()

	prev, err := s.Store.IdempotentResponse(r.Context(), u.ID, key)
	switch {
	case err == nil:
		if prev.Method != r.Method || prev.Path != r.URL.Path {
			writeError(w, r, s.Log, problem.Conflictf("idempotency_key_reused", "this Idempotency-Key was used for %s %s", prev.Method, prev.Path))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		_, _ = w.Write([]byte(prev.Body))
		return
	case !errors.Is(err, store.ErrNotFound):
		writeError(w, r, s.Log, err)
		return
	}

	buf := &bufferedWriter{header: w.Header()}
	if err := rt.Handle(s, buf, r); err != nil {
		writeError(w, r, s.Log, err)
		return
	}
	if buf.status >= 200 && buf.status < 300 {
		if err := s.Store.SaveIdempotentResponse(r.Context(), u.ID, key, store.IdempotentResponse{
			Method: r.Method, Path: r.URL.Path, Status: buf.status, Body: buf.body.String(),
		}); err != nil {
			s.Log.ErrorContext(r.Context(), "save idempotent response", "err", err)
		}
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
}
