package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// localAuthTest answers auth.test as Slack does: ok for the one token it issued (sent as a
// Bearer token), {"ok":false,"error":"invalid_auth"} for any other.
func localAuthTest(t *testing.T, token string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != "/auth.test" {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "https://acme.slack.com/", "team": "Acme",
			"user": "parley", "team_id": "T0ACME", "user_id": "U0BOT", "bot_id": "B0BOT"})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestSlackSettingsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		const token = "xoxb-1234-5678-abcdefghijklmnop"
		slackSrv, calls := localAuthTest(t, token)
		ts.API.Slack = &slack.Service{Store: s, Inbox: ts.Inbox, BaseURL: "http://parley.test", Client: &slack.Client{BaseURL: slackSrv.URL}}
		admin, agent := ts.admin(t), ts.agent(t)
		in := ts.inbox(t, "Website", []*testUser{agent}, nil)
		path := fmt.Sprintf("/api/v1/inboxes/%d/slack", in.ID)
		secret := "0123456789abcdef0123456789abcdef"

		ts.runScenarios(t, []apiScenario{
			{Name: "empty at first", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`"enabled":false`, `"bot_token_set":false`, `"events_url":"http://parley.test/slack/events"`}},
			{Name: "agents may not read it", Method: "GET", Path: path, Token: agent.Token, Status: 403, Code: "admin_only"},
			{Name: "agents may not change it", Method: "PUT", Path: path, Token: agent.Token, Body: map[string]any{"enabled": true}, Status: 403, Code: "admin_only"},
			{Name: "no such inbox", Method: "GET", Path: "/api/v1/inboxes/999999/slack", Token: admin.Token, Status: 404, Code: "inbox_not_found"},
			{Name: "on needs the pieces", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"enabled": true}, Status: 400, Code: "slack_incomplete"},
			{Name: "a user token is no bot token", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"bot_token": "xoxp-1234-5678-abcdefghijkl"}, Status: 400, Code: "invalid_slack_token"},
			{Name: "a channel name is no channel id", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"channel_id": "#support"}, Status: 400, Code: "invalid_slack_channel"},
			{Name: "a secret is hex", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"signing_secret": "not a secret"}, Status: 400, Code: "invalid_slack_signing_secret"},
			{Name: "unknown fields refused", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"webhook": "x"}, Status: 400, Code: "unknown_field"},
			{Name: "testing without a token", Method: "POST", Path: path + "/test", Token: admin.Token, Status: 409, Code: "slack_not_configured"},
			{Name: "connect", Method: "PUT", Path: path, Token: admin.Token, Status: 200,
				Body:        map[string]any{"enabled": true, "channel_id": "c0123456789", "bot_token": token, "signing_secret": secret},
				Contains:    []string{`"enabled":true`, `"channel_id":"C0123456789"`, `"bot_token_set":true`, `"bot_token_hint":"xoxb-…mnop"`, `"signing_secret_set":true`},
				NotContains: []string{token, secret}},
			{Name: "secrets never come back", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`"signing_secret_set":true`}, NotContains: []string{token, secret}},
			{Name: "empty secrets keep the stored ones", Method: "PUT", Path: path, Token: admin.Token, Status: 200,
				Body:     map[string]any{"bot_token": "", "signing_secret": "", "enabled": true},
				Contains: []string{`"bot_token_set":true`, `"signing_secret_set":true`, `"enabled":true`}},
			{Name: "test connection", Method: "POST", Path: path + "/test", Token: admin.Token, Status: 200,
				Contains: []string{`"ok":true`, `"team_id":"T0ACME"`, `"bot_user_id":"U0BOT"`}},
			{Name: "the test is remembered", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`"team_id":"T0ACME"`, `"bot_user_id":"U0BOT"`}},
			{Name: "a new token is tested again", Method: "PUT", Path: path, Token: admin.Token, Status: 200,
				Body: map[string]any{"bot_token": "xoxb-9999-9999-zzzzzzzzzzzzzzzz"}, Contains: []string{`"team_id":""`, `"bot_token_hint":"xoxb-…zzzz"`}},
			{Name: "a refused token", Method: "POST", Path: path + "/test", Token: admin.Token, Status: 400, Code: "slack_test_failed",
				Contains: []string{"invalid_auth"}},
		})
		if calls.Load() != 2 {
			t.Fatalf("auth.test called %d times", calls.Load())
		}
		c, err := s.SlackSettings(t.Context(), in.ID)
		if err != nil || c.SigningSecret != secret || !strings.HasPrefix(c.BotToken, "xoxb-9999") {
			t.Fatalf("stored %+v %v", c, err)
		}
	})
}
