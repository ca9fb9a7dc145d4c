package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// What agents see of a chat visitor besides their messages (migration 00020): the browser,
// time zone and current page title on chat_visitors, and the pages they went to.

// MaxChatPageViews is how many page views are kept per visitor; older ones are trimmed as new
// ones arrive.
const MaxChatPageViews = 50

// ChatPageView is one page a visitor went to.
type ChatPageView struct {
	ID        int64
	VisitorID int64
	URL       string
	Title     string
	// At is when the widget reported the page (Unix milliseconds).
	At int64
}

// ChatVisitorContext is a visitor's browser, time zone and pages, as the contact sidebar shows
// them.
type ChatVisitorContext struct {
	Visitor   ChatVisitor
	UserAgent string
	TimeZone  string
	PageTitle string
	// Pages are the last MaxChatPageViews page views, newest first.
	Pages []ChatPageView
}

// SetChatVisitorBrowser records what a session request tells of the visitor's browser: its
// user agent and, when the widget sent one, its IANA time zone.
func (tx *Tx) SetChatVisitorBrowser(ctx context.Context, visitorID int64, userAgent, timeZone string) error {
	res, err := tx.exec(ctx, `UPDATE chat_visitors SET user_agent = $1,
		time_zone = CASE WHEN $2 = '' THEN time_zone ELSE $2 END WHERE id = $3`, userAgent, timeZone, visitorID)
	if err != nil {
		return fmt.Errorf("set chat visitor %d browser: %w", visitorID, err)
	}
	return expectRows(res)
}

// RecordChatPage makes url (titled title) the visitor's current page and adds it to their page
// views at at, unless it is already the latest one (a reload, or the session request and the
// widget's first page frame both reporting it): then only its title and time are refreshed.
// Views beyond the last MaxChatPageViews are deleted.
func (tx *Tx) RecordChatPage(ctx context.Context, visitorID int64, url, title string, at int64) error {
	res, err := tx.exec(ctx, `UPDATE chat_visitors SET page_url = $1, page_title = $2,
		last_seen_at = CASE WHEN last_seen_at > $3 THEN last_seen_at ELSE $3 END WHERE id = $4`, url, title, at, visitorID)
	if err != nil {
		return fmt.Errorf("record chat page of visitor %d: %w", visitorID, err)
	}
	if err := expectRows(res); err != nil {
		return err
	}
	var lastID int64
	var lastURL string
	err = tx.tx.QueryRowContext(ctx, `SELECT id, url FROM chat_page_views WHERE visitor_id = $1
		ORDER BY id DESC LIMIT 1`, visitorID).Scan(&lastID, &lastURL)
	switch {
	case err == nil && lastURL == url:
		_, err = tx.exec(ctx, `UPDATE chat_page_views SET title = $1, at = $2 WHERE id = $3`, title, at, lastID)
		if err != nil {
			return fmt.Errorf("refresh chat page view: %w", err)
		}
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("latest chat page view: %w", err)
	}
	if _, err := tx.insert(ctx, `INSERT INTO chat_page_views (visitor_id, url, title, at) VALUES ($1, $2, $3, $4)`,
		visitorID, url, title, at); err != nil {
		return fmt.Errorf("insert chat page view: %w", err)
	}
	_, err = tx.exec(ctx, `DELETE FROM chat_page_views WHERE visitor_id = $1 AND id <= (SELECT id FROM chat_page_views
		WHERE visitor_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, visitorID, MaxChatPageViews)
	if err != nil {
		return fmt.Errorf("trim chat page views: %w", err)
	}
	return nil
}

// ChatVisitorContext returns a visitor with their browser, time zone and page views.
func (s *Store) ChatVisitorContext(ctx context.Context, visitorID int64) (*ChatVisitorContext, error) {
	v, err := s.ChatVisitor(ctx, visitorID)
	if err != nil {
		return nil, err
	}
	out := &ChatVisitorContext{Visitor: *v}
	if err := s.read.QueryRowContext(ctx, `SELECT user_agent, time_zone, page_title FROM chat_visitors WHERE id = $1`,
		visitorID).Scan(&out.UserAgent, &out.TimeZone, &out.PageTitle); err != nil {
		return nil, mapErr(err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, visitor_id, url, title, at FROM chat_page_views
		WHERE visitor_id = $1 ORDER BY id DESC LIMIT $2`, visitorID, MaxChatPageViews)
	if err != nil {
		return nil, fmt.Errorf("chat page views: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p ChatPageView
		if err := rows.Scan(&p.ID, &p.VisitorID, &p.URL, &p.Title, &p.At); err != nil {
			return nil, mapErr(err)
		}
		out.Pages = append(out.Pages, p)
	}
	return out, mapErr(rows.Err())
}
