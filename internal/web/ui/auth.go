package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) authRoutes() []route {
	return []route{
		{pattern: "GET /login", public: true, handle: s.showLogin},
		{pattern: "POST /login", public: true, handle: s.login},
		{pattern: "POST /logout", public: true, handle: s.logout},
		{pattern: "GET /{$}", public: true, handle: s.home},
	}
}

type loginPage struct {
	*Page
	Email string
	Next  string
	Error string
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if user(r) == nil {
		redirect(w, r, "/login")
		return nil
	}
	redirect(w, r, "/inbox")
	return nil
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if user(r) != nil {
		redirect(w, r, next)
		return nil
	}
	p := s.page(r, "", "auth")
	p.Title = p.T("auth.sign_in")
	return s.render(w, r, http.StatusOK, "login", loginPage{Page: p, Next: r.URL.Query().Get("next")})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	email := strings.TrimSpace(r.FormValue("email"))
	next := safeNext(r.FormValue("next"))
	token, _, err := s.Workspace.SignIn(r.Context(), email, r.FormValue("password"))
	if err != nil {
		var p *problem.Error
		if !errors.As(err, &p) {
			return err
		}
		pg := s.page(r, "", "auth")
		pg.Title = pg.T("auth.sign_in")
		msg := pg.T("error." + p.Code)
		if msg == "error."+p.Code {
			msg = pg.T("auth.failed")
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "login", loginPage{Page: pg, Email: email, Next: r.FormValue("next"), Error: msg})
	}
	session.Set(w, token, workspace.SessionDuration, s.secure())
	redirect(w, r, next)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if token := session.Token(r); token != "" {
		if err := s.Workspace.SignOut(r.Context(), token); err != nil {
			return err
		}
	}
	session.Clear(w, s.secure())
	redirect(w, r, "/login")
	return nil
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/inbox"
	}
	return next
}
