package files

import (
	"mime"
	"net/http"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// Serve writes a file's content with the headers that make serving untrusted files safe. The
// caller has checked that the request may see the file. Range and conditional requests work
// (http.ServeContent); the content of an id never changes, so its hash is the ETag.
func (s *Store) Serve(w http.ResponseWriter, r *http.Request, f *store.File) error {
	c, err := s.Open(f)
	if err != nil {
		return err
	}
	defer c.Close()
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	// The type we decided on is the only one a browser may use.
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "attachment"
	if Inline(f.ContentType) {
		disposition = "inline"
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}); v != "" {
		h.Set("Content-Disposition", v)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	// sandbox makes any document opened from here an opaque origin without scripts, forms or
	// plugins, so an uploaded HTML or SVG file can never act as the app. PDFs are the one
	// exception: Chrome cannot start its viewer and Safari shows nothing in a sandboxed
	// document. A file is only stored as application/pdf when its bytes are a PDF (decideType),
	// and nosniff keeps the browser to that type, so nothing in it runs as a page of ours.
	if mediaType(f.ContentType) == "application/pdf" {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	} else {
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'; frame-ancestors 'self'")
	}
	// A signed link in the URL must not leak through a link inside the file.
	h.Set("Referrer-Policy", "no-referrer")
	// Private: the browser may keep it (the same content for a day), shared caches must not.
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", time.UnixMilli(f.CreatedAt), c)
	return nil
}
