package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/problem"
)

// realtimeRoutes is the agents' WebSocket (SPEC API-3). The protocol is in README.md, section
// "Realtime", and package realtime.
func realtimeRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/realtime", Access: Signed, Handle: connectRealtime},
	}
}

// connectRealtime upgrades to a WebSocket that replays the events after ?since= the caller may
// see, then streams live ones. Every event is checked against the caller's access when it is
// sent, not when they connected.
func connectRealtime(s *Server, w http.ResponseWriter, r *http.Request) error {
	var since *int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return problem.Field("invalid_since", "since", "must be the last seq you received (a whole number, 0 or more)")
		}
		since = &n
	}
	if !isWebSocketUpgrade(r) {
		return problem.New(problem.Invalid, "websocket_required", "connect with a WebSocket (Upgrade: websocket)")
	}
	if s.Realtime == nil {
		return problem.New(problem.Unavailable, "realtime_unavailable", "realtime updates are not running on this server")
	}
	// Cross-site WebSocket hijacking: a browser attaches the session cookie to a WebSocket
	// opened by any site, and the same-origin policy does not apply to WebSockets. So a request
	// signed in by cookie must come from this installation's own pages. Bearer tokens are never
	// attached by a browser on its own, so token clients (which are not browsers) may connect
	// from anywhere.
	if r.Header.Get("Authorization") == "" && !s.sameOrigin(r) {
		return problem.Forbiddenf("cross_origin_websocket", "a WebSocket signed in by cookie must come from this installation's own pages")
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // origin checked above
	if err != nil {
		return nil // Accept has answered the client already
	}
	s.Realtime.Serve(r.Context(), ws, caller(r).ID, since)
	return nil
}

func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sameOrigin reports whether the request's Origin (if any: non-browser clients send none) is this
// server's own host or the host of BaseURL.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if base, err := url.Parse(s.BaseURL); err == nil && base.Host != "" && strings.EqualFold(u.Host, base.Host) {
		return true
	}
	return false
}
