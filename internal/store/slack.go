package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The Slack mirror's tables (migration 00018, package slack): each inbox's Slack app settings,
// the Slack thread of each mirrored conversation, the Slack ts of each mirrored message, the
// Events API deliveries already handled, and how far the mirror has read the event log.

// SlackSettings is one inbox's Slack app connection. BotToken and SigningSecret are secrets:
// the API and the web app never show them back whole.
type SlackSettings struct {
	InboxID       int64
	Enabled       bool
	BotToken      string
	SigningSecret string
	// ChannelID is the Slack channel (C…, G…) chats are mirrored into.
	ChannelID string
	// TeamID and BotUserID are what auth.test answered for the token, empty until tested.
	TeamID    string
	BotUserID string
	CreatedAt int64
	UpdatedAt int64
}

// Ready reports whether the settings can mirror: enabled, with a token, a secret and a channel.
func (c *SlackSettings) Ready() bool {
	return c.Enabled && c.BotToken != "" && c.SigningSecret != "" && c.ChannelID != ""
}

const slackSettingsColumns = `inbox_id, enabled, bot_token, signing_secret, channel_id, team_id, bot_user_id,
	created_at, updated_at`

func scanSlackSettings(row interface{ Scan(...any) error }) (*SlackSettings, error) {
	var c SlackSettings
	var enabled int64
	if err := row.Scan(&c.InboxID, &enabled, &c.BotToken, &c.SigningSecret, &c.ChannelID, &c.TeamID, &c.BotUserID,
		&c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	c.Enabled = enabled != 0
	return &c, nil
}

// SlackSettings returns an inbox's Slack settings; ErrNotFound when it has none.
func (s *Store) SlackSettings(ctx context.Context, inboxID int64) (*SlackSettings, error) {
	return scanSlackSettings(s.read.QueryRowContext(ctx, `SELECT `+slackSettingsColumns+`
		FROM slack_settings WHERE inbox_id = $1`, inboxID))
}

// SlackSettings returns an inbox's Slack settings inside the transaction; ErrNotFound when none.
func (tx *Tx) SlackSettings(ctx context.Context, inboxID int64) (*SlackSettings, error) {
	return scanSlackSettings(tx.tx.QueryRowContext(ctx, `SELECT `+slackSettingsColumns+`
		FROM slack_settings WHERE inbox_id = $1`+tx.forUpdate(), inboxID))
}

// SaveSlackSettings creates or replaces an inbox's Slack settings.
func (tx *Tx) SaveSlackSettings(ctx context.Context, c *SlackSettings) error {
	now := Now()
	if c.CreatedAt == 0 {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	_, err := tx.exec(ctx, `INSERT INTO slack_settings (inbox_id, enabled, bot_token, signing_secret, channel_id,
		team_id, bot_user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (inbox_id) DO UPDATE SET enabled = excluded.enabled, bot_token = excluded.bot_token,
		signing_secret = excluded.signing_secret, channel_id = excluded.channel_id, team_id = excluded.team_id,
		bot_user_id = excluded.bot_user_id, updated_at = excluded.updated_at`,
		c.InboxID, b2i(c.Enabled), c.BotToken, c.SigningSecret, c.ChannelID, c.TeamID, c.BotUserID, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save slack settings of inbox %d: %w", c.InboxID, err)
	}
	return nil
}

// SetSlackIdentity records what auth.test said of an inbox's token, if the token is still the
// one tested (an admin may have replaced it meanwhile).
func (s *Store) SetSlackIdentity(ctx context.Context, inboxID int64, token, teamID, botUserID string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE slack_settings SET team_id = $1, bot_user_id = $2, updated_at = $3
		WHERE inbox_id = $4 AND bot_token = $5`, teamID, botUserID, Now(), inboxID, token)
	if err != nil {
		return fmt.Errorf("slack identity of inbox %d: %w", inboxID, mapErr(err))
	}
	return nil
}

func (s *Store) slackSettingsList(ctx context.Context, where string, args ...any) ([]*SlackSettings, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+slackSettingsColumns+` FROM slack_settings WHERE `+where+
		` ORDER BY inbox_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("slack settings: %w", err)
	}
	defer rows.Close()
	var out []*SlackSettings
	for rows.Next() {
		c, err := scanSlackSettings(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// EnabledSlackSettings lists the Slack settings that are switched on, of every inbox.
func (s *Store) EnabledSlackSettings(ctx context.Context) ([]*SlackSettings, error) {
	return s.slackSettingsList(ctx, `enabled = 1`)
}

// AllSlackSettings lists every inbox's Slack settings that have a signing secret, switched on
// or not: Slack verifies the events URL before an admin switches the mirror on.
func (s *Store) AllSlackSettings(ctx context.Context) ([]*SlackSettings, error) {
	return s.slackSettingsList(ctx, `signing_secret <> ''`)
}

// SlackSettingsByChannel lists the enabled settings that mirror into a Slack channel (several
// inboxes may share one channel and one app).
func (s *Store) SlackSettingsByChannel(ctx context.Context, channelID string) ([]*SlackSettings, error) {
	return s.slackSettingsList(ctx, `enabled = 1 AND channel_id = $1`, channelID)
}

// SlackThread is the Slack parent message of a mirrored conversation.
type SlackThread struct {
	ConversationID int64
	InboxID        int64
	ChannelID      string
	TS             string
	CreatedAt      int64
}

func scanSlackThread(row *sql.Row) (*SlackThread, error) {
	var t SlackThread
	if err := row.Scan(&t.ConversationID, &t.InboxID, &t.ChannelID, &t.TS, &t.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &t, nil
}

// SlackThread returns a conversation's Slack thread; ErrNotFound when it has none.
func (s *Store) SlackThread(ctx context.Context, conversationID int64) (*SlackThread, error) {
	return scanSlackThread(s.read.QueryRowContext(ctx, `SELECT conversation_id, inbox_id, channel_id, ts, created_at
		FROM slack_threads WHERE conversation_id = $1`, conversationID))
}

// SlackThreadByTS returns the conversation whose Slack parent message is ts in the channel.
func (s *Store) SlackThreadByTS(ctx context.Context, channelID, ts string) (*SlackThread, error) {
	return scanSlackThread(s.read.QueryRowContext(ctx, `SELECT conversation_id, inbox_id, channel_id, ts, created_at
		FROM slack_threads WHERE channel_id = $1 AND ts = $2`, channelID, ts))
}

// SaveSlackThread records a conversation's Slack parent message, replacing an earlier one (the
// inbox moved to another Slack channel, so the conversation got a new parent there).
func (s *Store) SaveSlackThread(ctx context.Context, t *SlackThread) error {
	if t.CreatedAt == 0 {
		t.CreatedAt = Now()
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO slack_threads (conversation_id, inbox_id, channel_id, ts, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET inbox_id = excluded.inbox_id,
		channel_id = excluded.channel_id, ts = excluded.ts, created_at = excluded.created_at`,
		t.ConversationID, t.InboxID, t.ChannelID, t.TS, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("save slack thread of conversation %d: %w", t.ConversationID, mapErr(err))
	}
	return nil
}

// Origins of a SlackMessage.
const (
	SlackFromParley = "parley"
	SlackFromSlack  = "slack"
)

// SlackMessage links a message to its copy in a Slack thread.
type SlackMessage struct {
	MessageID      int64
	ConversationID int64
	TS             string
	Origin         string // SlackFromParley or SlackFromSlack
	CreatedAt      int64
}

// SlackMessage returns a message's Slack copy; ErrNotFound when it has none.
func (s *Store) SlackMessage(ctx context.Context, messageID int64) (*SlackMessage, error) {
	var m SlackMessage
	err := s.read.QueryRowContext(ctx, `SELECT message_id, conversation_id, ts, origin, created_at
		FROM slack_messages WHERE message_id = $1`, messageID).
		Scan(&m.MessageID, &m.ConversationID, &m.TS, &m.Origin, &m.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

const insertSlackMessage = `INSERT INTO slack_messages (message_id, conversation_id, ts, origin, created_at)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING`

// InsertSlackMessage records a message's Slack copy; a message already linked keeps its link.
func (s *Store) InsertSlackMessage(ctx context.Context, m *SlackMessage) error {
	if m.CreatedAt == 0 {
		m.CreatedAt = Now()
	}
	if _, err := s.write.ExecContext(ctx, insertSlackMessage, m.MessageID, m.ConversationID, m.TS, m.Origin, m.CreatedAt); err != nil {
		return fmt.Errorf("insert slack message %d: %w", m.MessageID, mapErr(err))
	}
	return nil
}

// SlackEvent is one Events API delivery: a message in a mirrored thread.
type SlackEvent struct {
	InboxID        int64
	EventID        string
	ConversationID int64
	ReceivedAt     int64
	// UserID and ReplyingAt are set when the reply of the Slack user (matched to UserID) is about
	// to be stored; MessageID and DoneAt when it was, or when the event needed no reply.
	UserID     *int64
	ReplyingAt *int64
	MessageID  *int64
	DoneAt     *int64
}

// InsertSlackEvent records a delivery in the transaction that enqueues its job, and reports
// false when the event was recorded before (Slack retried it): then nothing more is to be done.
func (tx *Tx) InsertSlackEvent(ctx context.Context, e *SlackEvent) (bool, error) {
	if e.ReceivedAt == 0 {
		e.ReceivedAt = Now()
	}
	res, err := tx.exec(ctx, `INSERT INTO slack_events (inbox_id, event_id, conversation_id, received_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (inbox_id, event_id) DO NOTHING`,
		e.InboxID, e.EventID, e.ConversationID, e.ReceivedAt)
	if err != nil {
		return false, fmt.Errorf("insert slack event %s: %w", e.EventID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SlackEvent returns a recorded delivery; ErrNotFound when there is none.
func (s *Store) SlackEvent(ctx context.Context, inboxID int64, eventID string) (*SlackEvent, error) {
	var e SlackEvent
	var user, replying, msg, done sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT inbox_id, event_id, conversation_id, received_at, user_id, replying_at,
		message_id, done_at FROM slack_events WHERE inbox_id = $1 AND event_id = $2`, inboxID, eventID).
		Scan(&e.InboxID, &e.EventID, &e.ConversationID, &e.ReceivedAt, &user, &replying, &msg, &done)
	if err != nil {
		return nil, mapErr(err)
	}
	e.UserID, e.ReplyingAt, e.MessageID, e.DoneAt = nullInt(user), nullInt(replying), nullInt(msg), nullInt(done)
	return &e, nil
}

// MarkSlackEventReplying records, before the reply is stored, who replies and since when.
func (s *Store) MarkSlackEventReplying(ctx context.Context, inboxID int64, eventID string, userID, at int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE slack_events SET user_id = $1, replying_at = $2
		WHERE inbox_id = $3 AND event_id = $4 AND done_at IS NULL`, userID, at, inboxID, eventID)
	if err != nil {
		return fmt.Errorf("slack event %s: %w", eventID, mapErr(err))
	}
	return expectRows(res)
}

// FinishSlackEvent marks a delivery handled. With a reply (the message it stored) it links the
// message to its Slack ts in the same transaction, so the mirror never posts it back.
func (s *Store) FinishSlackEvent(ctx context.Context, inboxID int64, eventID string, reply *SlackMessage) error {
	return s.InTx(ctx, func(tx *Tx) error {
		now := Now()
		var msgID *int64
		if reply != nil {
			msgID = &reply.MessageID
			if reply.CreatedAt == 0 {
				reply.CreatedAt = now
			}
			if _, err := tx.exec(ctx, insertSlackMessage, reply.MessageID, reply.ConversationID, reply.TS, reply.Origin,
				reply.CreatedAt); err != nil {
				return fmt.Errorf("insert slack message %d: %w", reply.MessageID, err)
			}
		}
		res, err := tx.exec(ctx, `UPDATE slack_events SET done_at = $1, message_id = $2 WHERE inbox_id = $3 AND event_id = $4`,
			now, msgID, inboxID, eventID)
		if err != nil {
			return fmt.Errorf("finish slack event %s: %w", eventID, err)
		}
		return expectRows(res)
	})
}

// SlackReplyPending reports whether a reply of the user from Slack to the conversation started
// being stored at or after since and is not linked yet: the mirror waits for it rather than
// post the user's own words back into the thread.
func (s *Store) SlackReplyPending(ctx context.Context, conversationID, userID, since int64) (bool, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM slack_events WHERE conversation_id = $1 AND user_id = $2
		AND done_at IS NULL AND replying_at >= $3`, conversationID, userID, since).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("pending slack replies: %w", err)
	}
	return n > 0, nil
}

// UnlinkedSlackReplies returns, oldest first, the outbound messages the user wrote in the
// conversation at or after since that are not linked to Slack: among them is the reply an
// earlier attempt of an event's job stored before it failed.
func (s *Store) UnlinkedSlackReplies(ctx context.Context, conversationID, userID, since int64) ([]*Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.conversation_id = $1 AND m.author_id = $2 AND m.direction = 'outbound' AND m.created_at >= $3
		AND NOT EXISTS (SELECT 1 FROM slack_messages sm WHERE sm.message_id = m.id)
		ORDER BY m.id LIMIT 20`, conversationID, userID, since)
	if err != nil {
		return nil, fmt.Errorf("unlinked slack replies: %w", err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

// DeleteSlackEventsBefore forgets deliveries received before the time (unix ms): Slack retries
// a delivery for minutes, not days.
func (s *Store) DeleteSlackEventsBefore(ctx context.Context, before int64) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM slack_events WHERE received_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("delete old slack events: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// slackMirrorCounter is the counters row holding the last event seq the mirror has read.
const slackMirrorCounter = "slack_mirror_seq"

// SlackMirrorCursor returns the last event seq the Slack mirror has read.
func (s *Store) SlackMirrorCursor(ctx context.Context) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = $1`, slackMirrorCounter).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("slack mirror cursor: %w", mapErr(err))
	}
	return v, nil
}

// AdvanceSlackMirrorCursor moves the mirror's cursor from one seq to another in the transaction
// that enqueues the jobs for the events between, and returns ErrConflict when the cursor is not
// at from: another node read those events first, and this transaction must roll back.
func (tx *Tx) AdvanceSlackMirrorCursor(ctx context.Context, from, to int64) error {
	res, err := tx.exec(ctx, `UPDATE counters SET value = $1 WHERE name = $2 AND value = $3`, to, slackMirrorCounter, from)
	if err != nil {
		return fmt.Errorf("advance slack mirror cursor: %w", err)
	}
	if err := expectRows(res); errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: the slack mirror cursor moved on", ErrConflict)
	} else if err != nil {
		return err
	}
	return nil
}
