package ui

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/workspace"
)

// The signed-in person's own page: profile details, password, appearance, two-factor sign-in,
// personal API tokens, and the header's availability toggle. Every change goes through the
// workspace with the person as actor, so they can only ever change themselves.

func (s *Server) profileRoutes() []route {
	return []route{
		{pattern: "GET /profile", handle: s.showProfile},
		{pattern: "POST /profile", handle: s.saveProfile},
		{pattern: "POST /profile/password", handle: s.changePassword},
		{pattern: "POST /profile/totp", handle: s.startTOTP},
		{pattern: "POST /profile/totp/confirm", handle: s.confirmTOTP},
		{pattern: "POST /profile/totp/recovery", handle: s.renewRecoveryCodes},
		{pattern: "POST /profile/totp/disable", handle: s.disableTOTP},
		{pattern: "POST /profile/tokens", handle: s.createOwnToken},
		{pattern: "POST /profile/tokens/{id}/revoke", handle: s.revokeOwnToken},
		{pattern: "GET /profile/availability", handle: s.showAvailability},
		{pattern: "POST /profile/availability", handle: s.setAvailability},
	}
}

// profileForm is the details form as typed, so a rejected form keeps the input.
type profileForm struct {
	Name, JobTitle, AvatarURL, Locale, TimeZone string
}

type profilePage struct {
	*Page
	Form        profileForm
	Languages   []LanguageOption
	TimeZones   []string
	MinPassword int
	// Errors holds a message per form ("details", "password", "totp", "tokens") and per field
	// ("name", "avatar_url", …).
	Errors map[string]string

	TOTP   *workspace.TOTPStatus
	TOTPQR template.URL // data: URL of the pending enrolment's QR code
	// RecoveryCodes are shown once, right after they were made.
	RecoveryCodes []string

	Tokens []*store.APIToken
	// NewToken is a token's secret, shown once, right after it was created.
	NewToken     string
	NewTokenName string
}

// Date shows a time (unix milliseconds) in the person's time zone.
func (p *profilePage) Date(ms int64) string {
	return time.UnixMilli(ms).In(p.Loc).Format("2006-01-02 15:04")
}

// Err returns the message for a form or field, or "".
func (p *profilePage) Err(key string) string { return p.Errors[key] }

func (s *Server) profilePage(r *http.Request) (*profilePage, error) {
	u := user(r)
	pg := s.page(r, "", "profile")
	pg.Title = pg.T("profile.title")
	p := &profilePage{
		Page:        pg,
		Form:        profileForm{Name: u.Name, JobTitle: u.JobTitle, AvatarURL: u.AvatarURL, Locale: pg.Lang.Code, TimeZone: u.TimeZone},
		Languages:   LanguageOptions(),
		TimeZones:   timeZones,
		MinPassword: auth.MinPasswordLength,
		Errors:      map[string]string{},
	}
	var err error
	if p.TOTP, err = s.Workspace.TOTP(r.Context(), u); err != nil {
		return nil, err
	}
	if p.TOTP.Pending != nil {
		png, err := p.TOTP.Pending.QRCode(200)
		if err != nil {
			return nil, err
		}
		// A data: URL built here from our own PNG bytes; html/template would refuse it otherwise.
		p.TOTPQR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	if p.Tokens, err = s.Workspace.Tokens(r.Context(), u, u.ID); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Server) showProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.profilePage(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "profile", p)
}

// invalid re-renders the page with err's message under form (and its field, if it names one),
// or returns err when it is not a problem with the input.
func (s *Server) profileInvalid(w http.ResponseWriter, r *http.Request, p *profilePage, form string, err error) error {
	e, ok := problem.As(err)
	if !ok || e.Kind == problem.Internal {
		return err
	}
	msg := s.message(p.Page, "profile.error.", e)
	p.Errors[form] = msg
	for f := range e.Fields {
		p.Errors[f] = msg
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "profile", p)
}

func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	f := profileForm{
		Name:      strings.TrimSpace(r.FormValue("name")),
		JobTitle:  strings.TrimSpace(r.FormValue("job_title")),
		AvatarURL: strings.TrimSpace(r.FormValue("avatar_url")),
		Locale:    r.FormValue("locale"),
		TimeZone:  strings.TrimSpace(r.FormValue("time_zone")),
	}
	patch := workspace.UserPatch{Name: &f.Name, JobTitle: &f.JobTitle, AvatarURL: &f.AvatarURL, TimeZone: &f.TimeZone}
	// Only the app's languages are offered; anything else keeps the current one.
	for _, l := range Languages {
		if f.Locale == l {
			patch.Locale = &f.Locale
		}
	}
	if _, err := s.Workspace.UpdateUser(r.Context(), u, u.ID, patch); err != nil {
		p, perr := s.profilePage(r)
		if perr != nil {
			return perr
		}
		p.Form = f
		return s.profileInvalid(w, r, p, "details", err)
	}
	// A redirect, so the page comes back in the language just chosen.
	redirect(w, r, "/profile?flash=profile.saved")
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	password := r.FormValue("password")
	p, err := s.profilePage(r)
	if err != nil {
		return err
	}
	if password != r.FormValue("confirm") {
		p.Errors["password"] = p.T("profile.password.mismatch")
		p.Errors["confirm"] = p.Errors["password"]
		return s.render(w, r, http.StatusUnprocessableEntity, "profile", p)
	}
	_, err = s.Workspace.UpdateUser(r.Context(), u, u.ID, workspace.UserPatch{
		Password: &password, CurrentPassword: r.FormValue("current_password"),
		// Other browsers are signed out; this one stays.
		KeepSessionHash: auth.HashToken(session.Token(r)),
	})
	if err != nil {
		return s.profileInvalid(w, r, p, "password", err)
	}
	redirect(w, r, "/profile?flash=profile.password.changed#password")
	return nil
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Workspace.StartTOTP(r.Context(), user(r)); err != nil {
		p, perr := s.profilePage(r)
		if perr != nil {
			return perr
		}
		return s.profileInvalid(w, r, p, "totp", err)
	}
	redirect(w, r, "/profile#two-factor")
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.Workspace.ConfirmTOTP(r.Context(), user(r), r.FormValue("code"))
	p, perr := s.profilePage(r)
	if perr != nil {
		return perr
	}
	if err != nil {
		return s.profileInvalid(w, r, p, "totp", err)
	}
	// Rendered, not redirected: the recovery codes exist only in this answer.
	p.RecoveryCodes = codes
	p.Flash = p.T("profile.totp.enabled")
	return s.render(w, r, http.StatusOK, "profile", p)
}

func (s *Server) renewRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.Workspace.RenewRecoveryCodes(r.Context(), user(r), r.FormValue("code"))
	p, perr := s.profilePage(r)
	if perr != nil {
		return perr
	}
	if err != nil {
		return s.profileInvalid(w, r, p, "recovery", err)
	}
	p.RecoveryCodes = codes
	return s.render(w, r, http.StatusOK, "profile", p)
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := s.Workspace.DisableTOTP(r.Context(), user(r), r.FormValue("current_password"), r.FormValue("code")); err != nil {
		p, perr := s.profilePage(r)
		if perr != nil {
			return perr
		}
		return s.profileInvalid(w, r, p, "totp_disable", err)
	}
	redirect(w, r, "/profile?flash=profile.totp.disabled#two-factor")
	return nil
}

func (s *Server) createOwnToken(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	name := r.FormValue("name")
	secret, _, err := s.Workspace.CreateToken(r.Context(), u, u.ID, name)
	p, perr := s.profilePage(r)
	if perr != nil {
		return perr
	}
	if err != nil {
		p.NewTokenName = name
		return s.profileInvalid(w, r, p, "tokens", err)
	}
	// Rendered, not redirected: the secret exists only in this answer.
	p.NewToken = secret
	p.NewTokenName = strings.TrimSpace(name)
	return s.render(w, r, http.StatusCreated, "profile", p)
}

func (s *Server) revokeOwnToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return problem.NotFoundf("token_not_found", "no token %s", r.PathValue("id"))
	}
	u := user(r)
	// Only one's own tokens here, admins included: other people's are revoked in settings.
	tokens, err := s.Workspace.Tokens(r.Context(), u, u.ID)
	if err != nil {
		return err
	}
	mine := false
	for _, t := range tokens {
		mine = mine || t.ID == id
	}
	if !mine {
		return problem.NotFoundf("token_not_found", "no token %d", id)
	}
	if err := s.Workspace.RevokeToken(r.Context(), u, id); err != nil {
		return err
	}
	redirect(w, r, "/profile?flash=profile.tokens.revoked#tokens")
	return nil
}

// showAvailability is the header's toggle alone, for other tabs to catch up after a change.
func (s *Server) showAvailability(w http.ResponseWriter, r *http.Request) error {
	return s.renderBlock(w, http.StatusOK, "error", "availability-form", s.page(r, "", ""))
}

// setAvailability is the header's toggle.
func (s *Server) setAvailability(w http.ResponseWriter, r *http.Request) error {
	u := user(r)
	status := r.FormValue("status")
	if status != inbox.StatusAvailable {
		status = inbox.StatusAway
	}
	if _, err := s.Inbox.SetAvailability(r.Context(), u, u.ID, status); err != nil {
		return err
	}
	p := s.page(r, "", "")
	return s.renderBlock(w, http.StatusOK, "error", "availability-form", p)
}

// timeZones are offered in the time zone field; any other IANA name is accepted too.
var timeZones = []string{
	"UTC",
	"Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Atlantic/Reykjavik",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Amsterdam", "Europe/Brussels", "Europe/Berlin",
	"Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Vienna", "Europe/Prague",
	"Europe/Warsaw", "Europe/Budapest", "Europe/Tallinn", "Europe/Riga", "Europe/Vilnius", "Europe/Athens",
	"Europe/Bucharest", "Europe/Kyiv", "Europe/Istanbul", "Europe/Moscow",
	"Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi", "Africa/Casablanca",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta",
	"Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Manila", "Asia/Seoul", "Asia/Tokyo",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
	"America/St_Johns", "America/Halifax", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"America/Santiago", "America/Bogota", "America/Lima", "America/Mexico_City", "America/New_York",
	"America/Toronto", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Vancouver", "America/Anchorage", "Pacific/Honolulu",
}
