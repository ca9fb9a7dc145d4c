package ui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/useragent"
)

// The "Visitor" section of the contact sidebar for live chat conversations (issue 6 item 6):
// the visitor's current page, the pages of this visit, referrer, browser, language and local
// time, and the consents the contact gave. It refreshes itself every 30 seconds (the pages a
// visitor moves to and their clock), and with the rest of the sidebar on live updates.

// visitTimeout separates visits: pages further apart than this belong to an earlier visit, as
// web analytics count sessions.
const visitTimeout = 30 * time.Minute

func (s *Server) visitorContextRoutes() []route {
	return []route{
		{pattern: "GET /conversations/{id}/visitor", handle: s.showVisitorContext},
	}
}

// visitorContext is a chat visitor as the sidebar shows them.
type visitorContext struct {
	ConversationID int64
	// Current is the page the visitor is on (the last one they reported); nil when unknown.
	Current *visitorPage
	// Pages are this visit's pages before the current one, newest first.
	Pages    []visitorPage
	Referrer string
	// Browser is "Firefox 128 · Linux"; "" when the user agent says nothing known.
	Browser  string
	Language string
	// LocalTime is the visitor's clock now ("14:05"), TimeZone its IANA name; both "" when the
	// widget did not say.
	LocalTime string
	TimeZone  string
	Consents  []visitorConsent
}

// visitorPage is one page of a visit.
type visitorPage struct {
	URL, Title string
	// Time is when the visitor went there, in the reader's time zone; ISO for <time datetime>.
	Time, ISO string
}

// Label is the page's title, or its address without the scheme when it has none.
func (p visitorPage) Label() string {
	if p.Title != "" {
		return p.Title
	}
	return strings.TrimPrefix(strings.TrimPrefix(p.URL, "https://"), "http://")
}

// visitorConsent is one consent the contact gave (CHAT-12): the exact text they saw.
type visitorConsent struct {
	Mode, Text, PrivacyURL string
	When, ISO              string
}

// visitorOfConversation returns the visitor id of a live chat conversation: its thread key is
// "visitor:<id>" on a chat channel. ok is false for other conversations.
func (s *Server) visitorOfConversation(ctx context.Context, c *store.Conversation) (int64, bool, error) {
	rest, found := strings.CutPrefix(c.ThreadKey, "visitor:")
	if !found || c.ChannelID == nil {
		return 0, false, nil
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, nil
	}
	ch, err := s.Store.Channel(ctx, *c.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	return id, ch.Kind == "chat", nil
}

// visitorContext reads what the sidebar shows of the visitor of a chat conversation the reader
// may see; nil for any other conversation. lang and loc are the reader's.
func (s *Server) visitorContext(ctx context.Context, c *store.Conversation, lang *Lang, loc *time.Location, now time.Time) (*visitorContext, error) {
	id, ok, err := s.visitorOfConversation(ctx, c)
	if err != nil || !ok {
		return nil, err
	}
	vc, err := s.Store.ChatVisitorContext(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if vc.Visitor.ChannelID != *c.ChannelID {
		return nil, nil // a thread key naming another channel's visitor: show nothing of them
	}
	out := &visitorContext{ConversationID: c.ID, Referrer: vc.Visitor.Referrer}
	page := func(p store.ChatPageView) visitorPage {
		t := time.UnixMilli(p.At)
		return visitorPage{URL: p.URL, Title: p.Title, Time: t.In(loc).Format("15:04"), ISO: t.UTC().Format(time.RFC3339)}
	}
	if len(vc.Pages) > 0 {
		cur := page(vc.Pages[0])
		out.Current = &cur
		for i := 1; i < len(vc.Pages); i++ {
			if vc.Pages[i-1].At-vc.Pages[i].At > visitTimeout.Milliseconds() {
				break
			}
			out.Pages = append(out.Pages, page(vc.Pages[i]))
		}
	} else if vc.Visitor.PageURL != "" {
		out.Current = &visitorPage{URL: vc.Visitor.PageURL, Title: vc.PageTitle}
	}
	if a := useragent.Parse(vc.UserAgent); a.Browser != "" || a.OS != "" {
		b := strings.TrimSpace(a.Browser + " " + a.Version)
		if b != "" && a.OS != "" {
			b += " · "
		}
		out.Browser = b + a.OS
	}
	out.Language = languageName(vc.Visitor.Language, lang.Code)
	if vc.TimeZone != "" {
		if zone, err := time.LoadLocation(vc.TimeZone); err == nil {
			out.TimeZone, out.LocalTime = vc.TimeZone, now.In(zone).Format("15:04")
		}
	}
	if c.ContactID != nil {
		consents, err := s.Store.ContactConsents(ctx, *c.ContactID)
		if err != nil {
			return nil, err
		}
		for _, k := range consents {
			t := time.UnixMilli(k.GivenAt)
			out.Consents = append(out.Consents, visitorConsent{Mode: k.Mode, Text: k.Text, PrivacyURL: k.PrivacyURL,
				When: t.In(loc).Format(lang.T("contact.date_layout") + " 15:04"), ISO: t.UTC().Format(time.RFC3339)})
		}
	}
	return out, nil
}

// languageName names a browser's language tag in the reader's language ("svenska (Sverige)"
// for an English reader is "Swedish (Sweden)"), keeping the tag itself when it is not one.
func languageName(tag, reader string) string {
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	if name := display.Tags(language.Make(reader)).Name(t); name != "" {
		return name
	}
	return tag
}

// showVisitorContext renders the Visitor section alone: its own periodic refresh. A conversation
// that is not a chat answers 204, which htmx leaves in place.
func (s *Server) showVisitorContext(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u := user(r)
	c, err := s.Inbox.Conversation(r.Context(), u, id)
	if err != nil {
		return err
	}
	loc := readerLocation(u)
	v, err := s.visitorContext(r.Context(), c, s.lang(r, u), loc, time.Now())
	if err != nil {
		return err
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.renderBlock(w, http.StatusOK, "contact", "visitor-context", map[string]any{"Page": s.page(r, "", "inbox"), "V": v})
}

// readerLocation is the reader's time zone, UTC when theirs is unknown.
func readerLocation(u *store.User) *time.Location {
	if u != nil && u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}
