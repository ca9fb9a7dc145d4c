-- +goose Up
-- What agents see of a chat visitor beside the conversation (issue 6 item 6): the browser's
-- user agent (the sidebar shows a browser and OS name parsed from it), the visitor's IANA time
-- zone (for their local time), the current page's title, and the pages of their visits.
ALTER TABLE chat_visitors ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_visitors ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_visitors ADD COLUMN page_title TEXT NOT NULL DEFAULT '';

-- The pages a visitor went to, newest last: the first page of each session and every move the
-- widget reports. Only the last 50 per visitor are kept (the insert trims older ones), so a
-- visitor who leaves a tab open on a busy single-page site cannot grow it without end.
CREATE TABLE chat_page_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    visitor_id INTEGER NOT NULL REFERENCES chat_visitors(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX chat_page_views_visitor ON chat_page_views (visitor_id, id);

-- +goose Down
SELECT 'down migrations are not supported';
