package api

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/store"
)

// emailFilterRoutes: an inbox's allow and deny lists of senders (SPEC EMAIL-6). Admins only,
// reading included: the lists need account access (spec/inbox-behaviour.md §1.4).
func emailFilterRoutes() []Route {
	// A thousand entries per list of up to 254 characters each, quoted and separated.
	const body = 1 << 20
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/inboxes/{id}/email-filters", Access: Admin, Handle: getEmailFilters},
		{Method: http.MethodPut, Pattern: "/api/v1/inboxes/{id}/email-filters", Access: Admin, MaxBody: body, Handle: putEmailFilters},
	}
}

// emailFiltersJSON is exactly what PUT takes, so lists read can be written back as they are.
type emailFiltersJSON struct {
	Allow []string `json:"allow"`
	Deny  []string `json:"deny"`
}

func toEmailFiltersJSON(f *store.EmailFilters) emailFiltersJSON {
	out := emailFiltersJSON{Allow: f.Allow, Deny: f.Deny}
	if out.Allow == nil {
		out.Allow = []string{}
	}
	if out.Deny == nil {
		out.Deny = []string{}
	}
	return out
}

func getEmailFilters(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.Inbox.EmailFilters(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEmailFiltersJSON(f))
	return nil
}

func putEmailFilters(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Both lists are replaced: an absent one is empty.
	var body emailFiltersJSON
	if err := decode(w, r, &body); err != nil {
		return err
	}
	f, err := s.Inbox.SetEmailFilters(r.Context(), caller(r), id, body.Allow, body.Deny)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEmailFiltersJSON(f))
	return nil
}
