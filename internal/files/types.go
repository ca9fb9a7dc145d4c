package files

import (
	"mime"
	"net/http"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
)

// inlineTypes are the types browsers show inline without running anything from the file, and
// that http.DetectContentType recognises reliably, so a file stored as one of them has been
// checked to really be one.
var inlineTypes = map[string]bool{
	"image/png":       true,
	"image/jpeg":      true,
	"image/gif":       true,
	"image/webp":      true,
	"application/pdf": true,
}

// typeAliases maps names people and old software use to the standard ones.
var typeAliases = map[string]string{
	"image/jpg":         "image/jpeg",
	"image/pjpeg":       "image/jpeg",
	"image/x-png":       "image/png",
	"application/x-pdf": "application/pdf",
}

// Inline reports whether a file of this content type may be shown in the browser rather than
// downloaded.
func Inline(contentType string) bool {
	return inlineTypes[mediaType(contentType)]
}

// IsImage reports whether the type is an image the browser can show, for thumbnails.
func IsImage(contentType string) bool {
	mt := mediaType(contentType)
	return inlineTypes[mt] && strings.HasPrefix(mt, "image/")
}

// mediaType returns the lower-case type/subtype of a Content-Type value, or "".
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	if a, ok := typeAliases[mt]; ok {
		return a
	}
	return mt
}

// decideType returns the content type a file is stored and served as, from the type its
// sender declared and the type its first bytes show (see the package doc). A file declared as
// an inline type that is something else is refused: that is how a polyglot HTML page would
// try to pass as an image.
func decideType(name, declared, sniffed string) (string, error) {
	sn := mediaType(sniffed)
	d, params, err := mime.ParseMediaType(declared)
	if a, ok := typeAliases[d]; ok {
		d = a
	}
	if err != nil || d == "" || d == "application/octet-stream" || !strings.Contains(d, "/") {
		return sniffed, nil
	}
	switch {
	case d == sn:
		return withCharset(d, params, sniffed), nil
	case inlineTypes[d]:
		return "", problem.Invalidf("file_type_mismatch", "%q is not the %s file it claims to be", name, d)
	case inlineTypes[sn]:
		// The bytes are plainly an image or a PDF; serve them as what they are.
		return sn, nil
	}
	return withCharset(d, params, sniffed), nil
}

// withCharset formats a text type with its declared charset (or the sniffed one); other
// parameters are dropped, they only matter to the sender.
func withCharset(mt string, declared map[string]string, sniffed string) string {
	if !strings.HasPrefix(mt, "text/") {
		return mt
	}
	cs := declared["charset"]
	if cs == "" {
		if _, p, err := mime.ParseMediaType(sniffed); err == nil {
			cs = p["charset"]
		}
	}
	if cs == "" {
		return mt
	}
	if ct := mime.FormatMediaType(mt, map[string]string{"charset": strings.ToLower(cs)}); ct != "" {
		return ct
	}
	return mt
}

// sniff is http.DetectContentType; a name for what it is used for here.
func sniff(head []byte) string { return http.DetectContentType(head) }
