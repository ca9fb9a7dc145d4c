package ui

import (
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) settingsInboxRoutes() []route {
	return []route{
		{pattern: "GET /settings/inboxes", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "inboxes", s.inboxesSettings)
		}},
		{pattern: "POST /settings/inboxes", admin: true, handle: s.createInbox},
		{pattern: "POST /settings/inboxes/{id}", admin: true, handle: s.updateInbox},
		{pattern: "POST /settings/inboxes/{id}/delete", admin: true, handle: s.deleteInbox},
	}
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
