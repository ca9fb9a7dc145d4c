package workspace

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // time zones must validate on hosts without a zoneinfo database (containers)
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
)

// Roles.
const (
	RoleOwner = "owner"
	RoleAdmin = "admin"
	RoleAgent = "agent"
)

const (
	maxNameLength = 200
	maxURLLength  = 2048
)

// normalizeEmail returns the address lower-cased, or an invalid_email problem. It accepts a bare
// address only: a display name ("Ann <ann@example.com>") is a sign of a pasted header, not an email.
func normalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	bad := problem.Field("invalid_email", "email", "must be an email address like name@example.com")
	if e == "" || len(e) > 254 {
		return "", bad
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return "", bad
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(e, " \t\r\n") {
		return "", bad
	}
	return e, nil
}

// cleanName trims a display name and checks it is present and not absurdly long.
func cleanName(field, name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", problem.Field("name_required", field, "is required")
	}
	if utf8.RuneCountInString(n) > maxNameLength || strings.ContainsAny(n, "\r\n\x00") {
		return "", problem.Field("invalid_name", field, "must be one line of at most 200 characters")
	}
	return n, nil
}

func checkRole(role string) error {
	switch role {
	case RoleOwner, RoleAdmin, RoleAgent:
		return nil
	}
	return problem.Field("invalid_role", "role", "must be owner, admin or agent")
}

var localePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)

func checkLocale(locale string) error {
	if !localePattern.MatchString(locale) {
		return problem.Field("invalid_locale", "locale", "must be a language tag like en or sv-SE")
	}
	return nil
}

func checkTimeZone(tz string) error {
	if tz == "" || tz == "Local" || len(tz) > 64 {
		return problem.Field("invalid_time_zone", "time_zone", "must be an IANA time zone like Europe/Stockholm")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return problem.Field("invalid_time_zone", "time_zone", "must be an IANA time zone like Europe/Stockholm")
	}
	return nil
}

func checkAvatarURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURLLength || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return problem.Field("invalid_avatar_url", "avatar_url", "must be an http or https URL")
	}
	return nil
}

func checkJobTitle(s string) (string, error) {
	t := strings.TrimSpace(s)
	if utf8.RuneCountInString(t) > maxNameLength || strings.ContainsAny(t, "\r\n\x00") {
		return "", problem.Field("invalid_job_title", "job_title", "must be one line of at most 200 characters")
	}
	return t, nil
}
