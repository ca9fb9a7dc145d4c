package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) inboxRoutes() []route {
	return []route{
		{pattern: "GET /inbox", handle: s.showInbox},
		{pattern: "GET /inbox/{id}", handle: s.showInbox},
	}
}

// inboxPage is the three panes: views on the left, the list in the middle, the open
// conversation (if any) on the right. Each pane is a block the page can render alone
// (see render), named like its element id.
type inboxPage struct {
	*Page
	View          string
	Query         url.Values
	Inboxes       []*store.Inbox
	Conversations []store.Conversation
	NextCursor    string
	Open          *conversationPane
}

// listQuery is the list's state (view, filters, search), carried on every link so that
// opening a conversation keeps the list as it was.
func listQuery(r *http.Request) url.Values {
	q := url.Values{}
	for _, k := range []string{"view", "q", "status", "channel", "assignee", "team", "tag", "priority", "inbox"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// filterFor turns a view name into the domain's list filter.
func filterFor(view string, q url.Values) (inbox.Filter, error) {
	f := inbox.Filter{Status: "open", Q: q.Get("q")}
	switch view {
	case "", "open":
	case "unassigned":
		f.AssigneeID = "none"
	case "mine":
		f.AssigneeID = "me"
	case "closed":
		f.Status = "closed"
	case "spam":
		f.Status, f.Spam = "", true
	case "trash":
		f.Status, f.Trashed = "", true
	default:
		return f, problem.Invalidf("unknown_view", "unknown view %q", view)
	}
	if v := q.Get("inbox"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, problem.Invalidf("invalid_inbox", "inbox must be a number")
		}
		f.InboxID = &id
	}
	return f, nil
}

func (s *Server) showInbox(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	q := listQuery(r)
	view := q.Get("view")
	f, err := filterFor(view, q)
	if err != nil {
		return err
	}
	p := &inboxPage{Page: s.page(r, "", "inbox"), View: view, Query: q}
	p.Title = p.T("nav.inbox")
	p.Inboxes, _, err = s.Workspace.Inboxes(r.Context(), u, 0, 200)
	if err != nil {
		return err
	}
	p.Conversations, p.NextCursor, err = s.Inbox.Conversations(r.Context(), u, f)
	if err != nil {
		return err
	}
	if id := r.PathValue("id"); id != "" {
		p.Open, err = s.conversationPane(r, id)
		if err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "inbox", p)
}

// Href is a link to the list with q changed by kv (key, value pairs; "" removes a key).
func (p *inboxPage) Href(path string, kv ...string) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
