package ui

import (
	"context"
	"github.com/parley-inbox/parley/internal/web/throttle"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/mail"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/web/session"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Signing in and out (SPEC ACCESS-2): the password step, the two-factor code step, and
// password reset by emailed link. Sign-in attempts are rate limited per email and per client.

func (s *Server) authRoutes() []route {
	return []route{
		{pattern: "GET /login", public: true, handle: s.showLogin},
		{pattern: "POST /login", public: true, handle: s.login},
		{pattern: "GET /login/code", public: true, handle: s.showCode},
		{pattern: "POST /login/code", public: true, handle: s.submitCode},
		{pattern: "POST /logout", public: true, handle: s.logout},
		{pattern: "GET /forgot", public: true, handle: s.showForgot},
		{pattern: "POST /forgot", public: true, handle: s.forgot},
		{pattern: "GET /reset", public: true, handle: s.showReset},
		{pattern: "POST /reset", public: true, handle: s.reset},
		{pattern: "GET /{$}", public: true, handle: s.home},
	}
}

// pendingCookie carries the pending sign-in between the password and the code step. It is
// scoped to /login, so no other page ever sees it.
const pendingCookie = "parley_pending"

type loginPage struct {
	*Page
	Email string
	Next  string
	Error string
	// CanReset offers "Forgot password?": only when outbound mail is configured.
	CanReset bool
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if user(r) == nil {
		redirect(w, r, "/login")
		return nil
	}
	redirect(w, r, "/inbox")
	return nil
}

func (s *Server) authPage(r *http.Request, titleKey string) *Page {
	p := s.page(r, "", "auth")
	p.Title = p.T(titleKey)
	return p
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if user(r) != nil {
		redirect(w, r, next)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login", loginPage{Page: s.authPage(r, "auth.sign_in"),
		Next: r.URL.Query().Get("next"), CanReset: s.Mail != nil})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	email := strings.TrimSpace(r.FormValue("email"))
	next := safeNext(r.FormValue("next"))
	again := func(status int, msg string) error {
		return s.render(w, r, status, "login", loginPage{Page: s.authPage(r, "auth.sign_in"), Email: email,
			Next: r.FormValue("next"), Error: msg, CanReset: s.Mail != nil})
	}
	// Throttle before hashing: the limit protects the CPU as much as the accounts.
	if wait, ok := s.signIns().Allow(time.Now(), throttle.ClientIP(r), email); !ok {
		return again(http.StatusTooManyRequests, tooMany(s.page(r, "", "auth"), wait))
	}
	step, err := s.Workspace.StartSignIn(r.Context(), email, r.FormValue("password"))
	if err != nil {
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		pg := s.page(r, "", "auth")
		msg := s.message(pg, "auth.error.", p)
		if p.Code == "invalid_credentials" || msg == p.Detail {
			msg = pg.T("auth.failed")
		}
		return again(http.StatusUnprocessableEntity, msg)
	}
	if step.Pending != "" {
		http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: step.Pending, Path: "/login",
			MaxAge: int(workspace.PendingSignInTTL / time.Second), HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
		target := "/login/code"
		if n := r.FormValue("next"); n != "" {
			target += "?next=" + url.QueryEscape(n)
		}
		redirect(w, r, target)
		return nil
	}
	session.Set(w, step.Session, workspace.SessionDuration, s.secure())
	redirect(w, r, next)
	return nil
}

func tooMany(p *Page, wait time.Duration) string {
	return p.T("auth.too_many", int(math.Ceil(wait.Seconds())))
}

func (s *Server) clearPending(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// codePage is the second step of a two-factor sign-in.
type codePage struct {
	*Page
	Next  string
	Error string
}

func (s *Server) pending(r *http.Request) string {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// signInAgain sends a browser whose pending sign-in is gone back to the password step.
func (s *Server) signInAgain(w http.ResponseWriter, r *http.Request, next string) {
	s.clearPending(w)
	target := "/login?flash=auth.code_expired"
	if next != "" {
		target += "&next=" + url.QueryEscape(next)
	}
	redirect(w, r, target)
}

func (s *Server) showCode(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if user(r) != nil {
		redirect(w, r, safeNext(next))
		return nil
	}
	ok, err := s.Workspace.PendingSignInValid(r.Context(), s.pending(r))
	if err != nil {
		return err
	}
	if !ok {
		s.signInAgain(w, r, next)
		return nil
	}
	return s.render(w, r, http.StatusOK, "totp", codePage{Page: s.authPage(r, "auth.code.title"), Next: next})
}

func (s *Server) submitCode(w http.ResponseWriter, r *http.Request) error {
	next := r.FormValue("next")
	pending := s.pending(r)
	if pending == "" {
		s.signInAgain(w, r, next)
		return nil
	}
	if wait, ok := s.signIns().Allow(time.Now(), throttle.ClientIP(r), ""); !ok {
		pg := s.authPage(r, "auth.code.title")
		return s.render(w, r, http.StatusTooManyRequests, "totp", codePage{Page: pg, Next: next, Error: tooMany(pg, wait)})
	}
	token, _, err := s.Workspace.FinishSignIn(r.Context(), pending, r.FormValue("code"))
	if err != nil {
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		if p.Code == "sign_in_expired" {
			s.signInAgain(w, r, next)
			return nil
		}
		pg := s.authPage(r, "auth.code.title")
		return s.render(w, r, http.StatusUnprocessableEntity, "totp", codePage{Page: pg, Next: next, Error: s.message(pg, "auth.error.", p)})
	}
	s.clearPending(w)
	session.Set(w, token, workspace.SessionDuration, s.secure())
	redirect(w, r, safeNext(next))
	return nil
}

// message is a problem in the page's language: the area's own wording (prefix+code, e.g.
// "auth.error.invalid_totp_code") when the locale has it, else the shared error.<code>, else
// the problem's detail. Areas keep their own keys so no two locale files define one key.
func (s *Server) message(p *Page, prefix string, e *problem.Error) string {
	for _, k := range []string{prefix + e.Code, "error." + e.Code} {
		if msg := p.T(k); msg != k {
			return msg
		}
	}
	return e.Detail
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if token := session.Token(r); token != "" {
		if err := s.Workspace.SignOut(r.Context(), token); err != nil {
			return err
		}
	}
	session.Clear(w, s.secure())
	redirect(w, r, "/login")
	return nil
}

// safeNext keeps a post-sign-in redirect on this site: a path on this host, nothing a browser
// could read as another site. Browsers take a backslash for a slash and drop tabs and
// newlines ("/\t/evil" is "//evil"), and http.Redirect cleans the path ("/./\\evil" becomes
// "/\\evil"), so those are refused anywhere in it.
func safeNext(next string) string {
	const home = "/inbox"
	if !strings.HasPrefix(next, "/") || strings.ContainsAny(next, "\\") ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(path.Clean(u.Path), "//") {
		return home
	}
	return next
}

// Password reset by email.

type forgotPage struct {
	*Page
	Email string
	Sent  bool
	Error string
}

var errNoMail = problem.NotFoundf("not_found", "outbound mail is not configured, so passwords cannot be reset by email")

func (s *Server) showForgot(w http.ResponseWriter, r *http.Request) error {
	if s.Mail == nil {
		return errNoMail
	}
	return s.render(w, r, http.StatusOK, "forgot", forgotPage{Page: s.authPage(r, "auth.forgot.title"), Email: r.URL.Query().Get("email")})
}

// forgot sends a reset link when the email has an account, and answers the same either way.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) error {
	if s.Mail == nil {
		return errNoMail
	}
	email := strings.TrimSpace(r.FormValue("email"))
	pg := s.authPage(r, "auth.forgot.title")
	if wait, ok := s.signIns().Allow(time.Now(), throttle.ClientIP(r), email); !ok {
		return s.render(w, r, http.StatusTooManyRequests, "forgot", forgotPage{Page: pg, Email: email, Error: tooMany(pg, wait)})
	}
	token, u, err := s.Workspace.RequestPasswordReset(r.Context(), email)
	if err != nil {
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "forgot", forgotPage{Page: pg, Email: email, Error: s.message(pg, "auth.error.", p)})
	}
	if token != "" {
		// Sent in the background: how long the relay takes must not tell who has an account.
		link := s.passwordURL(token)
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
			defer cancel()
			if err := s.mailPasswordLink(ctx, u, link, nil); err != nil {
				s.Log.ErrorContext(ctx, "send password reset mail", "user_id", u.ID, "err", err)
			}
		}()
	}
	return s.render(w, r, http.StatusOK, "forgot", forgotPage{Page: pg, Email: email, Sent: true})
}

// passwordURL is the link that lets someone set a password with token.
func (s *Server) passwordURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/reset?token=" + url.QueryEscape(token)
}

// mailPasswordLink mails a password link to u in their language: an invitation from invitedBy,
// or (invitedBy nil) a reset they asked for. It does nothing when outbound mail is not configured;
// the admin pages show the link in any case.
func (s *Server) mailPasswordLink(ctx context.Context, u *store.User, link string, invitedBy *store.User) error {
	if s.Mail == nil {
		return nil
	}
	l := userLang(u)
	m := mail.Message{To: u.Email}
	if invitedBy != nil {
		m.Subject = l.T("auth.mail.invite.subject")
		m.Text = l.T("auth.mail.invite.body", u.Name, invitedBy.Name, s.BaseURL,
			int(workspace.PasswordLinkTTL/(24*time.Hour)), link)
	} else {
		m.Subject = l.T("auth.mail.reset.subject")
		m.Text = l.T("auth.mail.reset.body", u.Name, u.Email, link)
	}
	return s.Mail.Send(ctx, m)
}

// userLang is u's language for messages sent outside a request (mail).
func userLang(u *store.User) *Lang {
	code, _, _ := strings.Cut(strings.ToLower(u.Locale), "-")
	if code == "no" || code == "nn" {
		code = "nb"
	}
	if l, ok := langs[code]; ok {
		return l
	}
	return langs["en"]
}

type resetPage struct {
	*Page
	Token  string
	Person *store.User
	// Invite is true for a first password (an invitation), false for a reset.
	Invite      bool
	Invalid     bool
	Error       string
	MinPassword int
	// CanAskAgain offers the forgot-password form when a link no longer works.
	CanAskAgain bool
}

func (s *Server) showReset(w http.ResponseWriter, r *http.Request) error {
	// The token is in the URL: never hand it on as a referrer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.URL.Query().Get("token")
	pg := s.authPage(r, "auth.reset.title")
	u, purpose, err := s.Workspace.PasswordLink(r.Context(), token)
	if err != nil {
		if p, ok := problem.As(err); ok && p.Code == "invalid_password_link" {
			return s.render(w, r, http.StatusNotFound, "reset", resetPage{Page: pg, Invalid: true, Error: s.message(pg, "auth.error.", p), MinPassword: auth.MinPasswordLength, CanAskAgain: s.Mail != nil})
		}
		return err
	}
	return s.render(w, r, http.StatusOK, "reset", resetPage{Page: pg, Token: token, Person: u,
		Invite: purpose == store.PasswordInvite, MinPassword: auth.MinPasswordLength})
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.FormValue("token")
	pg := s.authPage(r, "auth.reset.title")
	// again shows the form once more with msg, or the invalid-link page when the token is no
	// good: the form names the link's person, so it cannot be shown without one.
	again := func(status int, msg string) error {
		u, purpose, err := s.Workspace.PasswordLink(r.Context(), token)
		if err != nil {
			if p, ok := problem.As(err); ok && p.Code == "invalid_password_link" {
				return s.render(w, r, http.StatusNotFound, "reset", resetPage{Page: pg, Invalid: true, Error: s.message(pg, "auth.error.", p), MinPassword: auth.MinPasswordLength, CanAskAgain: s.Mail != nil})
			}
			return err
		}
		return s.render(w, r, status, "reset", resetPage{Page: pg, Token: token, Person: u,
			Invite: purpose == store.PasswordInvite, Error: msg, MinPassword: auth.MinPasswordLength})
	}
	if wait, ok := s.signIns().Allow(time.Now(), throttle.ClientIP(r), ""); !ok {
		return again(http.StatusTooManyRequests, tooMany(pg, wait))
	}
	password := r.FormValue("password")
	if password != r.FormValue("confirm") {
		return again(http.StatusUnprocessableEntity, pg.T("auth.reset.mismatch"))
	}
	u, err := s.Workspace.SetPasswordWithLink(r.Context(), token, password)
	if err != nil {
		p, ok := problem.As(err)
		if !ok {
			return err
		}
		return again(http.StatusUnprocessableEntity, s.message(pg, "auth.error.", p))
	}
	// Every session was ended. This browser proved the mailbox and now knows the password;
	// with two-factor sign-in it must still give a code, so it goes through the sign-in.
	step, err := s.Workspace.StartSignIn(r.Context(), u.Email, password)
	if err != nil {
		return err
	}
	if step.Pending != "" {
		http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: step.Pending, Path: "/login",
			MaxAge: int(workspace.PendingSignInTTL / time.Second), HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
		redirect(w, r, "/login/code")
		return nil
	}
	session.Set(w, step.Session, workspace.SessionDuration, s.secure())
	redirect(w, r, "/inbox?flash=auth.reset.done")
	return nil
}
