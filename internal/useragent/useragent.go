// Package useragent names the browser and operating system of a User-Agent header, for people
// to read ("Firefox 128 on Linux"): the contact sidebar shows it for chat visitors. It knows the
// browsers and systems most visitors use and answers "" for the rest; it is not for deciding
// anything, since any client can send any header.
package useragent

import "strings"

// maxLen bounds what is looked at: real headers are a few hundred bytes.
const maxLen = 1024

// Agent is what a User-Agent header says, for people.
type Agent struct {
	// Browser is the browser's name, e.g. "Firefox"; "" when unknown.
	Browser string
	// Version is the browser's major version, e.g. "128"; "" when unknown.
	Version string
	// OS is the operating system, e.g. "macOS", "Android"; "" when unknown.
	OS string
	// Mobile says the header names a phone or tablet.
	Mobile bool
}

// browsers are checked in order: many browsers name others too (Edge says Chrome and Safari,
// Chrome says Safari), so the most specific token comes first.
var browsers = []struct{ token, name string }{
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"Edg/", "Edge"},
	{"Edge/", "Edge"},
	{"OPR/", "Opera"},
	{"OPiOS/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"FxiOS/", "Firefox"},
	{"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
	{"MSIE ", "Internet Explorer"},
	{"Trident/", "Internet Explorer"},
}

// systems are checked in order for the same reason (Android says Linux, iOS says Mac OS X).
var systems = []struct{ token, name string }{
	{"Windows Phone", "Windows Phone"},
	{"Windows", "Windows"},
	{"iPhone", "iOS"},
	{"iPad", "iPadOS"},
	{"iPod", "iOS"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Mac OS X", "macOS"},
	{"Macintosh", "macOS"},
	{"Ubuntu", "Ubuntu"},
	{"Fedora", "Fedora"},
	{"FreeBSD", "FreeBSD"},
	{"OpenBSD", "OpenBSD"},
	{"Linux", "Linux"},
}

// Parse reads a User-Agent header. It never fails: what it does not know it leaves empty.
func Parse(header string) Agent {
	if len(header) > maxLen {
		header = header[:maxLen]
	}
	var a Agent
	for _, b := range browsers {
		if i := strings.Index(header, b.token); i >= 0 {
			a.Browser = b.name
			if b.token != "Trident/" { // Trident's version is the engine's, not the browser's
				a.Version = major(header[i+len(b.token):])
			}
			break
		}
	}
	if a.Browser == "" && strings.Contains(header, "Safari/") && strings.Contains(header, "AppleWebKit/") {
		a.Browser = "Safari"
		if i := strings.Index(header, "Version/"); i >= 0 {
			a.Version = major(header[i+len("Version/"):])
		}
	}
	for _, s := range systems {
		if strings.Contains(header, s.token) {
			a.OS = s.name
			break
		}
	}
	a.Mobile = strings.Contains(header, "Mobi") || a.OS == "iOS" || a.OS == "iPadOS" || a.OS == "Windows Phone" ||
		(a.OS == "Android" && !strings.Contains(header, "Tablet"))
	return a
}

// major returns the leading digits of a version ("128.0.1" → "128"), at most 6 of them.
func major(s string) string {
	n := 0
	for n < len(s) && n < 6 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// String is "Firefox 128 on Linux", "Safari on iOS", "Linux" or "" — in English word order;
// callers that translate use the fields.
func (a Agent) String() string {
	b := strings.TrimSpace(a.Browser + " " + a.Version)
	switch {
	case b != "" && a.OS != "":
		return b + " on " + a.OS
	case b != "":
		return b
	}
	return a.OS
}
