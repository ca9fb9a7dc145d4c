-- +goose Up
-- Availability, capacity and routing (SPEC ACCESS-6, ACCESS-7, ROUTE-1…7).

-- A user's availability. No row means available, set by nobody, without working hours.
-- working_hours: {"enabled": bool, "time_zone": "Europe/Stockholm", "days": {"mon": [{"start": "09:00", "end": "17:00"}], …}}.
CREATE TABLE user_availability (
    user_id       BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'away')),
    set_by        BIGINT REFERENCES users(id) ON DELETE SET NULL,
    set_at        BIGINT,
    working_hours JSONB,
    updated_at    BIGINT NOT NULL
);

-- A user's capacity limits: open conversations assigned to them, in total and per channel
-- category. NULL means no limit; no row means no limits at all.
CREATE TABLE user_capacity (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    total      BIGINT,
    messaging  BIGINT,
    email      BIGINT,
    calls      BIGINT,
    updated_at BIGINT NOT NULL
);

-- A channel's automatic-assignment rule. No row means the defaults: disabled.
CREATE TABLE channel_routing (
    channel_id     BIGINT PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    enabled        BIGINT NOT NULL DEFAULT 0,
    assign_to      TEXT NOT NULL DEFAULT 'users_and_teams' CHECK (assign_to IN ('users_and_teams', 'contact_owner')),
    only_available BIGINT NOT NULL DEFAULT 1,
    strategy       TEXT NOT NULL DEFAULT 'round_robin' CHECK (strategy IN ('round_robin', 'balanced')),
    updated_by     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at     BIGINT NOT NULL
);

-- The users and teams a rule selects; teams expand to their primary members when routing.
CREATE TABLE channel_routing_users (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, user_id)
);
CREATE TABLE channel_routing_teams (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, team_id)
);

-- Round robin's memory: when routing last gave each user a conversation of the channel. The
-- stamps are strictly increasing per channel (the clock, bumped past the channel's latest).
CREATE TABLE routing_last_assigned (
    channel_id       BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_assigned_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- Conversations routing found nobody for; they are assigned, oldest first, as soon as someone
-- frees up or becomes available (ROUTE-4).
CREATE TABLE routing_waiting (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id      BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    since           BIGINT NOT NULL
);
CREATE INDEX routing_waiting_since ON routing_waiting (since, conversation_id);

-- +goose Down
SELECT 'down migrations are not supported';
