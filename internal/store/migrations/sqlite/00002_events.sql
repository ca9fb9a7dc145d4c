-- +goose Up
-- The event log (SPEC API-3, principle 2): every change a client may see, in commit order.
-- SQLite has one writer, so a transaction numbers its events itself, from counters.event_seq,
-- as its last statements before COMMIT: seq order is commit order (store/events.go). PostgreSQL
-- numbers them after commit instead (its 00002_events.sql says why); the columns match.
-- data is the object's public JSON, stored as rendered and replayed byte for byte.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    type            TEXT NOT NULL,
    inbox_id        INTEGER,          -- NULL: an installation-wide internal event (access.changed)
    conversation_id INTEGER,
    user_id         INTEGER,          -- set: only this user receives it (read state)
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_created ON events (created_at);
INSERT INTO counters (name, value) VALUES ('event_seq', 0);

-- +goose Down
SELECT 'down migrations are not supported';
