package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestChatChannelAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, member, outsider := ts.admin(t), ts.agent(t), ts.agent(t)
		sales := ts.inbox(t, "Sales", []*testUser{member}, nil)
		other := ts.inbox(t, "Other", []*testUser{member}, nil)

		var created map[string]any
		ts.doInto(t, "POST", "/api/v1/channels", admin.Token, map[string]any{"kind": "chat", "inbox_id": sales.ID,
			"name": "Website", "allowed_origins": []string{"https://WWW.example.com/"},
			"appearance": map[string]any{"accent_color": "#FF0066", "position": "left"}}, http.StatusCreated, &created)
		chat := created["chat"].(map[string]any)
		publicID, _ := chat["public_id"].(string)
		id := int64(created["id"].(float64))
		snippet, _ := created["embed_snippet"].(string)
		if created["kind"] != "chat" || publicID == "" || strings.Contains(snippet, fmt.Sprint(id)+".js") ||
			snippet != `<script src="http://parley.test/widget/`+publicID+`.js" async></script>` {
			t.Fatalf("created %v", created)
		}
		if fmt.Sprint(chat["allowed_origins"]) != "[https://www.example.com]" || chat["identity_secret"] == "" ||
			fmt.Sprint(chat["appearance"]) != "map[accent_color:#ff0066 position:left]" {
			t.Fatalf("chat settings %v", chat)
		}
		channel := fmt.Sprintf("/api/v1/channels/%d", id)
		flows := channel + "/chatflows"
		flow := func(name string, inboxID int64) map[string]any {
			return map[string]any{"name": name, "inbox_id": inboxID, "enabled": true,
				"targeting": map[string]any{"groups": []any{map[string]any{"rules": []any{
					map[string]any{"field": "page_url", "operator": "starts_with", "value": "/pricing"}}}}}}
		}
		var flowID int64
		ts.runScenarios(t, []apiScenario{
			{Name: "an agent cannot create a chat channel", Method: "POST", Path: "/api/v1/channels", Token: member.Token,
				Body: map[string]any{"kind": "chat", "inbox_id": sales.ID}, Status: 403, Code: "admin_only"},
			{Name: "origins must be origins", Method: "POST", Path: "/api/v1/channels", Token: admin.Token,
				Body:   map[string]any{"kind": "chat", "inbox_id": sales.ID, "allowed_origins": []string{"https://example.com/path"}},
				Status: 400, Code: "invalid_allowed_origin"},
			{Name: "unknown fields are refused", Method: "POST", Path: "/api/v1/channels", Token: admin.Token,
				Body: map[string]any{"kind": "chat", "inbox_id": sales.ID, "address": "x@example.com"}, Status: 400, Code: "unknown_field"},
			{Name: "a member sees the channel without its identity secret", Method: "GET", Path: channel, Token: member.Token,
				Status: 200, Contains: []string{publicID, "embed_snippet"}, NotContains: []string{"identity_secret"}},
			{Name: "an outsider does not see it", Method: "GET", Path: channel, Token: outsider.Token, Status: 404},
			{Name: "patch the origins", Method: "PATCH", Path: channel, Token: admin.Token,
				Body: map[string]any{"allowed_origins": []string{"https://www.example.com", "https://shop.example.com"}}, Status: 200,
				Contains: []string{"https://shop.example.com", "Website"}},
			{Name: "no chatflows yet", Method: "GET", Path: flows, Token: member.Token, Status: 200, Contains: []string{`"data":[]`}},
			{Name: "an agent cannot add one", Method: "POST", Path: flows, Token: member.Token, Body: flow("Pricing", sales.ID),
				Status: 403, Code: "admin_only"},
			{Name: "every problem of a flow is listed", Method: "POST", Path: flows, Token: admin.Token,
				Body:   map[string]any{"inbox_id": sales.ID, "language": "fi", "display": map[string]any{"behaviour": "prompt"}},
				Status: 400, Code: "invalid_chatflow", Contains: []string{`"name"`, `"language"`, `"display.welcome_message"`}},
			{Name: "a flow for another inbox is refused", Method: "POST", Path: flows, Token: admin.Token, Body: flow("Pricing", other.ID),
				Status: 400, Code: "chatflow_inbox_mismatch"},
			{Name: "add a flow", Method: "POST", Path: flows, Token: admin.Token, Body: flow("Pricing", sales.ID), Status: 201,
				Check: func(t *testing.T, body map[string]any) {
					flowID = jsonID(t, body, "id")
					if body["auto_close_minutes"] != float64(30) || body["type"] != "live_chat" {
						t.Fatalf("defaults: %v", body)
					}
				}},
			{Name: "an outsider cannot list them", Method: "GET", Path: flows, Token: outsider.Token, Status: 404},
			{Name: "members list them", Method: "GET", Path: flows, Token: member.Token, Status: 200, Contains: []string{"Pricing", "/pricing"}},
		})
		flowPath := fmt.Sprintf("%s/%d", flows, flowID)
		email := ts.emailChannel(t, admin, sales)
		ts.runScenarios(t, []apiScenario{
			{Name: "replace the flow", Method: "PUT", Path: flowPath, Token: admin.Token, Body: flow("Pricing pages", sales.ID),
				Status: 200, Contains: []string{"Pricing pages", fmt.Sprintf(`"id":%d`, flowID)}},
			{Name: "the body's id must be the path's", Method: "PUT", Path: flowPath, Token: admin.Token,
				Body: map[string]any{"id": flowID + 1, "name": "X", "inbox_id": sales.ID}, Status: 400, Code: "invalid_chatflow"},
			{Name: "no such flow", Method: "PUT", Path: fmt.Sprintf("%s/%d", flows, flowID+100), Token: admin.Token,
				Body: flow("X", sales.ID), Status: 404, Code: "chatflow_not_found"},
			{Name: "an email channel has no chatflows", Method: "GET", Path: fmt.Sprintf("/api/v1/channels/%d/chatflows", email),
				Token: admin.Token, Status: 404, Code: "not_a_chat_channel"},
			{Name: "an agent cannot delete it", Method: "DELETE", Path: flowPath, Token: member.Token, Status: 403},
			{Name: "delete it", Method: "DELETE", Path: flowPath, Token: admin.Token, Status: 204},
			{Name: "gone", Method: "DELETE", Path: flowPath, Token: admin.Token, Status: 404, Code: "chatflow_not_found"},
		})
	})
}

// emailChannel connects an email channel to the inbox and returns its id.
func (ts *testServer) emailChannel(t *testing.T, admin *testUser, in *store.Inbox) int64 {
	t.Helper()
	var created map[string]any
	ts.doInto(t, "POST", "/api/v1/channels", admin.Token, map[string]any{"kind": "email", "inbox_id": in.ID,
		"address": fmt.Sprintf("desk%d@acme.example", in.ID)}, http.StatusCreated, &created)
	return int64(created["id"].(float64))
}
