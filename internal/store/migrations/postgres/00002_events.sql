-- +goose Up
-- The event log (SPEC API-3, principle 2): every change a client may see, in commit order.
-- A transaction inserts its events with seq NULL; the sequencer (store/events.go) numbers
-- committed events in batches, one batch at a time, so seq order is commit order and a reader
-- polling seq > last never skips an event whose transaction committed late. (Numbering inside
-- the writing transaction would have to serialise every commit on a lock: measured at a sixth of
-- the throughput.) id is only the insertion order, which keeps a transaction's events in order.
-- data is the object's public JSON, stored as rendered and replayed byte for byte: TEXT, not
-- JSONB, because nothing queries inside it and JSONB would re-serialise it on every write and read.
CREATE TABLE events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq             BIGINT UNIQUE,    -- NULL until the sequencer numbers it
    type            TEXT NOT NULL,
    inbox_id        BIGINT,           -- NULL: an installation-wide internal event (access.changed)
    conversation_id BIGINT,
    user_id         BIGINT,           -- set: only this user receives it (read state)
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
CREATE INDEX events_created ON events (created_at);
INSERT INTO counters (name, value) VALUES ('event_seq', 0);

-- +goose Down
SELECT 'down migrations are not supported';
