package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Admin settings (issue 4 item 7): one page per section under /settings with the settings
// navigation on the left. Every page is templates/pages/settings-<section>.html and renders
// its section into the block "settings-main", which is what the section's forms ask htmx for:
// a form posts, and the answer is the section again — with the change and a toast, or with
// the form's values and its errors next to the fields (422). Without htmx the same forms work
// as plain posts: success redirects back with ?flash=, an error renders the whole page.
//
// The sections live in settings_<section>.go. All changes go through the domain (workspace,
// inbox, custom channels), which also decides who may do what; the routes are admin-only
// except a person's own page at /settings/users/{id}.

func (s *Server) settingsRoutes() []route {
	rts := []route{
		{pattern: "GET /settings", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			redirect(w, r, "/settings/inboxes")
			return nil
		}},
	}
	rts = append(rts, s.settingsInboxRoutes()...)
	rts = append(rts, s.settingsUserRoutes()...)
	rts = append(rts, s.settingsTeamRoutes()...)
	rts = append(rts, s.settingsRoutingRoutes()...)
	rts = append(rts, s.settingsChannelRoutes()...)
	rts = append(rts, s.settingsTokenRoutes()...)
	rts = append(rts, s.settingsAuditRoutes()...)
	return rts
}

// settingsSections is the settings navigation, in order; each is /settings/<name>.
var settingsSections = []string{"inboxes", "users", "teams", "routing", "email", "chat", "bots", "channels", "tokens", "audit"}

// settingsPage is what every settings page has besides its section's data.
type settingsPage struct {
	*Page
	// Area is the section shown, for the navigation's current marker.
	Area string
	// Sections lists the navigation's sections (agents on their own page see none).
	Sections []string
	// Fragment is set when only #settings-main is rendered (htmx): the flash toast then goes
	// out of band into #toasts, since the layout that shows it is not rendered.
	Fragment bool
	// Form holds the values and errors of the form that failed, to show them again.
	Form formState
}

// formState is a submitted form that the domain refused.
type formState struct {
	// Name says which form of the page the values and errors belong to ("inbox-new", "inbox-7").
	Name   string
	Values url.Values
	// Errors maps a field name (the domain's, e.g. "name", "user_ids") to its message.
	Errors map[string]string
	// Error is a message for the whole form, when the problem names no field.
	Error string
}

func (s *Server) newSettingsPage(r *http.Request, area string) *settingsPage {
	p := s.page(r, "", "settings")
	sp := &settingsPage{Page: p, Area: area, Fragment: isHTMX(r) && r.Header.Get("HX-Target") == "settings-main"}
	if u := user(r); u != nil && u.IsAdmin() {
		sp.Sections = settingsSections
	}
	sp.Title = p.T("settings.title") + " · " + p.T("settings.nav."+area)
	return sp
}

// Err is the error message of field in form (or of any sub-field, "days.mon[0].start" for
// "days.mon"), or "".
func (p *settingsPage) Err(form, field string) string {
	if p.Form.Name != form {
		return ""
	}
	if m, ok := p.Form.Errors[field]; ok {
		return m
	}
	keys := make([]string, 0, len(p.Form.Errors))
	for k := range p.Form.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, field+".") || strings.HasPrefix(k, field+"[") {
			return p.Form.Errors[k]
		}
	}
	return ""
}

// FormError is the form-level message of form, or "".
func (p *settingsPage) FormError(form string) string {
	if p.Form.Name != form {
		return ""
	}
	return p.Form.Error
}

// Val is the submitted value of field when form failed, else def: a refused form shows what
// was typed, not what is stored.
func (p *settingsPage) Val(form, field string, def any) string {
	if p.Form.Name == form && p.Form.Values != nil {
		if _, ok := p.Form.Values[field]; ok {
			return p.Form.Values.Get(field)
		}
	}
	switch v := def.(type) {
	case nil:
		return ""
	case *int64:
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	return fmt.Sprint(def)
}

// Checked says whether a checkbox or radio (field=value) is on: as submitted when form
// failed, else def.
func (p *settingsPage) Checked(form, field, value string, def bool) bool {
	if p.Form.Name == form && p.Form.Values != nil {
		for _, v := range p.Form.Values[field] {
			if v == value {
				return true
			}
		}
		return false
	}
	return def
}

// Picked says whether id is among the ids a multi-select or checkbox list shows as chosen.
func (p *settingsPage) Picked(form, field string, id int64, def []int64) bool {
	if p.Form.Name == form && p.Form.Values != nil {
		return p.Checked(form, field, strconv.FormatInt(id, 10), false)
	}
	for _, v := range def {
		if v == id {
			return true
		}
	}
	return false
}

// When formats a Unix millisecond time in the viewer's time zone ("" for 0 or nil).
func (p *settingsPage) When(ms any) string {
	v := millis(ms)
	if v == 0 {
		return ""
	}
	return time.UnixMilli(v).In(p.Loc).Format("2006-01-02 15:04")
}

// ISOTime is the machine-readable time of a <time datetime> attribute.
func (p *settingsPage) ISOTime(ms any) string {
	return time.UnixMilli(millis(ms)).UTC().Format(time.RFC3339)
}

// millis reads a template's time value: unix milliseconds as int64 or *int64 (nil is 0).
func millis(ms any) int64 {
	switch x := ms.(type) {
	case int64:
		return x
	case *int64:
		if x != nil {
			return *x
		}
	}
	return 0
}

// builder loads a settings section for the request and names its page template.
type builder func(r *http.Request, sp *settingsPage) (page string, data any, err error)

// showSettings renders a section page (or its #settings-main block for htmx).
func (s *Server) showSettings(w http.ResponseWriter, r *http.Request, area string, b builder) error {
	return s.showBuilt(w, r, http.StatusOK, s.newSettingsPage(r, area), b)
}

// showBuilt renders the page b builds for sp with status: 422 for a form shown again with its
// complaints.
func (s *Server) showBuilt(w http.ResponseWriter, r *http.Request, status int, sp *settingsPage, b builder) error {
	page, data, err := b(r, sp)
	if err != nil {
		return err
	}
	return s.render(w, r, status, page, data)
}

// fixable is err as a problem the person can fix in the form: bad input, a clash, or a field
// naming something that is gone. Anything else is not the form's to show.
func fixable(err error) (*problem.Error, bool) {
	p, ok := problem.As(err)
	if !ok || (p.Kind != problem.Invalid && p.Kind != problem.Conflict && !(p.Kind == problem.NotFound && len(p.Fields) > 0)) {
		return nil, false
	}
	return p, true
}

// settingsDone answers a successful change: htmx gets the section again with a toast; a plain
// post is redirected to path with the toast in ?flash=.
func (s *Server) settingsDone(w http.ResponseWriter, r *http.Request, area, path, flash string, b builder) error {
	if !isHTMX(r) || r.Header.Get("HX-Target") != "settings-main" {
		target := path
		if flash != "" {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			target += sep + "flash=" + url.QueryEscape(flash)
		}
		redirect(w, r, target)
		return nil
	}
	sp := s.newSettingsPage(r, area)
	sp.Flash = sp.T(flash)
	page, data, err := b(r, sp)
	if err != nil {
		return err
	}
	// The address bar shows the section, not the action that was posted.
	w.Header().Set("HX-Replace-Url", path)
	return s.render(w, r, http.StatusOK, page, data)
}

// settingsInvalid shows the section again with form's values and the domain's complaint when
// err is something the person can fix (bad input, a clash); anything else is returned to be
// shown as an error toast or page.
func (s *Server) settingsInvalid(w http.ResponseWriter, r *http.Request, err error, area, form string, b builder) error {
	p, ok := fixable(err)
	if !ok {
		return err
	}
	sp := s.newSettingsPage(r, area)
	sp.Form = formState{Name: form, Values: r.PostForm, Errors: map[string]string{}}
	// Field messages first from this area's own strings, then the app's error strings.
	msg, translated := sp.T("settings.error."+p.Code), true
	if msg == "settings.error."+p.Code {
		msg = sp.T("error." + p.Code)
		translated = msg != "error."+p.Code
	}
	fields := p.Fields
	if f, ok := codeFields[p.Code]; ok && len(fields) == 0 {
		fields = map[string]string{f: p.Detail}
	}
	for field, m := range fields {
		if translated {
			sp.Form.Errors[field] = msg
		} else {
			sp.Form.Errors[field] = m
		}
	}
	if len(fields) == 0 {
		if translated {
			sp.Form.Error = msg
		} else {
			sp.Form.Error = p.Detail
		}
	}
	return s.showBuilt(w, r, http.StatusUnprocessableEntity, sp, b)
}

// codeFields names the field of problems that name none but clearly belong to one.
var codeFields = map[string]string{"email_taken": "email", "team_name_taken": "name"}

// formIDs reads a list of ids (checkboxes or a multi-select); anything not a positive number
// is a field error.
func formIDs(r *http.Request, field string) ([]int64, error) {
	var ids []int64
	for _, v := range r.PostForm[field] {
		if v == "" {
			continue
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, problem.Field("invalid_id", field, "must be a list of ids")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// parseForm reads the posted form so PostForm is set for formState.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return problem.Invalidf("invalid_form", "the form could not be read")
	}
	return nil
}

// pathInt parses a numeric path value; anything else names no page.
func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFoundf("not_found", "no such page")
	}
	return id, nil
}

// maxSettingsList bounds the people and teams a settings page lists in full (pickers, tables).
const maxSettingsList = 1000

// allPages reads a keyset-paged list to its end, up to maxSettingsList items: fetch returns the
// page after an id and whether more follow.
func allPages[T any](fetch func(after int64) ([]T, bool, error), id func(T) int64) ([]T, error) {
	var out []T
	var after int64
	for len(out) < maxSettingsList {
		page, more, err := fetch(after)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			break
		}
		after = id(page[len(page)-1])
	}
	return out, nil
}

// allUsers lists users in id order (deactivated ones too when asked), up to maxSettingsList.
func (s *Server) allUsers(ctx context.Context, deactivated bool) ([]*store.User, error) {
	return allPages(func(after int64) ([]*store.User, bool, error) {
		return s.Workspace.Users(ctx, store.UserFilter{IncludeDeactivated: deactivated, AfterID: after, Limit: 200})
	}, func(u *store.User) int64 { return u.ID })
}

// allTeams lists teams with their members, up to maxSettingsList.
func (s *Server) allTeams(ctx context.Context) ([]*workspace.Team, error) {
	return allPages(func(after int64) ([]*workspace.Team, bool, error) {
		return s.Workspace.Teams(ctx, after, 200)
	}, func(t *workspace.Team) int64 { return t.ID })
}

// allInboxes lists the inboxes viewer may see (admins: all), up to maxSettingsList.
func (s *Server) allInboxes(ctx context.Context, viewer *store.User) ([]*store.Inbox, error) {
	return allPages(func(after int64) ([]*store.Inbox, bool, error) {
		return s.Workspace.Inboxes(ctx, viewer, after, 200)
	}, func(i *store.Inbox) int64 { return i.ID })
}

// people indexes users by id, for names in tables.
type people map[int64]*store.User

func indexUsers(us []*store.User) people {
	m := make(people, len(us))
	for _, u := range us {
		m[u.ID] = u
	}
	return m
}

// Name is the user's name, or "#id" for one not loaded.
func (p people) Name(id int64) string {
	if u, ok := p[id]; ok {
		return u.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

func settingsID(n int64) string { return strconv.FormatInt(n, 10) }

// fieldRequired is the problem of a required field left empty.
func fieldRequired(field string) error { return problem.Field("required", field, "is required") }
