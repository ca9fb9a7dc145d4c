package files

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes is the longest name a file keeps, in bytes of UTF-8.
const MaxNameBytes = 200

// maxExtBytes is the longest extension truncation keeps; longer "extensions" are just a dot in
// a long name.
const maxExtBytes = 16

// SanitizeName returns a name that is safe to show, to put in a Content-Disposition header and
// to save on any desktop: only the last path element (browsers and mail clients send
// C:\fakepath\x.pdf or dir/x.pdf), valid UTF-8, no control or invisible formatting characters
// (a right-to-left override could make "gpj.exe" look like "exe.jpg"), none of the characters
// Windows refuses, single spaces, no leading or trailing dots or spaces, not a reserved Windows
// device name, at most MaxNameBytes with the extension kept. An empty result is "file".
// SanitizeName(SanitizeName(s)) == SanitizeName(s).
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	pendingSpace := false
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = '_'
		case unicode.IsSpace(r):
			pendingSpace = b.Len() > 0
			continue
		case r == utf8.RuneError || !unicode.IsPrint(r):
			// Controls, formatting (bidi overrides, zero-width joiners), private use and
			// unassigned code points: nothing a person needs to recognise a file.
			continue
		case strings.ContainsRune(`<>:"|?*`, r):
			r = '_'
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(r)
	}
	name = trimName(b.String())
	if reservedName(name) {
		name = "_" + name
	}
	name = truncateName(name)
	if name == "" {
		return "file"
	}
	return name
}

// trimName drops what Windows and shells trip over at either end: dots and spaces.
func trimName(s string) string { return strings.Trim(s, ". ") }

// truncateName shortens the name to MaxNameBytes, cutting the part before the extension and
// never inside a character.
func truncateName(name string) string {
	if len(name) <= MaxNameBytes {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > maxExtBytes || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	stem = cutUTF8(stem, MaxNameBytes-len(ext))
	// The cut may leave a trailing space or dot before the extension; drop it, and then the
	// name must still not start or end badly.
	return trimName(strings.TrimRight(stem, ". ") + ext)
}

// cutUTF8 returns the longest prefix of s of at most n bytes that ends between characters.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// reservedName reports Windows device names (CON, NUL, COM1…), which cannot be saved as files
// whatever their extension.
func reservedName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	switch strings.ToUpper(strings.TrimRight(base, " ")) {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}
