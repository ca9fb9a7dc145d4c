package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/parley-inbox/parley/internal/store"
)

//go:embed locales
var localeFS embed.FS

// Languages are the app's languages, English first (the fallback for a missing string).
var Languages = []string{"en", "sv", "nb", "da"}

// languageNames are shown in each language's own words in the language pickers.
var languageNames = map[string]string{"en": "English", "sv": "Svenska", "nb": "Norsk (bokmål)", "da": "Dansk"}

// Lang is one language's strings. Keys are dotted ("inbox.empty.title"); values may hold
// fmt verbs for arguments ("%d open").
type Lang struct {
	Code    string
	strings map[string]string
	// fallback is English, for a key a translation lacks (a test makes that never happen).
	fallback *Lang
}

// T returns key's text formatted with args, or the key itself if no language has it.
func (l *Lang) T(key string, args ...any) string {
	s, ok := l.strings[key]
	if !ok && l.fallback != nil {
		s, ok = l.fallback.strings[key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// TN picks key.one for n == 1 and key.other otherwise (the four languages share this rule),
// formatted with n and then args.
func (l *Lang) TN(key string, n int, args ...any) string {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return l.T(key+form, append([]any{n}, args...)...)
}

// Name is the language's own name.
func (l *Lang) Name() string { return languageNames[l.Code] }

// LanguageOption is one entry of a language picker.
type LanguageOption struct{ Code, Name string }

// LanguageOptions lists the languages for pickers.
func LanguageOptions() []LanguageOption {
	out := make([]LanguageOption, 0, len(Languages))
	for _, c := range Languages {
		out = append(out, LanguageOption{c, languageNames[c]})
	}
	return out
}

// langs holds every language, loaded once from the embedded files.
var langs = mustLoadLangs(localeFS)

// mustLoadLangs merges locales/<lang>/*.json per language. A key defined twice is an error,
// so two areas cannot silently overwrite each other's strings.
func mustLoadLangs(fsys fs.FS) map[string]*Lang {
	out := map[string]*Lang{}
	for _, code := range Languages {
		l := &Lang{Code: code, strings: map[string]string{}}
		files, err := fs.Glob(fsys, path.Join("locales", code, "*.json"))
		if err != nil {
			panic(err)
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				panic(err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				panic(fmt.Sprintf("%s: %v", f, err))
			}
			for k, v := range m {
				if _, dup := l.strings[k]; dup {
					panic(fmt.Sprintf("%s: key %q is defined twice", f, k))
				}
				l.strings[k] = v
			}
		}
		out[code] = l
	}
	for code, l := range out {
		if code != "en" {
			l.fallback = out["en"]
		}
	}
	return out
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.Swedish, language.Norwegian, language.Danish})

// lang picks the signed-in user's language, or for visitors without an account the browser's.
func (s *Server) lang(r *http.Request, u *store.User) *Lang {
	if u != nil {
		code, _, _ := strings.Cut(strings.ToLower(u.Locale), "-")
		if code == "no" || code == "nn" {
			code = "nb"
		}
		if l, ok := langs[code]; ok {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	return langs[Languages[i]]
}
