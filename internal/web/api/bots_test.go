package api

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestBotsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, member, outsider := ts.admin(t), ts.agent(t), ts.agent(t)
		sales := ts.inbox(t, "Sales", []*testUser{member}, nil)
		greet := func(text string) map[string]any {
			return map[string]any{"steps": []any{
				map[string]any{"id": "hi", "type": "send_message", "send_message": map[string]any{"text": text}, "next": "q"},
				map[string]any{"id": "q", "type": "ask_question", "ask_question": map[string]any{"kind": "email", "prompt": "Email?"}},
			}}
		}
		var botID int64
		ts.runScenarios(t, []apiScenario{
			{Name: "an agent cannot create a bot", Method: "POST", Path: "/api/v1/bots", Token: member.Token,
				Body: map[string]any{"name": "Greeter", "definition": greet("Hi")}, Status: 403, Code: "admin_only"},
			{Name: "every problem of a definition is listed with its step", Method: "POST", Path: "/api/v1/bots", Token: admin.Token,
				Body: map[string]any{"name": "Greeter", "definition": map[string]any{"steps": []any{
					map[string]any{"id": "hi", "type": "send_message", "send_message": map[string]any{"text": ""}, "next": "nowhere"}}}},
				Status: 400, Code: "invalid_bot", Contains: []string{`steps[0]`, "nowhere"}},
			{Name: "a bot needs a name", Method: "POST", Path: "/api/v1/bots", Token: admin.Token,
				Body: map[string]any{"name": " ", "definition": greet("Hi")}, Status: 400, Code: "invalid_bot_name"},
			{Name: "create a bot", Method: "POST", Path: "/api/v1/bots", Token: admin.Token,
				Body: map[string]any{"name": "Greeter", "definition": greet("Hi there")}, Status: 201,
				Contains: []string{`"version":1`, `"webhook_secret"`, `"warnings":[]`},
				Check:    func(t *testing.T, body map[string]any) { botID = jsonID(t, body, "id") }},
		})
		path := fmt.Sprintf("/api/v1/bots/%d", botID)
		ts.runScenarios(t, []apiScenario{
			{Name: "agents read bots without the secret", Method: "GET", Path: "/api/v1/bots", Token: member.Token, Status: 200,
				Contains: []string{"Greeter", "Hi there"}, NotContains: []string{"webhook_secret"}},
			{Name: "saving writes version 2", Method: "PUT", Path: path, Token: admin.Token,
				Body: map[string]any{"definition": greet("Hello"), "base_version": 1}, Status: 200,
				Contains: []string{`"version":2`, "Hello", "Greeter"}},
			{Name: "a save over a newer version is refused", Method: "PUT", Path: path, Token: admin.Token,
				Body: map[string]any{"definition": greet("Hey"), "base_version": 1}, Status: 409, Code: "bot_version_conflict"},
			{Name: "an agent cannot save", Method: "PUT", Path: path, Token: member.Token,
				Body: map[string]any{"name": "Mine"}, Status: 403, Code: "admin_only"},
			{Name: "rename only", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"name": "Front desk"},
				Status: 200, Contains: []string{`"version":2`, "Front desk"}},
			{Name: "version 1 is kept", Method: "GET", Path: path + "/versions/1", Token: member.Token, Status: 200,
				Contains: []string{"Hi there", `"version":1`}},
			{Name: "no version 3", Method: "GET", Path: path + "/versions/3", Token: member.Token, Status: 404, Code: "bot_version_not_found"},
			{Name: "the history", Method: "GET", Path: path + "/versions", Token: member.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					data := body["data"].([]any)
					if len(data) != 2 || data[0].(map[string]any)["version"] != float64(2) {
						t.Fatalf("versions %v", data)
					}
				}},
			{Name: "no such bot", Method: "GET", Path: "/api/v1/bots/987654", Token: member.Token, Status: 404, Code: "bot_not_found"},
		})

		// A chat channel whose flow runs the bot: the bot cannot be deleted.
		var ch map[string]any
		ts.doInto(t, "POST", "/api/v1/channels", admin.Token, map[string]any{"kind": "chat", "inbox_id": sales.ID,
			"allowed_origins": []string{"https://www.example.com"}}, 201, &ch)
		chID := jsonID(t, ch, "id")
		flow := map[string]any{"name": "Bot flow", "type": "bot", "inbox_id": sales.ID, "availability": map[string]any{"mode": "always"},
			"bot": map[string]any{"id": botID, "version": 2}}
		var fl map[string]any
		ts.doInto(t, "POST", fmt.Sprintf("/api/v1/channels/%d/chatflows", chID), admin.Token, flow, 201, &fl)
		ts.runScenarios(t, []apiScenario{
			{Name: "a bot a flow runs cannot be deleted", Method: "DELETE", Path: path, Token: admin.Token, Status: 409, Code: "bot_in_use"},
		})
		ts.doInto(t, "DELETE", fmt.Sprintf("/api/v1/channels/%d/chatflows/%d", chID, jsonID(t, fl, "id")), admin.Token, nil, 204, nil)

		// Taking over: a conversation the bot has.
		_, conv, _, err := ts.Inbox.Receive(context.Background(), inbox.Inbound{ChannelID: chID, ThreadKey: "visitor:1",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "ada@example.net"}}, Text: "Hello", NoRouting: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(context.Background(), func(tx *store.Tx) error {
			return tx.UpsertBotRun(context.Background(), &store.BotRun{ConversationID: conv.ID, BotID: botID, Version: 2,
				State: json.RawMessage(`{"version":2,"step":"q","awaiting":"answer","language":"en"}`), Status: store.BotRunActive})
		}); err != nil {
			t.Fatal(err)
		}
		takeover := fmt.Sprintf("/api/v1/conversations/%d/bot/takeover", conv.ID)
		ts.runScenarios(t, []apiScenario{
			{Name: "an outsider cannot take it over", Method: "POST", Path: takeover, Token: outsider.Token, Status: 404},
			{Name: "a member takes it over", Method: "POST", Path: takeover, Token: member.Token, Status: 200,
				Contains: []string{fmt.Sprintf(`"assignee_id":%d`, member.ID)}},
			{Name: "once", Method: "POST", Path: takeover, Token: member.Token, Status: 409, Code: "no_active_bot"},
			{Name: "then the bot can go", Method: "DELETE", Path: path, Token: admin.Token, Status: 204},
			{Name: "gone", Method: "GET", Path: path, Token: admin.Token, Status: 404, Code: "bot_not_found"},
		})
		run, err := s.BotRun(context.Background(), conv.ID)
		if err == nil {
			t.Fatalf("the deleted bot's run stays: %+v", run)
		}
		evs, _ := s.ConversationEvents(context.Background(), conv.ID)
		found := false
		for _, e := range evs {
			found = found || e.Type == "bot_taken_over" && e.ActorID != nil && *e.ActorID == member.ID
		}
		if !found {
			t.Fatalf("no bot_taken_over event: %+v", evs)
		}
	})
}
