-- +goose Up
-- Times are unix milliseconds set from Go; JSON is TEXT here and JSONB on PostgreSQL.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('conversation_number', 1000);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,           -- stored lower-case
    name           TEXT NOT NULL,
    job_title      TEXT NOT NULL DEFAULT '',
    avatar_url     TEXT NOT NULL DEFAULT '',
    locale         TEXT NOT NULL DEFAULT 'en',
    time_zone      TEXT NOT NULL DEFAULT 'UTC',
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    password_hash  TEXT NOT NULL DEFAULT '',
    deactivated_at INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    is_primary INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE inboxes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    access     TEXT NOT NULL CHECK (access IN ('everyone', 'specific')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE inbox_users (
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_users_user ON inbox_users (user_id);

CREATE TABLE inbox_teams (
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    team_id  INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, team_id)
);
CREATE INDEX inbox_teams_team ON inbox_teams (team_id);

-- A registered custom channel type (HubSpot's "channel"): capabilities, webhook and signing secret.
CREATE TABLE custom_channels (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL,
    capabilities        TEXT NOT NULL,
    webhook_url         TEXT NOT NULL DEFAULT '',
    connect_redirect_url TEXT NOT NULL DEFAULT '',
    description         TEXT NOT NULL DEFAULT '',
    logo_url            TEXT NOT NULL DEFAULT '',
    secret              TEXT NOT NULL,
    created_by          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    archived_at         INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- A channel connected to an inbox. For kind 'custom' it is a channel account of custom_channel_id,
-- addressed by its delivery identifier.
CREATE TABLE channels (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox_id          INTEGER NOT NULL REFERENCES inboxes(id),
    kind              TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'broken')),
    last_error        TEXT NOT NULL DEFAULT '',
    settings          TEXT NOT NULL DEFAULT '{}',
    custom_channel_id INTEGER REFERENCES custom_channels(id),
    address_type      TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL DEFAULT '',
    authorized        INTEGER NOT NULL DEFAULT 1,
    archived_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX channels_inbox ON channels (inbox_id);
CREATE INDEX channels_custom ON channels (custom_channel_id);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL DEFAULT '',
    company     TEXT NOT NULL DEFAULT '',
    owner_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    blocked     INTEGER NOT NULL DEFAULT 0,
    properties  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- kind: 'email' (lower-case), 'phone' (E.164), or 'custom:<custom_channel_id>' for opaque ids.
CREATE TABLE contact_identities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE conversations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    number               INTEGER NOT NULL UNIQUE,
    inbox_id             INTEGER NOT NULL REFERENCES inboxes(id),
    channel_id           INTEGER REFERENCES channels(id),
    contact_id           INTEGER REFERENCES contacts(id),
    thread_key           TEXT NOT NULL DEFAULT '',
    subject              TEXT NOT NULL DEFAULT '',
    preview              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    snoozed_until        INTEGER,
    spam                 INTEGER NOT NULL DEFAULT 0,
    trashed_at           INTEGER,
    assignee_id          INTEGER REFERENCES users(id),
    previous_assignee_id INTEGER REFERENCES users(id),
    team_id              INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    priority             TEXT NOT NULL DEFAULT 'none' CHECK (priority IN ('none', 'low', 'medium', 'high', 'urgent')),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    last_activity_at     INTEGER NOT NULL,
    last_inbound_at      INTEGER,
    last_outbound_at     INTEGER
);
CREATE INDEX conversations_inbox_activity ON conversations (inbox_id, status, last_activity_at, id);
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_thread ON conversations (channel_id, thread_key);

CREATE TABLE conversation_tags (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag             TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag);

CREATE TABLE conversation_reads (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_at         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- status: queued | sent | delivered | read | failed for outbound; received for inbound.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id      INTEGER REFERENCES channels(id),
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    author_id       INTEGER REFERENCES users(id),
    sender          TEXT NOT NULL DEFAULT '{}',
    recipients      TEXT NOT NULL DEFAULT '[]',
    text            TEXT NOT NULL DEFAULT '',
    html            TEXT NOT NULL DEFAULT '',
    attachments     TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL,
    failure_reason  TEXT NOT NULL DEFAULT '',
    external_id     TEXT,
    idempotency_key TEXT,
    in_reply_to_id  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);
CREATE UNIQUE INDEX messages_idempotency ON messages (channel_id, idempotency_key);
CREATE UNIQUE INDEX messages_external ON messages (channel_id, external_id);

CREATE TABLE comments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author_id       INTEGER NOT NULL REFERENCES users(id),
    body            TEXT NOT NULL,
    mentions        TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);
CREATE INDEX comments_conversation ON comments (conversation_id, created_at, id);

-- Timeline events: status changes, assignments and why, moves, spam decisions.
CREATE TABLE conversation_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    actor_id        INTEGER REFERENCES users(id),
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_events_conversation ON conversation_events (conversation_id, created_at, id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   INTEGER,
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);

-- The durable job queue (outbox). Jobs sharing an ordering_key run one at a time in id order.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    ordering_key TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until INTEGER,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
CREATE INDEX jobs_ordering ON jobs (ordering_key, state, id);

-- Responses to creates made with an Idempotency-Key header, replayed on retry.
CREATE TABLE idempotency_keys (
    user_id     INTEGER NOT NULL,
    key         TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Full-text search: one row per searchable text of a conversation (subject, message, comment).
CREATE VIRTUAL TABLE search_index USING fts5 (body, conversation_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');

-- +goose Down
SELECT 'down migrations are not supported';
