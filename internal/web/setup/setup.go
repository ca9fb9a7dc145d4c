// Package setup serves the first-run page at /setup: the one-time link parley prints when an
// installation has no users leads here, and the form creates the owner account. It holds no rules
// of its own (package workspace decides whether setup is pending and the token valid) and stops
// working once the owner exists.
package setup

import (
	_ "embed"
	"github.com/parley-inbox/parley/internal/web/session"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/workspace"
)

//go:embed setup.html
var pageHTML string

var page = template.Must(template.New("setup").Parse(pageHTML))

// view is what the template renders. State is one of form, done, closed, invalid.
type view struct {
	State string
	Token string
	Name  string
	Email string
	Error string
	// Fields holds per-field messages.
	Fields map[string]string
	// MinPassword is the minimum password length, for the form's hint and minlength.
	MinPassword int
}

type handler struct {
	ws      *workspace.Service
	secure  bool
	log     *slog.Logger
	minPass int
}

// Handler serves GET and POST /setup. The POST is protected against cross-site submission.
func Handler(ws *workspace.Service, baseURL string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{ws: ws, secure: strings.HasPrefix(baseURL, "https://"), log: log, minPass: auth.MinPasswordLength}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /setup", h.show)
	mux.HandleFunc("POST /setup", h.submit)
	return http.NewCrossOriginProtection().Handler(mux)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	v := view{State: "form", Token: token, MinPassword: h.minPass}
	if err := h.ws.CheckSetupToken(r.Context(), token); err != nil {
		h.renderError(w, r, v, err)
		return
	}
	h.render(w, r, http.StatusOK, v)
}

func (h *handler) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusBadRequest, view{State: "form", Error: "The form could not be read. Please try again.", MinPassword: h.minPass})
		return
	}
	v := view{
		State:       "form",
		Token:       r.PostForm.Get("token"),
		Name:        r.PostForm.Get("name"),
		Email:       r.PostForm.Get("email"),
		MinPassword: h.minPass,
	}
	u, err := h.ws.CompleteSetup(r.Context(), v.Token, v.Email, v.Name, r.PostForm.Get("password"))
	if err != nil {
		h.renderError(w, r, v, err)
		return
	}
	token, err := h.ws.NewSession(r.Context(), u)
	if err != nil {
		// The account exists; only the automatic sign-in failed. Say so rather than fail the page.
		h.log.ErrorContext(r.Context(), "setup: start session", "err", err)
	} else {
		session.Set(w, token, workspace.SessionDuration, h.secure)
	}
	h.render(w, r, http.StatusOK, view{State: "done", Name: u.Name, Email: u.Email})
}

// renderError shows a problem on the page: a closed setup or a bad link replace the form; input
// problems re-show it with the message.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, v view, err error) {
	p, ok := problem.As(err)
	if !ok {
		h.log.ErrorContext(r.Context(), "setup failed", "err", err)
		v.Error = "Something went wrong on our side; the error was logged. Please try again."
		h.render(w, r, http.StatusInternalServerError, v)
		return
	}
	switch p.Code {
	case "setup_not_available":
		h.render(w, r, http.StatusNotFound, view{State: "closed"})
	case "invalid_setup_token":
		h.render(w, r, http.StatusBadRequest, view{State: "invalid", Error: p.Detail})
	default:
		v.Error = friendly(p)
		v.Fields = p.Fields
		h.render(w, r, http.StatusBadRequest, v)
	}
}

// friendly turns a problem into a sentence for the page.
func friendly(p *problem.Error) string {
	switch p.Code {
	case "weak_password":
		return "Please choose a longer password: " + p.Fields["password"] + "."
	case "invalid_email":
		return "Please enter a valid email address, like you@example.com."
	case "name_required":
		return "Please tell us your name."
	case "invalid_name":
		return "Your name should be one line of at most 200 characters."
	}
	return "Please check the form: " + p.Detail
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The token is in the URL: never send it on as a referrer, never cache the page.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	var b strings.Builder
	if err := page.Execute(&b, v); err != nil {
		h.log.ErrorContext(r.Context(), "setup: render", "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String())) // the browser went away; nothing to do
}
