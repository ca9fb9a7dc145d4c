package workspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

func init() {
	// Real argon2id parameters cost ~45 ms a hash; tests hash hundreds of times.
	auth.PasswordParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

const pw = "correct horse battery"

func newService(s *store.Store) *workspace.Service {
	return &workspace.Service{Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// wantCode fails unless err is a problem with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Code != code {
		t.Fatalf("err = %v, want problem %s", err, code)
	}
}

func mustUser(t *testing.T, ws *workspace.Service, actor *store.User, email, role string) *store.User {
	t.Helper()
	u, err := ws.CreateUser(context.Background(), actor, workspace.NewUser{Email: email, Name: "User " + email, Role: role, Password: pw})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func auditActions(t *testing.T, s *store.Store, f store.AuditFilter) []string {
	t.Helper()
	entries, _, err := s.AuditLog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func TestCreateUserRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		owner := mustUser(t, ws, nil, "Owner@Example.com", "owner")
		if owner.Email != "owner@example.com" || owner.Locale != "en" || owner.TimeZone != "UTC" {
			t.Fatalf("stored user = %+v", owner)
		}
		admin := mustUser(t, ws, owner, "admin@example.com", "admin")
		agent := mustUser(t, ws, admin, "agent@example.com", "")
		if agent.Role != "agent" {
			t.Fatalf("default role = %q", agent.Role)
		}

		cases := []struct {
			name  string
			actor *store.User
			in    workspace.NewUser
			code  string
		}{
			{"agent cannot create", agent, workspace.NewUser{Email: "x@example.com", Name: "X"}, "admin_only"},
			{"admin cannot create owner", admin, workspace.NewUser{Email: "x@example.com", Name: "X", Role: "owner"}, "owner_only"},
			{"email taken, other case", admin, workspace.NewUser{Email: "AGENT@example.com", Name: "X"}, "email_taken"},
			{"bad email", admin, workspace.NewUser{Email: "not an email", Name: "X"}, "invalid_email"},
			{"display name email", admin, workspace.NewUser{Email: "Ann <ann@example.com>", Name: "X"}, "invalid_email"},
			{"no name", admin, workspace.NewUser{Email: "x@example.com", Name: "  "}, "name_required"},
			{"bad role", admin, workspace.NewUser{Email: "x@example.com", Name: "X", Role: "root"}, "invalid_role"},
			{"weak password", admin, workspace.NewUser{Email: "x@example.com", Name: "X", Password: "short"}, "weak_password"},
			{"bad zone", admin, workspace.NewUser{Email: "x@example.com", Name: "X", TimeZone: "Mars/Base"}, "invalid_time_zone"},
			{"bad locale", admin, workspace.NewUser{Email: "x@example.com", Name: "X", Locale: "english please"}, "invalid_locale"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ws.CreateUser(ctx, tc.actor, tc.in)
				wantCode(t, err, tc.code)
			})
		}
		if _, err := ws.CreateUser(ctx, owner, workspace.NewUser{Email: "o2@example.com", Name: "O2", Role: "owner", TimeZone: "Europe/Stockholm"}); err != nil {
			t.Fatalf("owner creating owner: %v", err)
		}
		if got := auditActions(t, s, store.AuditFilter{Action: "user.created"}); len(got) != 4 {
			t.Fatalf("user.created entries = %v, want 4", got)
		}
		entries, _, _ := s.AuditLog(ctx, store.AuditFilter{Action: "user.created", ActorID: admin.ID})
		if len(entries) != 1 || *entries[0].TargetID != agent.ID {
			t.Fatalf("entries by admin = %+v", entries)
		}
		var data map[string]any
		if err := json.Unmarshal(entries[0].Data, &data); err != nil || data["email"] != "agent@example.com" {
			t.Fatalf("audit data = %s (%v)", entries[0].Data, err)
		}
	})
}

func TestUpdateUserRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		owner := mustUser(t, ws, nil, "owner@example.com", "owner")
		admin := mustUser(t, ws, owner, "admin@example.com", "admin")
		agent := mustUser(t, ws, admin, "agent@example.com", "agent")
		other := mustUser(t, ws, admin, "other@example.com", "agent")
		str := func(s string) *string { return &s }
		yes, no := true, false

		// Self edits.
		u, err := ws.UpdateUser(ctx, agent, agent.ID, workspace.UserPatch{Name: str("Agnes"), JobTitle: str("Support"), TimeZone: str("Europe/Oslo")})
		if err != nil || u.Name != "Agnes" || u.JobTitle != "Support" || u.TimeZone != "Europe/Oslo" {
			t.Fatalf("self edit: %+v %v", u, err)
		}
		for _, tc := range []struct {
			name  string
			actor *store.User
			id    int64
			p     workspace.UserPatch
			code  string
		}{
			{"agent edits other", agent, other.ID, workspace.UserPatch{Name: str("X")}, "admin_only"},
			{"agent changes own role", agent, agent.ID, workspace.UserPatch{Role: str("admin")}, "admin_only"},
			{"agent changes own email", agent, agent.ID, workspace.UserPatch{Email: str("a2@example.com")}, "admin_only"},
			{"admin edits owner", admin, owner.ID, workspace.UserPatch{Name: str("X")}, "owner_only"},
			{"admin promotes to owner", admin, agent.ID, workspace.UserPatch{Role: str("owner")}, "owner_only"},
			{"admin deactivates owner", admin, owner.ID, workspace.UserPatch{Deactivated: &yes}, "owner_only"},
			{"last owner demoted", owner, owner.ID, workspace.UserPatch{Role: str("admin")}, "last_owner"},
			{"last owner deactivated", owner, owner.ID, workspace.UserPatch{Deactivated: &yes}, "last_owner"},
			{"email taken", admin, agent.ID, workspace.UserPatch{Email: str("Other@Example.com")}, "email_taken"},
			{"bad role", admin, agent.ID, workspace.UserPatch{Role: str("boss")}, "invalid_role"},
			{"empty name", agent, agent.ID, workspace.UserPatch{Name: str("")}, "name_required"},
			{"bad avatar", agent, agent.ID, workspace.UserPatch{AvatarURL: str("javascript:alert(1)")}, "invalid_avatar_url"},
			{"password without current", agent, agent.ID, workspace.UserPatch{Password: str("a new password")}, "invalid_current_password"},
			{"weak new password", agent, agent.ID, workspace.UserPatch{Password: str("short"), CurrentPassword: pw}, "weak_password"},
			{"missing user", admin, 99999, workspace.UserPatch{Name: str("X")}, "user_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ws.UpdateUser(ctx, tc.actor, tc.id, tc.p)
				wantCode(t, err, tc.code)
			})
		}

		// Password change signs out other sessions but keeps the current one.
		tok1, _, err := ws.SignIn(ctx, "agent@example.com", pw)
		if err != nil {
			t.Fatal(err)
		}
		tok2, _, err := ws.SignIn(ctx, "agent@example.com", pw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ws.UpdateUser(ctx, agent, agent.ID, workspace.UserPatch{Password: str("a brand new password"), CurrentPassword: pw,
			KeepSessionHash: auth.HashToken(tok1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserBySession(ctx, auth.HashToken(tok1), store.Now()); err != nil {
			t.Fatalf("current session ended: %v", err)
		}
		if _, err := s.UserBySession(ctx, auth.HashToken(tok2), store.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other session survived the password change: %v", err)
		}
		if _, _, err := ws.SignIn(ctx, "agent@example.com", pw); err == nil {
			t.Fatal("old password still works")
		}
		if _, _, err := ws.SignIn(ctx, "agent@example.com", "a brand new password"); err != nil {
			t.Fatalf("new password: %v", err)
		}

		// Promote a second owner; then the first may step down, but not the second too.
		if _, err := ws.UpdateUser(ctx, owner, admin.ID, workspace.UserPatch{Role: str("owner")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ws.UpdateUser(ctx, owner, owner.ID, workspace.UserPatch{Role: str("admin")}); err != nil {
			t.Fatalf("stepping down with another owner: %v", err)
		}
		admin, _ = s.User(ctx, admin.ID)
		if _, err := ws.UpdateUser(ctx, admin, admin.ID, workspace.UserPatch{Deactivated: &yes}); err == nil {
			t.Fatal("the last owner deactivated themselves")
		}

		// Deactivation: sessions and tokens stop working, sign-in fails, history stays.
		token, _, err := ws.CreateToken(ctx, other, other.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		sess, _, err := ws.SignIn(ctx, "other@example.com", pw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ws.UpdateUser(ctx, admin, other.ID, workspace.UserPatch{Deactivated: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UserByToken(ctx, auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token of deactivated user works: %v", err)
		}
		if _, err := s.UserBySession(ctx, auth.HashToken(sess), store.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session of deactivated user works: %v", err)
		}
		_, _, err = ws.SignIn(ctx, "other@example.com", pw)
		wantCode(t, err, "invalid_credentials")
		if _, err := s.User(ctx, other.ID); err != nil {
			t.Fatalf("deactivated user gone: %v", err)
		}
		if _, err := ws.UpdateUser(ctx, admin, other.ID, workspace.UserPatch{Deactivated: &no}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UserByToken(ctx, auth.HashToken(token)); err != nil {
			t.Fatalf("token of reactivated user: %v", err)
		}

		for _, action := range []string{"user.updated", "user.role_changed", "user.deactivated", "user.reactivated"} {
			if got := auditActions(t, s, store.AuditFilter{Action: action}); len(got) == 0 {
				t.Errorf("no %s audit entry", action)
			}
		}
		// Nothing changed, nothing audited.
		before := len(auditActions(t, s, store.AuditFilter{Limit: 200}))
		if _, err := ws.UpdateUser(ctx, agent, agent.ID, workspace.UserPatch{Name: str("Agnes")}); err != nil {
			t.Fatal(err)
		}
		if after := len(auditActions(t, s, store.AuditFilter{Limit: 200})); after != before {
			t.Fatalf("a no-op update wrote %d audit entries", after-before)
		}
	})
}

func TestConcurrentDemotionsKeepAnOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		a := mustUser(t, ws, nil, "a@example.com", "owner")
		b := mustUser(t, ws, nil, "b@example.com", "owner")
		role := "agent"
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []*store.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = ws.UpdateUser(ctx, u, u.ID, workspace.UserPatch{Role: &role})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("want exactly one demotion to succeed: %v / %v", errs[0], errs[1])
		}
		owners := 0
		for _, id := range []int64{a.ID, b.ID} {
			u, _ := s.User(ctx, id)
			if u.Role == "owner" {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("owners left = %d", owners)
		}
	})
}

func TestSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ann@example.com", "agent")
		tok, got, err := ws.SignIn(ctx, "  ANN@example.com ", pw)
		if err != nil || got.ID != u.ID {
			t.Fatalf("sign in: %v %v", got, err)
		}
		if su, err := s.UserBySession(ctx, auth.HashToken(tok), store.Now()); err != nil || su.ID != u.ID {
			t.Fatalf("session lookup: %v %v", su, err)
		}
		for _, c := range [][2]string{{"ann@example.com", "wrong password"}, {"nobody@example.com", pw}, {"", ""}} {
			_, _, err := ws.SignIn(ctx, c[0], c[1])
			wantCode(t, err, "invalid_credentials")
		}
		if err := ws.SignOut(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserBySession(ctx, auth.HashToken(tok), store.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session after sign-out: %v", err)
		}
		// A user created without a password cannot sign in with an empty one.
		if _, err := ws.CreateUser(ctx, nil, workspace.NewUser{Email: "nopw@example.com", Name: "No"}); err != nil {
			t.Fatal(err)
		}
		_, _, err = ws.SignIn(ctx, "nopw@example.com", "")
		wantCode(t, err, "invalid_credentials")

		// ResetPassword signs out everywhere and sets the new password.
		tok, _, _ = ws.SignIn(ctx, "ann@example.com", pw)
		wantCode(t, ws.ResetPassword(ctx, "ann@example.com", "short"), "weak_password")
		wantCode(t, ws.ResetPassword(ctx, "ghost@example.com", "long enough pw"), "user_not_found")
		if err := ws.ResetPassword(ctx, "Ann@Example.com", "long enough pw"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserBySession(ctx, auth.HashToken(tok), store.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("session survived a password reset")
		}
		if _, _, err := ws.SignIn(ctx, "ann@example.com", "long enough pw"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSignInUpgradesWeakHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		u := mustUser(t, ws, nil, "ann@example.com", "agent")
		old := auth.PasswordParams
		auth.PasswordParams = auth.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
		defer func() { auth.PasswordParams = old }()
		if _, _, err := ws.SignIn(ctx, "ann@example.com", pw); err != nil {
			t.Fatal(err)
		}
		got, _ := s.User(ctx, u.ID)
		if got.PasswordHash == u.PasswordHash || auth.NeedsRehash(got.PasswordHash) {
			t.Fatalf("hash not upgraded: %s", got.PasswordHash)
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		agent := mustUser(t, ws, admin, "agent@example.com", "agent")
		other := mustUser(t, ws, admin, "other@example.com", "agent")

		secret, tok, err := ws.CreateToken(ctx, agent, agent.ID, " laptop ")
		if err != nil {
			t.Fatal(err)
		}
		if tok.Name != "laptop" || len(tok.Prefix) != 9 || secret[:9] != tok.Prefix {
			t.Fatalf("token = %+v, secret %s", tok, secret)
		}
		if u, id, err := s.UserByToken(ctx, auth.HashToken(secret)); err != nil || u.ID != agent.ID || id != tok.ID {
			t.Fatalf("lookup: %v %d %v", u, id, err)
		}
		_, _, err = ws.CreateToken(ctx, admin, agent.ID, "impersonate")
		wantCode(t, err, "own_tokens_only")
		_, _, err = ws.CreateToken(ctx, agent, agent.ID, "")
		wantCode(t, err, "name_required")
		if _, _, err := ws.CreateToken(ctx, nil, other.ID, "cli"); err != nil {
			t.Fatalf("cli token: %v", err)
		}

		_, err = ws.Tokens(ctx, other, agent.ID)
		wantCode(t, err, "admin_only")
		list, err := ws.Tokens(ctx, admin, agent.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("admin listing: %v %v", list, err)
		}
		wantCode(t, ws.RevokeToken(ctx, other, tok.ID), "token_not_found")
		if err := ws.RevokeToken(ctx, agent, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := ws.RevokeToken(ctx, agent, tok.ID); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		if _, _, err := s.UserByToken(ctx, auth.HashToken(secret)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked token works: %v", err)
		}
		if list, _ := ws.Tokens(ctx, agent, agent.ID); len(list) != 0 {
			t.Fatalf("revoked token listed: %v", list)
		}
		if got := auditActions(t, s, store.AuditFilter{TargetType: "api_token"}); fmt.Sprint(got) != "[token.revoked token.created token.created]" {
			t.Fatalf("token audit = %v", got)
		}
		if err := s.TouchAPIToken(ctx, tok.ID, store.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		a := mustUser(t, ws, admin, "a@example.com", "agent")
		b := mustUser(t, ws, admin, "b@example.com", "agent")

		team, err := ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: "Support", Members: []store.TeamMember{{UserID: a.ID, IsPrimary: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(team.Members) != 1 || !team.Members[0].IsPrimary || team.Members[0].TeamID != team.ID {
			t.Fatalf("members = %+v", team.Members)
		}
		_, err = ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: "support"})
		wantCode(t, err, "team_name_taken")
		_, err = ws.CreateTeam(ctx, a, workspace.NewTeam{Name: "Sales"})
		wantCode(t, err, "admin_only")
		_, err = ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: ""})
		wantCode(t, err, "name_required")
		_, err = ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: "Sales", Members: []store.TeamMember{{UserID: 4242}}})
		wantCode(t, err, "unknown_user")
		_, err = ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: "Sales", Members: []store.TeamMember{{UserID: a.ID}, {UserID: a.ID}}})
		wantCode(t, err, "duplicate_member")

		team, err = ws.SetTeamMember(ctx, admin, team.ID, b.ID, false)
		if err != nil || len(team.Members) != 2 || team.Members[1].IsPrimary {
			t.Fatalf("add b: %+v %v", team, err)
		}
		if team, err = ws.SetTeamMember(ctx, admin, team.ID, b.ID, true); err != nil || !team.Members[1].IsPrimary {
			t.Fatalf("b primary: %+v %v", team, err)
		}
		_, err = ws.SetTeamMember(ctx, admin, team.ID, 4242, true)
		wantCode(t, err, "user_not_found")
		if err := ws.RemoveTeamMember(ctx, admin, team.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, ws.RemoveTeamMember(ctx, admin, team.ID, a.ID), "member_not_found")

		name := "Customer Support"
		members := []store.TeamMember{{UserID: a.ID, IsPrimary: false}}
		team, err = ws.UpdateTeam(ctx, admin, team.ID, workspace.TeamPatch{Name: &name, Members: &members})
		if err != nil || team.Name != name || len(team.Members) != 1 || team.Members[0].UserID != a.ID {
			t.Fatalf("update: %+v %v", team, err)
		}
		teams, more, err := ws.Teams(ctx, 0, 10)
		if err != nil || more || len(teams) != 1 || len(teams[0].Members) != 1 {
			t.Fatalf("list: %+v %v %v", teams, more, err)
		}
		if err := ws.DeleteTeam(ctx, admin, team.ID); err != nil {
			t.Fatal(err)
		}
		_, err = ws.Team(ctx, team.ID)
		wantCode(t, err, "team_not_found")
		want := "[team.deleted team.member_removed team.member_added team.updated team.member_removed team.member_updated team.member_added team.created]"
		if got := auditActions(t, s, store.AuditFilter{TargetType: "team"}); fmt.Sprint(got) != want {
			t.Fatalf("team audit =\n%v\nwant\n%v", got, want)
		}
	})
}

func TestInboxes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		inTeam := mustUser(t, ws, admin, "team@example.com", "agent")
		direct := mustUser(t, ws, admin, "direct@example.com", "agent")
		outsider := mustUser(t, ws, admin, "out@example.com", "agent")
		team, err := ws.CreateTeam(ctx, admin, workspace.NewTeam{Name: "Sales", Members: []store.TeamMember{{UserID: inTeam.ID, IsPrimary: true}}})
		if err != nil {
			t.Fatal(err)
		}
		general, err := ws.CreateInbox(ctx, admin, workspace.NewInbox{Name: "General"})
		if err != nil || general.Access != "everyone" {
			t.Fatalf("general: %+v %v", general, err)
		}
		sales, err := ws.CreateInbox(ctx, admin, workspace.NewInbox{Name: "Sales", Access: "specific",
			UserIDs: []int64{direct.ID, direct.ID}, TeamIDs: []int64{team.ID}})
		if err != nil || len(sales.UserIDs) != 1 {
			t.Fatalf("sales: %+v %v", sales, err)
		}
		for _, tc := range []struct {
			in   workspace.NewInbox
			code string
		}{
			{workspace.NewInbox{Name: "X", Access: "some"}, "invalid_access"},
			{workspace.NewInbox{Name: "X", Access: "everyone", UserIDs: []int64{direct.ID}}, "invalid_access"},
			{workspace.NewInbox{Name: "", Access: "everyone"}, "name_required"},
			{workspace.NewInbox{Name: "X", Access: "specific", UserIDs: []int64{999}}, "unknown_user"},
			{workspace.NewInbox{Name: "X", Access: "specific", TeamIDs: []int64{999}}, "unknown_team"},
		} {
			_, err := ws.CreateInbox(ctx, admin, tc.in)
			wantCode(t, err, tc.code)
		}
		_, err = ws.CreateInbox(ctx, direct, workspace.NewInbox{Name: "Mine"})
		wantCode(t, err, "admin_only")

		visible := func(u *store.User) []string {
			list, _, err := ws.Inboxes(ctx, u, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, in := range list {
				names = append(names, in.Name)
			}
			return names
		}
		for _, tc := range []struct {
			u    *store.User
			want string
		}{{admin, "[General Sales]"}, {inTeam, "[General Sales]"}, {direct, "[General Sales]"}, {outsider, "[General]"}} {
			if got := fmt.Sprint(visible(tc.u)); got != tc.want {
				t.Errorf("%s sees %s, want %s", tc.u.Email, got, tc.want)
			}
		}
		_, err = ws.Inbox(ctx, outsider, sales.ID)
		wantCode(t, err, "inbox_not_found")
		if in, err := ws.Inbox(ctx, inTeam, sales.ID); err != nil || in.TeamIDs[0] != team.ID {
			t.Fatalf("member view: %+v %v", in, err)
		}

		// Grant the outsider directly, then open the inbox to everyone (grants are dropped).
		ids := []int64{direct.ID, outsider.ID}
		if _, err := ws.UpdateInbox(ctx, admin, sales.ID, workspace.InboxPatch{UserIDs: &ids}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(visible(outsider)); got != "[General Sales]" {
			t.Fatalf("outsider after grant sees %s", got)
		}
		everyone := "everyone"
		in, err := ws.UpdateInbox(ctx, admin, sales.ID, workspace.InboxPatch{Access: &everyone})
		if err != nil || len(in.UserIDs) != 0 || len(in.TeamIDs) != 0 {
			t.Fatalf("open up: %+v %v", in, err)
		}
		_, err = ws.UpdateInbox(ctx, admin, sales.ID, workspace.InboxPatch{UserIDs: &ids})
		wantCode(t, err, "invalid_access")

		// Deleting an inbox with a channel is refused.
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertChannel(ctx, &store.Channel{InboxID: sales.ID, Kind: "email", Name: "Sales mail"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, ws.DeleteInbox(ctx, admin, sales.ID), "inbox_not_empty")
		if err := ws.DeleteInbox(ctx, admin, general.ID); err != nil {
			t.Fatal(err)
		}
		_, err = ws.Inbox(ctx, admin, general.ID)
		wantCode(t, err, "inbox_not_found")
		wantCode(t, ws.DeleteInbox(ctx, admin, general.ID), "inbox_not_found")
		want := "[inbox.deleted inbox.updated inbox.updated inbox.created inbox.created]"
		if got := auditActions(t, s, store.AuditFilter{TargetType: "inbox"}); fmt.Sprint(got) != want {
			t.Fatalf("inbox audit = %v", got)
		}
	})
}

func TestSetup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		if pending, _ := ws.SetupPending(ctx); pending {
			t.Fatal("pending before a token was issued")
		}
		first, needed, err := ws.SetupToken(ctx)
		if err != nil || !needed || first == "" {
			t.Fatalf("token: %q %v %v", first, needed, err)
		}
		token, _, err := ws.SetupToken(ctx) // a restart rotates the link
		if err != nil || token == first {
			t.Fatalf("rotate: %v", err)
		}
		if pending, _ := ws.SetupPending(ctx); !pending {
			t.Fatal("not pending")
		}
		wantCode(t, ws.CheckSetupToken(ctx, first), "invalid_setup_token")
		_, err = ws.CompleteSetup(ctx, first, "boss@example.com", "Boss", pw)
		wantCode(t, err, "invalid_setup_token")
		_, err = ws.CompleteSetup(ctx, token, "boss@example.com", "Boss", "short")
		wantCode(t, err, "weak_password")
		_, err = ws.CompleteSetup(ctx, token, "boss", "Boss", pw)
		wantCode(t, err, "invalid_email")

		u, err := ws.CompleteSetup(ctx, token, "Boss@Example.com", "Boss", pw)
		if err != nil || u.Role != "owner" || u.Email != "boss@example.com" {
			t.Fatalf("complete: %+v %v", u, err)
		}
		_, err = ws.CompleteSetup(ctx, token, "boss2@example.com", "Boss", pw)
		wantCode(t, err, "setup_not_available")
		if _, needed, _ := ws.SetupToken(ctx); needed {
			t.Fatal("setup needed with an owner present")
		}
		if created, err := ws.EnsureOwner(ctx, "env@example.com", pw); err != nil || created {
			t.Fatalf("EnsureOwner with users: %v %v", created, err)
		}
		if got := auditActions(t, s, store.AuditFilter{Action: "user.created"}); len(got) != 1 {
			t.Fatalf("audit = %v", got)
		}
	})
}

func TestSetupExpiredAndConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		token, _, err := ws.SetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Age the stored token past its expiry.
		v, _ := s.Setting(ctx, "setup_token")
		var p map[string]any
		_ = json.Unmarshal([]byte(v), &p)
		p["expires_at"] = store.Now() - 1
		b, _ := json.Marshal(p)
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, "setup_token", string(b)) }); err != nil {
			t.Fatal(err)
		}
		_, err = ws.CompleteSetup(ctx, token, "a@example.com", "A", pw)
		wantCode(t, err, "invalid_setup_token")

		token, _, _ = ws.SetupToken(ctx)
		var wg sync.WaitGroup
		results := make([]error, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = ws.CompleteSetup(ctx, token, fmt.Sprintf("u%d@example.com", i), "U", pw)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range results {
			if err == nil {
				ok++
			}
		}
		if n, _ := s.CountUsers(ctx); n != 1 || ok != 1 {
			t.Fatalf("users = %d, successes = %d: %v", n, ok, results)
		}
	})
}

func TestEnsureOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		if _, _, err := ws.SetupToken(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := ws.EnsureOwner(ctx, "root@example.com", "short")
		wantCode(t, err, "weak_password")
		created, err := ws.EnsureOwner(ctx, "Root@Example.com", pw)
		if err != nil || !created {
			t.Fatalf("%v %v", created, err)
		}
		u, err := s.UserByEmail(ctx, "root@example.com")
		if err != nil || u.Role != "owner" || u.Name != "root" {
			t.Fatalf("%+v %v", u, err)
		}
		if pending, _ := ws.SetupPending(ctx); pending {
			t.Fatal("setup still pending after EnsureOwner")
		}
		if created, err := ws.EnsureOwner(ctx, "root@example.com", pw); err != nil || created {
			t.Fatalf("second run: %v %v", created, err)
		}
	})
}

func TestUserListing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		for i := range 5 {
			mustUser(t, ws, admin, fmt.Sprintf("agent%d@example.com", i), "agent")
		}
		mustUser(t, ws, admin, "under_score@example.com", "agent")
		yes := true
		if _, err := ws.UpdateUser(ctx, admin, 2, workspace.UserPatch{Deactivated: &yes}); err != nil {
			t.Fatal(err)
		}
		var all []int64
		after := int64(0)
		for {
			page, more, err := ws.Users(ctx, store.UserFilter{AfterID: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				all = append(all, u.ID)
				after = u.ID
			}
			if !more {
				break
			}
		}
		if fmt.Sprint(all) != "[1 3 4 5 6 7]" {
			t.Fatalf("paged ids = %v", all)
		}
		page, _, _ := ws.Users(ctx, store.UserFilter{IncludeDeactivated: true, Limit: 100})
		if len(page) != 7 {
			t.Fatalf("with deactivated: %d", len(page))
		}
		page, _, _ = ws.Users(ctx, store.UserFilter{Query: "AGENT3"})
		if len(page) != 1 || page[0].Email != "agent3@example.com" {
			t.Fatalf("search: %+v", page)
		}
		// LIKE wildcards in the query match literally.
		page, _, _ = ws.Users(ctx, store.UserFilter{Query: "_"})
		if len(page) != 1 || page[0].Email != "under_score@example.com" {
			t.Fatalf("wildcard search: %d results", len(page))
		}
	})
}

// Deactivating a member must not block later edits of the inbox they were granted, while a
// deactivated user still cannot be newly granted access.
func TestInboxEditAfterMemberDeactivated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newService(s)
		admin := mustUser(t, ws, nil, "admin@example.com", "admin")
		member := mustUser(t, ws, admin, "member@example.com", "agent")
		other := mustUser(t, ws, admin, "other@example.com", "agent")
		inbox, err := ws.CreateInbox(ctx, admin, workspace.NewInbox{Name: "VIP", Access: "specific", UserIDs: []int64{member.ID}})
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		for _, u := range []*store.User{member, other} {
			if _, err := ws.UpdateUser(ctx, admin, u.ID, workspace.UserPatch{Deactivated: &yes}); err != nil {
				t.Fatal(err)
			}
		}
		name := "VIP customers"
		got, err := ws.UpdateInbox(ctx, admin, inbox.ID, workspace.InboxPatch{Name: &name})
		if err != nil || got.Name != name {
			t.Fatalf("rename after deactivation: %+v %v", got, err)
		}
		grant := []int64{member.ID, other.ID}
		_, err = ws.UpdateInbox(ctx, admin, inbox.ID, workspace.InboxPatch{UserIDs: &grant})
		wantCode(t, err, "user_deactivated")
	})
}
