package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// convSender accepts every reply for the conversation API tests' channel kind.
type convSender struct{}

func (convSender) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	return "conv-" + itoa(out.Message.ID), nil
}

// convFixture is a server with a support inbox seen by one agent (not by the outsider), a
// channel on it, and one conversation from Ada.
type convFixture struct {
	ts       *testServer
	admin    *testUser
	member   *testUser
	outsider *testUser
	inbox    *store.Inbox
	other    *store.Inbox
	channel  *store.Channel
	conv     *store.Conversation
}

func newConvFixture(t *testing.T, s *store.Store) *convFixture {
	t.Helper()
	ts := newTestServer(t, s)
	f := &convFixture{ts: ts, admin: ts.admin(t), member: ts.agent(t), outsider: ts.agent(t)}
	ts.Inbox.Senders = map[string]channel.Sender{"convtest": convSender{}}
	f.inbox = ts.inbox(t, "Support", []*testUser{f.member}, nil)
	f.other = ts.inbox(t, "Elsewhere", []*testUser{f.outsider}, nil)
	f.channel = &store.Channel{InboxID: f.inbox.ID, Kind: "convtest", Name: "Test", Authorized: true}
	err := s.InTx(t.Context(), func(tx *store.Tx) error {
		_, err := tx.InsertChannel(t.Context(), f.channel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.conv = f.receive(t, "thread-1", "My parcel never arrived", "Where is my parcel")
	return f
}

func (f *convFixture) receive(t *testing.T, thread, subject, text string) *store.Conversation {
	t.Helper()
	_, c, _, err := f.ts.Inbox.Receive(t.Context(), inbox.Inbound{
		ChannelID: f.channel.ID, ThreadKey: thread, Subject: subject, Text: text,
		ContactName: "Ada", ContactIdentities: []store.Identity{{Kind: "email", Value: "ada@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConversationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newConvFixture(t, s)
		id := itoa(f.conv.ID)
		path := "/api/v1/conversations/" + id
		member, outsider, admin := f.member.Token, f.outsider.Token, f.admin.Token
		snooze := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		f.ts.runScenarios(t, []apiScenario{
			{Name: "list as member", Method: "GET", Path: "/api/v1/conversations", Token: member, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					data := listData(t, body)
					if len(data) != 1 || data[0]["subject"] != "My parcel never arrived" || data[0]["unread"] != true ||
						data[0]["status"] != "open" || data[0]["priority"] != "none" || data[0]["assignee_id"] != nil {
						t.Fatalf("list = %v", data)
					}
					if _, err := time.Parse(time.RFC3339, data[0]["created_at"].(string)); err != nil || !strings.HasSuffix(data[0]["created_at"].(string), "Z") {
						t.Fatalf("created_at = %v", data[0]["created_at"])
					}
					if tags, ok := data[0]["tags"].([]any); !ok || len(tags) != 0 {
						t.Fatalf("tags = %v", data[0]["tags"])
					}
					if body["next_cursor"] != nil {
						t.Fatalf("next_cursor = %v", body["next_cursor"])
					}
				}},
			{Name: "list as outsider", Method: "GET", Path: "/api/v1/conversations", Token: outsider, Status: 200,
				NotContains: []string{"parcel"}, Contains: []string{`"data":[]`}},
			{Name: "search", Method: "GET", Path: "/api/v1/conversations?q=parcel&status=open&inbox_id=" + itoa(f.inbox.ID), Token: member, Status: 200,
				Contains: []string{"My parcel never arrived"}},
			{Name: "search by contact email", Method: "GET", Path: "/api/v1/conversations?q=" + url.QueryEscape("ada@example.com"), Token: member, Status: 200,
				Contains: []string{"My parcel never arrived"}},
			{Name: "hostile search", Method: "GET", Path: "/api/v1/conversations?q=" + url.QueryEscape(`"(NEAR* OR'`), Token: member, Status: 200},
			{Name: "bad status", Method: "GET", Path: "/api/v1/conversations?status=pending", Token: member, Status: 400, Code: "invalid_status"},
			{Name: "bad inbox", Method: "GET", Path: "/api/v1/conversations?inbox_id=x", Token: member, Status: 400, Code: "invalid_inbox_id"},
			{Name: "bad assignee", Method: "GET", Path: "/api/v1/conversations?assignee_id=someone", Token: member, Status: 400, Code: "invalid_assignee_id"},
			{Name: "bad spam", Method: "GET", Path: "/api/v1/conversations?spam=maybe", Token: member, Status: 400, Code: "invalid_spam"},
			{Name: "bad sort", Method: "GET", Path: "/api/v1/conversations?sort=random", Token: member, Status: 400, Code: "invalid_sort"},
			{Name: "bad cursor", Method: "GET", Path: "/api/v1/conversations?cursor=" + encodeCursor("nope"), Token: member, Status: 400, Code: "invalid_cursor"},
			{Name: "bad limit", Method: "GET", Path: "/api/v1/conversations?limit=0", Token: member, Status: 400, Code: "invalid_limit"},

			{Name: "get as member", Method: "GET", Path: path, Token: member, Status: 200, Contains: []string{`"number":1001`}},
			{Name: "get as outsider", Method: "GET", Path: path, Token: outsider, Status: 404, Code: "conversation_not_found"},
			{Name: "get missing", Method: "GET", Path: "/api/v1/conversations/999999", Token: member, Status: 404, Code: "conversation_not_found"},
			{Name: "get malformed id", Method: "GET", Path: "/api/v1/conversations/abc", Token: member, Status: 404},

			{Name: "patch as outsider", Method: "PATCH", Path: path, Token: outsider, Body: map[string]any{"status": "closed"}, Status: 404, Code: "conversation_not_found"},
			{Name: "close", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"status": "closed"}, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if body["status"] != "closed" || body["closed_at"] == nil {
						t.Fatalf("closed = %v", body)
					}
				}},
			{Name: "assign and tag", Method: "PATCH", Path: path, Token: member,
				Body: map[string]any{"assignee_id": f.member.ID, "tags": []string{"vip", "billing"}, "priority": "high", "status": "open"}, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if jsonID(t, body, "assignee_id") != f.member.ID || body["priority"] != "high" || body["status"] != "open" ||
						fmt.Sprint(body["tags"]) != "[billing vip]" {
						t.Fatalf("patched = %v", body)
					}
				}},
			{Name: "absent fields are kept", Method: "PATCH", Path: path, Token: member, Body: map[string]any{}, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if jsonID(t, body, "assignee_id") != f.member.ID || body["priority"] != "high" {
						t.Fatalf("empty patch changed things: %v", body)
					}
				}},
			{Name: "snooze", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"snoozed_until": snooze.Format(time.RFC3339)}, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					got, err := time.Parse(time.RFC3339, fmt.Sprint(body["snoozed_until"]))
					if err != nil || !got.Equal(snooze) {
						t.Fatalf("snoozed_until = %v", body["snoozed_until"])
					}
				}},
			{Name: "null clears", Method: "PATCH", Path: path, Token: member,
				Body: `{"assignee_id": null, "team_id": null, "snoozed_until": null, "tags": null}`, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if body["assignee_id"] != nil || body["snoozed_until"] != nil || fmt.Sprint(body["tags"]) != "[]" ||
						jsonID(t, body, "previous_assignee_id") != f.member.ID {
						t.Fatalf("cleared = %v", body)
					}
				}},
			{Name: "assignee outside the inbox", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"assignee_id": f.outsider.ID},
				Status: 400, Code: "assignee_not_member"},
			{Name: "move to an inbox the member cannot see", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"inbox_id": f.other.ID},
				Status: 400, Code: "inbox_not_found"},
			{Name: "unknown field", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"colour": "red"}, Status: 400, Code: "unknown_field"},
			{Name: "wrong type", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"spam": "yes"}, Status: 400, Code: "invalid_spam"},
			{Name: "null status", Method: "PATCH", Path: path, Token: member, Body: `{"status": null}`, Status: 400, Code: "invalid_status"},
			{Name: "bad time", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"snoozed_until": "tomorrow"}, Status: 400, Code: "invalid_snoozed_until"},
			{Name: "bad priority", Method: "PATCH", Path: path, Token: member, Body: map[string]any{"priority": "asap"}, Status: 400, Code: "invalid_priority"},
			{Name: "not an object", Method: "PATCH", Path: path, Token: member, Body: `[1]`, Status: 400},

			{Name: "reply", Method: "POST", Path: path + "/messages", Token: member, Body: map[string]any{"text": "We are on it", "html": "<p>We are <b>on it</b><script>x</script></p>"},
				Status: 201, NotContains: []string{"script"},
				Check: func(t *testing.T, body map[string]any) {
					if body["status"] != "queued" || body["direction"] != "outbound" || jsonID(t, body, "author_id") != f.member.ID ||
						jsonID(t, body, "conversation_id") != f.conv.ID || body["external_id"] != nil {
						t.Fatalf("reply = %v", body)
					}
				}},
			{Name: "empty reply", Method: "POST", Path: path + "/messages", Token: member, Body: map[string]any{"text": ""}, Status: 400, Code: "empty_message"},
			{Name: "reply as outsider", Method: "POST", Path: path + "/messages", Token: outsider, Body: map[string]any{"text": "hi"}, Status: 404, Code: "conversation_not_found"},
			{Name: "comment", Method: "POST", Path: path + "/comments", Token: member,
				Body: map[string]any{"body": "ask @" + f.admin.Email + " about it"}, Status: 201,
				Check: func(t *testing.T, body map[string]any) {
					m, _ := body["mentions"].(map[string]any)
					if fmt.Sprint(m["user_ids"]) != fmt.Sprintf("[%d]", f.admin.ID) || fmt.Sprint(m["team_ids"]) != "[]" {
						t.Fatalf("comment = %v", body)
					}
				}},
			{Name: "comment as outsider", Method: "POST", Path: path + "/comments", Token: outsider, Body: map[string]any{"body": "hi"}, Status: 404, Code: "conversation_not_found"},
			{Name: "timeline", Method: "GET", Path: path + "/timeline", Token: member, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					var kinds []string
					for _, it := range listData(t, body) {
						kind := it["kind"].(string)
						if obj, ok := it[kind].(map[string]any); !ok {
							t.Fatalf("item %v has no %s object", it, kind)
						} else if kind == "event" {
							kind = obj["type"].(string)
						}
						kinds = append(kinds, kind)
					}
					want := []string{"created", "message", "closed", "assigned", "reopened", "priority_changed", "tags_changed",
						"snoozed", "unassigned", "tags_changed", "unsnoozed", "assigned", "message", "comment"}
					if !slices.Equal(kinds, want) {
						t.Fatalf("timeline = %v\nwant       %v", kinds, want)
					}
				}},
			{Name: "timeline as outsider", Method: "GET", Path: path + "/timeline", Token: outsider, Status: 404, Code: "conversation_not_found"},
			{Name: "mark read", Method: "POST", Path: path + "/read", Token: member, Status: 204},
			{Name: "read as outsider", Method: "POST", Path: path + "/read", Token: outsider, Status: 404, Code: "conversation_not_found"},
			{Name: "now read", Method: "GET", Path: path, Token: member, Status: 200, Contains: []string{`"unread":false`}},
			{Name: "still unread for the admin", Method: "GET", Path: path, Token: admin, Status: 200, Contains: []string{`"unread":true`}},
			{Name: "trash", Method: "PATCH", Path: path, Token: admin, Body: map[string]any{"trashed": true}, Status: 200, Contains: []string{`"trashed":true`}},
			{Name: "trash hidden from the list", Method: "GET", Path: "/api/v1/conversations", Token: member, Status: 200, NotContains: []string{"parcel"}},
			{Name: "trash listed", Method: "GET", Path: "/api/v1/conversations?trashed=true", Token: member, Status: 200, Contains: []string{"parcel"}},
		})
	})
}

func TestConversationsAPIPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newConvFixture(t, s)
		want := []int64{f.conv.ID}
		for i := range 6 {
			want = append(want, f.receive(t, fmt.Sprintf("more-%d", i), "", "text").ID)
		}
		slices.Sort(want)
		for _, sort := range []string{"newest", "oldest"} {
			var got []int64
			next := ""
			for pages := 0; pages < 10; pages++ {
				p := "/api/v1/conversations?limit=2&sort=" + sort
				if next != "" {
					p += "&cursor=" + url.QueryEscape(next)
				}
				status, body := f.ts.do(t, "GET", p, f.member.Token, nil)
				if status != 200 {
					t.Fatalf("%s: %d %v", p, status, body)
				}
				for _, c := range listData(t, body) {
					got = append(got, jsonID(t, c, "id"))
				}
				if body["next_cursor"] == nil {
					break
				}
				next = body["next_cursor"].(string)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %v, want %v", sort, got, want)
			}
		}
	})
}

// FuzzConversationPatch feeds arbitrary bodies to the PATCH decoder: it must never panic, and
// what it accepts must be a consistent patch.
func FuzzConversationPatch(f *testing.F) {
	for _, seed := range []string{`{}`, `{"status":"closed"}`, `{"assignee_id":null}`, `{"assignee_id":12}`,
		`{"team_id":null,"tags":null}`, `{"tags":["a","b"]}`, `{"snoozed_until":"2030-01-01T00:00:00Z"}`,
		`{"snoozed_until":null}`, `{"inbox_id":3,"spam":true,"trashed":false}`, `{"priority":"high"}`,
		`{"assignee_id":1.5}`, `{"tags":"x"}`, `{"x":1}`, `null`, `[]`, `{"status":1}`, `{"a"`, `{} {}`,
		`{"assignee_id":99999999999999999999}`, `{"snoozed_until":"2030-13-01T00:00:00Z"}`, "{\"tags\":[\"\\u0000\"]}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseConversationPatch(bytes.NewReader(body))
		if err != nil {
			return
		}
		if p.Unassign && p.AssigneeID != nil || p.ClearTeam && p.TeamID != nil || p.Unsnooze && p.SnoozedUntil != nil {
			t.Fatalf("contradictory patch from %q: %+v", body, p)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			if !bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
				t.Fatalf("accepted %q, which is not a JSON object: %v", body, err)
			}
			return
		}
		// encoding/json matches field names case-insensitively.
		has := func(name string) bool {
			for k := range raw {
				if strings.EqualFold(k, name) {
					return true
				}
			}
			return false
		}
		if has("status") != (p.Status != nil) || has("tags") != (p.Tags != nil) || has("spam") != (p.Spam != nil) {
			t.Fatalf("field presence lost for %q: %+v", body, p)
		}
	})
}
