package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) contactRoutes() []route { return nil }

// contactSidebar is the contact beside an open conversation.
type contactSidebar struct{}

func (s *Server) contactSidebar(r *http.Request, c *store.Conversation) (*contactSidebar, error) {
	return &contactSidebar{}, nil
}
