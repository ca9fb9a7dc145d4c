-- +goose Up
-- Every inbox has its own receiving address from creation, <slug>@<inbound domain> (EMAIL-1,
-- ACCESS-5): the slug is made from the name when the inbox is created and never changes, so a
-- forwarding rule set up at a mail provider keeps working after a rename.
ALTER TABLE inboxes ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE inboxes SET slug = 'inbox-' || id;
CREATE UNIQUE INDEX inboxes_slug ON inboxes (slug);

-- What a channel learns while it runs, kept apart from the settings an admin edits so the two
-- never overwrite each other: email's Gmail forwarding confirmation, the test mail's round trip,
-- quarantined senders.
ALTER TABLE channels ADD COLUMN state JSONB NOT NULL DEFAULT '{}';

-- The runaway-sender check (EMAIL-7) counts a sender's recent mail on a channel.
CREATE INDEX email_message_ids_sender ON email_message_ids (channel_id, sender, created_at);

-- +goose Down
SELECT 'down migrations are not supported';
