package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

const (
	ccV1 = "/api/v1/custom-channels"
	ccV3 = "/conversations/v3/custom-channels"
)

// ccCaps is a capabilities object for tests.
func ccCaps(model string, types ...string) map[string]any {
	return map[string]any{
		"deliveryIdentifierTypes": types,
		"threadingModel":          model,
		"richText":                []string{"BOLD", "HYPERLINK"},
		"allowOutgoingMessages":   true,
		"allowConversationStart":  false,
	}
}

// ccFixture is a registered custom channel with one account in an open inbox.
type ccFixture struct {
	ts        *testServer
	admin     *testUser
	inbox     *store.Inbox
	channelID string
	accountID string
	secret    string
}

func newCCFixture(t *testing.T, s *store.Store, model string, webhook string, types ...string) *ccFixture {
	t.Helper()
	ts := newTestServer(t, s)
	f := &ccFixture{ts: ts, admin: ts.admin(t), inbox: ts.inbox(t, "Support", nil, nil)}
	f.channelID, f.secret = f.register(t, "Telegram", model, webhook, types...)
	f.accountID = f.account(t, f.channelID, "Acme on Telegram", map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "acme-bot"})
	return f
}

func (f *ccFixture) register(t *testing.T, name, model, webhook string, types ...string) (id, secret string) {
	t.Helper()
	body := map[string]any{"name": name, "capabilities": ccCaps(model, types...)}
	if webhook != "" {
		body["webhookUrl"] = webhook
	}
	var out map[string]any
	f.ts.doInto(t, "POST", ccV1, f.admin.Token, body, http.StatusCreated, &out)
	return out["id"].(string), out["secret"].(string)
}

func (f *ccFixture) account(t *testing.T, channelID, name string, di map[string]any) string {
	t.Helper()
	var out map[string]any
	f.ts.doInto(t, "POST", ccV1+"/"+channelID+"/channel-accounts", f.admin.Token,
		map[string]any{"inboxId": fmt.Sprint(f.inbox.ID), "name": name, "authorized": true, "deliveryIdentifier": di},
		http.StatusCreated, &out)
	return out["id"].(string)
}

func opaque(v string) map[string]any {
	return map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": v}
}

// incoming is a publish body for a customer's message.
func (f *ccFixture) incoming(thread, key, text string, from map[string]any) map[string]any {
	return map[string]any{
		"channelAccountId":         f.accountID,
		"messageDirection":         "INCOMING",
		"integrationThreadId":      thread,
		"integrationIdempotencyId": key,
		"text":                     text,
		"richText":                 "<p>" + text + "</p>",
		"timestamp":                "2024-03-09T16:00:00.000Z",
		"senders":                  []any{map[string]any{"name": "Ada", "deliveryIdentifier": from}},
		"recipients":               []any{map[string]any{"name": "Acme", "deliveryIdentifier": opaque("acme-bot")}},
		"attachments":              []any{},
	}
}

func (f *ccFixture) publish(t *testing.T, prefix string, body any) (int, map[string]any) {
	t.Helper()
	return f.ts.do(t, "POST", prefix+"/"+f.channelID+"/messages", f.admin.Token, body)
}

// conversationCount counts the conversations an admin sees.
func (f *ccFixture) conversationCount(t *testing.T) int {
	t.Helper()
	status, body := f.ts.do(t, "GET", "/api/v1/conversations?limit=200", f.admin.Token, nil)
	if status != 200 {
		t.Fatalf("list conversations: %d %v", status, body)
	}
	return len(listData(t, body))
}

// timelineMessages returns the messages of a conversation's timeline.
func (f *ccFixture) timelineMessages(t *testing.T, conversationID string) []map[string]any {
	t.Helper()
	status, body := f.ts.do(t, "GET", "/api/v1/conversations/"+conversationID+"/timeline", f.admin.Token, nil)
	if status != 200 {
		t.Fatalf("timeline %s: %d %v", conversationID, status, body)
	}
	var out []map[string]any
	for _, it := range listData(t, body) {
		if m, ok := it["message"].(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func TestCustomChannelRegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, agent := ts.admin(t), ts.agent(t)
		caps := ccCaps("INTEGRATION_THREAD_ID", "CHANNEL_SPECIFIC_OPAQUE_ID")
		valid := map[string]any{"name": "Telegram", "capabilities": caps, "webhookUrl": "https://hooks.example.com/tg",
			"channelDescription": "Telegram for business", "channelLogoUrl": "https://example.com/logo.png"}

		rec := ts.send(t, testRequest{Method: "POST", Path: ccV3, Token: admin.Token, Body: valid})
		if rec.Code != http.StatusCreated {
			t.Fatalf("register: %d %s", rec.Code, rec.Body)
		}
		created := decodeObject(t, rec.Body.Bytes())
		id, _ := created["id"].(string)
		secret, _ := created["secret"].(string)
		if id == "" || len(secret) < 32 || created["createdAt"] == nil || rec.Header().Get("Location") != ccV3+"/"+id {
			t.Fatalf("registration response %v, Location %q", created, rec.Header().Get("Location"))
		}
		gotCaps := created["capabilities"].(map[string]any)
		if gotCaps["threadingModel"] != "INTEGRATION_THREAD_ID" || gotCaps["allowOutgoingMessages"] != true {
			t.Fatalf("capabilities %v", gotCaps)
		}

		bigName := strings.Repeat("x", 2<<20)
		ts.runScenarios(t, []apiScenario{
			{Name: "no credentials", Method: "POST", Path: ccV1, Body: valid, Status: 401},
			{Name: "agent may not register", Method: "POST", Path: ccV1, Token: agent.Token, Body: valid, Status: 403, Code: "admin_only"},
			{Name: "objects instead of strings", Method: "POST", Path: ccV1, Token: admin.Token,
				Body:   map[string]any{"name": "X", "capabilities": map[string]any{"deliveryIdentifierTypes": []any{map[string]any{"type": "HS_EMAIL_ADDRESS"}}}},
				Status: 400, Code: "invalid_channel_capability_values", Contains: []string{"capabilities.deliveryIdentifierTypes"}},
			{Name: "unknown enum value", Method: "POST", Path: ccV1, Token: admin.Token,
				Body:   map[string]any{"name": "X", "capabilities": map[string]any{"deliveryIdentifierTypes": []string{"HS_EMAIL_ADDRESS"}, "threadingModel": "MAGIC"}},
				Status: 400, Code: "invalid_channel_capability_values", Contains: []string{"capabilities.threadingModel"}},
			{Name: "missing capabilities", Method: "POST", Path: ccV1, Token: admin.Token, Body: map[string]any{"name": "X"}, Status: 400, Code: "missing_field"},
			{Name: "unknown field", Method: "POST", Path: ccV1, Token: admin.Token,
				Body: map[string]any{"name": "X", "capabilities": caps, "colour": "red"}, Status: 400, Code: "unknown_field"},
			{Name: "malformed JSON", Method: "POST", Path: ccV1, Token: admin.Token, Body: `{"name": "X",`, Status: 400, Code: "invalid_json"},
			{Name: "bad webhook URL", Method: "POST", Path: ccV1, Token: admin.Token,
				Body: map[string]any{"name": "X", "capabilities": caps, "webhookUrl": "ftp://x"}, Status: 400, Code: "invalid_url"},
			{Name: "oversized body", Method: "POST", Path: ccV1, Token: admin.Token,
				Body: map[string]any{"name": bigName, "capabilities": caps}, Status: 413, Code: "body_too_large"},
			{Name: "get under v1", Method: "GET", Path: ccV1 + "/" + id, Token: admin.Token, Status: 200,
				Contains: []string{`"id":"` + id + `"`, `"webhookUrl":"https://hooks.example.com/tg"`}, NotContains: []string{secret, `"secret"`}},
			{Name: "get unknown", Method: "GET", Path: ccV1 + "/999999", Token: admin.Token, Status: 404, Code: "custom_channel_not_found"},
			{Name: "get malformed id", Method: "GET", Path: ccV1 + "/abc", Token: admin.Token, Status: 404, Code: "custom_channel_not_found"},
			{Name: "hapikey of an admin", Method: "GET", Path: ccV3 + "?hapikey=" + admin.Token + "&appId=1", Status: 200,
				Contains: []string{`"results":[`, `"id":"` + id + `"`}, NotContains: []string{secret}},
			{Name: "hapikey unknown", Method: "GET", Path: ccV3 + "?hapikey=pt_nope", Status: 401, Code: "invalid_token"},
			{Name: "hapikey of an agent", Method: "GET", Path: ccV3 + "?hapikey=" + agent.Token, Status: 403, Code: "admin_only"},
			{Name: "hapikey is not accepted elsewhere", Method: "GET", Path: "/api/v1/conversations?hapikey=" + admin.Token, Status: 401},
			{Name: "patch webhook", Method: "PATCH", Path: ccV1 + "/" + id, Token: admin.Token,
				Body: map[string]any{"webhookUrl": "https://hooks.example.com/v2"}, Status: 200,
				Contains: []string{`"webhookUrl":"https://hooks.example.com/v2"`, `"name":"Telegram"`}},
			{Name: "patch bad capabilities", Method: "PATCH", Path: ccV1 + "/" + id, Token: admin.Token,
				Body: map[string]any{"capabilities": map[string]any{"deliveryIdentifierTypes": "HS_EMAIL_ADDRESS"}}, Status: 400, Code: "invalid_channel_capability_values"},
		})

		// Nothing the refused requests sent was stored.
		list, _, err := s.CustomChannels(context.Background(), store.CustomChannelFilter{IncludeArchived: true})
		if err != nil || len(list) != 1 {
			t.Fatalf("custom channels after refused requests: %d %v", len(list), err)
		}
		if list[0].WebhookURL != "https://hooks.example.com/v2" || !strings.Contains(string(list[0].Capabilities), "INTEGRATION_THREAD_ID") {
			t.Fatalf("stored channel %+v", list[0])
		}

		// Rotating gives a new secret, shown once.
		status, rotated := ts.do(t, "POST", ccV1+"/"+id+"/secret/rotate", admin.Token, nil)
		if status != 200 || rotated["secret"] == secret || rotated["secret"] == "" {
			t.Fatalf("rotate: %d %v", status, rotated)
		}

		// Paging with after/limit.
		for i := range 3 {
			body := map[string]any{"name": fmt.Sprint("More ", i), "capabilities": caps}
			ts.doInto(t, "POST", ccV1, admin.Token, body, 201, nil)
		}
		var page1, page2 struct {
			Results []map[string]any `json:"results"`
			Paging  *struct {
				Next struct{ After string } `json:"next"`
			} `json:"paging"`
		}
		ts.doInto(t, "GET", ccV1+"?limit=3", admin.Token, nil, 200, &page1)
		if len(page1.Results) != 3 || page1.Paging == nil {
			t.Fatalf("page 1: %+v", page1)
		}
		ts.doInto(t, "GET", ccV1+"?limit=3&after="+page1.Paging.Next.After, admin.Token, nil, 200, &page2)
		if len(page2.Results) != 1 || page2.Paging != nil || page2.Results[0]["name"] != "More 2" {
			t.Fatalf("page 2: %+v", page2)
		}

		// Archiving: 204, gone from the list, still readable, no changes after.
		ts.runScenarios(t, []apiScenario{
			{Name: "archive", Method: "DELETE", Path: ccV3 + "/" + id, Token: admin.Token, Status: 204},
			{Name: "archive again", Method: "DELETE", Path: ccV3 + "/" + id, Token: admin.Token, Status: 204},
			{Name: "archived shows", Method: "GET", Path: ccV1 + "/" + id, Token: admin.Token, Status: 200, Contains: []string{`"archived":true`}},
			{Name: "list skips archived", Method: "GET", Path: ccV1 + "?limit=200", Token: admin.Token, Status: 200, NotContains: []string{`"id":"` + id + `"`}},
			{Name: "list archived", Method: "GET", Path: ccV1 + "?limit=200&archived=true", Token: admin.Token, Status: 200, Contains: []string{`"id":"` + id + `"`}},
			{Name: "no change when archived", Method: "PATCH", Path: ccV1 + "/" + id, Token: admin.Token, Body: map[string]any{"name": "Y"}, Status: 409, Code: "channel_archived"},
		})
	})
}

func TestCustomChannelPublish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newCCFixture(t, s, "INTEGRATION_THREAD_ID", "", "CHANNEL_SPECIFIC_OPAQUE_ID", "HS_EMAIL_ADDRESS")
		ts, admin := f.ts, f.admin
		agent := ts.agent(t)
		ada := opaque("tg-chat:987")

		// Accounts: created in the inbox, listed with filters.
		ts.runScenarios(t, []apiScenario{
			{Name: "account in unknown inbox", Method: "POST", Path: ccV1 + "/" + f.channelID + "/channel-accounts", Token: admin.Token,
				Body: map[string]any{"inboxId": "999999", "name": "X", "deliveryIdentifier": opaque("x")}, Status: 400, Code: "inbox_not_found"},
			{Name: "account with undeclared identifier", Method: "POST", Path: ccV1 + "/" + f.channelID + "/channel-accounts", Token: admin.Token,
				Body:   map[string]any{"inboxId": fmt.Sprint(f.inbox.ID), "name": "X", "deliveryIdentifier": map[string]any{"type": "HS_PHONE_NUMBER", "value": "+14155550123"}},
				Status: 400, Code: "invalid_delivery_identifier_type"},
			{Name: "account by agent", Method: "POST", Path: ccV1 + "/" + f.channelID + "/channel-accounts", Token: agent.Token,
				Body: map[string]any{"inboxId": fmt.Sprint(f.inbox.ID), "name": "X"}, Status: 403},
			{Name: "list accounts by identifier", Method: "GET", Path: ccV3 + "/" + f.channelID + "/channel-accounts?deliveryIdentifierType=CHANNEL_SPECIFIC_OPAQUE_ID&deliveryIdentifierValue=acme-bot",
				Token: admin.Token, Status: 200, Contains: []string{`"id":"` + f.accountID + `"`, `"inboxId":"` + fmt.Sprint(f.inbox.ID) + `"`, `"authorized":true`, `"active":true`}},
			{Name: "list accounts other identifier", Method: "GET", Path: ccV1 + "/" + f.channelID + "/channel-accounts?deliveryIdentifierValue=nobody",
				Token: admin.Token, Status: 200, NotContains: []string{`"id":"` + f.accountID + `"`}},
			{Name: "get account", Method: "GET", Path: ccV1 + "/" + f.channelID + "/channel-accounts/" + f.accountID, Token: admin.Token, Status: 200,
				Contains: []string{`"channelId":"` + f.channelID + `"`, `"deliveryIdentifier":{"type":"CHANNEL_SPECIFIC_OPAQUE_ID","value":"acme-bot"}`}},
		})

		// A first INCOMING publish opens a conversation with a new contact.
		status, m1 := f.publish(t, ccV3, f.incoming("chat-987", "tg:1", "Hi, I need pricing help", ada))
		if status != http.StatusCreated {
			t.Fatalf("publish: %d %v", status, m1)
		}
		if m1["direction"] != "INCOMING" || m1["channelId"] != f.channelID || m1["channelAccountId"] != f.accountID ||
			m1["text"] != "Hi, I need pricing help" || m1["status"].(map[string]any)["statusType"] != "RECEIVED" || m1["type"] != "MESSAGE" {
			t.Fatalf("message object %v", m1)
		}
		conv := m1["conversationsThreadId"].(string)
		status, c := ts.do(t, "GET", "/api/v1/conversations/"+conv, admin.Token, nil)
		if status != 200 || c["inbox_id"] != float64(f.inbox.ID) || c["contact_id"] == nil {
			t.Fatalf("conversation: %d %v", status, c)
		}
		if n := f.conversationCount(t); n != 1 {
			t.Fatalf("%d conversations, want 1", n)
		}
		contactID := jsonID(t, c, "contact_id")
		contact, err := s.Contact(context.Background(), contactID)
		if err != nil || contact.Name != "Ada" || len(contact.Identities) != 1 ||
			contact.Identities[0] != (store.Identity{Kind: "custom:" + f.channelID, Value: "tg-chat:987"}) {
			t.Fatalf("contact %+v %v", contact, err)
		}

		// Same thread id → same conversation; another thread → a new one.
		status, m2 := f.publish(t, ccV1, f.incoming("chat-987", "tg:2", "Anyone there?", ada))
		if status != 201 || m2["conversationsThreadId"] != conv || m2["id"] == m1["id"] {
			t.Fatalf("second publish: %d %v", status, m2)
		}
		status, m3 := f.publish(t, ccV1, f.incoming("chat-555", "tg:3", "Other topic", ada))
		if status != 201 || m3["conversationsThreadId"] == conv {
			t.Fatalf("other thread: %d %v", status, m3)
		}

		// A replay of an idempotency id gives 200 and the same message, and stores nothing.
		status, again := f.publish(t, ccV1, f.incoming("chat-987", "tg:1", "Hi, I need pricing help", ada))
		if status != http.StatusOK || again["id"] != m1["id"] {
			t.Fatalf("replay: %d %v", status, again)
		}
		if n := len(f.timelineMessages(t, conv)); n != 2 {
			t.Fatalf("%d messages after replay, want 2", n)
		}

		// Concurrent replays of a new key: exactly one 201, the rest 200 with the same id.
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		ids := map[string]bool{}
		for range 8 {
			wg.Go(func() {
				rec := ts.send(t, testRequest{Method: "POST", Path: ccV1 + "/" + f.channelID + "/messages", Token: admin.Token,
					Body: f.incoming("chat-987", "tg:race", "Racing", ada)})
				body := decodeObject(t, rec.Body.Bytes())
				mu.Lock()
				defer mu.Unlock()
				statuses[rec.Code]++
				if id, ok := body["id"].(string); ok {
					ids[id] = true
				}
			})
		}
		wg.Wait()
		if statuses[201] != 1 || statuses[200] != 7 || len(ids) != 1 {
			t.Fatalf("concurrent replays: statuses %v ids %v", statuses, ids)
		}
		if n := len(f.timelineMessages(t, conv)); n != 3 {
			t.Fatalf("%d messages after racing replays, want 3", n)
		}

		// OUTGOING mirrors a business message into the same thread; the contact comes from recipients.
		out := f.incoming("chat-987", "tg:out1", "Sure, which plan?", ada)
		out["messageDirection"] = "OUTGOING"
		out["senders"], out["recipients"] = out["recipients"], out["senders"]
		status, mo := f.publish(t, ccV1, out)
		if status != 201 || mo["direction"] != "OUTGOING" || mo["conversationsThreadId"] != conv ||
			mo["status"].(map[string]any)["statusType"] != "SENT" {
			t.Fatalf("mirrored outgoing: %d %v", status, mo)
		}
		msgs := f.timelineMessages(t, conv)
		if last := msgs[len(msgs)-1]; last["direction"] != "outbound" || last["author_id"] != nil {
			t.Fatalf("mirrored message on the timeline: %v", last)
		}

		// GET a message; a message is only visible through its own channel.
		other, _ := f.register(t, "Other", "INTEGRATION_THREAD_ID", "", "CHANNEL_SPECIFIC_OPAQUE_ID")
		otherAccount := f.account(t, other, "Other account", opaque("other-bot"))
		ts.runScenarios(t, []apiScenario{
			{Name: "get message", Method: "GET", Path: ccV1 + "/" + f.channelID + "/messages/" + m1["id"].(string), Token: admin.Token, Status: 200,
				Contains: []string{`"text":"Hi, I need pricing help"`, `"deliveryIdentifier":{"type":"CHANNEL_SPECIFIC_OPAQUE_ID","value":"tg-chat:987"}`}},
			{Name: "message through another channel", Method: "GET", Path: ccV1 + "/" + other + "/messages/" + m1["id"].(string), Token: admin.Token,
				Status: 404, Code: "message_not_found"},
		})

		// Refused publishes change nothing.
		before := f.conversationCount(t)
		beforeMsgs := len(f.timelineMessages(t, conv))
		foreign := f.incoming("chat-new", "tg:bad1", "x", ada)
		foreign["channelAccountId"] = otherAccount
		undeclared := f.incoming("chat-new", "tg:bad2", "x", map[string]any{"type": "HS_PHONE_NUMBER", "value": "+14155550123"})
		badEmail := f.incoming("chat-new", "tg:bad3", "x", map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "not-an-email"})
		wrongDirection := f.incoming("chat-new", "tg:bad4", "x", ada)
		wrongDirection["messageDirection"] = "SIDEWAYS"
		noThread := f.incoming("", "tg:bad5", "x", ada)
		delete(noThread, "integrationThreadId")
		unknownField := f.incoming("chat-new", "tg:bad6", "x", ada)
		unknownField["priority"] = "high"
		objectSender := f.incoming("chat-new", "tg:bad7", "x", ada)
		objectSender["senders"] = map[string]any{"name": "Ada"}
		huge := f.incoming("chat-new", "tg:bad8", strings.Repeat("x", 1<<20+1), ada)
		badTimestamp := f.incoming("chat-new", "tg:bad9", "x", ada)
		badTimestamp["timestamp"] = "09/03/2024"
		unknownContact := f.incoming("chat-new", "tg:bad10", "x", ada)
		unknownContact["associateWithContactId"] = 999999
		badReplyTo := f.incoming("chat-new", "tg:bad11", "x", ada)
		badReplyTo["inReplyToId"] = "999999"
		pubPath := ccV1 + "/" + f.channelID + "/messages"
		ts.runScenarios(t, []apiScenario{
			{Name: "foreign account", Method: "POST", Path: pubPath, Token: admin.Token, Body: foreign, Status: 404, Code: "channel_account_not_found"},
			{Name: "unknown account", Method: "POST", Path: pubPath, Token: admin.Token,
				Body: func() map[string]any {
					b := f.incoming("chat-new", "tg:b", "x", ada)
					b["channelAccountId"] = "999999"
					return b
				}(), Status: 404, Code: "channel_account_not_found"},
			{Name: "undeclared identifier type", Method: "POST", Path: pubPath, Token: admin.Token, Body: undeclared, Status: 400, Code: "invalid_delivery_identifier_type"},
			{Name: "bad email", Method: "POST", Path: pubPath, Token: admin.Token, Body: badEmail, Status: 400, Code: "invalid_delivery_identifier"},
			{Name: "wrong direction", Method: "POST", Path: pubPath, Token: admin.Token, Body: wrongDirection, Status: 400, Code: "invalid_message_direction"},
			{Name: "missing thread id", Method: "POST", Path: pubPath, Token: admin.Token, Body: noThread, Status: 400, Code: "missing_field", Contains: []string{"integrationThreadId"}},
			{Name: "unknown field", Method: "POST", Path: pubPath, Token: admin.Token, Body: unknownField, Status: 400, Code: "unknown_field"},
			{Name: "object for array", Method: "POST", Path: pubPath, Token: admin.Token, Body: objectSender, Status: 400, Code: "invalid_field"},
			{Name: "malformed JSON", Method: "POST", Path: pubPath, Token: admin.Token, Body: `{"channelAccountId": "1"`, Status: 400, Code: "invalid_json"},
			{Name: "oversized", Method: "POST", Path: pubPath, Token: admin.Token, Body: huge, Status: 413, Code: "body_too_large"},
			{Name: "bad timestamp", Method: "POST", Path: pubPath, Token: admin.Token, Body: badTimestamp, Status: 400, Code: "invalid_timestamp"},
			{Name: "unknown contact", Method: "POST", Path: pubPath, Token: admin.Token, Body: unknownContact, Status: 400, Code: "contact_not_found"},
			{Name: "unknown reply target", Method: "POST", Path: pubPath, Token: admin.Token, Body: badReplyTo, Status: 400, Code: "invalid_in_reply_to"},
			{Name: "agent may not publish", Method: "POST", Path: pubPath, Token: agent.Token, Body: f.incoming("chat-new", "tg:b", "x", ada), Status: 403},
			{Name: "unknown channel", Method: "POST", Path: ccV1 + "/999999/messages", Token: admin.Token, Body: f.incoming("chat-new", "tg:b", "x", ada), Status: 404, Code: "custom_channel_not_found"},
		})
		if n := f.conversationCount(t); n != before {
			t.Fatalf("refused publishes opened conversations: %d → %d", before, n)
		}
		if n := len(f.timelineMessages(t, conv)); n != beforeMsgs {
			t.Fatalf("refused publishes stored messages: %d → %d", beforeMsgs, n)
		}

		// A deauthorized account refuses messages until authorized again.
		acct := ccV1 + "/" + f.channelID + "/channel-accounts/" + f.accountID
		ts.runScenarios(t, []apiScenario{
			{Name: "deauthorize", Method: "PATCH", Path: acct, Token: admin.Token, Body: map[string]any{"authorized": false}, Status: 200, Contains: []string{`"authorized":false`, `"active":false`}},
			{Name: "publish to deauthorized", Method: "POST", Path: pubPath, Token: admin.Token, Body: f.incoming("chat-987", "tg:deauth", "x", ada), Status: 409, Code: "channel_account_not_authorized"},
			{Name: "inbox is fixed", Method: "PATCH", Path: acct, Token: admin.Token, Body: map[string]any{"inboxId": "1"}, Status: 400, Code: "unknown_field"},
			{Name: "reauthorize and rename", Method: "PATCH", Path: acct, Token: admin.Token, Body: map[string]any{"authorized": true, "name": "Acme bot"}, Status: 200, Contains: []string{`"name":"Acme bot"`, `"active":true`}},
			{Name: "publish again", Method: "POST", Path: pubPath, Token: admin.Token, Body: f.incoming("chat-987", "tg:reauth", "back", ada), Status: 201},
		})

		// associateWithContactId files the message under an existing contact.
		assoc := f.incoming("chat-assoc", "tg:assoc", "Me again", opaque("tg-chat:new-device"))
		assoc["associateWithContactId"] = contactID
		status, ma := f.publish(t, ccV1, assoc)
		if status != 201 {
			t.Fatalf("associate: %d %v", status, ma)
		}
		status, ca := ts.do(t, "GET", "/api/v1/conversations/"+ma["conversationsThreadId"].(string), admin.Token, nil)
		if status != 200 || jsonID(t, ca, "contact_id") != contactID {
			t.Fatalf("associated conversation: %v", ca)
		}
	})
}

func TestCustomChannelDeliveryIdentifierThreading(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newCCFixture(t, s, "DELIVERY_IDENTIFIER", "", "HS_PHONE_NUMBER", "CHANNEL_SPECIFIC_OPAQUE_ID")
		phone := func(v string) map[string]any { return map[string]any{"type": "HS_PHONE_NUMBER", "value": v} }

		in := f.incoming("", "sms:1", "Hello", phone("+1 415 555 0123"))
		delete(in, "integrationThreadId")
		status, m1 := f.publish(t, ccV1, in)
		if status != 201 {
			t.Fatalf("publish: %d %v", status, m1)
		}
		// The business answers from its own phone outside Parley: same participants, same thread.
		out := f.incoming("", "sms:2", "Hi!", opaque("acme-bot"))
		delete(out, "integrationThreadId")
		out["messageDirection"] = "OUTGOING"
		out["recipients"] = []any{map[string]any{"name": "Ada", "deliveryIdentifier": phone("+14155550123")}}
		status, m2 := f.publish(t, ccV1, out)
		if status != 201 || m2["conversationsThreadId"] != m1["conversationsThreadId"] {
			t.Fatalf("outgoing in the same participants' thread: %d %v vs %v", status, m2, m1["conversationsThreadId"])
		}
		// Someone else is another conversation.
		other := f.incoming("", "sms:3", "Hello", phone("+14155550999"))
		delete(other, "integrationThreadId")
		status, m3 := f.publish(t, ccV1, other)
		if status != 201 || m3["conversationsThreadId"] == m1["conversationsThreadId"] {
			t.Fatalf("other participant: %d %v", status, m3)
		}
		// The phone number became the contact's identity, shared with other channels.
		_, c := f.ts.do(t, "GET", "/api/v1/conversations/"+m1["conversationsThreadId"].(string), f.admin.Token, nil)
		contact, err := s.Contact(context.Background(), jsonID(t, c, "contact_id"))
		if err != nil || len(contact.Identities) != 1 || contact.Identities[0] != (store.Identity{Kind: "phone", Value: "+14155550123"}) {
			t.Fatalf("contact %+v %v", contact, err)
		}
	})
}

func TestCustomChannelMessageStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newCCFixture(t, s, "INTEGRATION_THREAD_ID", "", "CHANNEL_SPECIFIC_OPAQUE_ID")
		ts, admin := f.ts, f.admin
		ada := opaque("tg-chat:1")
		_, in := f.publish(t, ccV1, f.incoming("t1", "k1", "Hi", ada))
		out := f.incoming("t1", "k2", "Hello from the business", ada)
		out["messageDirection"] = "OUTGOING"
		out["senders"], out["recipients"] = out["recipients"], out["senders"]
		status, mo := f.publish(t, ccV1, out)
		if status != 201 {
			t.Fatalf("publish outgoing: %d %v", status, mo)
		}
		conv := mo["conversationsThreadId"].(string)
		path := ccV3 + "/" + f.channelID + "/messages/" + mo["id"].(string)
		other, _ := f.register(t, "Other", "INTEGRATION_THREAD_ID", "", "CHANNEL_SPECIFIC_OPAQUE_ID")

		statusOf := func() (string, string) {
			for _, m := range f.timelineMessages(t, conv) {
				if fmt.Sprint(int64(m["id"].(float64))) == mo["id"] {
					return m["status"].(string), m["failure_reason"].(string)
				}
			}
			t.Fatalf("message %v not on the timeline", mo["id"])
			return "", ""
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "read", Method: "PATCH", Path: path, Token: admin.Token, Body: map[string]any{"statusType": "READ"}, Status: 200,
				Contains: []string{`"statusType":"READ"`}},
		})
		if st, _ := statusOf(); st != "read" {
			t.Fatalf("status %s, want read", st)
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "failed", Method: "PATCH", Path: path, Token: admin.Token, Body: map[string]any{"statusType": "FAILED", "errorMessage": "blocked by recipient"},
				Status: 200, Contains: []string{`"statusType":"FAILED"`, `"errorMessage":"blocked by recipient"`}},
			{Name: "unknown status", Method: "PATCH", Path: path, Token: admin.Token, Body: map[string]any{"statusType": "DELIVERED_BY_OWL"}, Status: 400, Code: "invalid_status_type"},
			{Name: "unknown field", Method: "PATCH", Path: path, Token: admin.Token, Body: map[string]any{"statusType": "READ", "when": 1}, Status: 400, Code: "unknown_field"},
			{Name: "incoming has no delivery status", Method: "PATCH", Path: ccV1 + "/" + f.channelID + "/messages/" + in["id"].(string), Token: admin.Token,
				Body: map[string]any{"statusType": "READ"}, Status: 409, Code: "not_outgoing_message"},
			{Name: "through another channel", Method: "PATCH", Path: ccV1 + "/" + other + "/messages/" + mo["id"].(string), Token: admin.Token,
				Body: map[string]any{"statusType": "READ"}, Status: 404, Code: "message_not_found"},
			{Name: "unknown message", Method: "PATCH", Path: ccV1 + "/" + f.channelID + "/messages/999999", Token: admin.Token,
				Body: map[string]any{"statusType": "READ"}, Status: 404, Code: "message_not_found"},
		})
		if st, reason := statusOf(); st != "failed" || reason != "blocked by recipient" {
			t.Fatalf("status %s (%q), want failed with the reason", st, reason)
		}
	})
}
