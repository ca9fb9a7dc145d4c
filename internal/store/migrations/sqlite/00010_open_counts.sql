-- +goose Up
-- Open conversations per assignee and channel, kept by triggers in the transaction that changes
-- a conversation. Routing reads a candidate's load for every conversation it routes (capacity,
-- balanced mode); counting the assignee's open conversations each time grew with their backlog
-- and was a third of a receive transaction (BENCHMARKS.md, PERF-1). "Open" means what capacity
-- means: status open, not spam, not in the trash. channel_id 0 stands for no channel.
CREATE TABLE user_open_counts (
    user_id    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

INSERT INTO user_open_counts (user_id, channel_id, n)
SELECT assignee_id, COALESCE(channel_id, 0), COUNT(*) FROM conversations
WHERE assignee_id IS NOT NULL AND status = 'open' AND spam = 0 AND trashed_at IS NULL
GROUP BY assignee_id, COALESCE(channel_id, 0);

-- +goose StatementBegin
CREATE TRIGGER conversations_open_counts_insert AFTER INSERT ON conversations
WHEN NEW.assignee_id IS NOT NULL AND NEW.status = 'open' AND NEW.spam = 0 AND NEW.trashed_at IS NULL
BEGIN
    INSERT INTO user_open_counts (user_id, channel_id, n) VALUES (NEW.assignee_id, COALESCE(NEW.channel_id, 0), 1)
    ON CONFLICT (user_id, channel_id) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER conversations_open_counts_delete AFTER DELETE ON conversations
WHEN OLD.assignee_id IS NOT NULL AND OLD.status = 'open' AND OLD.spam = 0 AND OLD.trashed_at IS NULL
BEGIN
    UPDATE user_open_counts SET n = n - 1 WHERE user_id = OLD.assignee_id AND channel_id = COALESCE(OLD.channel_id, 0);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER conversations_open_counts_leave AFTER UPDATE OF assignee_id, status, spam, trashed_at, channel_id ON conversations
WHEN OLD.assignee_id IS NOT NULL AND OLD.status = 'open' AND OLD.spam = 0 AND OLD.trashed_at IS NULL
    AND (NEW.assignee_id IS NOT OLD.assignee_id OR NEW.status IS NOT OLD.status OR NEW.spam IS NOT OLD.spam
         OR NEW.trashed_at IS NOT OLD.trashed_at OR NEW.channel_id IS NOT OLD.channel_id)
BEGIN
    UPDATE user_open_counts SET n = n - 1 WHERE user_id = OLD.assignee_id AND channel_id = COALESCE(OLD.channel_id, 0);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER conversations_open_counts_enter AFTER UPDATE OF assignee_id, status, spam, trashed_at, channel_id ON conversations
WHEN NEW.assignee_id IS NOT NULL AND NEW.status = 'open' AND NEW.spam = 0 AND NEW.trashed_at IS NULL
    AND (NEW.assignee_id IS NOT OLD.assignee_id OR NEW.status IS NOT OLD.status OR NEW.spam IS NOT OLD.spam
         OR NEW.trashed_at IS NOT OLD.trashed_at OR NEW.channel_id IS NOT OLD.channel_id)
BEGIN
    INSERT INTO user_open_counts (user_id, channel_id, n) VALUES (NEW.assignee_id, COALESCE(NEW.channel_id, 0), 1)
    ON CONFLICT (user_id, channel_id) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported';
