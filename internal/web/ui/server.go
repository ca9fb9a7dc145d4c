package ui

import (
	"context"
	"errors"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/mail"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Server is the web app. Build it with its fields set, then call Handler.
type Server struct {
	Store     *store.Store
	Inbox     *inbox.Service
	Workspace *workspace.Service
	Log       *slog.Logger
	// BaseURL is the public URL of this installation (links, cookies' Secure flag).
	BaseURL string
	// Files stores attachments (attachments.go); nil turns uploads and downloads off.
	Files *files.Store
	// Mail sends password reset and invitation links; nil when outbound mail is not configured
	// (then the forgot-password form is not offered).
	Mail mail.Sender
	// Email connects team email to inboxes (settings_email.go) and renders mail in the
	// timeline; nil when email is not set up (the setup screens say so).
	Email *email.Service
	// Chat is live chat (settings_chat.go): chat channels and their chatflows; nil when live
	// chat is not set up (Settings → Chat says so).
	Chat *chat.Service
	// Slack mirrors inboxes' live chats into Slack (settings_slack.go); nil hides the Slack
	// section of an inbox's page.
	Slack *slack.Service
	// IMAPTest checks a mailbox for the setup screen's "Test connection" (imapsync.Test when
	// nil; tests replace it).
	IMAPTest func(ctx context.Context, cfg imapsync.Config) error

	// SignIns throttles sign-in attempts per email and client address; share one with the
	// other HTTP edge of the process (nil: this server keeps its own).
	SignIns    *throttle.SignIns
	ownSignIns throttle.SignIns

	views  *views
	assets *assets
}

// route is one page or action of the web app.
type route struct {
	pattern string // "METHOD /path", as http.ServeMux takes it
	// public routes need no session (sign-in, password reset); all others redirect to /login.
	public bool
	// admin routes answer 403 to agents.
	admin  bool
	handle func(w http.ResponseWriter, r *http.Request) error
}

type ctxKey int

const userKey ctxKey = iota

// user returns the signed-in user of the request; every non-public route has one.
func user(r *http.Request) *store.User {
	u, _ := r.Context().Value(userKey).(*store.User)
	return u
}

// routes lists every area's routes. Each area keeps its own list in its own file.
func (s *Server) routes() []route {
	var rts []route
	rts = append(rts, s.authRoutes()...)
	rts = append(rts, s.inboxRoutes()...)
	rts = append(rts, s.conversationRoutes()...)
	rts = append(rts, s.conversationActionRoutes()...)
	rts = append(rts, s.transcriptRoutes()...)
	rts = append(rts, s.attachmentRoutes()...)
	rts = append(rts, s.contactRoutes()...)
	rts = append(rts, s.visitorContextRoutes()...)
	rts = append(rts, s.profileRoutes()...)
	rts = append(rts, s.settingsRoutes()...)
	rts = append(rts, s.emailSettingsRoutes()...)
	rts = append(rts, s.chatSettingsRoutes()...)
	rts = append(rts, s.botRoutes()...)
	return rts
}

// Handler returns the web app's handler. It panics if the embedded templates or translations
// are broken, which tests catch before a release.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.assets = mustLoadAssets()
	s.views = mustLoadViews(s.assets)
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.assets)
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	// Anything else is the web app's own not-found page.
	mux.Handle("/", s.wrap(route{public: true, handle: func(w http.ResponseWriter, r *http.Request) error {
		return problem.NotFoundf("not_found", "no page %s", r.URL.Path)
	}}))
	protect := http.NewCrossOriginProtection()
	return securityHeaders(protect.Handler(mux))
}

func (s *Server) secure() bool { return strings.HasPrefix(s.BaseURL, "https://") }

// wrap resolves the session, enforces the route's access and renders errors.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
		u, err := s.sessionUser(r)
		if err != nil && !errors.Is(err, errNoSession) {
			s.fail(w, r, err)
			return
		}
		if u != nil {
			r = r.WithContext(context.WithValue(r.Context(), userKey, u))
		}
		if r.Method == http.MethodGet {
			// A page reads its conversation from several parts; read it once. GETs change
			// nothing that those parts show (marking read comes after they have read it).
			r = r.WithContext(inbox.WithReadCache(r.Context()))
		}
		if !rt.public {
			if u == nil {
				s.toSignIn(w, r)
				return
			}
			if rt.admin && !u.IsAdmin() {
				s.fail(w, r, errAdminOnly)
				return
			}
		}
		if err := rt.handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

var errNoSession = errors.New("no session")

// sessionUser returns the user of the request's session cookie, or errNoSession.
func (s *Server) sessionUser(r *http.Request) (*store.User, error) {
	token := session.Token(r)
	if token == "" {
		return nil, errNoSession
	}
	u, err := s.Store.UserBySession(r.Context(), auth.HashToken(token), store.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	return u, err
}

// toSignIn sends a browser without a session to the sign-in page, back to where it was after.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet || isHTMX(r) {
		next = r.Header.Get("HX-Current-URL")
		if u, err := url.Parse(next); err == nil {
			next = u.RequestURI()
		}
	}
	target := "/login"
	if next != "" && next != "/" && strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		target += "?next=" + url.QueryEscape(next)
	}
	redirect(w, r, target)
}

// redirect answers a full page load with 303 and an htmx request with HX-Location, so htmx
// loads the target the same way a link would.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// securityHeaders keeps scripts to our own files and the app out of frames.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data: blob: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// signIns is the shared sign-in throttle, or this server's own.
func (s *Server) signIns() *throttle.SignIns {
	if s.SignIns != nil {
		return s.SignIns
	}
	return &s.ownSignIns
}
