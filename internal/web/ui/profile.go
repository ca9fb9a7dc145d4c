package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/inbox"
)

func (s *Server) profileRoutes() []route {
	return []route{
		{pattern: "POST /profile/availability", handle: s.setAvailability},
	}
}

// setAvailability is the header's toggle.
func (s *Server) setAvailability(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	status := r.FormValue("status")
	if status != inbox.StatusAvailable {
		status = inbox.StatusAway
	}
	if _, err := s.Inbox.SetAvailability(r.Context(), u, u.ID, status); err != nil {
		return err
	}
	p := s.page(r, "", "")
	return s.renderBlock(w, http.StatusOK, "error", "availability-form", p)
}
