-- +goose Up
-- Open conversations per assignee and channel, kept by a trigger in the transaction that changes
-- a conversation. Routing reads a candidate's load for every conversation it routes (capacity,
-- balanced mode); counting the assignee's open conversations each time grew with their backlog
-- and was a third of a receive transaction (BENCHMARKS.md, PERF-1). "Open" means what capacity
-- means: status open, not spam, not in the trash. channel_id 0 stands for no channel.
CREATE TABLE user_open_counts (
    user_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

INSERT INTO user_open_counts (user_id, channel_id, n)
SELECT assignee_id, COALESCE(channel_id, 0), COUNT(*) FROM conversations
WHERE assignee_id IS NOT NULL AND status = 'open' AND spam = 0 AND trashed_at IS NULL
GROUP BY assignee_id, COALESCE(channel_id, 0);

-- +goose StatementBegin
-- A conversation moving from one assignee to another touches two counter rows. Touching them in
-- (user_id, channel_id) order means two transactions moving conversations in opposite directions
-- cannot deadlock.
CREATE FUNCTION conversations_open_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_in boolean := TG_OP <> 'INSERT' AND OLD.assignee_id IS NOT NULL AND OLD.status = 'open'
        AND OLD.spam = 0 AND OLD.trashed_at IS NULL;
    new_in boolean := TG_OP <> 'DELETE' AND NEW.assignee_id IS NOT NULL AND NEW.status = 'open'
        AND NEW.spam = 0 AND NEW.trashed_at IS NULL;
    add_first boolean := false;
BEGIN
    IF old_in AND new_in THEN
        IF OLD.assignee_id = NEW.assignee_id AND COALESCE(OLD.channel_id, 0) = COALESCE(NEW.channel_id, 0) THEN
            RETURN NULL;
        END IF;
        add_first := (NEW.assignee_id, COALESCE(NEW.channel_id, 0)) < (OLD.assignee_id, COALESCE(OLD.channel_id, 0));
    END IF;
    IF new_in AND add_first THEN
        INSERT INTO user_open_counts (user_id, channel_id, n) VALUES (NEW.assignee_id, COALESCE(NEW.channel_id, 0), 1)
        ON CONFLICT (user_id, channel_id) DO UPDATE SET n = user_open_counts.n + 1;
    END IF;
    IF old_in THEN
        UPDATE user_open_counts SET n = n - 1 WHERE user_id = OLD.assignee_id AND channel_id = COALESCE(OLD.channel_id, 0);
    END IF;
    IF new_in AND NOT add_first THEN
        INSERT INTO user_open_counts (user_id, channel_id, n) VALUES (NEW.assignee_id, COALESCE(NEW.channel_id, 0), 1)
        ON CONFLICT (user_id, channel_id) DO UPDATE SET n = user_open_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER conversations_open_counts_insert_delete AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_open_counts();
CREATE TRIGGER conversations_open_counts_update AFTER UPDATE OF assignee_id, status, spam, trashed_at, channel_id ON conversations
    FOR EACH ROW WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.spam IS DISTINCT FROM NEW.spam OR OLD.trashed_at IS DISTINCT FROM NEW.trashed_at
        OR OLD.channel_id IS DISTINCT FROM NEW.channel_id)
    EXECUTE FUNCTION conversations_open_counts();

-- +goose Down
SELECT 'down migrations are not supported';
