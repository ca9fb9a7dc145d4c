package ui

import (
	"net/http"

	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) settingsTokenRoutes() []route {
	return []route{
		{pattern: "GET /settings/tokens", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "tokens", s.tokensSettings)
		}},
		{pattern: "POST /settings/tokens", admin: true, handle: s.createToken},
		{pattern: "POST /settings/tokens/{id}/revoke", admin: true, handle: s.revokeToken},
	}
}

type tokensSettings struct {
	*settingsPage
	Tokens []*store.APIToken
	People people
	// Secret is the token just created, shown this once.
	Secret string
}

// maxTokensListed bounds the tokens page; revoked tokens are not listed.
const maxTokensListed = 500

func (s *Server) tokensSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &tokensSettings{settingsPage: sp}
	var err error
	// Everyone's tokens in one query; the route is admin-only, as Workspace.Tokens would demand.
	if d.Tokens, err = s.Store.AllAPITokens(r.Context(), maxTokensListed); err != nil {
		return "", nil, err
	}
	users, err := s.allUsers(r.Context(), true)
	if err != nil {
		return "", nil, err
	}
	d.People = indexUsers(users)
	return "settings-tokens", d, nil
}

// createToken creates a token for the signed-in admin and shows its secret once: the answer is
// rendered, never redirected to, since the secret exists only in it.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	me := user(r)
	secret, _, err := s.Workspace.CreateToken(r.Context(), me, me.ID, r.PostForm.Get("name"))
	if err != nil {
		return s.settingsInvalid(w, r, err, "tokens", "token-new", s.tokensSettings)
	}
	sp := s.newSettingsPage(r, "tokens")
	sp.Flash = sp.T("settings.flash.token_created")
	_, data, err := s.tokensSettings(r, sp)
	if err != nil {
		return err
	}
	d := data.(*tokensSettings)
	d.Secret = secret
	if isHTMX(r) {
		w.Header().Set("HX-Replace-Url", "/settings/tokens")
	}
	return s.render(w, r, http.StatusOK, "settings-tokens", d)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := s.Workspace.RevokeToken(r.Context(), user(r), id); err != nil {
		return err
	}
	return s.settingsDone(w, r, "tokens", "/settings/tokens", "settings.flash.token_revoked", s.tokensSettings)
}
