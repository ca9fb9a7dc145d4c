package ui

// The Slack mirror of live chats (SPEC CHAT-13), on an inbox's own settings page: the Slack
// app's bot token and signing secret (write-only: the form shows only whether they are set and
// the token's last characters), the Slack channel, on or off, the Events API request URL to
// paste into the app, and a connection test. Every change goes through slack.Service, which
// also checks that the user is an admin.

import (
	"context"
	"net/http"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) slackSettingsRoutes() []route {
	return []route{
		{pattern: "POST /settings/inboxes/{id}/slack", admin: true, handle: s.saveInboxSlack},
		{pattern: "POST /settings/inboxes/{id}/slack/test", admin: true, handle: s.testInboxSlack},
	}
}

// errSlackOff answers the Slack actions of a server without the Slack mirror.
var errSlackOff = problem.NotFoundf("slack_unavailable", "the Slack mirror is not configured on this server")

// slackForm is the name of the Slack form in formState.
const slackForm = "slack"

// inboxSlack returns the inbox's Slack settings for its page, or nil on a server without the
// Slack mirror (the page then has no Slack section).
func (s *Server) inboxSlack(ctx context.Context, actor *store.User, inboxID int64) (*slack.View, error) {
	if s.Slack == nil {
		return nil, nil
	}
	return s.Slack.Settings(ctx, actor, inboxID)
}

// slackPost reads a post to an inbox's Slack section: the inbox id in the path and the form.
func (s *Server) slackPost(r *http.Request) (int64, error) {
	id, err := pathInt(r, "id")
	if err != nil {
		return 0, err
	}
	if err := parseForm(r); err != nil {
		return 0, err
	}
	if s.Slack == nil {
		return 0, errSlackOff
	}
	return id, nil
}

func (s *Server) saveInboxSlack(w http.ResponseWriter, r *http.Request) error {
	id, err := s.slackPost(r)
	if err != nil {
		return err
	}
	enabled := r.PostForm.Get("enabled") == "on"
	channel, token, secret := r.PostForm.Get("channel_id"), r.PostForm.Get("bot_token"), r.PostForm.Get("signing_secret")
	_, err = s.Slack.SaveSettings(r.Context(), user(r), id, slack.SettingsInput{Enabled: &enabled, ChannelID: &channel,
		BotToken: &token, SigningSecret: &secret})
	if err != nil {
		return s.settingsInvalid(w, r, err, "inboxes", slackForm, s.inboxSettings)
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes/"+settingsID(id), "slack.flash.saved", s.inboxSettings)
}

func (s *Server) testInboxSlack(w http.ResponseWriter, r *http.Request) error {
	id, err := s.slackPost(r)
	if err != nil {
		return err
	}
	if _, err := s.Slack.TestConnection(r.Context(), user(r), id); err != nil {
		return s.settingsInvalid(w, r, err, "inboxes", slackForm, s.inboxSettings)
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes/"+settingsID(id), "slack.flash.tested", s.inboxSettings)
}
