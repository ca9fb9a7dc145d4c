package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) conversationActionRoutes() []route { return nil }

// conversationHeader is what the conversation's header shows besides the conversation itself.
type conversationHeader struct{}

func (s *Server) conversationHeader(r *http.Request, c *store.Conversation) (*conversationHeader, error) {
	return &conversationHeader{}, nil
}
