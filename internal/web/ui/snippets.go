package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// The snippets page (/snippets): every agent manages their personal snippets there and sees
// the shared ones, which owners and admins manage too. The composer inserts them (see
// conversation.go). Forms are plain posts; a refusal shows the page again with what was typed.

func (s *Server) snippetRoutes() []route {
	return []route{
		{pattern: "GET /snippets", handle: s.showSnippets},
		{pattern: "POST /snippets", handle: s.createSnippet},
		{pattern: "POST /snippets/{id}", handle: s.updateSnippet},
		{pattern: "POST /snippets/{id}/delete", handle: s.deleteSnippet},
	}
}

type snippetsPage struct {
	*Page
	Personal []snippetRow
	Shared   []snippetRow
	// New is the create form, filled again after a refusal.
	New snippetForm
	// CanShare is whether the user may create and manage shared snippets.
	CanShare bool
	Tokens   []string
}

// snippetRow is one snippet with its edit form.
type snippetRow struct {
	store.Snippet
	CanManage bool
	Form      snippetForm
}

// snippetForm is what a snippet form shows: the values and, after a refusal, why.
type snippetForm struct {
	ID       int64
	Shortcut string
	Title    string
	Body     string
	Shared   bool
	Error    string
	// Field names the field at fault, for aria-invalid.
	Field string
	// Open keeps an edit form open after a refusal.
	Open bool
}

func formOf(sn store.Snippet) snippetForm {
	return snippetForm{ID: sn.ID, Shortcut: sn.Shortcut, Title: sn.Title, Body: sn.Body, Shared: sn.Shared()}
}

func (s *Server) showSnippets(w http.ResponseWriter, r *http.Request) error {
	return s.renderSnippets(w, r, http.StatusOK, nil)
}

// renderSnippets shows the page; failed, when set, is the form that was refused (ID 0: new).
func (s *Server) renderSnippets(w http.ResponseWriter, r *http.Request, status int, failed *snippetForm) error {
	u := user(r)
	pg := s.page(r, "", "inbox")
	pg.Title = pg.T("snippets.title")
	list, err := s.Inbox.Snippets(r.Context(), u, "", 0)
	if err != nil {
		return err
	}
	p := &snippetsPage{Page: pg, CanShare: u.IsAdmin(), Tokens: inbox.SnippetTokenNames}
	if failed != nil && failed.ID == 0 {
		p.New = *failed
	}
	for _, sn := range list {
		row := snippetRow{Snippet: sn, CanManage: inbox.CanManageSnippet(u, &sn), Form: formOf(sn)}
		if failed != nil && failed.ID == sn.ID {
			row.Form = *failed
			row.Form.Open = true
		}
		if sn.Shared() {
			p.Shared = append(p.Shared, row)
		} else {
			p.Personal = append(p.Personal, row)
		}
	}
	return s.render(w, r, status, "snippets", p)
}

func snippetInput(r *http.Request) inbox.SnippetInput {
	return inbox.SnippetInput{
		Shortcut: r.PostFormValue("shortcut"),
		Title:    r.PostFormValue("title"),
		Body:     r.PostFormValue("body"),
		Shared:   r.PostFormValue("scope") == "shared",
	}
}

// refused shows the page again with the form as it was sent and the reason, for problems a
// person can fix; other errors go the usual way.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, id int64, in inbox.SnippetInput, err error) error {
	p, ok := problem.As(err)
	if !ok || p.Kind == problem.NotFound {
		return err
	}
	f := &snippetForm{ID: id, Shortcut: in.Shortcut, Title: in.Title, Body: in.Body, Shared: in.Shared}
	f.Error, _ = problemMessage(s.page(r, "", "inbox"), err)
	for k := range p.Fields {
		f.Field = k
	}
	return s.renderSnippets(w, r, http.StatusUnprocessableEntity, f)
}

func (s *Server) createSnippet(w http.ResponseWriter, r *http.Request) error {
	in := snippetInput(r)
	if _, err := s.Inbox.CreateSnippet(r.Context(), user(r), in); err != nil {
		return s.refused(w, r, 0, in, err)
	}
	redirect(w, r, "/snippets?flash=snippets.created")
	return nil
}

func (s *Server) updateSnippet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in := snippetInput(r)
	if _, err := s.Inbox.UpdateSnippet(r.Context(), user(r), id, in); err != nil {
		return s.refused(w, r, id, in, err)
	}
	redirect(w, r, "/snippets?flash=snippets.saved")
	return nil
}

func (s *Server) deleteSnippet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteSnippet(r.Context(), user(r), id); err != nil {
		return err
	}
	redirect(w, r, "/snippets?flash=snippets.deleted")
	return nil
}
