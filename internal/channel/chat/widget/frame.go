package widget

import (
	"context"
	_ "embed"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
)

// The frame: a hidden page on Parley's origin that widget.js embeds. It keeps the visitor token
// in Parley's storage and makes the widget's requests, so the host page's scripts cannot read the
// token (they can read anything stored on the page's own origin). frame.js says how the two talk.

//go:embed frame.js
var frameScript []byte

var frameJS = newAsset(frameScript)

// FrameScriptSource returns the frame script's source.
func FrameScriptSource() []byte { return frameScript }

// FrameScript serves GET /widget/frame.js, the frame's script: one file for every channel, as the
// frame's CSP allows no inline script.
func FrameScript() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { frameJS.serve(w, r) })
}

// cspOrigin is an origin as it may stand in a CSP source list: scheme://host[:port], nothing
// that could end the directive.
var cspOrigin = regexp.MustCompile(`^https?://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)

// framePage is the frame's document; the allowed origins stand in data-origins, where frame.js
// checks the embedding page's messages against them.
const framePage = `<!doctype html><html data-origins="%s"><head><meta charset="utf-8"><meta name="robots" content="noindex">` +
	`<title>Parley</title><script src="../../frame.js?v=%s"></script></head><body></body></html>`

// Frame serves GET /widget/v1/{public_id}/frame. origins returns the sites that may embed the
// channel's widget (Parley's own origin among them, for the admin's preview page), or an error
// for an unknown or archived channel, which is not found. The page's CSP frame-ancestors names
// exactly those sites, so the browser refuses to show the frame, and with it the token and the
// conversation, inside any other site.
func Frame(origins func(ctx context.Context, publicID string) ([]string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The allowed origins can change at any time: never cached.
		h.Set("Cache-Control", "no-store")
		list, err := origins(r.Context(), r.PathValue("public_id"))
		if err != nil {
			http.Error(w, "no such chat widget", http.StatusNotFound)
			return
		}
		var ok []string
		for _, o := range list {
			if o = strings.ToLower(o); cspOrigin.MatchString(o) {
				ok = append(ok, o)
			}
		}
		ancestors := "'none'"
		if len(ok) > 0 {
			ancestors = strings.Join(ok, " ")
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; frame-ancestors "+
			ancestors+"; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodHead {
			return
		}
		fmt.Fprintf(w, framePage, html.EscapeString(strings.Join(ok, " ")), strings.Trim(frameJS.etag, `"`))
	})
}
