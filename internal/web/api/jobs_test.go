package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/jobs"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// A job that fails permanently shows up for admins under ?state=failed; after the cause is fixed,
// the retry endpoint queues it again and a worker runs it to done.
func TestJobsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ts := newTestServer(t, s)
		admin, agent := ts.admin(t), ts.agent(t)

		var broken atomic.Bool
		broken.Store(true)
		var calls atomic.Int32
		runner := &jobs.Runner{
			Store: s,
			Log:   slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
			// Only Wake starts work: the retry endpoint must nudge the runner itself.
			PollInterval: time.Hour,
			Handlers: map[string]jobs.Handler{"mail.send": func(ctx context.Context, j *store.Job) error {
				calls.Add(1)
				if broken.Load() {
					return channel.Permanent(errors.New("550 mailbox unavailable"))
				}
				return nil
			}},
		}
		ts.Inbox.WakeJobs = runner.Wake
		runCtx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { _ = runner.Run(runCtx); close(stopped) }()
		t.Cleanup(func() { stop(); <-stopped })

		var mailID, laterID int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if mailID, err = tx.EnqueueJob(ctx, store.NewJob{Kind: "mail.send", OrderingKey: "conversation:1",
				Payload: map[string]string{"to": "pat@example.com"}}); err != nil {
				return err
			}
			laterID, err = tx.EnqueueJob(ctx, store.NewJob{Kind: "report.build", RunAt: store.Now() + time.Hour.Milliseconds()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		runner.Wake()
		waitJobState(t, s, mailID, store.JobFailed)

		mailPath := fmt.Sprintf("/api/v1/jobs/%d", mailID)
		var cursor string
		ts.runScenarios(t, []apiScenario{
			{Name: "signed out", Method: "GET", Path: "/api/v1/jobs", Status: 401},
			{Name: "agent may not list", Method: "GET", Path: "/api/v1/jobs?state=failed", Token: agent.Token,
				Status: 403, Code: "admin_only"},
			{Name: "agent may not read", Method: "GET", Path: mailPath, Token: agent.Token, Status: 403, Code: "admin_only"},
			{Name: "agent may not retry", Method: "POST", Path: mailPath + "/retry", Token: agent.Token,
				Status: 403, Code: "admin_only"},
			{Name: "unknown state", Method: "GET", Path: "/api/v1/jobs?state=stuck", Token: admin.Token,
				Status: 400, Code: "invalid_state"},
			{Name: "failed jobs", Method: "GET", Path: "/api/v1/jobs?state=failed", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					data := listData(t, body)
					if len(data) != 1 {
						t.Fatalf("failed jobs %v", data)
					}
					j := data[0]
					if jsonID(t, j, "id") != mailID || j["kind"] != "mail.send" || j["state"] != "failed" ||
						j["attempts"] != 1.0 || j["max_attempts"] != 12.0 || j["ordering_key"] != "conversation:1" ||
						!strings.Contains(j["last_error"].(string), "550 mailbox unavailable") ||
						j["locked_by"] != "" || j["locked_until"] != nil {
						t.Fatalf("failed job %v", j)
					}
					if p, _ := j["payload"].(map[string]any); p["to"] != "pat@example.com" {
						t.Fatalf("payload %v", j["payload"])
					}
					for _, f := range []string{"run_at", "created_at", "updated_at"} {
						v, _ := j[f].(string)
						if _, err := time.Parse(time.RFC3339, v); err != nil || !strings.HasSuffix(v, "Z") {
							t.Fatalf("%s = %q, want RFC 3339 UTC", f, j[f])
						}
					}
					if body["next_cursor"] != nil {
						t.Fatalf("next_cursor %v on the only page", body["next_cursor"])
					}
				}},
			{Name: "queued jobs of a kind", Method: "GET", Path: "/api/v1/jobs?state=queued&kind=report.build",
				Token: admin.Token, Status: 200, Check: func(t *testing.T, body map[string]any) {
					if data := listData(t, body); len(data) != 1 || jsonID(t, data[0], "id") != laterID {
						t.Fatalf("queued report jobs %v", data)
					}
				}},
			{Name: "no jobs of a kind", Method: "GET", Path: "/api/v1/jobs?kind=nothing", Token: admin.Token, Status: 200,
				Contains: []string{`"data":[]`, `"next_cursor":null`}},
			{Name: "first page", Method: "GET", Path: "/api/v1/jobs?limit=1", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if data := listData(t, body); len(data) != 1 || jsonID(t, data[0], "id") != laterID {
						t.Fatalf("first page %v", data)
					}
					cursor, _ = body["next_cursor"].(string)
					if cursor == "" {
						t.Fatalf("no next_cursor: %v", body)
					}
				}},
			{Name: "bad cursor", Method: "GET", Path: "/api/v1/jobs?cursor=!!", Token: admin.Token,
				Status: 400, Code: "invalid_cursor"},
			{Name: "bad limit", Method: "GET", Path: "/api/v1/jobs?limit=0", Token: admin.Token,
				Status: 400, Code: "invalid_limit"},
			{Name: "one job", Method: "GET", Path: mailPath, Token: admin.Token, Status: 200,
				Contains: []string{`"state":"failed"`, `"pat@example.com"`}},
			{Name: "unknown job", Method: "GET", Path: "/api/v1/jobs/987654321", Token: admin.Token,
				Status: 404, Code: "job_not_found"},
			{Name: "malformed id", Method: "GET", Path: "/api/v1/jobs/abc", Token: admin.Token, Status: 404},
			{Name: "retry a queued job", Method: "POST", Path: fmt.Sprintf("/api/v1/jobs/%d/retry", laterID),
				Token: admin.Token, Status: 409, Code: "job_not_failed"},
			{Name: "retry an unknown job", Method: "POST", Path: "/api/v1/jobs/987654321/retry", Token: admin.Token,
				Status: 404, Code: "job_not_found"},
		})

		second := ts.send(t, testRequest{Method: "GET", Path: "/api/v1/jobs?limit=1&cursor=" + cursor, Token: admin.Token})
		if page := listData(t, decodeObject(t, second.Body.Bytes())); len(page) != 1 || jsonID(t, page[0], "id") != mailID {
			t.Fatalf("second page %s", second.Body.String())
		}

		// The cause is fixed; the admin retries and the worker, woken by the endpoint, runs it.
		broken.Store(false)
		ts.runScenarios(t, []apiScenario{
			{Name: "retry the failed job", Method: "POST", Path: mailPath + "/retry", Token: admin.Token, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if jsonID(t, body, "id") != mailID || body["attempts"] != 0.0 {
						t.Fatalf("retried job %v", body)
					}
					if st := body["state"]; st != "queued" && st != "running" && st != "done" {
						t.Fatalf("state %v after retry", st)
					}
				}},
		})
		j := waitJobState(t, s, mailID, store.JobDone)
		if calls.Load() != 2 || j.Attempts != 1 {
			t.Fatalf("handler calls %d, attempts %d", calls.Load(), j.Attempts)
		}
		ts.runScenarios(t, []apiScenario{
			{Name: "retry a done job", Method: "POST", Path: mailPath + "/retry", Token: admin.Token,
				Status: 409, Code: "job_not_failed"},
			{Name: "the retry is audited", Method: "GET", Path: "/api/v1/audit-log?action=job.retried", Token: admin.Token,
				Status: 200, Check: func(t *testing.T, body map[string]any) {
					data := listData(t, body)
					if len(data) != 1 || jsonID(t, data[0], "actor_id") != admin.ID || jsonID(t, data[0], "target_id") != mailID ||
						data[0]["target_type"] != "job" {
						t.Fatalf("audit entries %v", data)
					}
				}},
		})
	})
}

func waitJobState(t *testing.T, s *store.Store, id int64, state string) *store.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := s.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s, want %s", id, j.State, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
