package ui

// The shared harness for web app tests: a real ui.Server on a real store (use storetest.Each)
// behind a real listener, users of each role, an inbox with a test channel, and a browser-like
// client per user (cookie jar, form posts, htmx headers).
//
//	storetest.Each(t, func(t *testing.T, s *store.Store) {
//		h := newHarness(t, s)
//		c := h.signIn(t, h.agent)
//		body := c.get(t, "/inbox", 200)
//		...
//	})

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func init() {
	// Real argon2id parameters cost ~45 ms a hash; the tests sign in a lot.
	auth.PasswordParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

const testPassword = "correct horse battery"

// testKind is the channel kind of the harness's channel; its sender accepts everything.
const testKind = "test"

type okSender struct{ n atomic.Int64 }

func (o *okSender) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	return fmt.Sprintf("ext-%d", o.n.Add(1)), nil
}

// harness is a web app on a real store with a workspace: an owner, an admin and an agent
// who see the Support inbox (with one channel), and an outsider who sees nothing.
type harness struct {
	Store   *store.Store
	Inbox   *inbox.Service
	WS      *workspace.Service
	UI      *Server
	URL     string
	owner   *store.User
	admin   *store.User
	agent   *store.User
	outside *store.User
	support *store.Inbox
	channel *store.Channel
	seq     atomic.Int64
}

func newHarness(t testing.TB, s *store.Store) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := &harness{
		Store: s,
		Inbox: &inbox.Service{Store: s, Log: log, Senders: map[string]channel.Sender{testKind: &okSender{}}},
		WS:    &workspace.Service{Store: s, Log: log},
	}
	h.UI = &Server{Store: s, Inbox: h.Inbox, Workspace: h.WS, Log: log, BaseURL: "http://parley.test"}
	srv := httptest.NewServer(h.UI.Handler())
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	h.owner = h.user(t, "owner", "Olivia Owner")
	h.admin = h.user(t, "admin", "Adam Admin")
	h.agent = h.user(t, "agent", "Ana Agent")
	h.outside = h.user(t, "agent", "Otto Outsider")
	var err error
	h.support, err = h.WS.CreateInbox(t.Context(), nil, workspace.NewInbox{Name: "Support",
		Access: workspace.AccessSpecific, UserIDs: []int64{h.admin.ID, h.agent.ID}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(t.Context(), func(tx *store.Tx) error {
		h.channel = &store.Channel{InboxID: h.support.ID, Kind: testKind, Name: "Support chat", Authorized: true}
		_, err := tx.InsertChannel(t.Context(), h.channel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// user creates a user with the test password.
func (h *harness) user(t testing.TB, role, name string) *store.User {
	t.Helper()
	n := h.seq.Add(1)
	u, err := h.WS.CreateUser(t.Context(), nil, workspace.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, n), Name: name, Role: role, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// receive stores an inbound message from a customer on the harness channel.
func (h *harness) receive(t testing.TB, thread, contact, text string) (*store.Message, *store.Conversation) {
	t.Helper()
	email := strings.ToLower(strings.ReplaceAll(contact, " ", ".")) + "@customer.test"
	m, c, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{
		ChannelID: h.channel.ID, ThreadKey: thread, Direction: "inbound",
		ContactName: contact, ContactIdentities: []store.Identity{{Kind: "email", Value: email}},
		Subject: "Question from " + contact, Text: text,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// client is a browser: it keeps cookies and does not follow redirects, so tests see them.
type client struct {
	h    *harness
	http *http.Client
}

func (h *harness) newClient(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn signs u in through the sign-in form and returns their browser.
func (h *harness) signIn(t testing.TB, u *store.User) *client {
	t.Helper()
	c := h.newClient(t)
	res := c.do(t, "POST", "/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: status %d", u.Email, res.StatusCode)
	}
	return c
}

// response is a finished request: status, headers and body.
type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

// do sends a request; form (may be nil) is sent url-encoded for POSTs. header adds headers,
// e.g. htmx's HX-Request and HX-Target.
func (c *client) do(t testing.TB, method, path string, form url.Values, header http.Header) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.h.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

// get fetches a page and checks its status.
func (c *client) get(t testing.TB, path string, want int) string {
	t.Helper()
	res := c.do(t, "GET", path, nil, nil)
	if res.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, res.StatusCode, want, res.Body)
	}
	return res.Body
}

// post submits a form and checks the status.
func (c *client) post(t testing.TB, path string, form url.Values, want int) response {
	t.Helper()
	res := c.do(t, "POST", path, form, nil)
	if res.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d\n%s", path, res.StatusCode, want, res.Body)
	}
	return res
}

// htmx sends a request as htmx would, asking for the block target.
func (c *client) htmx(t testing.TB, method, path, target string, form url.Values) response {
	t.Helper()
	return c.do(t, method, path, form, http.Header{"Hx-Request": {"true"}, "Hx-Target": {target}})
}

// mustContain fails unless body contains every want.
func mustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("body lacks %q:\n%s", w, body)
		}
	}
}

// mustNotContain fails if body contains any of unwanted.
func mustNotContain(t testing.TB, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("body contains %q:\n%s", w, body)
		}
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
