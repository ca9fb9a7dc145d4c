package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/problem"
)

// maxSessionBody bounds a session request.
const maxSessionBody = 16 << 10

// Handler serves the visitor endpoints under /widget/v1/: they are called by the widget from
// customers' sites, so they answer CORS for the channel's allowed origins only and authenticate
// visitors by their token, never by cookie.
//
//	POST /widget/v1/{public_id}/session   (and its OPTIONS preflight)
//	GET  /widget/v1/{public_id}/ws?token=…&since=SEQ
//	POST /widget/v1/{public_id}/files, GET /widget/v1/{public_id}/files/{id}/{name} (files.go)
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("OPTIONS /widget/v1/{public_id}/session", s.preflight("POST", "Content-Type"))
	mux.HandleFunc("POST /widget/v1/{public_id}/session", s.session)
	mux.HandleFunc("GET /widget/v1/{public_id}/ws", s.websocket)
	mux.HandleFunc("OPTIONS /widget/v1/{public_id}/files", s.preflight("GET, POST", "Authorization"))
	mux.HandleFunc("POST /widget/v1/{public_id}/files", s.uploadFile)
	mux.HandleFunc("OPTIONS /widget/v1/{public_id}/files/{id}/{name}", s.preflight("GET, POST", "Authorization"))
	mux.HandleFunc("GET /widget/v1/{public_id}/files/{id}/{name}", s.downloadFile)
	mux.HandleFunc("/widget/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem.NotFoundf("route_not_found", "no route %s %s", r.Method, r.URL.Path))
	})
	return s.sameOrigin(mux)
}

// sameOrigin gives a request from Parley's own pages the Origin it comes from. The widget's frame
// (widget.Frame) makes its requests from Parley's origin, and browsers send no Origin with a
// same-origin GET (a file download); Sec-Fetch-Site, which no script can set, says where it
// comes from instead. A client that is no browser can send any Origin anyway.
func (s *Service) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
			if own := s.ownOrigin(); own != "" {
				r.Header.Set("Origin", own)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeProblem renders an error in the API's problem shape.
func writeProblem(w http.ResponseWriter, err error) {
	p, ok := problem.As(err)
	if !ok {
		p = problem.New(problem.Internal, "internal", "something went wrong; try again")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status())
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(p.Status()),
		"status": p.Status(), "code": p.Code, "detail": p.Detail, "fields": p.Fields})
}

// allowCORS lets the request's origin read the answer when the channel allows it.
func allowCORS(w http.ResponseWriter, wd *widget, origin string) bool {
	w.Header().Add("Vary", "Origin")
	if wd == nil || !wd.settings.allows(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

// preflight answers the CORS preflight of a visitor endpoint for the channel's allowed sites:
// the session takes JSON, the file endpoints the token in the Authorization header.
func (s *Service) preflight(methods, headers string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wd, err := s.widgetByPublicID(r.Context(), r.PathValue("public_id"))
		if err != nil {
			writeProblem(w, err)
			return
		}
		origin := r.Header.Get("Origin")
		if !allowCORS(w, wd, origin) {
			writeProblem(w, wd.checkOrigin(origin))
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", methods)
		w.Header().Set("Access-Control-Allow-Headers", headers)
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Service) session(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if wd, err := s.widgetByPublicID(r.Context(), r.PathValue("public_id")); err == nil {
		allowCORS(w, wd, origin)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSessionBody))
	if err != nil {
		writeProblem(w, problem.New(problem.TooLarge, CodeInvalidSession, "the session request is too large"))
		return
	}
	var in SessionInput
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeProblem(w, problem.Invalidf(CodeInvalidSession, "the body is not a session request: %v", err))
		return
	}
	in.UserAgent = r.Header.Get("User-Agent")
	out, err := s.StartSession(r.Context(), r.PathValue("public_id"), origin, in)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			s.log().Warn("chat: start a session", "err", err)
		}
		writeProblem(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Service) websocket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.Hub == nil {
		writeProblem(w, problem.New(problem.Unavailable, "chat_unavailable", "live chat is not running on this server"))
		return
	}
	var since *int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeProblem(w, problem.Field("invalid_since", "since", "must be the last seq you received (a whole number, 0 or more)"))
			return
		}
		since = &n
	}
	wd, err := s.widgetByPublicID(ctx, r.PathValue("public_id"))
	if err != nil {
		writeProblem(w, err)
		return
	}
	// Cross-site WebSocket hijacking does not apply (no cookie), but a widget answering on a
	// site the owner did not allow would let anyone embed it.
	if err := wd.checkOrigin(r.Header.Get("Origin")); err != nil {
		writeProblem(w, err)
		return
	}
	v, err := s.visitorByToken(ctx, wd, r.URL.Query().Get("token"))
	if err != nil {
		writeProblem(w, err)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		writeProblem(w, problem.New(problem.Invalid, "websocket_required", "connect with a WebSocket (Upgrade: websocket)"))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // origin checked above
	if err != nil {
		if !errors.Is(err, ctx.Err()) {
			s.log().Debug("chat: websocket accept", "err", err)
		}
		return
	}
	s.serve(ctx, ws, wd, v, since)
}
