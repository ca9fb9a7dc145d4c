package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) settingsAuditRoutes() []route {
	return []route{
		{pattern: "GET /settings/audit", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "audit", s.auditSettings)
		}},
	}
}

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

type auditSettings struct {
	*settingsPage
	Entries []*store.AuditEntry
	People  people
	Users   []*store.User
	// Actor and Action are the filters as given.
	Actor  int64
	Action string
	// Next is the link to the following (older) page, "" on the last.
	Next string
	// Actions are known actions, offered as suggestions for the filter.
	Actions []string
}

// auditActions are the actions the log knows a label for (settings.audit.action.<action>).
var auditActions = []string{
	"user.created", "user.updated", "user.role_changed", "user.deactivated", "user.reactivated",
	"user.password_reset", "user.password_link_issued", "user.password_reset_requested", "user.availability_changed", "user.working_hours_changed", "user.capacity_changed",
	"token.created", "token.revoked", "team.created", "team.updated", "team.deleted", "team.member_added",
	"team.member_updated", "team.member_removed", "inbox.created", "inbox.updated", "inbox.deleted", "inbox.email_filters_changed",
	"channel.routing_changed", "custom_channel.create", "custom_channel.update", "custom_channel.archive",
	"custom_channel.rotate_secret", "custom_channel.account_create", "custom_channel.account_update", "job.retried",
}

func (s *Server) auditSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	q := r.URL.Query()
	d := &auditSettings{settingsPage: sp, Action: strings.TrimSpace(q.Get("action")), Actions: auditActions}
	f := store.AuditFilter{Action: d.Action, Limit: auditPageSize}
	for name, dst := range map[string]*int64{"actor": &f.ActorID, "before": &f.BeforeID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return "", nil, problem.Field("invalid_"+name, name, "must be a number")
			}
			*dst = n
		}
	}
	d.Actor = f.ActorID
	entries, more, err := s.Workspace.AuditLog(r.Context(), user(r), f)
	if err != nil {
		return "", nil, err
	}
	d.Entries = entries
	if more && len(entries) > 0 {
		next := url.Values{}
		if d.Action != "" {
			next.Set("action", d.Action)
		}
		if d.Actor != 0 {
			next.Set("actor", settingsID(d.Actor))
		}
		next.Set("before", settingsID(entries[len(entries)-1].ID))
		d.Next = "/settings/audit?" + next.Encode()
	}
	if d.Users, err = s.allUsers(r.Context(), true); err != nil {
		return "", nil, err
	}
	d.People = indexUsers(d.Users)
	return "settings-audit", d, nil
}

// ActionLabel is an action in words, or the action itself when it has no label.
func (d *auditSettings) ActionLabel(action string) string {
	key := "settings.audit.action." + action
	if l := d.T(key); l != key {
		return l
	}
	return action
}

// Details is an entry's data as compact JSON ("" when there is none).
func (d *auditSettings) Details(e *store.AuditEntry) string {
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, e.Data); err != nil {
		return string(e.Data)
	}
	return b.String()
}

// Paged says whether the page is not the first one.
func (d *auditSettings) Paged() bool {
	return d.Page.Path != "" && strings.Contains(d.Page.Path, "before=")
}
