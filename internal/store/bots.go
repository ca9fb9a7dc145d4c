package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Chat bots, their runs and tickets (migration 00016, package channel/chat).

// Bot is a chat bot with one version's definition: the current one from Bot and Bots, the
// named one from BotVersion. Definition is a bot.Definition as JSON.
type Bot struct {
	ID   int64
	Name string
	// WebhookSecret signs the bot's webhook calls; set by InsertBot.
	WebhookSecret string
	Version       int64
	Definition    json.RawMessage
	CreatedAt     int64
	UpdatedAt     int64
	// VersionCreatedAt and VersionCreatedBy say when and by whom Version was saved.
	VersionCreatedAt int64
	VersionCreatedBy *int64
}

const botColumns = `b.id, b.name, b.webhook_secret, v.version, v.definition, b.created_at, b.updated_at, v.created_at, v.created_by`

func scanBot(row interface{ Scan(...any) error }) (*Bot, error) {
	var b Bot
	var def []byte
	var by sql.NullInt64
	if err := row.Scan(&b.ID, &b.Name, &b.WebhookSecret, &b.Version, &def, &b.CreatedAt, &b.UpdatedAt, &b.VersionCreatedAt, &by); err != nil {
		return nil, mapErr(err)
	}
	b.Definition, b.VersionCreatedBy = json.RawMessage(def), nullInt(by)
	return &b, nil
}

// Bots returns every bot with its current version, by name.
func (s *Store) Bots(ctx context.Context) ([]Bot, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+botColumns+` FROM bots b
		JOIN bot_versions v ON v.bot_id = b.id AND v.version = b.current_version ORDER BY b.name, b.id`)
	if err != nil {
		return nil, fmt.Errorf("bots: %w", err)
	}
	defer rows.Close()
	out := []Bot{}
	for rows.Next() {
		b, err := scanBot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *b)
	}
	return out, mapErr(rows.Err())
}

// Bot returns a bot with its current version's definition.
func (s *Store) Bot(ctx context.Context, id int64) (*Bot, error) {
	return scanBot(s.read.QueryRowContext(ctx, `SELECT `+botColumns+` FROM bots b
		JOIN bot_versions v ON v.bot_id = b.id AND v.version = b.current_version WHERE b.id = $1`, id))
}

// BotVersion returns a bot with the definition of one of its versions.
func (s *Store) BotVersion(ctx context.Context, id, version int64) (*Bot, error) {
	return scanBot(s.read.QueryRowContext(ctx, `SELECT `+botColumns+` FROM bots b
		JOIN bot_versions v ON v.bot_id = b.id AND v.version = $2 WHERE b.id = $1`, id, version))
}

// BotVersionInfo is one saved version of a bot, without its definition.
type BotVersionInfo struct {
	Version   int64
	CreatedAt int64
	CreatedBy *int64
}

// BotVersions lists a bot's versions, newest first; empty for an unknown bot.
func (s *Store) BotVersions(ctx context.Context, botID int64) ([]BotVersionInfo, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, created_at, created_by FROM bot_versions
		WHERE bot_id = $1 ORDER BY version DESC`, botID)
	if err != nil {
		return nil, fmt.Errorf("bot versions: %w", err)
	}
	defer rows.Close()
	out := []BotVersionInfo{}
	for rows.Next() {
		var v BotVersionInfo
		var by sql.NullInt64
		if err := rows.Scan(&v.Version, &v.CreatedAt, &by); err != nil {
			return nil, mapErr(err)
		}
		v.CreatedBy = nullInt(by)
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// InsertBot stores a new bot with b.Definition as version 1, saved by b.VersionCreatedBy (nil
// for nobody), and sets ID, Version and the times.
func (tx *Tx) InsertBot(ctx context.Context, b *Bot) error {
	by := b.VersionCreatedBy
	now := Now()
	if b.WebhookSecret == "" {
		b.WebhookSecret = NewChatSecret()
	}
	id, err := tx.insert(ctx, `INSERT INTO bots (name, current_version, webhook_secret, created_at, updated_at)
		VALUES ($1, 0, $2, $3, $4)`, b.Name, b.WebhookSecret, now, now)
	if err != nil {
		return fmt.Errorf("insert bot: %w", err)
	}
	b.ID, b.CreatedAt = id, now
	v, err := tx.SaveBotVersion(ctx, id, b.Definition, by)
	if err != nil {
		return err
	}
	b.Version, b.UpdatedAt, b.VersionCreatedAt = v, now, now
	return nil
}

// RenameBot changes a bot's name; ErrNotFound for an unknown bot.
func (tx *Tx) RenameBot(ctx context.Context, id int64, name string) error {
	res, err := tx.exec(ctx, `UPDATE bots SET name = $1, updated_at = $2 WHERE id = $3`, name, Now(), id)
	if err != nil {
		return fmt.Errorf("rename bot %d: %w", id, err)
	}
	return expectRows(res)
}

// SaveBotVersion stores def as the bot's next version, makes it current and returns its number.
// The bot's row is updated first, which serialises concurrent saves of one bot: each gets its
// own number. ErrNotFound for an unknown bot.
func (tx *Tx) SaveBotVersion(ctx context.Context, botID int64, def json.RawMessage, by *int64) (int64, error) {
	now := Now()
	var version int64
	err := tx.tx.QueryRowContext(ctx, `UPDATE bots SET current_version = current_version + 1, updated_at = $1
		WHERE id = $2 RETURNING current_version`, now, botID).Scan(&version)
	if err != nil {
		return 0, mapErr(err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO bot_versions (bot_id, version, definition, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5)`, botID, version, string(def), now, by); err != nil {
		return 0, fmt.Errorf("save bot %d version %d: %w", botID, version, err)
	}
	return version, nil
}

// DeleteBot removes a bot, its versions and its runs; ErrNotFound for an unknown bot.
func (tx *Tx) DeleteBot(ctx context.Context, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM bots WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete bot %d: %w", id, err)
	}
	return expectRows(res)
}

// Bot run statuses.
const (
	BotRunActive    = "active"
	BotRunHandedOff = "handed_off"
	BotRunEnded     = "ended"
)

// BotRun is a chat conversation's run of a bot. State is a bot.State as JSON.
type BotRun struct {
	ConversationID int64
	BotID          int64
	Version        int64
	FlowID         int64
	State          json.RawMessage
	Status         string
	StartedAt      int64
	UpdatedAt      int64
}

const botRunColumns = `r.conversation_id, r.bot_id, r.version, r.flow_id, r.state, r.status, r.started_at, r.updated_at`

func scanBotRun(row interface{ Scan(...any) error }, extra ...any) (*BotRun, error) {
	var r BotRun
	var state []byte
	dest := append([]any{&r.ConversationID, &r.BotID, &r.Version, &r.FlowID, &state, &r.Status, &r.StartedAt,
		&r.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	r.State = json.RawMessage(state)
	return &r, nil
}

// BotRun returns a conversation's bot run; ErrNotFound when it never had one.
func (s *Store) BotRun(ctx context.Context, conversationID int64) (*BotRun, error) {
	return scanBotRun(s.read.QueryRowContext(ctx, `SELECT `+botRunColumns+` FROM chat_bot_runs r
		WHERE r.conversation_id = $1`, conversationID))
}

// BotRun returns a conversation's bot run in the transaction, locked on PostgreSQL so that a
// visitor's answer, a webhook's response and an agent taking over are applied one at a time.
func (tx *Tx) BotRun(ctx context.Context, conversationID int64) (*BotRun, error) {
	return scanBotRun(tx.tx.QueryRowContext(ctx, `SELECT `+botRunColumns+` FROM chat_bot_runs r
		WHERE r.conversation_id = $1`+tx.forUpdate(), conversationID))
}

// UpsertBotRun stores a conversation's run: a new one replaces whatever run the conversation had
// (a visitor starting over), an existing one gets the new state and status. StartedAt is kept
// from the stored run; UpdatedAt is set.
func (tx *Tx) UpsertBotRun(ctx context.Context, r *BotRun) error {
	now := Now()
	if r.StartedAt == 0 {
		r.StartedAt = now
	}
	r.UpdatedAt = now
	_, err := tx.exec(ctx, `INSERT INTO chat_bot_runs (conversation_id, bot_id, version, flow_id, state, status,
		started_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (conversation_id) DO UPDATE SET bot_id = excluded.bot_id, version = excluded.version,
			flow_id = excluded.flow_id, state = excluded.state, status = excluded.status,
			started_at = excluded.started_at, updated_at = excluded.updated_at`,
		r.ConversationID, r.BotID, r.Version, r.FlowID, string(r.State), r.Status, r.StartedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save bot run of conversation %d: %w", r.ConversationID, err)
	}
	return nil
}

// SetBotRunStatus moves a conversation's run from one status to another and reports whether it
// did: false when there is no run or it is not in status from.
func (tx *Tx) SetBotRunStatus(ctx context.Context, conversationID int64, from, to string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE chat_bot_runs SET status = $1, updated_at = $2
		WHERE conversation_id = $3 AND status = $4`, to, Now(), conversationID, from)
	if err != nil {
		return false, fmt.Errorf("bot run status of conversation %d: %w", conversationID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// BotActive reports whether a bot still has the conversation: routing leaves it alone then.
func (tx *Tx) BotActive(ctx context.Context, conversationID int64) (bool, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_bot_runs WHERE conversation_id = $1
		AND status = 'active'`, conversationID).Scan(&n)
	return n > 0, mapErr(err)
}

// BotConversation is a row of the Bots view: an open conversation a bot has, with its run and
// the bot's name.
type BotConversation struct {
	Conversation Conversation
	Run          BotRun
	BotName      string
}

// BotConversations returns the Bots view: open conversations, not in the trash or spam, whose
// bot run is active, most recent activity first, at most limit (1…500). inboxIDs limits them to
// those inboxes; nil means every inbox and an empty list none.
func (s *Store) BotConversations(ctx context.Context, inboxIDs []int64, limit int) ([]BotConversation, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	out := []BotConversation{}
	if inboxIDs != nil && len(inboxIDs) == 0 {
		return out, nil
	}
	args := []any{}
	cond := ""
	if inboxIDs != nil {
		in, a := idPlaceholders(inboxIDs, 0)
		args = append(args, a...)
		cond = ` AND c.inbox_id IN (` + in + `)`
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+conversationColumns+`, `+botRunColumns+`, b.name
		FROM chat_bot_runs r JOIN conversations c ON c.id = r.conversation_id JOIN bots b ON b.id = r.bot_id
		WHERE r.status = 'active' AND c.status = 'open' AND c.trashed_at IS NULL AND c.spam = 0`+cond+`
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("bot conversations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bc BotConversation
		var state []byte
		c, err := scanConversation(rows, false, &bc.Run.ConversationID, &bc.Run.BotID, &bc.Run.Version,
			&bc.Run.FlowID, &state, &bc.Run.Status, &bc.Run.StartedAt, &bc.Run.UpdatedAt, &bc.BotName)
		if err != nil {
			return nil, err
		}
		bc.Conversation, bc.Run.State = *c, json.RawMessage(state)
		out = append(out, bc)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	list := make([]Conversation, len(out))
	for i := range out {
		list[i] = out[i].Conversation
	}
	if err := loadTags(ctx, s.read, list); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Conversation = list[i]
	}
	return out, nil
}

// Ticket is a ticket (SPEC §6) as far as this release keeps one: created by a bot's "submit
// ticket" step and linked to its conversation.
type Ticket struct {
	ID          int64
	Name        string
	Description string
	PipelineID  *int64
	StageID     *int64
	Priority    string // none | low | medium | high | urgent
	OwnerID     *int64
	ContactID   *int64
	// Source says what created it: "bot".
	Source         string
	CreatedAt      int64
	UpdatedAt      int64
	ConversationID *int64 // the conversation it was created from, linked
}

// InsertTicket stores a ticket and links it to t.ConversationID when set.
func (tx *Tx) InsertTicket(ctx context.Context, t *Ticket) error {
	now := Now()
	if t.Priority == "" {
		t.Priority = "none"
	}
	t.CreatedAt, t.UpdatedAt = now, now
	id, err := tx.insert(ctx, `INSERT INTO tickets (name, description, pipeline_id, stage_id, priority, owner_id,
		contact_id, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.Name, t.Description, t.PipelineID, t.StageID, t.Priority, t.OwnerID, t.ContactID, t.Source, now, now)
	if err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	t.ID = id
	if t.ConversationID != nil {
		if _, err := tx.exec(ctx, `INSERT INTO ticket_conversations (ticket_id, conversation_id, linked_at)
			VALUES ($1, $2, $3)`, id, *t.ConversationID, now); err != nil {
			return fmt.Errorf("link ticket %d: %w", id, err)
		}
	}
	return nil
}

// ConversationTickets returns the tickets linked to a conversation, oldest first, with
// ConversationID set to it.
func (s *Store) ConversationTickets(ctx context.Context, conversationID int64) ([]Ticket, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT t.id, t.name, t.description, t.pipeline_id, t.stage_id, t.priority,
		t.owner_id, t.contact_id, t.source, t.created_at, t.updated_at
		FROM tickets t JOIN ticket_conversations tc ON tc.ticket_id = t.id
		WHERE tc.conversation_id = $1 ORDER BY t.id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("conversation tickets: %w", err)
	}
	defer rows.Close()
	out := []Ticket{}
	for rows.Next() {
		var t Ticket
		var pipeline, stage, owner, contact sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Description, &pipeline, &stage, &t.Priority, &owner, &contact,
			&t.Source, &t.CreatedAt, &t.UpdatedAt); err != nil {
			return nil, mapErr(err)
		}
		t.PipelineID, t.StageID, t.OwnerID, t.ContactID = nullInt(pipeline), nullInt(stage), nullInt(owner), nullInt(contact)
		cid := conversationID
		t.ConversationID = &cid
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// AllChatflows returns every chat channel's chatflows, in id order: what a bot's deletion
// checks, since flows name their bot inside their JSON.
func (s *Store) AllChatflows(ctx context.Context) ([]Chatflow, error) {
	return s.queryChatflows(ctx, "all chatflows", `SELECT id, channel_id, flow, created_at, updated_at FROM chatflows ORDER BY id`)
}
