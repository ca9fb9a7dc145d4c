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

-- Full-text search (SPEC PERF-5). The index's rowid now says whose text it is: conversation id
-- × 2^24 + the text's number within the conversation. So the index hands out matches newest
-- conversation first, and a search for a common word reads only the newest few hundred matches
-- and the conversations from there on, instead of every match (see store/search.go).
CREATE VIRTUAL TABLE search_index_v2 USING fts5 (body, conversation_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO search_index_v2 (rowid, body, conversation_id)
    SELECT CAST(conversation_id AS INTEGER) * 16777216
           + ROW_NUMBER() OVER (PARTITION BY CAST(conversation_id AS INTEGER) ORDER BY rowid) - 1,
           body, CAST(conversation_id AS INTEGER)
    FROM search_index;
DROP TABLE search_index;
ALTER TABLE search_index_v2 RENAME TO search_index;

-- Contacts by any part of their name, email, phone or other identity, from three characters
-- (trigrams), instead of reading every contact: one row per contact name (rowid 2 × contact id)
-- and per identity (rowid 2 × identity id + 1), kept up to date by triggers.
CREATE VIRTUAL TABLE contact_search USING fts5 (value, contact_id UNINDEXED, tokenize = 'trigram');
INSERT INTO contact_search (rowid, value, contact_id) SELECT id * 2, name, id FROM contacts;
INSERT INTO contact_search (rowid, value, contact_id) SELECT id * 2 + 1, value, contact_id FROM contact_identities;

-- +goose StatementBegin
CREATE TRIGGER contact_search_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_search (rowid, value, contact_id) VALUES (new.id * 2, new.name, new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_search_update AFTER UPDATE OF name ON contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.id * 2;
    INSERT INTO contact_search (rowid, value, contact_id) VALUES (new.id * 2, new.name, new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_search_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.id * 2;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identity_search_insert AFTER INSERT ON contact_identities BEGIN
    INSERT INTO contact_search (rowid, value, contact_id) VALUES (new.id * 2 + 1, new.value, new.contact_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identity_search_update AFTER UPDATE ON contact_identities BEGIN
    DELETE FROM contact_search WHERE rowid = old.id * 2 + 1;
    INSERT INTO contact_search (rowid, value, contact_id) VALUES (new.id * 2 + 1, new.value, new.contact_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identity_search_delete AFTER DELETE ON contact_identities BEGIN
    DELETE FROM contact_search WHERE rowid = old.id * 2 + 1;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported';
