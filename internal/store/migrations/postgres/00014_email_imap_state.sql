-- +goose Up
-- Where each IMAP email channel stands in its mailbox (SPEC EMAIL-1b), and which node fetches it.
-- The checkpoint is (uid_validity, last_uid): every message with a larger UID is still to be
-- fetched; when the server's UIDVALIDITY differs the UIDs mean nothing any more and the fetcher
-- starts again from the backfill rule. Messages up to backfill_until_uid (the mailbox's last UID
-- on the first connect) are fetched only when their INTERNALDATE is at or after backfill_since,
-- so a restart in the middle of a backfill keeps skipping old mail.
-- The lease (lease_owner, lease_until) lets several `parley serve` nodes share one database
-- while exactly one of them fetches a mailbox; '' / 0 means free. Times are unix milliseconds.
CREATE TABLE email_imap_state (
    channel_id         BIGINT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    uid_validity       BIGINT NOT NULL DEFAULT 0,
    last_uid           BIGINT NOT NULL DEFAULT 0,
    backfill_until_uid BIGINT NOT NULL DEFAULT 0,
    backfill_since     BIGINT NOT NULL DEFAULT 0,
    last_success_at    BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT NOT NULL DEFAULT '',
    last_error_at      BIGINT NOT NULL DEFAULT 0,
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until        BIGINT NOT NULL DEFAULT 0,
    updated_at         BIGINT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported';
