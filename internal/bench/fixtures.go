package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Bench users: the benchmarks sign in as these, created on first use in the database.
const (
	adminEmail = "bench-admin@bench.parley.invalid"
	agentEmail = "bench-agent@bench.parley.invalid"
)

// Credentials are API tokens made for one benchmark run; Revoke them at the end.
type Credentials struct {
	AdminToken, AgentToken string
	// AdminSession and AgentSession are browser sessions, for the web app's pages.
	AdminSession, AgentSession string
	AgentID                    int64
	tokenIDs                   []int64
	ws                         *workspace.Service
}

// Prepare makes API tokens for a run directly in the database (before or while the server runs):
// for a benchmark admin, and for an agent — the seeded agent who sees the most inboxes, or a
// benchmark agent on an unseeded database.
func Prepare(ctx context.Context, s *store.Store) (*Credentials, error) {
	ws := &workspace.Service{Store: s}
	cr := &Credentials{ws: ws}
	admin, err := ensureUser(ctx, ws, s, adminEmail, "Benchmark admin", workspace.RoleAdmin)
	if err != nil {
		return nil, err
	}
	agentID, err := s.BenchAgent(ctx)
	if errors.Is(err, store.ErrNotFound) {
		agent, err := ensureUser(ctx, ws, s, agentEmail, "Benchmark agent", workspace.RoleAgent)
		if err != nil {
			return nil, err
		}
		agentID = agent.ID
	} else if err != nil {
		return nil, err
	}
	cr.AgentID = agentID
	agent, err := s.User(ctx, agentID)
	if err != nil {
		return nil, err
	}
	if cr.AdminSession, err = ws.NewSession(ctx, admin); err != nil {
		return nil, err
	}
	if cr.AgentSession, err = ws.NewSession(ctx, agent); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		id  int64
		dst *string
	}{{admin.ID, &cr.AdminToken}, {agentID, &cr.AgentToken}} {
		secret, t, err := ws.CreateToken(ctx, nil, p.id, "parley bench")
		if err != nil {
			return nil, fmt.Errorf("bench token: %w", err)
		}
		*p.dst = secret
		cr.tokenIDs = append(cr.tokenIDs, t.ID)
	}
	return cr, nil
}

func ensureUser(ctx context.Context, ws *workspace.Service, s *store.Store, email, name, role string) (*store.User, error) {
	u, err := s.UserByEmail(ctx, email)
	if err == nil {
		return u, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	u, err = ws.CreateUser(ctx, nil, workspace.NewUser{Email: email, Name: name, Role: role})
	if err != nil {
		return nil, fmt.Errorf("bench user %s: %w", email, err)
	}
	return u, nil
}

// Revoke revokes the run's tokens and ends its sessions.
func (c *Credentials) Revoke(ctx context.Context) error {
	var errs []error
	for _, s := range []string{c.AdminSession, c.AgentSession} {
		if s != "" {
			errs = append(errs, c.ws.SignOut(ctx, s))
		}
	}
	for _, id := range c.tokenIDs {
		errs = append(errs, c.ws.RevokeToken(ctx, nil, id))
	}
	return errors.Join(errs...)
}

// channelFixture is a custom channel with one account in a new inbox, made through the API.
type channelFixture struct {
	InboxID         int64
	CustomChannelID string
	AccountID       string
	AccountAddress  string
}

// newChannel creates an inbox open to everyone, a custom channel threading by the integration's
// thread id, and one authorized account, named after run.
func newChannel(ctx context.Context, t *Target, c *http.Client, run string) (*channelFixture, error) {
	var inbox struct {
		ID int64 `json:"id"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/inboxes", t.AdminToken,
		map[string]any{"name": "Bench " + run, "access": "everyone"}, &inbox); err != nil {
		return nil, fmt.Errorf("create bench inbox: %w", err)
	}
	var ch struct {
		ID string `json:"id"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/custom-channels", t.AdminToken, map[string]any{
		"name": "Bench " + run,
		"capabilities": map[string]any{
			"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
			"threadingModel":          "INTEGRATION_THREAD_ID",
			"allowOutgoingMessages":   true,
		},
	}, &ch); err != nil {
		return nil, fmt.Errorf("create bench custom channel: %w", err)
	}
	f := &channelFixture{InboxID: inbox.ID, CustomChannelID: ch.ID, AccountAddress: "bench-account-" + run}
	var acct struct {
		ID string `json:"id"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/custom-channels/"+ch.ID+"/channel-accounts", t.AdminToken, map[string]any{
		"inboxId":            strconv.FormatInt(inbox.ID, 10),
		"name":               "Bench account " + run,
		"authorized":         true,
		"deliveryIdentifier": map[string]string{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": f.AccountAddress},
	}, &acct); err != nil {
		return nil, fmt.Errorf("create bench channel account: %w", err)
	}
	f.AccountID = acct.ID
	return f, nil
}

// enableRouting turns on automatic assignment for the account (round robin over the agent, not
// limited to available users), so ingest pays for routing as a real installation would. It
// reports false when the server has no routing API.
func enableRouting(ctx context.Context, t *Target, c *http.Client, accountID string, userIDs []int64) (bool, error) {
	err := call(ctx, c, "PUT", t.URL+"/api/v1/channels/"+accountID+"/routing", t.AdminToken, map[string]any{
		"enabled": true, "assign_to": "users_and_teams", "user_ids": userIDs, "team_ids": []int64{},
		"only_available": false, "strategy": "round_robin",
	}, nil)
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) &&
		!strings.Contains(ae.Body, "channel_not_found") {
		return false, nil
	}
	return err == nil, err
}
