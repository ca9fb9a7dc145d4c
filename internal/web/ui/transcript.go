package ui

// Send transcript (SPEC CHAT-11): the conversation header's more-menu of a chat offers to email
// its transcript, to an address the agent types or, left empty, to the one the visitor left.
// The chat Service queues it as a durable job; the header comes back as it was.

import (
	"net/http"
)

func (s *Server) transcriptRoutes() []route {
	return []route{
		{pattern: "POST /conversations/{id}/transcript", handle: s.sendTranscript},
	}
}

// sendTranscript queues the transcript. Reading the conversation first keeps one the agent
// cannot see not found, whatever the URL says.
func (s *Server) sendTranscript(w http.ResponseWriter, r *http.Request) error {
	c, err := s.chat()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u := user(r)
	if _, err := s.Inbox.Conversation(r.Context(), u, id); err != nil {
		return err
	}
	if _, err := c.RequestTranscript(r.Context(), u, id, r.FormValue("to")); err != nil {
		return actionError(err)
	}
	return s.afterAction(w, r, id)
}
