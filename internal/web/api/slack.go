package api

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/slack"
)

// slackRoutes: an inbox's Slack mirror of live chats (SPEC CHAT-13). Admins only, reading
// included: the settings name the workspace's channel and hold the app's secrets. Slack's own
// requests (POST /slack/events) are served outside the API, by package slack.
func slackRoutes() []Route {
	const small = 16 << 10
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/inboxes/{id}/slack", Access: Admin, Scope: ScopeInbox, Handle: getSlack},
		{Method: http.MethodPut, Pattern: "/api/v1/inboxes/{id}/slack", Access: Admin, Scope: ScopeInbox, MaxBody: small, Handle: putSlack},
		{Method: http.MethodPost, Pattern: "/api/v1/inboxes/{id}/slack/test", Access: Admin, Scope: ScopeInbox, Handle: testSlack},
	}
}

// slack returns the Slack service; a server built without one (tests, tools) gets one over its
// own store and inbox domain.
func (s *Server) slack() *slack.Service {
	if s.Slack != nil {
		return s.Slack
	}
	return &slack.Service{Store: s.Store, Inbox: s.Inbox, Log: s.Log, BaseURL: s.BaseURL}
}

func getSlack(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.slack().Settings(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func putSlack(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body slack.SettingsInput
	if err := decode(w, r, &body); err != nil {
		return err
	}
	v, err := s.slack().SaveSettings(r.Context(), caller(r), id, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func testSlack(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.slack().TestConnection(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
