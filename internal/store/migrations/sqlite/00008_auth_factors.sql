-- +goose Up
-- Second sign-in factors and password links (SPEC ACCESS-2): TOTP two-factor with recovery
-- codes, the short-lived step between password and code, and one-time password reset and
-- invitation links. Secrets the server only compares are stored as SHA-256 hashes; the TOTP
-- secret itself must be readable to compute codes.

-- A user's TOTP authenticator. confirmed_at is NULL while enrolment waits for the first code;
-- only a confirmed row makes the code step required. last_step is the last 30-second time
-- step a code was accepted for: a code is good once.
CREATE TABLE user_totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

-- One-time recovery codes for when the authenticator is lost.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- A sign-in that passed the password and waits for the second factor. attempts counts wrong
-- codes, so one pending sign-in cannot be used to guess codes for long.
CREATE TABLE pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX pending_sign_ins_user ON pending_sign_ins (user_id);

-- Links that let someone set a password without knowing the old one: "reset" from the
-- forgot-password form, "invite" issued by an admin. Single use; used_at marks the use.
CREATE TABLE password_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('reset', 'invite')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_tokens_user ON password_tokens (user_id);

-- +goose Down
SELECT 'down migrations are not supported';
