-- +goose Up
-- Where a conversation is filed (SPEC EMAIL-8): conversations.spam now holds 0 for the inbox,
-- 1 for spam and 2 for Filtered (automated mail: auto-replies, bounces, bulk and list mail,
-- role-based senders). Filtered is deliberately not 0: every existing "spam = 0" condition —
-- the views and their counts, routing's waiting list, the open counts of migration 00010 and
-- their triggers, and the partial indexes of migration 00005 — leaves filtered conversations out
-- with no change, and "spam = 1" (the Spam view) keeps meaning spam alone.

-- The Filtered view has no status to narrow by, like the Spam view: one page reads a page per
-- inbox in list order instead of sorting every conversation of the inbox.
CREATE INDEX conversations_filtered_activity ON conversations (inbox_id, last_activity_at, id) WHERE spam = 2;

-- Each inbox's allow and deny lists of senders (SPEC EMAIL-6): an entry is a lower-case address
-- (name@example.com) or domain (example.com, which also covers its subdomains). The key leads
-- with the entry rather than the list so that the check run on every inbound mail finds the
-- sender's address and domains of one inbox with one lookup each; it is the same uniqueness as
-- (inbox_id, list, entry).
CREATE TABLE email_filter_entries (
    inbox_id   BIGINT NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    list       TEXT NOT NULL CHECK (list IN ('allow', 'deny')),
    entry      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, entry, list)
);

-- +goose Down
SELECT 'down migrations are not supported';
