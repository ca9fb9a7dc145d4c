package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

func TestRoutingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, a1, a2, outsider := ts.admin(t), ts.agent(t), ts.agent(t), ts.agent(t)
		team := ts.team(t, "Support", a2)
		support := ts.inbox(t, "Support", []*testUser{a1}, []*workspace.Team{team})
		other := ts.inbox(t, "Other", []*testUser{outsider}, nil)
		var chat, mail, hidden store.Channel
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			chat = store.Channel{InboxID: support.ID, Kind: "custom", Name: "Chat", Authorized: true}
			mail = store.Channel{InboxID: support.ID, Kind: "email", Name: "Mail", Authorized: true}
			hidden = store.Channel{InboxID: other.ID, Kind: "custom", Name: "Hidden", Authorized: true}
			for _, c := range []*store.Channel{&chat, &mail, &hidden} {
				if _, err := tx.InsertChannel(context.Background(), c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rulePath := fmt.Sprintf("/api/v1/channels/%d/routing", chat.ID)
		idList := func(field string, want ...int64) func(t *testing.T, body map[string]any) {
			return func(t *testing.T, body map[string]any) {
				t.Helper()
				var got []int64
				for _, v := range body[field].([]any) {
					got = append(got, int64(v.(float64)))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("%s = %v, want %v", field, got, want)
				}
			}
		}
		channelIDs := func(want ...int64) func(t *testing.T, body map[string]any) {
			return func(t *testing.T, body map[string]any) {
				t.Helper()
				var got []int64
				for _, c := range body["data"].([]any) {
					got = append(got, int64(c.(map[string]any)["id"].(float64)))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("channels %v, want %v", got, want)
				}
			}
		}
		validRule := map[string]any{"enabled": true, "assign_to": "users_and_teams", "user_ids": []int64{a1.ID},
			"team_ids": []int64{team.ID}, "only_available": true, "strategy": "balanced"}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for key, val := range validRule {
				m[key] = val
			}
			m[k] = v
			return m
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "member lists the channels of their inboxes", Method: "GET", Path: "/api/v1/channels", Token: a2.Token,
				Status: 200, Contains: []string{`"kind":"custom"`, `"kind":"email"`, `"inbox_id":` + itoa(support.ID), `"created_at":`, `"status":"active"`},
				NotContains: []string{"Hidden"}, Check: channelIDs(chat.ID, mail.ID)},
			{Name: "admin lists every channel", Method: "GET", Path: "/api/v1/channels", Token: admin.Token,
				Status: 200, Check: channelIDs(chat.ID, mail.ID, hidden.ID)},
			{Name: "filter by inbox", Method: "GET", Path: "/api/v1/channels?inbox_id=" + itoa(other.ID), Token: admin.Token,
				Status: 200, Check: channelIDs(hidden.ID)},
			{Name: "filter by an inbox one may not see", Method: "GET", Path: "/api/v1/channels?inbox_id=" + itoa(other.ID), Token: a1.Token,
				Status: 200, Check: channelIDs()},
			{Name: "bad inbox_id", Method: "GET", Path: "/api/v1/channels?inbox_id=x", Token: a1.Token, Status: 400, Code: "invalid_inbox_id"},

			{Name: "default rule", Method: "GET", Path: rulePath, Token: a1.Token, Status: 200,
				Contains: []string{`{"enabled":false,"assign_to":"users_and_teams","user_ids":[],"team_ids":[],"only_available":true,"strategy":"round_robin"}`}},
			{Name: "outsider cannot see the rule", Method: "GET", Path: rulePath, Token: outsider.Token, Status: 404, Code: "channel_not_found"},
			{Name: "agents cannot set rules", Method: "PUT", Path: rulePath, Token: a1.Token, Body: validRule, Status: 403, Code: "admin_only"},
			{Name: "bad strategy", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("strategy", "random"), Status: 400, Code: "invalid_strategy"},
			{Name: "bad target", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("assign_to", "everyone"), Status: 400, Code: "invalid_assign_to"},
			{Name: "unknown user", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("user_ids", []int64{987654}), Status: 400, Code: "unknown_user"},
			{Name: "unknown team", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("team_ids", []int64{987654}), Status: 400, Code: "unknown_team"},
			{Name: "user outside the inbox", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("user_ids", []int64{outsider.ID}), Status: 400, Code: "user_not_inbox_member"},
			{Name: "unknown field", Method: "PUT", Path: rulePath, Token: admin.Token, Body: with("priority", 1), Status: 400, Code: "unknown_field"},
			{Name: "missing channel", Method: "PUT", Path: "/api/v1/channels/987654/routing", Token: admin.Token, Body: validRule, Status: 404, Code: "channel_not_found"},
			{Name: "set the rule", Method: "PUT", Path: rulePath, Token: admin.Token, Body: validRule, Status: 200,
				Contains: []string{`"enabled":true`, `"strategy":"balanced"`}, Check: idList("user_ids", a1.ID)},
			{Name: "read it back", Method: "GET", Path: rulePath, Token: a2.Token, Status: 200, Check: idList("team_ids", team.ID)},
			{Name: "absent fields take the defaults", Method: "PUT", Path: rulePath, Token: admin.Token, Body: map[string]any{"enabled": true},
				Status: 200, Contains: []string{`{"enabled":true,"assign_to":"users_and_teams","user_ids":[],"team_ids":[],"only_available":true,"strategy":"round_robin"}`}},
		})

		// A rule read is a valid body: GET → PUT round trips.
		var rule map[string]any
		ts.doInto(t, "PUT", rulePath, admin.Token, validRule, 200, &rule)
		ts.doInto(t, "PUT", rulePath, admin.Token, rule, 200, nil)

		// The assignment shows in the timeline with its explanation.
		_, conv, _, err := ts.Inbox.Receive(context.Background(), inbox.Inbound{ChannelID: chat.ID, ThreadKey: "t1",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "ada@example.net"}}, Text: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		if conv.AssigneeID == nil || *conv.AssigneeID != a1.ID {
			t.Fatalf("assignee %v, want a1 (fewest open of a1 and a2)", conv.AssigneeID)
		}
		status, body := ts.do(t, "GET", fmt.Sprintf("/api/v1/conversations/%d/timeline", conv.ID), a1.Token, nil)
		raw, _ := json.Marshal(body)
		if status != 200 || !containsAll(string(raw), `"type":"assigned"`, `"reason":"routing"`, `"strategy":"balanced"`, `"eligible":[`) {
			t.Errorf("timeline %d %s", status, raw)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestAvailabilityAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, a1, a2 := ts.admin(t), ts.agent(t), ts.agent(t)
		avail := func(u *testUser) string { return fmt.Sprintf("/api/v1/users/%d/availability", u.ID) }
		hours := func(u *testUser) string { return fmt.Sprintf("/api/v1/users/%d/working-hours", u.ID) }
		capa := func(u *testUser) string { return fmt.Sprintf("/api/v1/users/%d/capacity", u.ID) }
		setBy := func(u *testUser) func(t *testing.T, body map[string]any) {
			return func(t *testing.T, body map[string]any) {
				if v, _ := body["set_by"].(float64); int64(v) != u.ID {
					t.Errorf("set_by %v, want %d", body["set_by"], u.ID)
				}
			}
		}
		stockholm := map[string]any{"time_zone": "Europe/Stockholm", "days": map[string]any{
			"mon": []map[string]string{{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}}}}
		ts.runScenarios(t, []apiScenario{
			{Name: "everyone starts available", Method: "GET", Path: avail(a1), Token: a2.Token, Status: 200,
				Contains: []string{`"status":"available"`, `"set_by":null`, `"set_at":null`, `"effective_status":"available"`, `"away_reason":null`}},
			{Name: "set oneself away", Method: "PUT", Path: avail(a1), Token: a1.Token, Body: map[string]any{"status": "away"}, Status: 200,
				Contains: []string{`"status":"away"`, `"effective_status":"away"`, `"away_reason":"away"`}, Check: setBy(a1)},
			{Name: "an agent cannot set another", Method: "PUT", Path: avail(a2), Token: a1.Token, Body: map[string]any{"status": "away"},
				Status: 403, Code: "admin_only"},
			{Name: "an admin overrides", Method: "PUT", Path: avail(a2), Token: admin.Token, Body: map[string]any{"status": "away"},
				Status: 200, Check: setBy(admin)},
			{Name: "the user sees who set it", Method: "GET", Path: avail(a2), Token: a2.Token, Status: 200, Check: setBy(admin)},
			{Name: "bad status", Method: "PUT", Path: avail(a1), Token: a1.Token, Body: map[string]any{"status": "busy"}, Status: 400, Code: "invalid_status"},
			{Name: "missing user", Method: "GET", Path: "/api/v1/users/987654/availability", Token: a1.Token, Status: 404, Code: "user_not_found"},
			{Name: "admin on a missing user", Method: "PUT", Path: "/api/v1/users/987654/availability", Token: admin.Token,
				Body: map[string]any{"status": "away"}, Status: 404, Code: "user_not_found"},

			{Name: "no working hours yet", Method: "GET", Path: hours(a1), Token: a2.Token, Status: 200,
				Contains: []string{`"enabled":false`, `"time_zone":"UTC"`, `"mon":[]`, `"sun":[]`}},
			{Name: "set working hours", Method: "PUT", Path: hours(a1), Token: a1.Token, Body: stockholm, Status: 200,
				Contains: []string{`"enabled":true`, `"time_zone":"Europe/Stockholm"`, `"mon":[{"start":"08:00","end":"12:00"},{"start":"13:00","end":"17:00"}]`, `"tue":[]`}},
			{Name: "read them back", Method: "GET", Path: hours(a1), Token: a2.Token, Status: 200, Contains: []string{`"time_zone":"Europe/Stockholm"`}},
			{Name: "agents cannot set another's hours", Method: "PUT", Path: hours(a2), Token: a1.Token, Body: stockholm, Status: 403, Code: "admin_only"},
			{Name: "overlapping hours", Method: "PUT", Path: hours(a1), Token: a1.Token, Body: map[string]any{"days": map[string]any{
				"mon": []map[string]string{{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}}}}, Status: 400, Code: "invalid_working_hours"},
			{Name: "unknown day", Method: "PUT", Path: hours(a1), Token: a1.Token, Body: map[string]any{"days": map[string]any{"funday": []any{}}},
				Status: 400, Code: "invalid_working_hours"},
			{Name: "unknown zone", Method: "PUT", Path: hours(a1), Token: a1.Token, Body: map[string]any{"time_zone": "Nowhere/Town"}, Status: 400, Code: "invalid_time_zone"},
			{Name: "unknown interval field", Method: "PUT", Path: hours(a1), Token: a1.Token, Body: map[string]any{"days": map[string]any{
				"mon": []map[string]string{{"start": "08:00", "end": "12:00", "note": "x"}}}}, Status: 400, Code: "unknown_field"},
			{Name: "turn them off", Method: "PUT", Path: hours(a1), Token: admin.Token, Body: map[string]any{"enabled": false}, Status: 200,
				Contains: []string{`"enabled":false`}},

			{Name: "no limits yet", Method: "GET", Path: capa(a1), Token: a2.Token, Status: 200,
				Contains: []string{`"total":null`, `"messaging":null`, `"email":null`, `"calls":null`, `"open":{"total":0,"messaging":0,"email":0,"calls":0}`}},
			{Name: "agents cannot set capacity", Method: "PUT", Path: capa(a1), Token: a1.Token, Body: map[string]any{"total": 3}, Status: 403, Code: "admin_only"},
			{Name: "set capacity", Method: "PUT", Path: capa(a1), Token: admin.Token, Body: map[string]any{"total": 3, "email": 0}, Status: 200,
				Contains: []string{`"total":3`, `"messaging":null`, `"email":0`, `"calls":null`}},
			{Name: "negative capacity", Method: "PUT", Path: capa(a1), Token: admin.Token, Body: map[string]any{"calls": -1}, Status: 400, Code: "invalid_capacity"},
			{Name: "fractional capacity", Method: "PUT", Path: capa(a1), Token: admin.Token, Body: map[string]any{"calls": 1.5}, Status: 400, Code: "invalid_field"},
			{Name: "read capacity", Method: "GET", Path: capa(a1), Token: a1.Token, Status: 200, Contains: []string{`"total":3`, `"email":0`}},
		})

		// Each change is in the audit log.
		var log struct {
			Data []struct {
				Action string `json:"action"`
			} `json:"data"`
		}
		ts.doInto(t, "GET", "/api/v1/audit-log?target_type=user&target_id="+itoa(a1.ID), admin.Token, nil, http.StatusOK, &log)
		counts := map[string]int{}
		for _, e := range log.Data {
			counts[e.Action]++
		}
		if counts[inbox.ActionAvailabilityChanged] != 1 || counts[inbox.ActionWorkingHoursChanged] != 2 || counts[inbox.ActionCapacityChanged] != 1 {
			t.Errorf("audit actions %v", counts)
		}
	})
}
