package ui

// Send transcript (SPEC CHAT-11): the conversation header's more-menu of a chat offers to email
// its transcript, to an address the agent types or, left empty, to the one the visitor left.
// The chat Service queues it as a durable job; the header comes back as it was.

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/channel/chat"
)

func (s *Server) transcriptRoutes() []route {
	return []route{
		{pattern: "POST /conversations/{id}/transcript", handle: s.sendTranscript},
	}
}

// chatConversation is the chat service and the conversation in the path, read first so one
// the agent cannot see is not found, whatever the URL says.
func (s *Server) chatConversation(r *http.Request) (*chat.Service, int64, error) {
	c, err := s.chat()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	if _, err := s.Inbox.Conversation(r.Context(), user(r), id); err != nil {
		return nil, 0, err
	}
	return c, id, nil
}

// sendTranscript queues the transcript.
func (s *Server) sendTranscript(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatConversation(r)
	if err != nil {
		return err
	}
	u := user(r)
	if _, err := c.RequestTranscript(r.Context(), u, id, r.FormValue("to")); err != nil {
		return actionError(err)
	}
	return s.afterAction(w, r, id)
}
