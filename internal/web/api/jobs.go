package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// jobRoutes lets admins see the durable job queue, above all the jobs that failed for good, and
// put a failed job back in the queue once its cause is fixed.
func jobRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/jobs", Access: Admin, Handle: listJobs},
		{Method: http.MethodGet, Pattern: "/api/v1/jobs/{id}", Access: Admin, Handle: getJob},
		{Method: http.MethodPost, Pattern: "/api/v1/jobs/{id}/retry", Access: Admin, Handle: retryJob},
	}
}

type jobJSON struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	RunAt       string          `json:"run_at"`
	LastError   string          `json:"last_error"`
	OrderingKey string          `json:"ordering_key"`
	LockedBy    string          `json:"locked_by"`
	LockedUntil *string         `json:"locked_until"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
	Payload     json.RawMessage `json:"payload"`
}

func newJobJSON(j *store.Job) jobJSON {
	payload := j.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	return jobJSON{ID: j.ID, Kind: j.Kind, State: j.State, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		RunAt: timeJSON(j.RunAt), LastError: j.LastError, OrderingKey: j.OrderingKey, LockedBy: j.LockedBy,
		LockedUntil: timePtrJSON(j.LockedUntil), CreatedAt: timeJSON(j.CreatedAt), UpdatedAt: timeJSON(j.UpdatedAt),
		Payload: payload}
}

// auditJobRetried is the audit log action of an admin's retry.
const auditJobRetried = "job.retried"

var jobStates = map[string]bool{store.JobQueued: true, store.JobRunning: true, store.JobDone: true, store.JobFailed: true}

func listJobs(s *Server, w http.ResponseWriter, r *http.Request) error {
	before, err := idCursor(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state != "" && !jobStates[state] {
		return problem.Field("invalid_state", "state", "must be queued, running, done or failed")
	}
	// One more than the page tells whether another page follows.
	jobs, err := s.Store.Jobs(r.Context(), state, q.Get("kind"), before, n+1)
	if err != nil {
		return err
	}
	more := len(jobs) > n
	if more {
		jobs = jobs[:n]
	}
	out := make([]jobJSON, len(jobs))
	var last int64
	for i, j := range jobs {
		out[i] = newJobJSON(j)
		last = j.ID
	}
	writeJSON(w, http.StatusOK, newList(out, nextIDCursor(more, last)))
	return nil
}

func getJob(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.Store.Job(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFoundf("job_not_found", "no job %d", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newJobJSON(j))
	return nil
}

func retryJob(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var j *store.Job
	err = s.Store.InTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if j, err = tx.RetryFailedJob(r.Context(), id); err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{"kind": j.Kind, "last_error": j.LastError})
		if err != nil {
			return err
		}
		return tx.AddAuditEntry(r.Context(), &store.AuditEntry{ActorID: &caller(r).ID, Action: auditJobRetried,
			TargetType: "job", TargetID: &j.ID, Data: data})
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem.NotFoundf("job_not_found", "no job %d", id)
	case errors.Is(err, store.ErrConflict):
		return problem.Conflictf("job_not_failed", "only a failed job can be retried; job %d is not failed", id)
	case err != nil:
		return err
	}
	if s.Inbox != nil && s.Inbox.WakeJobs != nil {
		s.Inbox.WakeJobs() // run it now rather than at the next poll
	}
	s.Log.InfoContext(r.Context(), "job retried by an admin", "job_id", j.ID, "kind", j.Kind, "user_id", caller(r).ID)
	writeJSON(w, http.StatusOK, newJobJSON(j))
	return nil
}
