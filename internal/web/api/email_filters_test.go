package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// The Filtered view (EMAIL-8) through the API: ?filtered=true lists it, "filtered" shows in the
// conversation, and PATCH {"filtered": false} moves one to the inbox.
func TestFilteredAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		member, outsider := ts.agent(t), ts.agent(t)
		support := ts.inbox(t, "Support", []*testUser{member}, nil)
		ts.inbox(t, "Other", []*testUser{outsider}, nil)
		ctx := context.Background()
		ch := store.Channel{InboxID: support.ID, Kind: "custom", Name: "Mail", Authorized: true}
		if err := s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertChannel(ctx, &ch); return err }); err != nil {
			t.Fatal(err)
		}
		receive := func(thread, subject string) *store.Conversation {
			t.Helper()
			_, c, _, err := ts.Inbox.Receive(ctx, inbox.Inbound{ChannelID: ch.ID, ThreadKey: thread, Subject: subject,
				ContactIdentities: []store.Identity{{Kind: "email", Value: thread + "@example.net"}}, Text: "Hello"})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		auto, human := receive("auto", "Automatic reply: away"), receive("human", "Question about pricing")
		if _, err := ts.Inbox.Update(ctx, member.User, auto.ID, inbox.Patch{Filtered: new(true)}); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/conversations/%d", auto.ID)
		subjects := func(want ...string) func(t *testing.T, body map[string]any) {
			return func(t *testing.T, body map[string]any) {
				t.Helper()
				var got []string
				for _, c := range listData(t, body) {
					got = append(got, c["subject"].(string))
				}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("subjects %q, want %q", got, want)
				}
			}
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "the inbox leaves filtered conversations out", Method: "GET", Path: "/api/v1/conversations", Token: member.Token,
				Status: 200, Check: subjects(human.Subject)},
			{Name: "filtered=true lists them", Method: "GET", Path: "/api/v1/conversations?filtered=true", Token: member.Token,
				Status: 200, Contains: []string{`"filtered":true`, `"spam":false`}, Check: subjects(auto.Subject)},
			{Name: "not to outsiders", Method: "GET", Path: "/api/v1/conversations?filtered=true", Token: outsider.Token,
				Status: 200, Contains: []string{`"data":[]`}},
			{Name: "spam=true does not", Method: "GET", Path: "/api/v1/conversations?spam=true", Token: member.Token,
				Status: 200, Contains: []string{`"data":[]`}},
			{Name: "bad flag", Method: "GET", Path: "/api/v1/conversations?filtered=perhaps", Token: member.Token,
				Status: 400, Code: "invalid_filtered"},
			{Name: "a conversation says it is filtered", Method: "GET", Path: path, Token: member.Token,
				Status: 200, Contains: []string{`"filtered":true`}},
			{Name: "others are not", Method: "GET", Path: fmt.Sprintf("/api/v1/conversations/%d", human.ID), Token: member.Token,
				Status: 200, Contains: []string{`"filtered":false`}},
			{Name: "wrong type", Method: "PATCH", Path: path, Token: member.Token, Body: map[string]any{"filtered": "no"},
				Status: 400, Code: "invalid_filtered"},
			{Name: "outsiders cannot move it", Method: "PATCH", Path: path, Token: outsider.Token, Body: map[string]any{"filtered": false},
				Status: 404, Code: "conversation_not_found"},
			{Name: "move to the inbox", Method: "PATCH", Path: path, Token: member.Token, Body: map[string]any{"filtered": false},
				Status: 200, Contains: []string{`"filtered":false`, `"spam":false`}},
			{Name: "now in the inbox", Method: "GET", Path: "/api/v1/conversations", Token: member.Token,
				Status: 200, Check: subjects(human.Subject, auto.Subject)},
			{Name: "and Filtered is empty", Method: "GET", Path: "/api/v1/conversations?filtered=true", Token: member.Token,
				Status: 200, Contains: []string{`"data":[]`}},
			{Name: "the timeline says who moved it", Method: "GET", Path: path + "/timeline", Token: member.Token,
				Status: 200, Contains: []string{`"type":"filtered"`, `"type":"unfiltered"`, fmt.Sprintf(`"actor_id":%d`, member.ID)}},
			{Name: "file it again", Method: "PATCH", Path: path, Token: member.Token, Body: map[string]any{"filtered": true},
				Status: 200, Contains: []string{`"filtered":true`}},
			{Name: "spam wins", Method: "PATCH", Path: path, Token: member.Token, Body: map[string]any{"filtered": true, "spam": true},
				Status: 200, Contains: []string{`"filtered":false`, `"spam":true`}},
		})
	})
}

func TestEmailFiltersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, member := ts.admin(t), ts.agent(t)
		support := ts.inbox(t, "Support", []*testUser{member}, nil)
		other := ts.inbox(t, "Other", nil, nil)
		path := fmt.Sprintf("/api/v1/inboxes/%d/email-filters", support.ID)
		var many []string
		for i := range 1001 {
			many = append(many, fmt.Sprintf("s%d@many.example", i))
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "empty lists", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`{"allow":[],"deny":[]}`}},
			{Name: "agents may not read them", Method: "GET", Path: path, Token: member.Token, Status: 403, Code: "admin_only"},
			{Name: "agents may not set them", Method: "PUT", Path: path, Token: member.Token,
				Body: map[string]any{"allow": []string{"a.example"}}, Status: 403, Code: "admin_only"},
			{Name: "unknown inbox", Method: "GET", Path: "/api/v1/inboxes/987654/email-filters", Token: admin.Token,
				Status: 404, Code: "inbox_not_found"},
			{Name: "unknown inbox on PUT", Method: "PUT", Path: "/api/v1/inboxes/987654/email-filters", Token: admin.Token,
				Body: map[string]any{"allow": []string{"a.example"}}, Status: 404, Code: "inbox_not_found"},
			{Name: "set", Method: "PUT", Path: path, Token: admin.Token,
				Body:   map[string]any{"allow": []string{"VIP@Customer.example", "@Partner.example", ""}, "deny": []string{"spam.example"}},
				Status: 200, Contains: []string{`{"allow":["partner.example","vip@customer.example"],"deny":["spam.example"]}`}},
			{Name: "read back", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`{"allow":["partner.example","vip@customer.example"],"deny":["spam.example"]}`}},
			{Name: "each inbox has its own", Method: "GET", Path: fmt.Sprintf("/api/v1/inboxes/%d/email-filters", other.ID), Token: admin.Token,
				Status: 200, Contains: []string{`{"allow":[],"deny":[]}`}},
			{Name: "a bad entry is named", Method: "PUT", Path: path, Token: admin.Token,
				Body:   map[string]any{"allow": []string{"ok.example"}, "deny": []string{"fine.example", "not an address"}},
				Status: 400, Code: "invalid_email_filter", Contains: []string{`"deny[1]"`, `not an address`}},
			{Name: "and nothing changed", Method: "GET", Path: path, Token: admin.Token, Status: 200,
				Contains: []string{`"deny":["spam.example"]`}},
			{Name: "too many", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"deny": many},
				Status: 400, Code: "too_many_email_filters"},
			{Name: "not a list", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"allow": "a.example"},
				Status: 400},
			{Name: "unknown field", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"block": []string{"a.example"}},
				Status: 400, Code: "unknown_field"},
			{Name: "an absent list is emptied", Method: "PUT", Path: path, Token: admin.Token, Body: map[string]any{"deny": []string{"x@y.example"}},
				Status: 200, Contains: []string{`{"allow":[],"deny":["x@y.example"]}`}},
		})
		// What GET returns is a valid PUT body.
		var got map[string]any
		ts.doInto(t, "GET", path, admin.Token, nil, 200, &got)
		ts.doInto(t, "PUT", path, admin.Token, got, 200, nil)
	})
}
