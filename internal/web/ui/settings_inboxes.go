package ui

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/slack"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) settingsInboxRoutes() []route {
	return append([]route{
		{pattern: "GET /settings/inboxes", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "inboxes", s.inboxesSettings)
		}},
		{pattern: "POST /settings/inboxes", admin: true, handle: s.createInbox},
		{pattern: "GET /settings/inboxes/{id}", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "inboxes", s.inboxSettings)
		}},
		{pattern: "POST /settings/inboxes/{id}", admin: true, handle: s.updateInbox},
		{pattern: "POST /settings/inboxes/{id}/email-filters", admin: true, handle: s.setEmailFilters},
		{pattern: "POST /settings/inboxes/{id}/delete", admin: true, handle: s.deleteInbox},
	}, s.slackSettingsRoutes()...)
}

type inboxesSettings struct {
	*settingsPage
	Inboxes []*store.Inbox
	Users   []*store.User
	Teams   []*workspace.Team
	People  people
	TeamsBy map[int64]string
}

func (s *Server) inboxesSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	ctx := r.Context()
	d := &inboxesSettings{settingsPage: sp, TeamsBy: map[int64]string{}}
	var err error
	if d.Inboxes, err = s.allInboxes(ctx, user(r)); err != nil {
		return "", nil, err
	}
	if d.Users, err = s.allUsers(ctx, false); err != nil {
		return "", nil, err
	}
	if d.Teams, err = s.allTeams(ctx); err != nil {
		return "", nil, err
	}
	d.People = indexUsers(d.Users)
	for _, t := range d.Teams {
		d.TeamsBy[t.ID] = t.Name
	}
	return "settings-inboxes", d, nil
}

// AccessSummary names who sees an inbox: everyone, or the people and teams granted.
func (d *inboxesSettings) AccessSummary(in *store.Inbox) string {
	if in.Access == workspace.AccessEveryone {
		return d.T("settings.inboxes.access_everyone")
	}
	var names []string
	for _, id := range in.UserIDs {
		names = append(names, d.People.Name(id))
	}
	for _, id := range in.TeamIDs {
		if n, ok := d.TeamsBy[id]; ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return d.T("settings.inboxes.access_nobody")
	}
	return strings.Join(names, ", ")
}

// inboxAccess reads the access fields of an inbox form.
func inboxAccess(r *http.Request) (access string, users, teams []int64, err error) {
	access = r.PostForm.Get("access")
	if access != workspace.AccessSpecific {
		return access, nil, nil, nil
	}
	if users, err = formIDs(r, "user_ids"); err != nil {
		return
	}
	teams, err = formIDs(r, "team_ids")
	return
}

func (s *Server) createInbox(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	access, users, teams, err := inboxAccess(r)
	if err == nil {
		_, err = s.Workspace.CreateInbox(r.Context(), user(r), workspace.NewInbox{
			Name: r.PostForm.Get("name"), Access: access, UserIDs: users, TeamIDs: teams})
	}
	if err != nil {
		return s.settingsInvalid(w, r, err, "inboxes", "inbox-new", s.inboxesSettings)
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes", "settings.flash.inbox_created", s.inboxesSettings)
}

func (s *Server) updateInbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	access, users, teams, err := inboxAccess(r)
	if err == nil {
		name := r.PostForm.Get("name")
		p := workspace.InboxPatch{Name: &name, Access: &access}
		if access == workspace.AccessSpecific {
			p.UserIDs, p.TeamIDs = &users, &teams
		}
		_, err = s.Workspace.UpdateInbox(r.Context(), user(r), id, p)
	}
	if err != nil {
		return s.settingsInvalid(w, r, err, "inboxes", "inbox-"+settingsID(id), s.inboxesSettings)
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes", "settings.flash.inbox_saved", s.inboxesSettings)
}

func (s *Server) deleteInbox(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := s.Workspace.DeleteInbox(r.Context(), user(r), id); err != nil {
		return err
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes", "settings.flash.inbox_deleted", s.inboxesSettings)
}

// inboxSettings is one inbox's own page: its email allow and deny lists (SPEC EMAIL-6) and
// its Slack mirror of live chats (CHAT-13, settings_slack.go).
type inboxSettings struct {
	*settingsPage
	Inbox   *store.Inbox
	Filters *store.EmailFilters
	Slack   *slack.View // nil on a server without the Slack mirror
}

func (s *Server) inboxSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	id, err := pathInt(r, "id")
	if err != nil {
		return "", nil, err
	}
	d := &inboxSettings{settingsPage: sp}
	if d.Inbox, err = s.Workspace.Inbox(r.Context(), user(r), id); err != nil {
		return "", nil, err
	}
	if d.Filters, err = s.Inbox.EmailFilters(r.Context(), user(r), id); err != nil {
		return "", nil, err
	}
	if d.Slack, err = s.inboxSlack(r.Context(), user(r), id); err != nil {
		return "", nil, err
	}
	return "settings-inbox", d, nil
}

// AllowText and DenyText are the lists as their text areas show them: one entry per line.
func (d *inboxSettings) AllowText() string { return strings.Join(d.Filters.Allow, "\n") }
func (d *inboxSettings) DenyText() string  { return strings.Join(d.Filters.Deny, "\n") }

// filterLines splits a text area into its lines, blank ones kept so that the domain's index of
// a bad entry is its line.
func filterLines(text string) []string {
	return strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
}

// badEntryField reads the domain's field of a bad list entry: "allow[3]" is line 4 of allow.
var badEntryField = regexp.MustCompile(`^(allow|deny)\[([0-9]+)\]$`)

func (s *Server) setEmailFilters(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	lines := map[string][]string{"allow": filterLines(r.PostForm.Get("allow")), "deny": filterLines(r.PostForm.Get("deny"))}
	_, err = s.Inbox.SetEmailFilters(r.Context(), user(r), id, lines["allow"], lines["deny"])
	if err != nil {
		return s.settingsInvalid(w, r, s.namedBadEntry(r, err, lines), "inboxes", "email-filters", s.inboxSettings)
	}
	return s.settingsDone(w, r, "inboxes", "/settings/inboxes/"+settingsID(id), "settings.flash.email_filters_saved", s.inboxSettings)
}

// namedBadEntry puts a refused entry's line and text into the message next to its text area,
// in the reader's language; the domain names it by its index in the list.
func (s *Server) namedBadEntry(r *http.Request, err error, lines map[string][]string) error {
	p, ok := problem.As(err)
	if !ok || p.Code != "invalid_email_filter" {
		return err
	}
	for field := range p.Fields {
		m := badEntryField.FindStringSubmatch(field)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[2]) // the pattern holds digits only
		if i >= len(lines[m[1]]) {
			continue
		}
		msg := s.lang(r, user(r)).T("settings.inbox.filters.invalid", i+1, strings.TrimSpace(lines[m[1]][i]))
		// A code without a message of its own, so the form shows this one.
		return &problem.Error{Kind: p.Kind, Code: "settings_invalid_email_filter", Detail: p.Detail, Fields: map[string]string{m[1]: msg}}
	}
	return err
}
