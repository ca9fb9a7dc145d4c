package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) settingsUserRoutes() []route {
	return []route{
		{pattern: "GET /settings/users", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "users", s.usersSettings)
		}},
		{pattern: "POST /settings/users", admin: true, handle: s.inviteUser},
		{pattern: "POST /settings/users/{id}/role", admin: true, handle: s.changeRole},
		{pattern: "POST /settings/users/{id}/deactivate", admin: true, handle: s.setDeactivated(true)},
		{pattern: "POST /settings/users/{id}/reactivate", admin: true, handle: s.setDeactivated(false)},
		{pattern: "POST /settings/users/{id}/link", admin: true, handle: s.newPasswordLink},
		// A person's own page is open to them too: availability and working hours are theirs to
		// set (the domain allows it); capacity stays with admins.
		{pattern: "GET /settings/users/{id}", handle: s.showUserSettings},
		{pattern: "POST /settings/users/{id}/availability", handle: s.setUserAvailability},
		{pattern: "POST /settings/users/{id}/hours", handle: s.setUserHours},
		{pattern: "POST /settings/users/{id}/capacity", admin: true, handle: s.setUserCapacity},
	}
}

// roles are the roles a user may have, most powerful first.
var roles = []string{workspace.RoleOwner, workspace.RoleAdmin, workspace.RoleAgent}

type usersSettings struct {
	*settingsPage
	Users []*store.User
	Avail map[int64]*store.Availability
	Roles []string
	// Invite is the one-time link of a user just invited (or given a new link), shown once.
	Invite *passwordLink
}

// passwordLink is a "set your password" link for a user.
type passwordLink struct {
	User *store.User
	URL  string
}

func (s *Server) usersSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &usersSettings{settingsPage: sp, Roles: roles}
	var err error
	if d.Users, err = s.allUsers(r.Context(), true); err != nil {
		return "", nil, err
	}
	ids := make([]int64, len(d.Users))
	for i, u := range d.Users {
		ids[i] = u.ID
	}
	if d.Avail, err = s.Store.Availabilities(r.Context(), ids); err != nil {
		return "", nil, err
	}
	return "settings-users", d, nil
}

// Away says whether a user counts as away now: set away, or outside their working hours.
func (d *usersSettings) Away(id int64) bool {
	a := d.Avail[id]
	if a == nil {
		return false
	}
	if a.Status != inbox.StatusAvailable {
		return true
	}
	return outsideHours(a.WorkingHours)
}

// OutsideHours says whether a user who is available is away only because of their schedule.
func (d *usersSettings) OutsideHours(id int64) bool {
	a := d.Avail[id]
	return a != nil && a.Status == inbox.StatusAvailable && outsideHours(a.WorkingHours)
}

func outsideHours(raw []byte) bool {
	if raw == nil {
		return false
	}
	w, err := routing.ParseWorkingHours(raw)
	return err == nil && !w.Inside(time.Now())
}

// issueLink returns a new one-time "set your password" link for u.
func (s *Server) issueLink(r *http.Request, u *store.User) (*passwordLink, error) {
	token, err := s.Workspace.IssuePasswordLink(r.Context(), user(r), u.ID)
	if err != nil {
		return nil, err
	}
	return &passwordLink{User: u, URL: strings.TrimRight(s.BaseURL, "/") + "/reset?token=" + url.QueryEscape(token)}, nil
}

// inviteUser creates a user without a password and shows the link that lets them set one.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := s.Workspace.CreateUser(r.Context(), user(r), workspace.NewUser{
		Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Role: r.PostForm.Get("role")})
	if err != nil {
		return s.settingsInvalid(w, r, err, "users", "user-new", s.usersSettings)
	}
	return s.showLink(w, r, u, "settings.flash.user_invited")
}

// newPasswordLink issues a fresh link for an existing user (a lost invitation, a forgotten password).
func (s *Server) newPasswordLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Workspace.User(r.Context(), id)
	if err != nil {
		return err
	}
	return s.showLink(w, r, u, "settings.flash.link_created")
}

// showLink renders the users page with u's new link. It is rendered, never redirected to,
// since the link exists only in this answer.
func (s *Server) showLink(w http.ResponseWriter, r *http.Request, u *store.User, flash string) error {
	link, err := s.issueLink(r, u)
	if err != nil {
		return err
	}
	sp := s.newSettingsPage(r, "users")
	sp.Flash = sp.T(flash)
	_, data, err := s.usersSettings(r, sp)
	if err != nil {
		return err
	}
	d := data.(*usersSettings)
	d.Invite = link
	if isHTMX(r) {
		w.Header().Set("HX-Replace-Url", "/settings/users")
	}
	return s.render(w, r, http.StatusOK, "settings-users", d)
}

func (s *Server) changeRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	role := r.FormValue("role")
	if _, err := s.Workspace.UpdateUser(r.Context(), user(r), id, workspace.UserPatch{Role: &role}); err != nil {
		return err
	}
	return s.settingsDone(w, r, "users", "/settings/users", "settings.flash.role_changed", s.usersSettings)
}

func (s *Server) setDeactivated(deactivate bool) func(w http.ResponseWriter, r *http.Request) error {
	flash := "settings.flash.user_reactivated"
	if deactivate {
		flash = "settings.flash.user_deactivated"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.Workspace.UpdateUser(r.Context(), user(r), id, workspace.UserPatch{Deactivated: &deactivate}); err != nil {
			return err
		}
		return s.settingsDone(w, r, "users", "/settings/users", flash, s.usersSettings)
	}
}

// userSettings is one person's page: availability, working hours and capacity.
type userSettings struct {
	*settingsPage
	Person    *store.User
	Avail     *inbox.Availability
	Hours     *routing.WorkingHours
	Capacity  *inbox.Capacity
	Days      []string
	SetByName string
	// CanEditCapacity is true for admins; people see their own limits but do not set them.
	CanEditCapacity bool
}

// mayManage allows admins to manage anyone and everyone else themselves.
func mayManage(r *http.Request, id int64) error {
	u := user(r)
	if u.IsAdmin() || u.ID == id {
		return nil
	}
	return errAdminOnly
}

func (s *Server) userSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	id, err := pathInt(r, "id")
	if err != nil {
		return "", nil, err
	}
	if err := mayManage(r, id); err != nil {
		return "", nil, err
	}
	ctx, me := r.Context(), user(r)
	d := &userSettings{settingsPage: sp, Days: routing.Days, CanEditCapacity: me.IsAdmin()}
	if d.Person, err = s.Workspace.User(ctx, id); err != nil {
		return "", nil, err
	}
	if d.Avail, err = s.Inbox.Availability(ctx, me, id); err != nil {
		return "", nil, err
	}
	d.Hours = d.Avail.WorkingHours
	if d.Capacity, err = s.Inbox.Capacity(ctx, me, id); err != nil {
		return "", nil, err
	}
	if by := d.Avail.SetBy; by != nil && *by != id {
		if u, err := s.Workspace.User(ctx, *by); err == nil {
			d.SetByName = u.Name
		}
	}
	d.Title = sp.T("settings.title") + " · " + d.Person.Name
	return "settings-user", d, nil
}

func (s *Server) showUserSettings(w http.ResponseWriter, r *http.Request) error {
	return s.showSettings(w, r, "users", s.userSettings)
}

func (s *Server) userPath(r *http.Request) string { return "/settings/users/" + r.PathValue("id") }

func (s *Server) setUserAvailability(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	status := r.FormValue("status")
	if _, err := s.Inbox.SetAvailability(r.Context(), user(r), id, status); err != nil {
		return s.settingsInvalid(w, r, err, "users", "availability", s.userSettings)
	}
	return s.settingsDone(w, r, "users", s.userPath(r), "settings.flash.availability_saved", s.userSettings)
}

// Intervals are a day's intervals as the form shows them: at least one row, blank for a day off.
func (d *userSettings) Intervals(day string) []routing.Interval {
	if d.Form.Name == "hours" {
		starts, ends := d.Form.Values[day+"_start"], d.Form.Values[day+"_end"]
		var out []routing.Interval
		for i := range starts {
			iv := routing.Interval{Start: starts[i]}
			if i < len(ends) {
				iv.End = ends[i]
			}
			out = append(out, iv)
		}
		if len(out) > 0 {
			return out
		}
	}
	list := d.Hours.Days[day]
	if len(list) == 0 {
		return []routing.Interval{{}}
	}
	return list
}

// HoursEnabled says whether the schedule is on, as submitted when the form failed.
func (d *userSettings) HoursEnabled() bool {
	return d.Checked("hours", "enabled", "on", d.Hours.Enabled)
}

// shift is one row of a day's schedule in a form.
type shift struct{ start, end string }

// formShifts reads a day's rows of start and end times (repeated for a split shift); a row
// with both times blank is no shift.
func formShifts(starts, ends []string) []shift {
	var out []shift
	for i, start := range starts {
		end := ""
		if i < len(ends) {
			end = ends[i]
		}
		start, end = strings.TrimSpace(start), strings.TrimSpace(end)
		if start == "" && end == "" {
			continue
		}
		// A time input cannot say 24:00; its last minute stands for the end of the day.
		if end == "23:59" {
			end = "24:00"
		}
		out = append(out, shift{start, end})
	}
	return out
}

// hoursFromForm reads the weekly schedule: per day <day>_start and <day>_end, repeated for a
// split shift; a row with both times blank is no interval.
func hoursFromForm(r *http.Request) routing.WorkingHours {
	w := routing.WorkingHours{Enabled: r.PostForm.Get("enabled") == "on",
		TimeZone: strings.TrimSpace(r.PostForm.Get("time_zone")), Days: map[string][]routing.Interval{}}
	for _, day := range routing.Days {
		for _, sh := range formShifts(r.PostForm[day+"_start"], r.PostForm[day+"_end"]) {
			w.Days[day] = append(w.Days[day], routing.Interval{Start: sh.start, End: sh.end})
		}
	}
	return w
}

func (s *Server) setUserHours(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := mayManage(r, id); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.Inbox.SetWorkingHours(r.Context(), user(r), id, hoursFromForm(r)); err != nil {
		return s.settingsInvalid(w, r, err, "users", "hours", s.userSettings)
	}
	return s.settingsDone(w, r, "users", s.userPath(r), "settings.flash.hours_saved", s.userSettings)
}

// capacityFields are the capacity form's fields, named like the domain's.
var capacityFields = []string{"total", "messaging", "email", "calls"}

func (s *Server) setUserCapacity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	var l routing.Limits
	dst := map[string]**int64{"total": &l.Total, "messaging": &l.Messaging, "email": &l.Email, "calls": &l.Calls}
	for _, f := range capacityFields {
		v := strings.TrimSpace(r.PostForm.Get(f))
		if v == "" {
			continue
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return s.settingsInvalid(w, r, problem.Field("invalid_capacity", f, "must be a whole number, or empty for no limit"),
				"users", "capacity", s.userSettings)
		}
		*dst[f] = &n
	}
	if _, err := s.Inbox.SetCapacity(r.Context(), user(r), id, l); err != nil {
		return s.settingsInvalid(w, r, err, "users", "capacity", s.userSettings)
	}
	return s.settingsDone(w, r, "users", s.userPath(r), "settings.flash.capacity_saved", s.userSettings)
}

// Limit is a capacity limit as the form shows it.
func (d *userSettings) Limit(field string) *int64 {
	switch field {
	case "total":
		return d.Capacity.Limits.Total
	case "messaging":
		return d.Capacity.Limits.Messaging
	case "email":
		return d.Capacity.Limits.Email
	case "calls":
		return d.Capacity.Limits.Calls
	}
	return nil
}

// Open is the number of open conversations counting against a capacity field.
func (d *userSettings) Open(field string) int64 {
	if field == "total" {
		return d.Capacity.OpenTotal
	}
	return d.Capacity.OpenByCategory[field]
}
