// Package session owns the signed-in browser's cookie: its name and attributes. The API, the
// setup page and the web app all read and write it here, so signing in anywhere signs in
// everywhere. Whether a session is valid is package workspace's business, not this one's.
package session

import (
	"net/http"
	"time"
)

// Cookie is the name of the signed-in browser's cookie.
const Cookie = "parley_session"

// Set hands the browser its session token. secure follows the public URL's scheme, so a
// plain-HTTP development install still works.
func Set(w http.ResponseWriter, token string, maxAge time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name:     Cookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// Clear removes the session cookie.
func Clear(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name:     Cookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// Token returns the session token the request carries, or "".
func Token(r *http.Request) string {
	c, err := r.Cookie(Cookie)
	if err != nil {
		return ""
	}
	return c.Value
}
