package api

// The shared harness for API tests: a real Server on a real store (use storetest.Each), users of
// every role with API tokens, and request helpers. Requests go straight to the http.Handler
// through httptest, so they cost no sockets; URL starts a real listener for tests that need one.
//
//	storetest.Each(t, func(t *testing.T, s *store.Store) {
//		ts := newTestServer(t, s)
//		admin, agent := ts.admin(t), ts.agent(t)
//		status, body := ts.do(t, "GET", "/api/v1/me", agent.Token, nil)
//		...
//		ts.runScenarios(t, []apiScenario{{Name: "…", Method: "POST", Path: "/api/v1/users", Token: agent.Token,
//			Body: map[string]any{…}, Status: 403, Code: "admin_only"}})
//	})

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
	"github.com/parley-inbox/parley/internal/web/session"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func init() {
	// Real argon2id parameters cost ~45 ms a hash; API tests sign in and create users a lot.
	auth.PasswordParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// testPassword is the password of every user the harness creates.
const testPassword = "correct horse battery"

// testServer is an API server on a real store.
type testServer struct {
	Store   *store.Store
	API     *Server
	Inbox   *inbox.Service
	WS      *workspace.Service
	Handler http.Handler

	seq     atomic.Int64
	urlOnce sync.Once
	url     string
}

// newTestServer wires api.Server (with an inbox.Service) over s. Logs at warning level and above
// go to the test's output, so a 500 shows its cause.
func newTestServer(t testing.TB, s *store.Store) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ts := &testServer{
		Store: s,
		Inbox: &inbox.Service{Store: s, Log: log},
		WS:    &workspace.Service{Store: s, Log: log},
	}
	ts.API = &Server{Store: s, Inbox: ts.Inbox, Log: log, BaseURL: "http://parley.test", Email: newTestEmail(t, s, ts.Inbox, log),
		Chat: &chat.Service{Store: s, Inbox: ts.Inbox, Log: log, BaseURL: "http://parley.test"}}
	ts.API.Chat.Email = ts.API.Email // transcripts go through the email channel
	ts.Handler = ts.API.Handler()
	return ts
}

// URL starts a real HTTP listener for the handler on first use (closed when the test ends).
func (ts *testServer) URL(t testing.TB) string {
	ts.urlOnce.Do(func() {
		srv := httptest.NewServer(ts.Handler)
		t.Cleanup(srv.Close)
		ts.url = srv.URL
	})
	return ts.url
}

// testUser is a user made by the harness, with an API token and the shared test password.
type testUser struct {
	*store.User
	Token    string
	Password string
}

// newUser creates a user directly through the workspace (as the system) with a fresh email,
// plus an API token. role is owner, admin or agent.
func (ts *testServer) newUser(t testing.TB, role string) *testUser {
	t.Helper()
	n := ts.seq.Add(1)
	return ts.userWith(t, workspace.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, n),
		Name:  fmt.Sprintf("%s %d", strings.ToUpper(role[:1])+role[1:], n),
		Role:  role,
	})
}

// userWith creates a user from in (Password defaults to testPassword) with an API token.
func (ts *testServer) userWith(t testing.TB, in workspace.NewUser) *testUser {
	t.Helper()
	if in.Password == "" {
		in.Password = testPassword
	}
	ctx := context.Background()
	u, err := ts.WS.CreateUser(ctx, nil, in)
	if err != nil {
		t.Fatalf("create user %s: %v", in.Email, err)
	}
	token, _, err := ts.WS.CreateToken(ctx, nil, u.ID, "test")
	if err != nil {
		t.Fatalf("create token for %s: %v", in.Email, err)
	}
	return &testUser{User: u, Token: token, Password: in.Password}
}

func (ts *testServer) owner(t testing.TB) *testUser { t.Helper(); return ts.newUser(t, "owner") }
func (ts *testServer) admin(t testing.TB) *testUser { t.Helper(); return ts.newUser(t, "admin") }
func (ts *testServer) agent(t testing.TB) *testUser { t.Helper(); return ts.newUser(t, "agent") }

// signIn starts a browser session for u and returns the session token (usable as do's token).
func (ts *testServer) signIn(t testing.TB, u *testUser) string {
	t.Helper()
	token, _, err := ts.WS.SignIn(context.Background(), u.Email, u.Password)
	if err != nil {
		t.Fatalf("sign in %s: %v", u.Email, err)
	}
	return token
}

// team creates a team with the given users as primary members.
func (ts *testServer) team(t testing.TB, name string, members ...*testUser) *workspace.Team {
	t.Helper()
	var ms []store.TeamMember
	for _, m := range members {
		ms = append(ms, store.TeamMember{UserID: m.ID, IsPrimary: true})
	}
	team, err := ts.WS.CreateTeam(context.Background(), nil, workspace.NewTeam{Name: name, Members: ms})
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return team
}

// inbox creates an inbox. With no users and no teams it is open to everyone; otherwise only the
// named users and teams (and admins) see it.
func (ts *testServer) inbox(t testing.TB, name string, users []*testUser, teams []*workspace.Team) *store.Inbox {
	t.Helper()
	in := workspace.NewInbox{Name: name, Access: workspace.AccessEveryone}
	if len(users)+len(teams) > 0 {
		in.Access = workspace.AccessSpecific
	}
	for _, u := range users {
		in.UserIDs = append(in.UserIDs, u.ID)
	}
	for _, tm := range teams {
		in.TeamIDs = append(in.TeamIDs, tm.ID)
	}
	created, err := ts.WS.CreateInbox(context.Background(), nil, in)
	if err != nil {
		t.Fatalf("create inbox %s: %v", name, err)
	}
	return created
}

// testRequest is a request for send. Token is sent as a session cookie when it is a session
// token (auth.SessionPrefix) and as a bearer token otherwise; empty sends no credentials.
type testRequest struct {
	Method     string
	Path       string
	Token      string
	Body       any // nil: no body; string or []byte: sent as is; anything else: JSON-encoded
	Header     http.Header
	RemoteAddr string // defaults to httptest's 192.0.2.1:1234
}

// send runs one request through the handler and returns the recorded response.
func (ts *testServer) send(t testing.TB, req testRequest) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		body = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(req.Method, req.Path, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	switch {
	case req.Token == "":
	case strings.HasPrefix(req.Token, auth.SessionPrefix):
		r.AddCookie(&http.Cookie{Name: session.Cookie, Value: req.Token})
	default:
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		r.Header[k] = v
	}
	if req.RemoteAddr != "" {
		r.RemoteAddr = req.RemoteAddr
	}
	rec := httptest.NewRecorder()
	ts.Handler.ServeHTTP(rec, r)
	return rec
}

// do sends a request and returns the status and the body decoded as a JSON object (nil when the
// body is empty; the test fails when it is not JSON). Lists are {"data": [...], "next_cursor": …}.
func (ts *testServer) do(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	rec := ts.send(t, testRequest{Method: method, Path: path, Token: token, Body: body})
	return rec.Code, decodeObject(t, rec.Body.Bytes())
}

// doInto sends a request, expects status want and decodes the JSON body into out (if not nil).
func (ts *testServer) doInto(t testing.TB, method, path, token string, body any, want int, out any) {
	t.Helper()
	rec := ts.send(t, testRequest{Method: method, Path: path, Token: token, Body: body})
	if rec.Code != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, rec.Body.String(), err)
		}
	}
}

func decodeObject(t testing.TB, b []byte) map[string]any {
	t.Helper()
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, b)
	}
	return m
}

// problemCode returns the problem code of an error body ("" when there is none).
func problemCode(body map[string]any) string {
	c, _ := body["code"].(string)
	return c
}

// listData returns the "data" items of a list body.
func listData(t testing.TB, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["data"].([]any)
	if !ok {
		t.Fatalf("not a list body: %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, item := range raw {
		out[i], ok = item.(map[string]any)
		if !ok {
			t.Fatalf("list item %d is not an object: %v", i, item)
		}
	}
	return out
}

// jsonID reads a numeric id field of a decoded body.
func jsonID(t testing.TB, body map[string]any, field string) int64 {
	t.Helper()
	f, ok := body[field].(float64)
	if !ok {
		t.Fatalf("field %s is not a number in %v", field, body)
	}
	return int64(f)
}

// apiScenario is one row of a table-driven API test: a request and what must come back.
type apiScenario struct {
	Name   string
	Method string
	Path   string
	Token  string
	Body   any
	Header http.Header

	Status      int
	Code        string   // the problem code, when the answer is an error
	Contains    []string // substrings the raw body must contain
	NotContains []string // substrings it must not contain
	// Check, when set, inspects the decoded body further.
	Check func(t *testing.T, body map[string]any)
}

// runScenarios runs the rows in order as subtests (each sees the changes of the rows before it).
func (ts *testServer) runScenarios(t *testing.T, rows []apiScenario) {
	t.Helper()
	for _, sc := range rows {
		t.Run(sc.Name, func(t *testing.T) {
			rec := ts.send(t, testRequest{Method: sc.Method, Path: sc.Path, Token: sc.Token, Body: sc.Body, Header: sc.Header})
			raw := rec.Body.String()
			if rec.Code != sc.Status {
				t.Fatalf("%s %s: status %d, want %d; body %s", sc.Method, sc.Path, rec.Code, sc.Status, raw)
			}
			body := decodeObject(t, rec.Body.Bytes())
			if sc.Code != "" && problemCode(body) != sc.Code {
				t.Fatalf("%s %s: code %q, want %q; body %s", sc.Method, sc.Path, problemCode(body), sc.Code, raw)
			}
			for _, s := range sc.Contains {
				if !strings.Contains(raw, s) {
					t.Errorf("body does not contain %q: %s", s, raw)
				}
			}
			for _, s := range sc.NotContains {
				if strings.Contains(raw, s) {
					t.Errorf("body contains %q: %s", s, raw)
				}
			}
			if sc.Check != nil {
				sc.Check(t, body)
			}
		})
	}
}

// newTestEmail is the email channel service of the test server: receiving addresses at
// in.parley.test, replies relayed into a capturing SMTP server.
func newTestEmail(t testing.TB, s *store.Store, in *inbox.Service, log *slog.Logger) *email.Service {
	t.Helper()
	tr, err := thread.New([]byte("the api tests' installation secret"))
	if err != nil {
		t.Fatal(err)
	}
	relay, err := outbound.NewSender(mailtest.Start(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	e := &email.Service{Store: s, Inbox: in, Files: files.New(s, t.TempDir(), "http://parley.test"), Filters: s,
		Threader: tr, Domain: "in.parley.test", Relay: relay, Log: log}
	if in.Senders == nil {
		in.Senders = map[string]channel.Sender{}
	}
	in.Senders[email.Kind] = e
	return e
}
