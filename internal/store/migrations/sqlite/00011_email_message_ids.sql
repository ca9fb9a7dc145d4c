-- +goose Up
-- Every Message-ID seen on an email channel, inbound and outbound, and the conversation it
-- belongs to (spec/email.md §4.2 rule 2): a reply's In-Reply-To or References finds its
-- conversation here with one query. The first conversation to record an id keeps it.
CREATE TABLE email_message_ids (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,            -- bare, without angle brackets
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- The message row carrying it, when there is one (a message deleted later leaves the id
    -- threading to its conversation).
    message_row_id  INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- The lower-case From address of an inbound message: who takes part in the conversation,
    -- for trusting a subject token (rule 3).
    sender          TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (channel_id, message_id)
);
CREATE INDEX email_message_ids_conversation ON email_message_ids (conversation_id, sender);
CREATE INDEX email_message_ids_message ON email_message_ids (message_row_id);

-- +goose Down
SELECT 'down migrations are not supported';
