package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestUsersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		owner, admin, agent, other := ts.owner(t), ts.admin(t), ts.agent(t), ts.agent(t)
		userPath := func(u *testUser) string { return fmt.Sprintf("/api/v1/users/%d", u.ID) }
		newUser := func(email, role string) map[string]any {
			return map[string]any{"email": email, "name": "New Person", "role": role, "password": testPassword}
		}
		var owner2 userJSON
		ts.doInto(t, "POST", "/api/v1/users", owner.Token, newUser("owner2@example.com", "owner"), http.StatusCreated, &owner2)
		if owner2.Role != "owner" {
			t.Fatalf("owner creating owner: %+v", owner2)
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "anonymous", Method: "GET", Path: "/api/v1/users", Status: 401, Code: "unauthorized"},
			{Name: "agent cannot create", Method: "POST", Path: "/api/v1/users", Token: agent.Token,
				Body: newUser("x@example.com", "agent"), Status: 403, Code: "admin_only"},
			{Name: "admin cannot create owner", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: newUser("x@example.com", "owner"), Status: 403, Code: "owner_only"},
			{Name: "admin creates agent", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body:   map[string]any{"email": "  New.Agent@Example.COM ", "name": "Nina", "password": testPassword, "time_zone": "Europe/Stockholm", "job_title": "Support"},
				Status: 201, Contains: []string{`"email":"new.agent@example.com"`, `"role":"agent"`, `"time_zone":"Europe/Stockholm"`, `"deactivated_at":null`},
				NotContains: []string{"password", "argon2"}},
			{Name: "email taken in other case", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: newUser("NEW.AGENT@example.com", "agent"), Status: 409, Code: "email_taken"},
			{Name: "bad email", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: newUser("nope", "agent"), Status: 400, Code: "invalid_email", Contains: []string{`"fields":{"email"`}},
			{Name: "bad role", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: newUser("r@example.com", "superuser"), Status: 400, Code: "invalid_role"},
			{Name: "weak password", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: map[string]any{"email": "w@example.com", "name": "W", "password": "123"}, Status: 400, Code: "weak_password"},
			{Name: "password_hash is not a field", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: map[string]any{"email": "h@example.com", "name": "H", "password_hash": "x"}, Status: 400, Code: "unknown_field"},
			{Name: "wrong type", Method: "POST", Path: "/api/v1/users", Token: admin.Token,
				Body: map[string]any{"email": 5, "name": "H"}, Status: 400, Code: "invalid_field"},
			{Name: "get user", Method: "GET", Path: userPath(other), Token: agent.Token, Status: 200, Contains: []string{other.Email}},
			{Name: "missing user", Method: "GET", Path: "/api/v1/users/999999", Token: agent.Token, Status: 404, Code: "user_not_found"},
			{Name: "malformed id", Method: "GET", Path: "/api/v1/users/abc", Token: agent.Token, Status: 404, Code: "not_found"},
			{Name: "search", Method: "GET", Path: "/api/v1/users?q=NINA", Token: agent.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					items := listData(t, body)
					if len(items) != 1 || items[0]["email"] != "new.agent@example.com" {
						t.Fatalf("search = %v", items)
					}
				}},
			{Name: "self edit", Method: "PATCH", Path: userPath(agent), Token: agent.Token,
				Body:   map[string]any{"name": "Agnes", "job_title": "Lead", "avatar_url": "https://example.com/a.png", "locale": "sv", "time_zone": "Europe/Oslo"},
				Status: 200, Contains: []string{`"name":"Agnes"`, `"locale":"sv"`, `"avatar_url":"https://example.com/a.png"`}},
			{Name: "agent cannot edit other", Method: "PATCH", Path: userPath(other), Token: agent.Token,
				Body: map[string]any{"name": "X"}, Status: 403, Code: "admin_only"},
			{Name: "agent cannot promote self", Method: "PATCH", Path: userPath(agent), Token: agent.Token,
				Body: map[string]any{"role": "admin"}, Status: 403, Code: "admin_only"},
			{Name: "admin cannot touch owner", Method: "PATCH", Path: userPath(owner), Token: admin.Token,
				Body: map[string]any{"name": "X"}, Status: 403, Code: "owner_only"},
			{Name: "admin cannot make owners", Method: "PATCH", Path: userPath(agent), Token: admin.Token,
				Body: map[string]any{"role": "owner"}, Status: 403, Code: "owner_only"},
			{Name: "admin promotes agent", Method: "PATCH", Path: userPath(other), Token: admin.Token,
				Body: map[string]any{"role": "admin"}, Status: 200, Contains: []string{`"role":"admin"`}},
			{Name: "admin changes email", Method: "PATCH", Path: userPath(agent), Token: admin.Token,
				Body: map[string]any{"email": "Agnes@Example.com"}, Status: 200, Contains: []string{`"email":"agnes@example.com"`}},
			{Name: "password needs current", Method: "PATCH", Path: userPath(agent), Token: agent.Token,
				Body: map[string]any{"password": "a whole new password"}, Status: 400, Code: "invalid_current_password"},
			{Name: "password change", Method: "PATCH", Path: userPath(agent), Token: agent.Token,
				Body: map[string]any{"password": "a whole new password", "current_password": testPassword}, Status: 200},
			{Name: "new password signs in", Method: "POST", Path: "/api/v1/auth/session",
				Body: map[string]any{"email": "agnes@example.com", "password": "a whole new password"}, Status: 200},
			{Name: "bad time zone", Method: "PATCH", Path: userPath(agent), Token: agent.Token,
				Body: map[string]any{"time_zone": "Nowhere/Special"}, Status: 400, Code: "invalid_time_zone"},
			{Name: "owner demotes other owner", Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", owner2.ID), Token: owner.Token,
				Body: map[string]any{"role": "admin"}, Status: 200, Contains: []string{`"role":"admin"`}},
			{Name: "last owner cannot step down", Method: "PATCH", Path: userPath(owner), Token: owner.Token,
				Body: map[string]any{"role": "admin"}, Status: 409, Code: "last_owner"},
			{Name: "last owner cannot be deactivated", Method: "PATCH", Path: userPath(owner), Token: owner.Token,
				Body: map[string]any{"deactivated": true}, Status: 409, Code: "last_owner"},
			{Name: "audit of role changes", Method: "GET", Path: "/api/v1/audit-log?action=user.role_changed", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					items := listData(t, body)
					if len(items) != 2 {
						t.Fatalf("role changes = %v", items)
					}
					data := items[1]["data"].(map[string]any)
					if data["from"] != "agent" || data["to"] != "admin" || items[1]["target_type"] != "user" || items[1]["target_id"] != float64(other.ID) {
						t.Fatalf("entry = %v", items[1])
					}
				}},
		})
	})
}

func TestUsersPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		agent := ts.agent(t)
		for range 4 {
			ts.agent(t)
		}
		var seen []string
		path := "/api/v1/users?limit=2"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			status, body := ts.do(t, "GET", path, agent.Token, nil)
			if status != 200 {
				t.Fatalf("%s: %d %v", path, status, body)
			}
			for _, u := range listData(t, body) {
				seen = append(seen, u["email"].(string))
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/users?limit=2&cursor=" + next
		}
		if len(seen) != 5 || seen[0] != agent.Email {
			t.Fatalf("seen = %v", seen)
		}
		for _, bad := range []string{"?cursor=!!!", "?limit=0", "?limit=500", "?include_deactivated=maybe"} {
			status, body := ts.do(t, "GET", "/api/v1/users"+bad, agent.Token, nil)
			if status != http.StatusBadRequest || !strings.HasPrefix(problemCode(body), "invalid_") {
				t.Errorf("%s: %d %v", bad, status, body)
			}
		}
	})
}

func TestTeamsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, a, b := ts.admin(t), ts.agent(t), ts.agent(t)
		var team struct {
			ID      int64 `json:"id"`
			Members []struct {
				UserID    int64 `json:"user_id"`
				IsPrimary bool  `json:"is_primary"`
			} `json:"members"`
		}
		ts.doInto(t, "POST", "/api/v1/teams", admin.Token, map[string]any{
			"name": "Support", "members": []map[string]any{{"user_id": a.ID, "is_primary": true}, {"user_id": b.ID, "is_primary": false}},
		}, http.StatusCreated, &team)
		if len(team.Members) != 2 || !team.Members[0].IsPrimary || team.Members[1].IsPrimary {
			t.Fatalf("team = %+v", team)
		}
		teamPath := fmt.Sprintf("/api/v1/teams/%d", team.ID)
		ts.runScenarios(t, []apiScenario{
			{Name: "agent cannot create", Method: "POST", Path: "/api/v1/teams", Token: a.Token, Body: map[string]any{"name": "X"}, Status: 403, Code: "admin_only"},
			{Name: "name taken", Method: "POST", Path: "/api/v1/teams", Token: admin.Token, Body: map[string]any{"name": "SUPPORT"}, Status: 409, Code: "team_name_taken"},
			{Name: "name required", Method: "POST", Path: "/api/v1/teams", Token: admin.Token, Body: map[string]any{"name": ""}, Status: 400, Code: "name_required"},
			{Name: "unknown member", Method: "POST", Path: "/api/v1/teams", Token: admin.Token,
				Body: map[string]any{"name": "Sales", "members": []map[string]any{{"user_id": 99999}}}, Status: 400, Code: "unknown_user"},
			{Name: "member without id", Method: "POST", Path: "/api/v1/teams", Token: admin.Token,
				Body: map[string]any{"name": "Sales", "members": []map[string]any{{"is_primary": true}}}, Status: 400, Code: "invalid_member"},
			{Name: "agent lists", Method: "GET", Path: "/api/v1/teams", Token: a.Token, Status: 200, Contains: []string{`"name":"Support"`}},
			{Name: "agent reads", Method: "GET", Path: teamPath, Token: a.Token, Status: 200, Contains: []string{fmt.Sprintf(`{"user_id":%d,"is_primary":false}`, b.ID)}},
			{Name: "agent cannot rename", Method: "PATCH", Path: teamPath, Token: a.Token, Body: map[string]any{"name": "X"}, Status: 403, Code: "admin_only"},
			{Name: "rename", Method: "PATCH", Path: teamPath, Token: admin.Token, Body: map[string]any{"name": "Customer Care"}, Status: 200, Contains: []string{`"name":"Customer Care"`}},
			{Name: "make b primary", Method: "PUT", Path: fmt.Sprintf("%s/members/%d", teamPath, b.ID), Token: admin.Token,
				Body: map[string]any{"is_primary": true}, Status: 200, Contains: []string{fmt.Sprintf(`{"user_id":%d,"is_primary":true}`, b.ID)}},
			{Name: "add admin without body", Method: "PUT", Path: fmt.Sprintf("%s/members/%d", teamPath, admin.ID), Token: admin.Token,
				Status: 200, Contains: []string{fmt.Sprintf(`{"user_id":%d,"is_primary":true}`, admin.ID)}},
			{Name: "add unknown user", Method: "PUT", Path: teamPath + "/members/99999", Token: admin.Token, Status: 404, Code: "user_not_found"},
			{Name: "remove a", Method: "DELETE", Path: fmt.Sprintf("%s/members/%d", teamPath, a.ID), Token: admin.Token, Status: 204},
			{Name: "remove a again", Method: "DELETE", Path: fmt.Sprintf("%s/members/%d", teamPath, a.ID), Token: admin.Token, Status: 404, Code: "member_not_found"},
			{Name: "replace members", Method: "PATCH", Path: teamPath, Token: admin.Token,
				Body: map[string]any{"members": []map[string]any{{"user_id": a.ID}}}, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					ms := body["members"].([]any)
					if len(ms) != 1 || ms[0].(map[string]any)["user_id"] != float64(a.ID) || ms[0].(map[string]any)["is_primary"] != true {
						t.Fatalf("members = %v", ms)
					}
				}},
			{Name: "delete", Method: "DELETE", Path: teamPath, Token: admin.Token, Status: 204},
			{Name: "gone", Method: "GET", Path: teamPath, Token: admin.Token, Status: 404, Code: "team_not_found"},
			{Name: "audit", Method: "GET", Path: "/api/v1/audit-log?target_type=team", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					var actions []string
					for _, e := range listData(t, body) {
						actions = append(actions, e["action"].(string))
					}
					want := "team.deleted team.member_removed team.member_removed team.member_added team.member_removed " +
						"team.member_added team.member_updated team.updated team.created"
					if strings.Join(actions, " ") != want {
						t.Fatalf("actions =\n%s\nwant\n%s", strings.Join(actions, " "), want)
					}
				}},
		})
	})
}

func TestInboxesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, member, direct, outsider := ts.admin(t), ts.agent(t), ts.agent(t), ts.agent(t)
		sales := ts.team(t, "Sales", member)
		general := ts.inbox(t, "General", nil, nil)
		var private inboxJSON
		ts.doInto(t, "POST", "/api/v1/inboxes", admin.Token, map[string]any{
			"name": "Deals", "access": "specific", "user_ids": []int64{direct.ID}, "team_ids": []int64{sales.ID},
		}, http.StatusCreated, &private)
		if private.Access != "specific" || len(private.UserIDs) != 1 || len(private.TeamIDs) != 1 {
			t.Fatalf("created = %+v", private)
		}
		privatePath := fmt.Sprintf("/api/v1/inboxes/%d", private.ID)
		names := func(want string) func(t *testing.T, body map[string]any) {
			return func(t *testing.T, body map[string]any) {
				var got []string
				for _, in := range listData(t, body) {
					got = append(got, in["name"].(string))
				}
				if strings.Join(got, ",") != want {
					t.Fatalf("inboxes = %v, want %s", got, want)
				}
			}
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "admin sees all", Method: "GET", Path: "/api/v1/inboxes", Token: admin.Token, Status: 200, Check: names("General,Deals")},
			{Name: "team member sees it", Method: "GET", Path: "/api/v1/inboxes", Token: member.Token, Status: 200, Check: names("General,Deals")},
			{Name: "direct member sees it", Method: "GET", Path: "/api/v1/inboxes", Token: direct.Token, Status: 200, Check: names("General,Deals")},
			{Name: "outsider does not", Method: "GET", Path: "/api/v1/inboxes", Token: outsider.Token, Status: 200, Check: names("General")},
			{Name: "team member reads", Method: "GET", Path: privatePath, Token: member.Token, Status: 200, Contains: []string{`"name":"Deals"`}},
			{Name: "outsider gets 404", Method: "GET", Path: privatePath, Token: outsider.Token, Status: 404, Code: "inbox_not_found"},
			{Name: "outsider reads open inbox", Method: "GET", Path: fmt.Sprintf("/api/v1/inboxes/%d", general.ID), Token: outsider.Token, Status: 200},
			{Name: "missing inbox", Method: "GET", Path: "/api/v1/inboxes/99999", Token: admin.Token, Status: 404, Code: "inbox_not_found"},
			{Name: "agent cannot create", Method: "POST", Path: "/api/v1/inboxes", Token: member.Token, Body: map[string]any{"name": "X"}, Status: 403, Code: "admin_only"},
			{Name: "agent cannot patch", Method: "PATCH", Path: privatePath, Token: member.Token, Body: map[string]any{"name": "X"}, Status: 403, Code: "admin_only"},
			{Name: "agent cannot delete", Method: "DELETE", Path: privatePath, Token: member.Token, Status: 403, Code: "admin_only"},
			{Name: "bad access", Method: "POST", Path: "/api/v1/inboxes", Token: admin.Token, Body: map[string]any{"name": "X", "access": "friends"}, Status: 400, Code: "invalid_access"},
			{Name: "grants need specific", Method: "POST", Path: "/api/v1/inboxes", Token: admin.Token,
				Body: map[string]any{"name": "X", "access": "everyone", "team_ids": []int64{sales.ID}}, Status: 400, Code: "invalid_access"},
			{Name: "unknown team", Method: "POST", Path: "/api/v1/inboxes", Token: admin.Token,
				Body: map[string]any{"name": "X", "access": "specific", "team_ids": []int64{99999}}, Status: 400, Code: "unknown_team"},
			{Name: "name required", Method: "POST", Path: "/api/v1/inboxes", Token: admin.Token, Body: map[string]any{"access": "everyone"}, Status: 400, Code: "name_required"},
			{Name: "grant outsider", Method: "PATCH", Path: privatePath, Token: admin.Token,
				Body: map[string]any{"user_ids": []int64{direct.ID, outsider.ID}}, Status: 200, Contains: []string{fmt.Sprintf(`"user_ids":[%d,%d]`, direct.ID, outsider.ID)}},
			{Name: "outsider now reads", Method: "GET", Path: privatePath, Token: outsider.Token, Status: 200},
			{Name: "drop the team", Method: "PATCH", Path: privatePath, Token: admin.Token, Body: map[string]any{"team_ids": []int64{}}, Status: 200, Contains: []string{`"team_ids":[]`}},
			{Name: "team member lost it", Method: "GET", Path: privatePath, Token: member.Token, Status: 404, Code: "inbox_not_found"},
			{Name: "delete empty", Method: "DELETE", Path: fmt.Sprintf("/api/v1/inboxes/%d", general.ID), Token: admin.Token, Status: 204},
		})

		// An inbox with a channel cannot be deleted.
		if err := s.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.InsertChannel(context.Background(), &store.Channel{InboxID: private.ID, Kind: "email", Name: "Deals mail"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "not empty", Method: "DELETE", Path: privatePath, Token: admin.Token, Status: 409, Code: "inbox_not_empty"},
			{Name: "audit", Method: "GET", Path: "/api/v1/audit-log?target_type=inbox&limit=2", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					items := listData(t, body)
					if len(items) != 2 || items[0]["action"] != "inbox.deleted" || items[1]["action"] != "inbox.updated" || body["next_cursor"] == nil {
						t.Fatalf("audit page = %v", body)
					}
				}},
		})
	})
}

func TestAuditLogAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		owner, admin, agent := ts.owner(t), ts.admin(t), ts.agent(t)
		// Created through the API so the actor is recorded.
		for i := range 3 {
			status, body := ts.do(t, "POST", "/api/v1/users", admin.Token, map[string]any{"email": fmt.Sprintf("n%d@example.com", i), "name": "N"})
			if status != http.StatusCreated {
				t.Fatalf("create: %d %v", status, body)
			}
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "agent refused", Method: "GET", Path: "/api/v1/audit-log", Token: agent.Token, Status: 403, Code: "admin_only"},
			{Name: "owner reads", Method: "GET", Path: "/api/v1/audit-log", Token: owner.Token, Status: 200},
			{Name: "by actor", Method: "GET", Path: fmt.Sprintf("/api/v1/audit-log?actor_id=%d&action=user.created", admin.ID), Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					items := listData(t, body)
					if len(items) != 3 || items[0]["data"].(map[string]any)["email"] != "n2@example.com" {
						t.Fatalf("entries = %v", items)
					}
					if _, ok := items[0]["created_at"].(string); !ok {
						t.Fatalf("created_at = %v", items[0]["created_at"])
					}
				}},
			{Name: "bad actor", Method: "GET", Path: "/api/v1/audit-log?actor_id=-1", Token: admin.Token, Status: 400, Code: "invalid_actor_id"},
		})
		// Page through everything: system-created users and tokens, then the three API creates.
		var all []float64
		path := "/api/v1/audit-log?limit=4"
		for range 10 {
			status, body := ts.do(t, "GET", path, admin.Token, nil)
			if status != 200 {
				t.Fatalf("%d %v", status, body)
			}
			for _, e := range listData(t, body) {
				all = append(all, e["id"].(float64))
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/audit-log?limit=4&cursor=" + next
		}
		// 3 users + 3 tokens from the harness, 3 API-created users.
		if len(all) != 9 {
			t.Fatalf("entries = %v", all)
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Fatalf("not newest first: %v", all)
			}
		}
	})
}

// Admins may view every inbox; the workspace's own view must agree with the store's visibility SQL.
func TestInboxVisibilityMatchesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s)
		admin, agent := ts.admin(t), ts.agent(t)
		in := ts.inbox(t, "Hidden", []*testUser{admin}, nil)
		ctx := context.Background()
		for _, u := range []*testUser{admin, agent} {
			can, err := s.CanSeeInbox(ctx, u.User, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			status, _ := ts.do(t, "GET", fmt.Sprintf("/api/v1/inboxes/%d", in.ID), u.Token, nil)
			if can != (status == 200) {
				t.Fatalf("%s: store says %v, API says %d", u.Role, can, status)
			}
		}
	})
}
