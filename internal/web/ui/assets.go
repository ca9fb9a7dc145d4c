package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assets serves the embedded static files under /static/<hash>/…, where hash covers every file,
// so browsers may cache them forever and a new release is fetched at once. The stylesheets in
// static/css are served as one file, app.css, in name order (base.css first).
type assets struct {
	hash  string
	files map[string][]byte // path under static/ → content
}

func mustLoadAssets() *assets {
	a := &assets{files: map[string][]byte{}}
	var css [][]byte
	cssNames, err := fs.Glob(staticFS, "static/css/*.css")
	if err != nil {
		panic(err)
	}
	sort.Slice(cssNames, func(i, j int) bool {
		// base.css holds the design tokens everything else uses.
		bi, bj := path.Base(cssNames[i]) == "base.css", path.Base(cssNames[j]) == "base.css"
		if bi != bj {
			return bi
		}
		return cssNames[i] < cssNames[j]
	})
	h := sha256.New()
	err = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		if !strings.HasPrefix(p, "static/css/") {
			a.files[strings.TrimPrefix(p, "static/")] = b
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, n := range cssNames {
		b, _ := fs.ReadFile(staticFS, n)
		css = append(css, []byte("/* "+path.Base(n)+" */\n"), b, []byte("\n"))
	}
	a.files["app.css"] = bytes.Join(css, nil)
	a.hash = hex.EncodeToString(h.Sum(nil))[:12]
	return a
}

// path returns the URL of a static file: "js/app.js" → "/static/<hash>/js/app.js".
func (a *assets) path(name string) string { return "/static/" + a.hash + "/" + name }

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, name, ok := strings.Cut(rest, "/")
	b, found := a.files[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if hash == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// An old page asking for an old hash gets today's file, not cached for long.
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
