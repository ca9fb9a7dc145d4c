package ui

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestLocalesComplete: every language has exactly English's keys, with the same fmt verbs.
func TestLocalesComplete(t *testing.T) {
	en := langs["en"]
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, code := range Languages[1:] {
		l := langs[code]
		for k, v := range en.strings {
			tr, ok := l.strings[k]
			if !ok {
				t.Errorf("%s lacks %q (en: %q)", code, k, v)
				continue
			}
			if a, b := verbs.FindAllString(v, -1), verbs.FindAllString(tr, -1); strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%s %q: verbs %v, English has %v", code, k, b, a)
			}
		}
		for k := range l.strings {
			if _, ok := en.strings[k]; !ok {
				t.Errorf("%s has %q, which English lacks", code, k)
			}
		}
	}
}

// TestTemplateKeysExist: every literal key a template translates exists in English (and so,
// by TestLocalesComplete, everywhere). Keys built at run time (print "view." $v) are checked by
// the pages' own tests.
func TestTemplateKeysExist(t *testing.T) {
	re := regexp.MustCompile(`\.(?:T|TN) "([a-z0-9_.]+)"`)
	var missing []string
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			key := m[1]
			if strings.Contains(m[0], "TN") {
				key += ".other"
			}
			if _, ok := langs["en"].strings[key]; !ok {
				missing = append(missing, p+": "+key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error("missing translation:", m)
	}
}
