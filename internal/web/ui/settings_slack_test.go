package ui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// An inbox's Slack section (CHAT-13): admins connect the app, secrets never come back, a bad
// field is named next to it, and the connection test asks (a local) Slack.
func TestSlackSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		const token = "xoxb-1234-5678-abcdefghijklmnop"
		const secret = "0123456789abcdef0123456789abcdef"
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path != "/auth.test" || r.Header.Get("Authorization") != "Bearer "+token {
				json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "team": "Acme", "team_id": "T0ACME", "user_id": "U0BOT", "url": "https://acme.slack.com/"})
		}))
		t.Cleanup(local.Close)
		h.UI.Slack = &slack.Service{Store: s, Inbox: h.Inbox, BaseURL: "http://parley.test", Client: &slack.Client{BaseURL: local.URL}}
		admin, agent := h.signIn(t, h.admin), h.signIn(t, h.agent)
		path := "/settings/inboxes/" + itoa(h.support.ID)

		page := admin.get(t, path, 200)
		mustContain(t, page, `id="slack"`, "Mirror live chats to Slack", `name="channel_id"`, `name="bot_token"`, `name="signing_secret"`,
			"http://parley.test/slack/events")
		mustNotContain(t, page, "Test connection") // nothing to test without a token
		if res := agent.do(t, "POST", path+"/slack", url.Values{"enabled": {"on"}}, nil); res.StatusCode != 403 {
			t.Fatalf("an agent changed Slack settings: %d", res.StatusCode)
		}

		// Turning it on without the pieces names what is missing; a bad channel is named too.
		res := admin.settingsPost(t, path+"/slack", url.Values{"enabled": {"on"}, "channel_id": {""}}, 422)
		mustContain(t, res.Body, `id="slack-token-error"`, "Needed to turn the Slack mirror on")
		res = admin.settingsPost(t, path+"/slack", url.Values{"channel_id": {"#support"}}, 422)
		mustContain(t, res.Body, `id="slack-channel-error"`, "not its name", `value="#support"`)

		res = admin.settingsPost(t, path+"/slack", url.Values{"enabled": {"on"}, "channel_id": {"C0123456789"},
			"bot_token": {token}, "signing_secret": {secret}}, 200)
		mustContain(t, res.Body, "Slack settings saved", `value="C0123456789"`, "xoxb-…mnop", "A signing secret is stored.", "Test connection", "checked")
		mustNotContain(t, res.Body, token, secret)
		c, err := s.SlackSettings(t.Context(), h.support.ID)
		if err != nil || !c.Ready() || c.BotToken != token || c.SigningSecret != secret {
			t.Fatalf("stored %+v %v", c, err)
		}

		// Saving again with the secret fields empty keeps them.
		res = admin.settingsPost(t, path+"/slack", url.Values{"enabled": {"on"}, "channel_id": {"C0123456789"}}, 200)
		if c, _ := s.SlackSettings(t.Context(), h.support.ID); c.BotToken != token || c.SigningSecret != secret {
			t.Fatalf("empty fields cleared the secrets: %+v", c)
		}

		res = admin.settingsPost(t, path+"/slack/test", url.Values{}, 200)
		mustContain(t, res.Body, "Slack accepted the token", "Connected to the Slack workspace", "T0ACME")

		// Off: unchecked box.
		admin.settingsPost(t, path+"/slack", url.Values{"channel_id": {"C0123456789"}}, 200)
		if c, _ := s.SlackSettings(t.Context(), h.support.ID); c.Enabled {
			t.Fatal("still on")
		}
		mustContain(t, admin.get(t, "/settings/audit?action=inbox.slack_updated", 200), "Slack settings changed")
	})
}
