// Package widget serves the chat widget (SPEC CHAT-1): the framework-free script widget.js,
// embedded in the binary and served at /widget/<public_id>.js, and the hidden frame it embeds
// from Parley's own origin (frame.go), which keeps the visitor token out of the host page's reach.
//
// The script is the same for every channel; it reads its channel's public id and Parley's
// address from its own src, so one cached copy (one ETag) serves every site. The scripts are
// stored gzipped once at start-up: PERF-7 bounds their size (widget_test.go).
package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed widget.js
var script []byte

// MaxGzipped is PERF-7's budget for the gzipped scripts a visitor loads: widget.js and frame.js.
const MaxGzipped = 30 << 10

// asset is a script as served: its source, gzipped once, and its ETag.
type asset struct {
	body, gzipped []byte
	etag          string
}

func newAsset(b []byte) *asset {
	sum := sha256.Sum256(b)
	return &asset{body: b, gzipped: mustGzip(b), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

var widgetJS = newAsset(script)

func mustGzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	if _, err := zw.Write(b); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Script returns the script's source.
func Script() []byte { return script }

// GzippedSize is the size of the scripts a visitor loads (widget.js and the frame's frame.js) as
// served to browsers that accept gzip.
func GzippedSize() int { return len(widgetJS.gzipped) + len(frameJS.gzipped) }

// Handler serves GET /widget/{file} where file is "<public_id>.js". exists says whether a
// public id names a live chat channel (an error for one that does not); the script is not
// served for unknown or archived channels, so a removed channel's snippet stops loading.
//
// The answer may be cached for five minutes and revalidated with its ETag: short enough that
// an archived channel or a new release reaches sites soon, long enough that a site's visitors
// do not fetch it on every page.
func Handler(exists func(ctx context.Context, publicID string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(r.PathValue("file"), ".js")
		if !ok || id == "" {
			http.NotFound(w, r)
			return
		}
		if err := exists(r.Context(), id); err != nil {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "no such chat widget", http.StatusNotFound)
			return
		}
		// Loaded by other sites' pages.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		widgetJS.serve(w, r)
	})
}

// serve writes the script, gzipped when the browser takes it, or 304 when its copy is current.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if match(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// match reports whether an If-None-Match header names etag (weakly: a proxy that compressed
// the script may have made it weak).
func match(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip with a non-zero q.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}
