-- +goose Up
-- Slack mirror of live chats (SPEC CHAT-13, package slack). Per inbox, an admin connects a
-- Slack app: its bot token and signing secret (kept here, never shown back whole) and the Slack
-- channel that chats are mirrored into. team_id and bot_user_id are learned from auth.test.
CREATE TABLE slack_settings (
    inbox_id       BIGINT PRIMARY KEY REFERENCES inboxes(id) ON DELETE CASCADE,
    enabled        BIGINT NOT NULL DEFAULT 0,
    bot_token      TEXT NOT NULL DEFAULT '',
    signing_secret TEXT NOT NULL DEFAULT '',
    channel_id     TEXT NOT NULL DEFAULT '',
    team_id        TEXT NOT NULL DEFAULT '',
    bot_user_id    TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX slack_settings_channel ON slack_settings (channel_id);

-- The Slack parent message of each mirrored conversation: replies in its thread (thread_ts =
-- ts) belong to the conversation.
CREATE TABLE slack_threads (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    inbox_id        BIGINT NOT NULL,
    channel_id      TEXT NOT NULL,
    ts              TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (channel_id, ts)
);

-- Each message that is in the Slack thread, with its Slack ts: those Parley posted (origin
-- 'parley'; a retried mirror job finds its row and does not post twice) and those that came
-- from Slack (origin 'slack'; they are not posted back).
CREATE TABLE slack_messages (
    message_id      BIGINT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL,
    ts              TEXT NOT NULL,
    origin          TEXT NOT NULL CHECK (origin IN ('parley', 'slack')),
    created_at      BIGINT NOT NULL
);

-- Events API deliveries, by Slack's event_id: a retried delivery (X-Slack-Retry-Num) is stored,
-- and so handled, once. The request is answered once the row and its job are committed; the job
-- looks the Slack user up and stores the reply. user_id and replying_at are set just before the
-- reply is stored, so that a retried job finds a reply an earlier attempt stored, and the mirror
-- does not post that reply back to Slack while it is not linked yet.
CREATE TABLE slack_events (
    inbox_id        BIGINT NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    user_id         BIGINT,
    replying_at     BIGINT,
    message_id      BIGINT,
    done_at         BIGINT,
    PRIMARY KEY (inbox_id, event_id)
);
CREATE INDEX slack_events_replying ON slack_events (conversation_id, user_id) WHERE done_at IS NULL;
CREATE INDEX slack_events_received ON slack_events (received_at);

-- How far the mirror has read the event log: it starts at the present, so history is not posted.
INSERT INTO counters (name, value) SELECT 'slack_mirror_seq', value FROM counters WHERE name = 'event_seq';

-- +goose Down
SELECT 'down migrations are not supported';
