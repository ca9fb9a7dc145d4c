package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/realtime"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
)

// Server holds what the handlers need. Build it with its fields set, then call Handler.
type Server struct {
	Store *store.Store
	Inbox *inbox.Service
	Log   *slog.Logger
	// BaseURL is the public URL of this installation (links, webhook signatures, cookies' Secure flag).
	BaseURL string
	// Realtime serves GET /api/v1/realtime; nil answers 503 realtime_unavailable.
	Realtime *realtime.Hub
	// Email serves the email channel routes; nil answers 503 email_unavailable.
	Email *email.Service
	// Chat serves chat channels and their chatflows; nil answers 503 chat_unavailable.
	Chat *chat.Service
	// Slack serves inboxes' Slack mirror settings; nil builds one over Store and Inbox.
	Slack *slack.Service

	// SignIns throttles sign-in attempts per email and client address; share one with the
	// other HTTP edge of the process (nil: this server keeps its own).
	SignIns    *throttle.SignIns
	ownSignIns throttle.SignIns
	// tokenTouched remembers when each API token's last use was recorded (token id → unix ms).
	tokenTouched sync.Map
}

type ctxKey int

const (
	userKey ctxKey = iota
	requestIDKey
)

// caller returns the signed-in user of the request. Routes with Access Signed or Admin always have one.
func caller(r *http.Request) *store.User {
	u, _ := r.Context().Value(userKey).(*store.User)
	return u
}

// RequestID returns the id the request was logged under.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Handler returns the API's http.Handler: every route of the route table behind the middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Log, problem.NotFoundf("route_not_found", "no route %s %s", r.Method, r.URL.Path))
	})
	protect := http.NewCrossOriginProtection()
	return s.logRequests(protect.Handler(mux))
}

// wrap applies per-route authentication, body limits and idempotency, and renders errors.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxBody)
		if rt.MaxBody > 0 {
			limit = rt.MaxBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if rt.QueryToken && r.Header.Get("Authorization") == "" {
			if key := r.URL.Query().Get("hapikey"); key != "" {
				r.Header.Set("Authorization", "Bearer "+key)
			}
		}
		if rt.Access != Public {
			u, err := s.authenticate(r)
			if err != nil {
				writeError(w, r, s.Log, err)
				return
			}
			if rt.Access == Admin && !u.IsAdmin() {
				writeError(w, r, s.Log, problem.Forbiddenf("admin_only", "only owners and admins may do this"))
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey, u))
		}
		if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "" && caller(r) != nil {
			s.idempotent(w, r, rt)
			return
		}
		if err := rt.Handle(s, w, r); err != nil {
			writeError(w, r, s.Log, err)
		}
	})
}

// authenticate resolves the caller from a bearer token or the session cookie.
func (s *Server) authenticate(r *http.Request) (*store.User, error) {
	unauthorized := problem.New(problem.Unauthorized, "unauthorized", "sign in or send Authorization: Bearer <token>")
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return nil, unauthorized
		}
		u, tokenID, err := s.Store.UserByToken(r.Context(), auth.HashToken(strings.TrimSpace(token)))
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.New(problem.Unauthorized, "invalid_token", "the token is unknown or revoked")
		}
		if err == nil {
			s.touchToken(r.Context(), tokenID)
		}
		return u, err
	}
	token := session.Token(r)
	if token == "" {
		return nil, unauthorized
	}
	u, err := s.Store.UserBySession(r.Context(), auth.HashToken(token), store.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.New(problem.Unauthorized, "session_expired", "the session has expired; sign in again")
	}
	return u, err
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives every request an id, logs it once when done and turns panics into 500s.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, r, s.Log, problem.New(problem.Internal, "internal", "something went wrong; the error was logged"))
				}
			}
			s.Log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// touchToken records a token's last use at most once a minute per process, so that
// authenticating an API request does not cost a database write.
func (s *Server) touchToken(ctx context.Context, tokenID int64) {
	now := store.Now()
	if last, ok := s.tokenTouched.Load(tokenID); ok && now-last.(int64) < 60_000 {
		return
	}
	s.tokenTouched.Store(tokenID, now)
	if err := s.Store.TouchAPIToken(ctx, tokenID, now); err != nil {
		s.Log.WarnContext(ctx, "record token use", "err", err)
	}
}

// signIns is the shared sign-in throttle, or this server's own.
func (s *Server) signIns() *throttle.SignIns {
	if s.SignIns != nil {
		return s.SignIns
	}
	return &s.ownSignIns
}
