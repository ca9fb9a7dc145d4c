package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"text/template/parse"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

//go:embed templates
var templateFS embed.FS

// views holds one template set per page: the shared layout and partials plus the page's file.
type views struct {
	pages map[string]*template.Template
	// blocks are, per page, the templates an htmx request may name in HX-Target: those the
	// page's own file defines and those the layout reaches with the page's data as it is. The
	// shared partials expect other data (a dict), so rendering one of them for a forged or
	// stray HX-Target would only fail.
	blocks map[string]map[string]bool
}

// mustLoadViews parses templates/partials/*.html and templates/layout.html into a base, then
// clones it once per templates/pages/*.html. A page named "inbox" is pages/inbox.html.
func mustLoadViews(a *assets) *views {
	funcs := template.FuncMap{
		"asset": a.path,
		"join":  strings.Join,
		"dict":  dict,
		"add":   func(a, b int) int { return a + b },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"initials": initials,
		"list":     func(s ...string) []string { return s },
		"hue":      hue,
		"lower":    strings.ToLower,
		"contains": func(list []string, s string) bool {
			for _, v := range list {
				if v == s {
					return true
				}
			}
			return false
		},
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	v := &views{pages: map[string]*template.Template{}, blocks: map[string]map[string]bool{}}
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		v.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, p))
		own := template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, p))
		blocks := map[string]bool{}
		reachWithDot(v.pages[name], "layout", blocks)
		for _, t := range own.Templates() {
			blocks[t.Name()] = true
		}
		v.blocks[name] = blocks
	}
	return v
}

// reachWithDot adds to seen the templates that name calls, directly or not, with its own data
// ({{template "x" .}} outside range and with, which change the dot).
func reachWithDot(t *template.Template, name string, seen map[string]bool) {
	tt := t.Lookup(name)
	if tt == nil || tt.Tree == nil {
		return
	}
	seen[name] = true
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			p := n.Pipe
			if p != nil && len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 && !seen[n.Name] {
				if _, dot := p.Cmds[0].Args[0].(*parse.DotNode); dot {
					reachWithDot(t, n.Name, seen)
				}
			}
		}
	}
	walk(tt.Tree.Root)
}

// dict builds a map from key, value pairs, to pass several values to a partial.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// initials is what an avatar without a picture shows: "Ana Lind" → "AL".
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			out = append(out, r)
			break
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return strings.ToUpper(string(out))
}

// hue gives a stable colour angle for a name, so a person's avatar keeps its colour.
func hue(s string) int {
	h := 0
	for _, r := range s {
		h = (h*31 + int(r)) % 360
	}
	return h
}

// Page is what every template gets: the signed-in user, their language and the request.
// Page-specific data embeds *Page, so templates reach {{.T "key"}} and {{.User}} directly.
type Page struct {
	User  *store.User
	Title string
	// Section names the top-level area for the navigation's current marker: inbox, contacts, settings, profile.
	Section string
	Lang    *Lang
	Loc     *time.Location
	// Path is the request's path and query, for links back and the current marker.
	Path string
	// Flash is a one-line confirmation shown once (after a redirect it comes from ?flash=).
	Flash string
	// Availability is the signed-in user's status for the header toggle.
	Availability string
}

// T translates key into the page's language; see Lang.T.
func (p *Page) T(key string, args ...any) string { return p.Lang.T(key, args...) }

// TN translates a count: key.one or key.other, with the count as the first argument.
func (p *Page) TN(key string, n int, args ...any) string { return p.Lang.TN(key, n, args...) }

// jsStrings are the strings the scripts show; the layout hands them over as one JSON attribute.
var jsStrings = []string{"live.offline", "live.catching_up", "live.back", "typing.reply", "typing.comment",
	"presence.viewing", "common.just_now"}

// JSStrings returns the scripts' strings in the page's language as a JSON object.
func (p *Page) JSStrings() string {
	m := make(map[string]string, len(jsStrings))
	for _, k := range jsStrings {
		m[k] = p.T(k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// page builds the Page for a request. Areas add their own data by embedding it.
func (s *Server) page(r *http.Request, title, section string) *Page {
	u := user(r)
	p := &Page{User: u, Title: title, Section: section, Path: r.URL.RequestURI(), Loc: time.UTC}
	p.Lang = s.lang(r, u)
	if u != nil {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil && u.TimeZone != "" {
			p.Loc = loc
		}
		if a, err := s.Inbox.Availability(r.Context(), u, u.ID); err == nil {
			p.Availability = a.Status
		}
	}
	p.Flash = p.Lang.T(r.URL.Query().Get("flash"))
	if p.Flash == r.URL.Query().Get("flash") {
		p.Flash = "" // only known messages, never text from the URL
	}
	return p
}

// render writes a page, or just one of its blocks when htmx asks for it: a request whose
// HX-Target names a block the page defines (e.g. "conversation-list") gets that block only.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	t, ok := s.views.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	name := "layout"
	if target := r.Header.Get("HX-Target"); isHTMX(r) && target != "" && s.views.blocks[page][target] {
		name = target
	} else if isHTMX(r) && r.Header.Get("HX-Boosted") != "true" && t.Lookup("content") != nil && r.Header.Get("HX-Target") == "main" {
		name = "content"
	}
	return s.execute(w, status, t, name, data)
}

// renderBlock writes one named template of a page (a fragment for htmx), whatever the target.
func (s *Server) renderBlock(w http.ResponseWriter, status int, page, block string, data any) error {
	t, ok := s.views.pages[page]
	if !ok {
		return fmt.Errorf("no page template %q", page)
	}
	return s.execute(w, status, t, block, data)
}

func (s *Server) execute(w http.ResponseWriter, status int, t *template.Template, name string, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

var errAdminOnly = problem.Forbiddenf("admin_only", "only owners and admins may do this")

// errorPage is the data of the error page and the error toast.
type errorPage struct {
	*Page
	Status  int
	Code    string
	Message string
}

// fail renders an error. Known problems show their message in the user's language when the
// locale has "error.<code>", else their detail; anything else is logged and shown as a
// generic message. htmx requests get a toast (see layout.html), page loads an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problem.As(err)
	if !ok {
		switch {
		case errors.Is(err, store.ErrNotFound):
			p = problem.NotFoundf("not_found", "not found")
		case errors.Is(err, store.ErrConflict):
			p = problem.Conflictf("conflict", "the change clashes with existing data")
		default:
			s.Log.ErrorContext(r.Context(), "web app error", "method", r.Method, "path", r.URL.Path, "err", err)
			p = problem.New(problem.Internal, "internal", "something went wrong; the error was logged")
		}
	}
	status := p.Status()
	pg := s.page(r, "", "")
	msg := pg.T("error." + p.Code)
	if msg == "error."+p.Code {
		msg = p.Detail
	}
	data := errorPage{Page: pg, Status: status, Code: p.Code, Message: msg}
	if isHTMX(r) {
		w.Header().Set("HX-Retarget", "#toasts")
		w.Header().Set("HX-Reswap", "beforeend")
		_ = s.renderBlock(w, status, "error", "toast", data)
		return
	}
	pg.Title = pg.T("error.title")
	if rerr := s.renderBlock(w, status, "error", "layout", data); rerr != nil {
		http.Error(w, msg, status)
	}
}
