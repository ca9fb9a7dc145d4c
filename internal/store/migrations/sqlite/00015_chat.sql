-- +goose Up
-- Live chat (SPEC CHAT-1…8). A chat channel is a row of channels (kind 'chat') whose settings
-- hold its allowed origins and appearance; chat_channels adds what must be looked up or kept
-- secret: the random public id the widget snippet names (the numeric id is not exposed to
-- visitors) and the secret that signs identity verification (CHAT-8).
CREATE TABLE chat_channels (
    channel_id      INTEGER PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    public_id       TEXT NOT NULL UNIQUE,
    identity_secret TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- A chat channel's chatflows (CHAT-3…6), each one chatflow.Flow as JSON. The row id is the
-- flow's id; a table rather than a list in the channel's settings so that editing one flow
-- neither rewrites nor races the others.
CREATE TABLE chatflows (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    flow       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX chatflows_channel ON chatflows (channel_id, id);

-- Visitors of a chat channel. The widget keeps a random token; only its SHA-256 is stored. A
-- visitor's conversation threads on the key 'visitor:<id>'. email and name are set only by a
-- verified identity (CHAT-8); contact_id is the contact their messages were filed under.
CREATE TABLE chat_visitors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    contact_id   INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    email        TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    page_url     TEXT NOT NULL DEFAULT '',
    referrer     TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX chat_visitors_channel ON chat_visitors (channel_id);

-- +goose Down
SELECT 'down migrations are not supported';
