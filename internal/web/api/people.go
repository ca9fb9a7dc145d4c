package api

import (
	"encoding/json"
	"github.com/parley-inbox/parley/internal/web/session"
	"net/http"
	"strconv"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

// peopleRoutes: users, teams, inboxes and the audit log.
func peopleRoutes() []Route {
	const small = 64 << 10
	return []Route{
		{Method: http.MethodGet, Pattern: "/api/v1/users", Access: Signed, Handle: listUsers},
		{Method: http.MethodPost, Pattern: "/api/v1/users", Access: Admin, MaxBody: small, Handle: createUser},
		{Method: http.MethodGet, Pattern: "/api/v1/users/{id}", Access: Signed, Handle: getUser},
		{Method: http.MethodPatch, Pattern: "/api/v1/users/{id}", Access: Signed, MaxBody: small, Handle: patchUser},

		{Method: http.MethodGet, Pattern: "/api/v1/teams", Access: Signed, Handle: listTeams},
		{Method: http.MethodPost, Pattern: "/api/v1/teams", Access: Admin, MaxBody: small, Handle: createTeam},
		{Method: http.MethodGet, Pattern: "/api/v1/teams/{id}", Access: Signed, Handle: getTeam},
		{Method: http.MethodPatch, Pattern: "/api/v1/teams/{id}", Access: Admin, MaxBody: small, Handle: patchTeam},
		{Method: http.MethodDelete, Pattern: "/api/v1/teams/{id}", Access: Admin, Handle: deleteTeam},
		{Method: http.MethodPut, Pattern: "/api/v1/teams/{id}/members/{user_id}", Access: Admin, MaxBody: small, Handle: putTeamMember},
		{Method: http.MethodDelete, Pattern: "/api/v1/teams/{id}/members/{user_id}", Access: Admin, Handle: deleteTeamMember},

		{Method: http.MethodGet, Pattern: "/api/v1/inboxes", Access: Signed, Handle: listInboxes},
		{Method: http.MethodPost, Pattern: "/api/v1/inboxes", Access: Admin, MaxBody: small, Handle: createInbox},
		{Method: http.MethodGet, Pattern: "/api/v1/inboxes/{id}", Access: Signed, Scope: ScopeInbox, Handle: getInbox},
		{Method: http.MethodPatch, Pattern: "/api/v1/inboxes/{id}", Access: Admin, MaxBody: small, Handle: patchInbox},
		{Method: http.MethodDelete, Pattern: "/api/v1/inboxes/{id}", Access: Admin, Handle: deleteInbox},

		{Method: http.MethodGet, Pattern: "/api/v1/audit-log", Access: Admin, Handle: listAuditLog},
	}
}

// idCursor reads a cursor made by nextIDCursor: the id of the last row of the previous page.
func idCursor(r *http.Request) (int64, error) {
	c, err := decodeCursor(r)
	if err != nil || c == "" {
		return 0, err
	}
	id, perr := strconv.ParseInt(c, 10, 64)
	if perr != nil || id <= 0 {
		return 0, problem.Field("invalid_cursor", "cursor", "is not a cursor this API returned")
	}
	return id, nil
}

func nextIDCursor(more bool, lastID int64) string {
	if !more {
		return ""
	}
	return encodeCursor(strconv.FormatInt(lastID, 10))
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, problem.Field("invalid_"+name, name, "must be true or false")
}

// Users.

func listUsers(s *Server, w http.ResponseWriter, r *http.Request) error {
	after, err := idCursor(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	withDeactivated, err := boolParam(r, "include_deactivated")
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		return problem.Field("invalid_q", "q", "must be at most 200 characters")
	}
	users, more, err := s.ws().Users(r.Context(), store.UserFilter{Query: q, IncludeDeactivated: withDeactivated, AfterID: after, Limit: n})
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	var last int64
	for i, u := range users {
		out[i] = toUserJSON(u)
		last = u.ID
	}
	writeJSON(w, http.StatusOK, newList(out, nextIDCursor(more, last)))
	return nil
}

func createUser(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
		JobTitle string `json:"job_title"`
		Locale   string `json:"locale"`
		TimeZone string `json:"time_zone"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	u, err := s.ws().CreateUser(r.Context(), caller(r), workspace.NewUser{
		Email: body.Email, Name: body.Name, Role: body.Role, Password: body.Password,
		JobTitle: body.JobTitle, Locale: body.Locale, TimeZone: body.TimeZone,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toUserJSON(u))
	return nil
}

func getUser(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.ws().User(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

func patchUser(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Email           *string `json:"email"`
		Name            *string `json:"name"`
		JobTitle        *string `json:"job_title"`
		AvatarURL       *string `json:"avatar_url"`
		Locale          *string `json:"locale"`
		TimeZone        *string `json:"time_zone"`
		Role            *string `json:"role"`
		Password        *string `json:"password"`
		CurrentPassword string  `json:"current_password"`
		Deactivated     *bool   `json:"deactivated"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	p := workspace.UserPatch{
		Email: body.Email, Name: body.Name, JobTitle: body.JobTitle, AvatarURL: body.AvatarURL,
		Locale: body.Locale, TimeZone: body.TimeZone, Role: body.Role, Password: body.Password,
		CurrentPassword: body.CurrentPassword, Deactivated: body.Deactivated,
	}
	// Changing one's password from a browser keeps that browser signed in.
	if token := session.Token(r); token != "" {
		p.KeepSessionHash = auth.HashToken(token)
	}
	u, err := s.ws().UpdateUser(r.Context(), caller(r), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

// Teams.

type teamMemberJSON struct {
	UserID    int64 `json:"user_id"`
	IsPrimary bool  `json:"is_primary"`
}

type teamJSON struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Members   []teamMemberJSON `json:"members"`
	CreatedAt string           `json:"created_at"`
	UpdatedAt string           `json:"updated_at"`
}

func toTeamJSON(t *workspace.Team) teamJSON {
	out := teamJSON{ID: t.ID, Name: t.Name, Members: make([]teamMemberJSON, len(t.Members)),
		CreatedAt: timeJSON(t.CreatedAt), UpdatedAt: timeJSON(t.UpdatedAt)}
	for i, m := range t.Members {
		out.Members[i] = teamMemberJSON{UserID: m.UserID, IsPrimary: m.IsPrimary}
	}
	return out
}

// memberInput is a membership in a request; is_primary defaults to true (the schema's default).
type memberInput struct {
	UserID    int64 `json:"user_id"`
	IsPrimary *bool `json:"is_primary"`
}

func toMembers(in []memberInput) ([]store.TeamMember, error) {
	out := make([]store.TeamMember, len(in))
	for i, m := range in {
		if m.UserID <= 0 {
			return nil, problem.Field("invalid_member", "members", "each member needs a user_id")
		}
		out[i] = store.TeamMember{UserID: m.UserID, IsPrimary: m.IsPrimary == nil || *m.IsPrimary}
	}
	return out, nil
}

func listTeams(s *Server, w http.ResponseWriter, r *http.Request) error {
	after, err := idCursor(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	teams, more, err := s.ws().Teams(r.Context(), after, n)
	if err != nil {
		return err
	}
	out := make([]teamJSON, len(teams))
	var last int64
	for i, t := range teams {
		out[i] = toTeamJSON(t)
		last = t.ID
	}
	writeJSON(w, http.StatusOK, newList(out, nextIDCursor(more, last)))
	return nil
}

func createTeam(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name    string        `json:"name"`
		Members []memberInput `json:"members"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	members, err := toMembers(body.Members)
	if err != nil {
		return err
	}
	t, err := s.ws().CreateTeam(r.Context(), caller(r), workspace.NewTeam{Name: body.Name, Members: members})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toTeamJSON(t))
	return nil
}

func getTeam(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.ws().Team(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTeamJSON(t))
	return nil
}

func patchTeam(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Name    *string        `json:"name"`
		Members *[]memberInput `json:"members"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	p := workspace.TeamPatch{Name: body.Name}
	if body.Members != nil {
		members, err := toMembers(*body.Members)
		if err != nil {
			return err
		}
		p.Members = &members
	}
	t, err := s.ws().UpdateTeam(r.Context(), caller(r), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTeamJSON(t))
	return nil
}

func deleteTeam(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ws().DeleteTeam(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func putTeamMember(s *Server, w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var body struct {
		IsPrimary *bool `json:"is_primary"`
	}
	// The body is optional: PUT with none makes a primary membership.
	if r.ContentLength != 0 {
		if err := decode(w, r, &body); err != nil {
			return err
		}
	}
	t, err := s.ws().SetTeamMember(r.Context(), caller(r), teamID, userID, body.IsPrimary == nil || *body.IsPrimary)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTeamJSON(t))
	return nil
}

func deleteTeamMember(s *Server, w http.ResponseWriter, r *http.Request) error {
	teamID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := s.ws().RemoveTeamMember(r.Context(), caller(r), teamID, userID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Inboxes.

type inboxJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// ReceivingAddress is the inbox's own address for forwarded mail (EMAIL-1); "" when the
	// server has no email service.
	ReceivingAddress string  `json:"receiving_address"`
	Access           string  `json:"access"`
	UserIDs          []int64 `json:"user_ids"`
	TeamIDs          []int64 `json:"team_ids"`
	CreatedAt        string  `json:"created_at"`
	UpdatedAt        string  `json:"updated_at"`
}

func (s *Server) toInboxJSON(in *store.Inbox) inboxJSON {
	out := inboxJSON{ID: in.ID, Name: in.Name, Access: in.Access, UserIDs: in.UserIDs, TeamIDs: in.TeamIDs,
		CreatedAt: timeJSON(in.CreatedAt), UpdatedAt: timeJSON(in.UpdatedAt)}
	if s.Email != nil {
		out.ReceivingAddress = s.Email.ReceivingAddress(in)
	}
	if out.UserIDs == nil {
		out.UserIDs = []int64{}
	}
	if out.TeamIDs == nil {
		out.TeamIDs = []int64{}
	}
	return out
}

func listInboxes(s *Server, w http.ResponseWriter, r *http.Request) error {
	after, err := idCursor(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	inboxes, more, err := s.ws().Inboxes(r.Context(), caller(r), after, n)
	if err != nil {
		return err
	}
	out := make([]inboxJSON, len(inboxes))
	var last int64
	for i, in := range inboxes {
		out[i] = s.toInboxJSON(in)
		last = in.ID
	}
	writeJSON(w, http.StatusOK, newList(out, nextIDCursor(more, last)))
	return nil
}

func createInbox(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name    string  `json:"name"`
		Access  string  `json:"access"`
		UserIDs []int64 `json:"user_ids"`
		TeamIDs []int64 `json:"team_ids"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in, err := s.ws().CreateInbox(r.Context(), caller(r), workspace.NewInbox{
		Name: body.Name, Access: body.Access, UserIDs: body.UserIDs, TeamIDs: body.TeamIDs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.toInboxJSON(in))
	return nil
}

func getInbox(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.ws().Inbox(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toInboxJSON(in))
	return nil
}

func patchInbox(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Name    *string  `json:"name"`
		Access  *string  `json:"access"`
		UserIDs *[]int64 `json:"user_ids"`
		TeamIDs *[]int64 `json:"team_ids"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in, err := s.ws().UpdateInbox(r.Context(), caller(r), id, workspace.InboxPatch{
		Name: body.Name, Access: body.Access, UserIDs: body.UserIDs, TeamIDs: body.TeamIDs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toInboxJSON(in))
	return nil
}

func deleteInbox(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ws().DeleteInbox(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Audit log.

type auditEntryJSON struct {
	ID         int64           `json:"id"`
	ActorID    *int64          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   *int64          `json:"target_id"`
	Data       json.RawMessage `json:"data"`
	CreatedAt  string          `json:"created_at"`
}

func listAuditLog(s *Server, w http.ResponseWriter, r *http.Request) error {
	before, err := idCursor(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	actorID, err := optionalIDParam(r, "actor_id")
	if err != nil {
		return err
	}
	targetID, err := optionalIDParam(r, "target_id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	entries, more, err := s.ws().AuditLog(r.Context(), caller(r), store.AuditFilter{
		Action: q.Get("action"), ActorID: actorID, TargetType: q.Get("target_type"), TargetID: targetID,
		BeforeID: before, Limit: n,
	})
	if err != nil {
		return err
	}
	out := make([]auditEntryJSON, len(entries))
	var last int64
	for i, e := range entries {
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		out[i] = auditEntryJSON{ID: e.ID, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, Data: data, CreatedAt: timeJSON(e.CreatedAt)}
		last = e.ID
	}
	writeJSON(w, http.StatusOK, newList(out, nextIDCursor(more, last)))
	return nil
}
