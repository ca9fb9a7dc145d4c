-- +goose Up
-- Indexes for the conversation list's views (SPEC PERF-4, measured in BENCHMARKS.md). Each one
-- holds a view's filter followed by the list's sort order (last activity, then id), so a page of
-- 50 is read in order and the scan stops after 50 matches, instead of fetching and sorting every
-- conversation of the assignee.

-- "Assigned to me" / "Unassigned" with a status (open or closed): the common views.
CREATE INDEX conversations_assignee_status_activity ON conversations (assignee_id, status, last_activity_at, id);
-- "Assigned to me" across statuses.
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, last_activity_at, id);
-- The first index serves every query the old (assignee_id, status) index did.
DROP INDEX conversations_assignee;

-- Conversation numbers (#1042) from a sequence: the counters row they came from was locked by
-- every transaction that opened a conversation until it committed, which serialised ingest
-- (BENCHMARKS.md, PERF-1). A rolled-back transaction leaves a gap; display numbers need not be
-- dense. SQLite, with one writer, keeps the counter.
CREATE SEQUENCE conversation_number_seq;
SELECT setval('conversation_number_seq', GREATEST(1,
    (SELECT value FROM counters WHERE name = 'conversation_number'),
    (SELECT COALESCE(MAX(number), 0) FROM conversations)));

-- Contacts by any part of their name, email, phone or other identity (SPEC PERF-5): trigram
-- indexes answer the search's lower(…) LIKE '%…%' from three characters on, instead of reading
-- every contact. pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+), so a
-- database owner may create it; where even that is not allowed, search still works, unindexed.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX contacts_name_trgm ON contacts USING GIN (lower(name) gin_trgm_ops);
    CREATE INDEX contact_identities_value_trgm ON contact_identities USING GIN (lower(value) gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
    RAISE WARNING 'pg_trgm is not available (%); contact search will not be indexed', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported';
