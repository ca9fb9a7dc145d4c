-- +goose Up
-- Live chat's hand-off, away behaviour and consent (SPEC CHAT-5, 6, 10, 11, 12).
--
-- flow_id is the chatflow of the page the visitor's latest session was on: its hand-off rule
-- routes their conversation, its availability and away settings answer them, its auto-close
-- closes it. No foreign key: a deleted flow leaves the visitor with the channel's defaults.
-- collected_email is an address the visitor typed when the team was away (CHAT-6). It is not
-- verified, so it never becomes the visitor's identity (email, CHAT-8); agents' replies go
-- there by email while the visitor is not connected, and the transcript (CHAT-11).
ALTER TABLE chat_visitors ADD COLUMN flow_id INTEGER;
ALTER TABLE chat_visitors ADD COLUMN collected_email TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_visitors ADD COLUMN collected_email_at INTEGER;

-- A contact's recorded consents to data processing (CHAT-12): what they were shown (the exact
-- text and privacy link) and when they agreed. A consent given before the visitor's first
-- message has no contact yet; the first message links it (contact_id set from the visitor).
CREATE TABLE contact_consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    visitor_id  INTEGER REFERENCES chat_visitors(id) ON DELETE SET NULL,
    channel_id  INTEGER REFERENCES channels(id) ON DELETE SET NULL,
    flow_id     INTEGER NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('implicit', 'explicit')),
    text        TEXT NOT NULL,
    privacy_url TEXT NOT NULL DEFAULT '',
    given_at    INTEGER NOT NULL
);
CREATE INDEX contact_consents_contact ON contact_consents (contact_id, given_at);
CREATE INDEX contact_consents_visitor ON contact_consents (visitor_id, flow_id);

-- +goose Down
SELECT 'down migrations are not supported';
