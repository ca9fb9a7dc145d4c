package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) settingsTeamRoutes() []route {
	return []route{
		{pattern: "GET /settings/teams", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "teams", s.teamsSettings)
		}},
		{pattern: "POST /settings/teams", admin: true, handle: s.createTeam},
		{pattern: "POST /settings/teams/{id}", admin: true, handle: s.renameTeam},
		{pattern: "POST /settings/teams/{id}/delete", admin: true, handle: s.deleteTeam},
		{pattern: "POST /settings/teams/{id}/members", admin: true, handle: s.setTeamMember},
		{pattern: "POST /settings/teams/{id}/members/{user}/delete", admin: true, handle: s.removeTeamMember},
	}
}

type teamsSettings struct {
	*settingsPage
	Teams  []*workspace.Team
	Users  []*store.User
	People people
}

func (s *Server) teamsSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &teamsSettings{settingsPage: sp}
	var err error
	if d.Teams, err = s.allTeams(r.Context()); err != nil {
		return "", nil, err
	}
	if d.Users, err = s.allUsers(r.Context(), false); err != nil {
		return "", nil, err
	}
	d.People = indexUsers(d.Users)
	return "settings-teams", d, nil
}

// NonMembers lists the active users who are not in t, for its "add member" picker.
func (d *teamsSettings) NonMembers(t *workspace.Team) []*store.User {
	in := map[int64]bool{}
	for _, m := range t.Members {
		in[m.UserID] = true
	}
	var out []*store.User
	for _, u := range d.Users {
		if !in[u.ID] {
			out = append(out, u)
		}
	}
	return out
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.Workspace.CreateTeam(r.Context(), user(r), workspace.NewTeam{Name: r.PostForm.Get("name")}); err != nil {
		return s.settingsInvalid(w, r, err, "teams", "team-new", s.teamsSettings)
	}
	return s.settingsDone(w, r, "teams", "/settings/teams", "settings.flash.team_created", s.teamsSettings)
}

func (s *Server) renameTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	if _, err := s.Workspace.UpdateTeam(r.Context(), user(r), id, workspace.TeamPatch{Name: &name}); err != nil {
		return s.settingsInvalid(w, r, err, "teams", "team-"+settingsID(id), s.teamsSettings)
	}
	return s.settingsDone(w, r, "teams", "/settings/teams", "settings.flash.team_saved", s.teamsSettings)
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := s.Workspace.DeleteTeam(r.Context(), user(r), id); err != nil {
		return err
	}
	return s.settingsDone(w, r, "teams", "/settings/teams", "settings.flash.team_deleted", s.teamsSettings)
}

// setTeamMember adds a member or changes whether the membership is their primary team.
func (s *Server) setTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	uid, err := formIDs(r, "user_id")
	if err == nil && len(uid) != 1 {
		err = fieldRequired("user_id")
	}
	if err == nil {
		_, err = s.Workspace.SetTeamMember(r.Context(), user(r), id, uid[0], r.PostForm.Get("primary") == "on")
	}
	if err != nil {
		return s.settingsInvalid(w, r, err, "teams", "members-"+settingsID(id), s.teamsSettings)
	}
	return s.settingsDone(w, r, "teams", "/settings/teams", "settings.flash.team_saved", s.teamsSettings)
}

func (s *Server) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathInt(r, "user")
	if err != nil {
		return err
	}
	if err := s.Workspace.RemoveTeamMember(r.Context(), user(r), id, uid); err != nil {
		return err
	}
	return s.settingsDone(w, r, "teams", "/settings/teams", "settings.flash.member_removed", s.teamsSettings)
}
