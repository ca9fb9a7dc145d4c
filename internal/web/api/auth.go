package api

import (
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

// authRoutes: signing in and out, first-run setup, the caller's own profile and API tokens.
func authRoutes() []Route {
	const small = 16 << 10
	return []Route{
		{Method: http.MethodPost, Pattern: "/api/v1/auth/session", Access: Public, MaxBody: small, Handle: signIn},
		{Method: http.MethodDelete, Pattern: "/api/v1/auth/session", Access: Signed, Handle: signOut},
		{Method: http.MethodPost, Pattern: "/api/v1/setup", Access: Public, MaxBody: small, Handle: completeSetup},
		{Method: http.MethodGet, Pattern: "/api/v1/me", Access: Signed, Handle: getMe},
		{Method: http.MethodPost, Pattern: "/api/v1/tokens", Access: Signed, MaxBody: small, Handle: createToken},
		{Method: http.MethodGet, Pattern: "/api/v1/tokens", Access: Signed, Handle: listTokens},
		{Method: http.MethodDelete, Pattern: "/api/v1/tokens/{id}", Access: Signed, Handle: revokeToken},
	}
}

// ws returns the people domain over the server's store (the service is stateless).
func (s *Server) ws() *workspace.Service {
	return &workspace.Service{Store: s.Store, Log: s.Log}
}

// userJSON is a user as the API shows it; the password hash never leaves the server.
type userJSON struct {
	ID            int64   `json:"id"`
	Email         string  `json:"email"`
	Name          string  `json:"name"`
	JobTitle      string  `json:"job_title"`
	AvatarURL     string  `json:"avatar_url"`
	Locale        string  `json:"locale"`
	TimeZone      string  `json:"time_zone"`
	Role          string  `json:"role"`
	Deactivated   bool    `json:"deactivated"`
	DeactivatedAt *string `json:"deactivated_at"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
}

func toUserJSON(u *store.User) userJSON {
	return userJSON{
		ID: u.ID, Email: u.Email, Name: u.Name, JobTitle: u.JobTitle, AvatarURL: u.AvatarURL,
		Locale: u.Locale, TimeZone: u.TimeZone, Role: u.Role,
		Deactivated: u.DeactivatedAt != nil, DeactivatedAt: timePtrJSON(u.DeactivatedAt),
		CreatedAt: timeJSON(u.CreatedAt), UpdatedAt: timeJSON(u.UpdatedAt),
	}
}

type userEnvelope struct {
	User userJSON `json:"user"`
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	session.Set(w, token, workspace.SessionDuration, strings.HasPrefix(s.BaseURL, "https://"))
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	session.Clear(w, strings.HasPrefix(s.BaseURL, "https://"))
}

func signIn(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		// TOTPCode is the authenticator or recovery code of a user with two-factor sign-in.
		TOTPCode string `json:"totp_code"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	// Throttle before hashing: the limit protects the CPU as much as the accounts.
	if wait, ok := s.signIns().Allow(time.Now(), throttle.ClientIP(r), body.Email); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return problem.New(problem.TooMany, "too_many_attempts", "too many sign-in attempts; try again in %s", wait.Round(time.Second))
	}
	token, u, err := s.ws().SignInWithCode(r.Context(), body.Email, body.Password, body.TOTPCode)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, userEnvelope{User: toUserJSON(u)})
	return nil
}

func signOut(s *Server, w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(session.Cookie); err == nil {
		if err := s.ws().SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func completeSetup(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Token    string `json:"token"`
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	ws := s.ws()
	u, err := ws.CompleteSetup(r.Context(), body.Token, body.Email, body.Name, body.Password)
	if err != nil {
		return err
	}
	token, err := ws.NewSession(r.Context(), u)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	writeJSON(w, http.StatusCreated, userEnvelope{User: toUserJSON(u)})
	return nil
}

func getMe(s *Server, w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, toUserJSON(caller(r)))
	return nil
}

// tokenJSON is an API token. Token (the secret) is only set in the response that creates it.
type tokenJSON struct {
	ID         int64   `json:"id"`
	UserID     int64   `json:"user_id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	Token      string  `json:"token,omitempty"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func toTokenJSON(t *store.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, UserID: t.UserID, Name: t.Name, Prefix: t.Prefix,
		CreatedAt: timeJSON(t.CreatedAt), LastUsedAt: timePtrJSON(t.LastUsedAt)}
}

func createToken(s *Server, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	u := caller(r)
	secret, t, err := s.ws().CreateToken(r.Context(), u, u.ID, body.Name)
	if err != nil {
		return err
	}
	out := toTokenJSON(t)
	out.Token = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func listTokens(s *Server, w http.ResponseWriter, r *http.Request) error {
	u := caller(r)
	userID := u.ID
	if id, err := optionalIDParam(r, "user_id"); err != nil {
		return err
	} else if id != 0 {
		userID = id
	}
	tokens, err := s.ws().Tokens(r.Context(), u, userID)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(tokens))
	for i, t := range tokens {
		out[i] = toTokenJSON(t)
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func revokeToken(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ws().RevokeToken(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// optionalIDParam reads an optional positive id from the query string; 0 means absent.
func optionalIDParam(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.Field("invalid_"+name, name, "must be a positive whole number")
	}
	return id, nil
}
