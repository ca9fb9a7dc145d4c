-- +goose Up
-- Snippets: canned replies an agent inserts in the composer by their shortcut (SPEC NOTIFY-3).
-- A snippet is shared (owner_user_id NULL: everyone sees it, admins manage it) or personal (only
-- its owner sees and manages it). Its body may hold tokens ({{contact.first_name}}…) that are
-- filled in when it is inserted into a conversation.
CREATE TABLE snippets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    shortcut      TEXT NOT NULL,   -- stored lower-case
    title         TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- A shortcut is unique within its scope: among shared snippets, and among one user's own. A
-- personal snippet may reuse a shared one's shortcut; the picker shows both.
CREATE UNIQUE INDEX snippets_shared_shortcut ON snippets (shortcut) WHERE owner_user_id IS NULL;
CREATE UNIQUE INDEX snippets_personal_shortcut ON snippets (owner_user_id, shortcut) WHERE owner_user_id IS NOT NULL;

-- +goose Down
SELECT 'down migrations are not supported';
