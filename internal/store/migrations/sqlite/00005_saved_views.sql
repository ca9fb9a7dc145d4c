-- +goose Up
-- Saved views (SPEC CONV-8): a user's own named filter combinations, shown in the inbox's left
-- pane. query is the conversation list's URL query (view, filters, search) as the web app wrote it.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL DEFAULT '',
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX saved_views_user ON saved_views (user_id, position, id);

-- The left pane's counts (store/inbox_views.go) read every open conversation a user may see and
-- group them. This index holds exactly those rows and every column the count reads, so the count
-- reads the index alone (status, spam and trashed_at are fixed by the WHERE, but SQLite reads the
-- table for any column the query names that the index lacks). The count's query says
-- "inbox_id > 0", and so does the index: the list's queries (open, not spam, not in the trash, newest first) do not, so the planner never picks
-- this index for them; read through it, a page of the list would sort every open conversation
-- instead of reading the activity index in order and stopping after one page.
CREATE INDEX conversations_view_counts ON conversations (inbox_id, channel_id, team_id, assignee_id, snoozed_until,
    status, spam, trashed_at)
    WHERE status = 'open' AND spam = 0 AND trashed_at IS NULL AND inbox_id > 0;

-- The left pane's views per channel and per team read a page in order, like the other views
-- (migration 00004), instead of sorting every conversation of the channel or team.
CREATE INDEX conversations_channel_activity ON conversations (channel_id, status, last_activity_at, id);
CREATE INDEX conversations_team_activity ON conversations (team_id, status, last_activity_at, id);

-- The Spam and Trash views have no status to narrow by: for an agent, the list read every
-- conversation of each inbox they may see and sorted them (a quarter of a second on 100,000
-- conversations). These hold only spam or trashed conversations, per inbox in list order, so a page
-- reads a page per inbox.
CREATE INDEX conversations_spam_activity ON conversations (inbox_id, last_activity_at, id) WHERE spam = 1;
CREATE INDEX conversations_trash_activity ON conversations (inbox_id, last_activity_at, id) WHERE trashed_at IS NOT NULL;

-- +goose Down
SELECT 'down migrations are not supported';
