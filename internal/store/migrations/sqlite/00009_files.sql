-- +goose Up
-- Files: attachments agents upload and, later, files channels receive. The content lives on disk
-- under the data directory (package files); this table holds what is needed to find, check and
-- serve it. id is random and unguessable: it appears in download URLs.
CREATE TABLE files (
    id              TEXT PRIMARY KEY,
    -- The conversation the file belongs to once a message carries it. While it is NULL only the
    -- uploader may see the file; once attached (attached_at set) whoever sees the conversation
    -- may. A conversation deleted for good leaves attached_at set and conversation_id NULL, and
    -- the sweep removes the file.
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    uploader_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    storage_key     TEXT NOT NULL,
    attached_at     INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX files_conversation ON files (conversation_id);
-- The sweep's candidates: never attached, or their conversation is gone.
CREATE INDEX files_loose ON files (created_at) WHERE conversation_id IS NULL;

-- +goose Down
SELECT 'down migrations are not supported';
