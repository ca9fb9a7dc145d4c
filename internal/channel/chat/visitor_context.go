package chat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/store"
)

// Visitor context (issue 6 item 6): what agents see beside a chat — the visitor's current page
// and the pages before it, referrer, browser, language and local time. The session request
// records the page it was made from, the browser's user agent and time zone; the widget's
// {"type":"page","url":"…","title":"…"} frame records the moves of a single-page site.

// framePage is the visitor frame that reports a move to another page.
const framePage = "page"

// Limits of what is kept about a visitor's pages and browser.
const (
	maxPageTitle = 300
	maxUserAgent = 512
	maxTimeZone  = 64
)

// checkPage validates a page frame: an absolute http(s) URL of at most maxPageURL bytes (the
// sidebar links to it, so never javascript: or the like) and a title of at most maxPageTitle
// bytes, and nothing else.
func (f *clientFrame) checkPage() error {
	if f.ClientID != "" || f.Text != "" || f.MessageID != 0 {
		return errors.New("page takes only url and title")
	}
	if !pageURL(f.URL) {
		return fmt.Errorf("page needs an absolute http or https url of at most %d bytes", maxPageURL)
	}
	if len(f.Title) > maxPageTitle || !utf8.ValidString(f.Title) {
		return fmt.Errorf("title must be valid UTF-8 of at most %d bytes", maxPageTitle)
	}
	return nil
}

// pageURL reports whether s is a page a visitor may be on: absolute http or https, with a host.
func pageURL(s string) bool {
	if s == "" || len(s) > maxPageURL || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// cleanTitle keeps a page title readable: control characters become spaces, runs of space
// collapse, and it is cut at maxPageTitle bytes on a character boundary.
func cleanTitle(s string) string {
	if !utf8.ValidString(s) {
		return ""
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) > maxPageTitle {
		s = s[:maxPageTitle]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// cleanTimeZone returns an IANA time zone name the server knows, or "".
func cleanTimeZone(s string) string {
	if s == "" || len(s) > maxTimeZone || s == "Local" {
		return ""
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return ""
		}
	}
	if _, err := time.LoadLocation(s); err != nil {
		return ""
	}
	return s
}

// cleanUserAgent keeps a User-Agent header that is printable ASCII, cut to maxUserAgent bytes.
func cleanUserAgent(s string) string {
	if len(s) > maxUserAgent {
		s = s[:maxUserAgent]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ""
		}
	}
	return strings.TrimSpace(s)
}

// recordVisit stores what a session request tells of the visitor's browser and page, in the
// session's transaction. A page that is not an http(s) URL is not added to their pages.
func recordVisit(ctx context.Context, tx *store.Tx, visitorID int64, in SessionInput, page string, now int64) error {
	if err := tx.SetChatVisitorBrowser(ctx, visitorID, cleanUserAgent(in.UserAgent), cleanTimeZone(in.TimeZone)); err != nil {
		return err
	}
	if !pageURL(page) {
		return nil
	}
	return tx.RecordChatPage(ctx, visitorID, page, cleanTitle(in.Title), now)
}

// page records a visitor's move to another page.
func (sess *session) page(ctx context.Context, f clientFrame) {
	s, v := sess.svc, sess.visitor
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.RecordChatPage(ctx, v.ID, f.URL, cleanTitle(f.Title), s.now().UnixMilli())
	})
	if err != nil && ctx.Err() == nil {
		// Best effort: the page is context for agents, and the next move records it again.
		s.log().Warn("chat: record a visitor's page", "visitor_id", v.ID, "err", err)
	}
}
