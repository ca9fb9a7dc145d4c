package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGzippedSize is PERF-7: the widget script, gzipped as served, stays within 30 KB.
func TestGzippedSize(t *testing.T) {
	t.Logf("widget.js + frame.js: %d bytes, %d bytes gzipped (budget %d)", len(Script())+len(FrameScriptSource()), GzippedSize(), MaxGzipped)
	if GzippedSize() > MaxGzipped {
		t.Fatalf("widget.js and frame.js are %d bytes gzipped, over PERF-7's %d", GzippedSize(), MaxGzipped)
	}
	if GzippedSize() == 0 || len(Script()) < 1000 || len(FrameScriptSource()) < 1000 {
		t.Fatal("the embedded script is empty")
	}
}

func serve(t *testing.T, path string, header map[string]string) *http.Response {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /widget/{file}", Handler(func(_ context.Context, id string) error {
		if id != "abc123" {
			return errors.New("no such widget")
		}
		return nil
	}))
	mux.Handle("GET /widget/v1/{public_id}/frame", Frame(func(_ context.Context, id string) ([]string, error) {
		switch id {
		case "abc123":
			// What a stored list could never hold is left out, not written into the CSP.
			return []string{"https://shop.example", "http://127.0.0.1:8080", "https://evil.example; script-src *", "HTTPS://Parley.Example"}, nil
		case "empty":
			return nil, nil
		}
		return nil, errors.New("no such widget")
	}))
	mux.Handle("GET /widget/frame.js", FrameScript())
	r := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Result()
}

func TestHandler(t *testing.T) {
	res := serve(t, "/widget/abc123.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Cache-Control") != "public, max-age=300" ||
		res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("status %d, header %v", res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, Script()) {
		t.Fatalf("gzipped body is not the script (%v)", err)
	}
	tag := res.Header.Get("ETag")
	if len(tag) < 10 || tag[0] != '"' {
		t.Fatalf("ETag %q", tag)
	}

	// Without gzip the script comes as it is.
	res = serve(t, "/widget/abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	body, _ = io.ReadAll(res.Body)
	if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, Script()) {
		t.Fatalf("identity: encoding %q, %d bytes", res.Header.Get("Content-Encoding"), len(body))
	}

	// Revalidation with the ETag answers 304 without a body.
	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag} {
		res = serve(t, "/widget/abc123.js", map[string]string{"If-None-Match": inm})
		body, _ = io.ReadAll(res.Body)
		if res.StatusCode != http.StatusNotModified || len(body) != 0 || res.Header.Get("ETag") != tag {
			t.Fatalf("If-None-Match %s: status %d, %d bytes", inm, res.StatusCode, len(body))
		}
	}
	if res = serve(t, "/widget/abc123.js", map[string]string{"If-None-Match": `"stale"`}); res.StatusCode != 200 {
		t.Fatalf("a stale ETag: status %d", res.StatusCode)
	}

	// Unknown channels and other names are not found, and not cached.
	for _, p := range []string{"/widget/nope.js", "/widget/abc123", "/widget/.js"} {
		if res = serve(t, p, nil); res.StatusCode != 404 {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
	}
	if res = serve(t, "/widget/nope.js", nil); res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("a missing widget's Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}

// TestFrame: the frame page is embeddable only by the channel's allowed sites (CSP
// frame-ancestors), loads only Parley's own script, and is never cached.
func TestFrame(t *testing.T) {
	res := serve(t, "/widget/v1/abc123/frame", nil)
	body, _ := io.ReadAll(res.Body)
	csp := res.Header.Get("Content-Security-Policy")
	want := "frame-ancestors https://shop.example http://127.0.0.1:8080 https://parley.example;"
	if res.StatusCode != 200 || !strings.Contains(csp, want) || !strings.Contains(csp, "script-src 'self';") ||
		!strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "evil") ||
		res.Header.Get("X-Frame-Options") != "" || res.Header.Get("Cache-Control") != "no-store" ||
		res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, header %v", res.StatusCode, res.Header)
	}
	if !strings.Contains(string(body), `data-origins="https://shop.example http://127.0.0.1:8080 https://parley.example"`) ||
		!strings.Contains(string(body), `<script src="../../frame.js?v=`) || strings.Contains(string(body), "<script>") {
		t.Fatalf("frame page %s", body)
	}
	// No allowed site: nobody may embed it.
	res = serve(t, "/widget/v1/empty/frame", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none';") {
		t.Fatalf("CSP with no origins: %q", csp)
	}
	if res = serve(t, "/widget/v1/nope/frame", nil); res.StatusCode != 404 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("unknown channel: status %d, %v", res.StatusCode, res.Header)
	}

	// The script is served like the widget's, with its own ETag.
	res = serve(t, "/widget/frame.js", nil)
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Equal(body, FrameScriptSource()) || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("frame.js: status %d, header %v", res.StatusCode, res.Header)
	}
	tag := res.Header.Get("ETag")
	if tag == "" || tag == serve(t, "/widget/abc123.js", nil).Header.Get("ETag") {
		t.Fatalf("frame.js ETag %q", tag)
	}
	if res = serve(t, "/widget/frame.js", map[string]string{"If-None-Match": tag}); res.StatusCode != http.StatusNotModified {
		t.Fatalf("frame.js revalidation: status %d", res.StatusCode)
	}
}
