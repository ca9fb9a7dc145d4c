-- +goose Up
-- Chat bots (SPEC CHAT-9). A bot is a name and a list of immutable versions, each one bot
-- definition (package channel/chat/bot) as JSON. Saving a bot writes a new version and moves
-- current_version; chatflows pin {id, version}, so a live flow changes only when an admin moves
-- it to the new version, and a running conversation keeps the version it started with.
CREATE TABLE bots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    current_version INTEGER NOT NULL DEFAULT 0,
    -- signs the bot's webhook calls (X-Parley-Signature), so a receiver knows they are ours
    webhook_secret  TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE bot_versions (
    bot_id     INTEGER NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    PRIMARY KEY (bot_id, version)
);

-- A chat conversation's bot run: where the conversation is in its bot (bot.State as JSON) and
-- whether the bot still has it. While status is 'active' routing leaves the conversation alone
-- and it shows in the Bots view; 'handed_off' (a hand-off step or an agent taking over) and
-- 'ended' give it back to people. flow_id is the chatflow that started it: its hand-off rule
-- routes the conversation afterwards.
CREATE TABLE chat_bot_runs (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    bot_id          INTEGER NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    flow_id         INTEGER NOT NULL,
    state           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'handed_off', 'ended')),
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX chat_bot_runs_status ON chat_bot_runs (status, conversation_id);
CREATE INDEX chat_bot_runs_bot ON chat_bot_runs (bot_id);

-- Tickets (SPEC §6), as small as a bot's "submit ticket" step needs but in TICKET-2's shape so
-- the tickets issue extends rather than replaces it: pipeline and stage are ids of tables that
-- issue adds (no foreign keys yet), and a ticket links to conversations through
-- ticket_conversations because TICKET-4 links and unlinks several.
CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    pipeline_id INTEGER,
    stage_id    INTEGER,
    priority    TEXT NOT NULL DEFAULT 'none',
    owner_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    contact_id  INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    source      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX tickets_contact ON tickets (contact_id);

CREATE TABLE ticket_conversations (
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    linked_at       INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, conversation_id)
);
CREATE INDEX ticket_conversations_conversation ON ticket_conversations (conversation_id);

-- +goose Down
SELECT 'down migrations are not supported';
