package api

import (
	"net/http"
)

// transcriptRoutes: a live chat's transcript by email on demand (SPEC CHAT-11).
func transcriptRoutes() []Route {
	return []Route{
		{Method: http.MethodPost, Pattern: "/api/v1/conversations/{id}/transcript", Access: Signed, Scope: ScopeConversation,
			MaxBody: 4 << 10, Handle: sendTranscript},
	}
}

// sendTranscript queues the chat's transcript to "to", or to the visitor's address when the
// body names none: 202 with the address it goes to.
func sendTranscript(s *Server, w http.ResponseWriter, r *http.Request) error {
	c, err := s.chat()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Visibility first: a conversation the caller may not see answers as a missing one.
	if _, err := s.Inbox.Conversation(r.Context(), caller(r), id); err != nil {
		return err
	}
	var body struct {
		To string `json:"to"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &body); err != nil {
			return err
		}
	}
	to, err := c.RequestTranscript(r.Context(), caller(r), id, body.To)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"conversation_id": id, "to": to, "status": "queued"})
	return nil
}
