package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Live chat's tables (migration 00015, package channel/chat): a chat channel's public id and
// identity secret, its chatflows, and its visitors.

// ChatChannel is what a chat channel keeps besides its channels row.
type ChatChannel struct {
	ChannelID int64
	// PublicID names the channel in the widget snippet and the visitor endpoints.
	PublicID string
	// IdentitySecret signs identity verification (HMAC-SHA256 of the visitor's email).
	IdentitySecret string
	CreatedAt      int64
}

// randomToken returns n random bytes as unpadded URL-safe base64.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewChatPublicID returns a random public id for a chat channel: 16 random bytes, so a channel
// cannot be found by counting.
func NewChatPublicID() string { return randomToken(16) }

// NewChatSecret returns a random identity secret.
func NewChatSecret() string { return randomToken(32) }

// InsertChatChannel stores a chat channel's public id and secret; empty ones are generated.
func (tx *Tx) InsertChatChannel(ctx context.Context, c *ChatChannel) error {
	if c.PublicID == "" {
		c.PublicID = NewChatPublicID()
	}
	if c.IdentitySecret == "" {
		c.IdentitySecret = NewChatSecret()
	}
	if c.CreatedAt == 0 {
		c.CreatedAt = Now()
	}
	_, err := tx.exec(ctx, `INSERT INTO chat_channels (channel_id, public_id, identity_secret, created_at)
		VALUES ($1, $2, $3, $4)`, c.ChannelID, c.PublicID, c.IdentitySecret, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert chat channel: %w", err)
	}
	return nil
}

const chatChannelColumns = `channel_id, public_id, identity_secret, created_at`

func scanChatChannel(row *sql.Row) (*ChatChannel, error) {
	var c ChatChannel
	if err := row.Scan(&c.ChannelID, &c.PublicID, &c.IdentitySecret, &c.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

// ChatChannel returns a chat channel's row by channel id.
func (s *Store) ChatChannel(ctx context.Context, channelID int64) (*ChatChannel, error) {
	return scanChatChannel(s.read.QueryRowContext(ctx, `SELECT `+chatChannelColumns+`
		FROM chat_channels WHERE channel_id = $1`, channelID))
}

// ChatChannelByPublicID returns a chat channel's row by its public id.
func (s *Store) ChatChannelByPublicID(ctx context.Context, publicID string) (*ChatChannel, error) {
	return scanChatChannel(s.read.QueryRowContext(ctx, `SELECT `+chatChannelColumns+`
		FROM chat_channels WHERE public_id = $1`, publicID))
}

// Chatflow is one stored chatflow: Flow is its JSON (a chatflow.Flow, whose id is ID).
type Chatflow struct {
	ID        int64
	ChannelID int64
	Flow      json.RawMessage
	CreatedAt int64
	UpdatedAt int64
}

// InsertChatflow stores a new chatflow and sets its ID. The flow's JSON is stored as given:
// the caller writes the id into it afterwards with UpdateChatflow, or reads ID from the row.
func (tx *Tx) InsertChatflow(ctx context.Context, f *Chatflow) error {
	now := Now()
	f.CreatedAt, f.UpdatedAt = now, now
	id, err := tx.insert(ctx, `INSERT INTO chatflows (channel_id, flow, created_at, updated_at)
		VALUES ($1, $2, $3, $4)`, f.ChannelID, string(f.Flow), now, now)
	if err != nil {
		return fmt.Errorf("insert chatflow: %w", err)
	}
	f.ID = id
	return nil
}

// UpdateChatflow replaces a chatflow's JSON; ErrNotFound when the channel has no such flow.
func (tx *Tx) UpdateChatflow(ctx context.Context, f *Chatflow) error {
	f.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE chatflows SET flow = $1, updated_at = $2 WHERE id = $3 AND channel_id = $4`,
		string(f.Flow), f.UpdatedAt, f.ID, f.ChannelID)
	if err != nil {
		return fmt.Errorf("update chatflow %d: %w", f.ID, err)
	}
	return expectRows(res)
}

// DeleteChatflow removes a chatflow; ErrNotFound when the channel has no such flow.
func (tx *Tx) DeleteChatflow(ctx context.Context, channelID, id int64) error {
	res, err := tx.exec(ctx, `DELETE FROM chatflows WHERE id = $1 AND channel_id = $2`, id, channelID)
	if err != nil {
		return fmt.Errorf("delete chatflow %d: %w", id, err)
	}
	return expectRows(res)
}

// Chatflows returns a channel's chatflows in id order.
func (s *Store) Chatflows(ctx context.Context, channelID int64) ([]Chatflow, error) {
	return s.queryChatflows(ctx, "chatflows", `SELECT id, channel_id, flow, created_at, updated_at
		FROM chatflows WHERE channel_id = $1 ORDER BY id`, channelID)
}

// queryChatflows runs a query selecting chatflows' id, channel_id, flow, created_at and
// updated_at; what names the query in its error.
func (s *Store) queryChatflows(ctx context.Context, what, query string, args ...any) ([]Chatflow, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Chatflow{}
	for rows.Next() {
		var f Chatflow
		var flow []byte
		if err := rows.Scan(&f.ID, &f.ChannelID, &flow, &f.CreatedAt, &f.UpdatedAt); err != nil {
			return nil, mapErr(err)
		}
		f.Flow = json.RawMessage(flow)
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// ChatVisitor is one visitor of a chat channel.
type ChatVisitor struct {
	ID        int64
	ChannelID int64
	// TokenHash is the hex SHA-256 of the token the widget keeps.
	TokenHash string
	ContactID *int64
	// Email and Name come from a verified identity only.
	Email      string
	Name       string
	PageURL    string
	Referrer   string
	Language   string
	CreatedAt  int64
	LastSeenAt int64
}

// ThreadKey is the thread key of the visitor's conversation on their channel.
func (v *ChatVisitor) ThreadKey() string { return fmt.Sprintf("visitor:%d", v.ID) }

const chatVisitorColumns = `id, channel_id, token_hash, contact_id, email, name, page_url, referrer, language,
	created_at, last_seen_at`

func scanChatVisitor(row interface{ Scan(...any) error }) (*ChatVisitor, error) {
	var v ChatVisitor
	var contact sql.NullInt64
	if err := row.Scan(&v.ID, &v.ChannelID, &v.TokenHash, &contact, &v.Email, &v.Name, &v.PageURL, &v.Referrer,
		&v.Language, &v.CreatedAt, &v.LastSeenAt); err != nil {
		return nil, mapErr(err)
	}
	v.ContactID = nullInt(contact)
	return &v, nil
}

// InsertChatVisitor stores a new visitor and sets its ID.
func (tx *Tx) InsertChatVisitor(ctx context.Context, v *ChatVisitor) error {
	now := Now()
	if v.CreatedAt == 0 {
		v.CreatedAt = now
	}
	if v.LastSeenAt == 0 {
		v.LastSeenAt = v.CreatedAt
	}
	id, err := tx.insert(ctx, `INSERT INTO chat_visitors (channel_id, token_hash, contact_id, email, name, page_url,
		referrer, language, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.ChannelID, v.TokenHash, v.ContactID, v.Email, v.Name, v.PageURL, v.Referrer, v.Language, v.CreatedAt, v.LastSeenAt)
	if err != nil {
		return fmt.Errorf("insert chat visitor: %w", err)
	}
	v.ID = id
	return nil
}

// UpdateChatVisitor writes what a new session tells about a visitor: contact, identity, page,
// referrer, language and when they were last seen.
func (tx *Tx) UpdateChatVisitor(ctx context.Context, v *ChatVisitor) error {
	res, err := tx.exec(ctx, `UPDATE chat_visitors SET contact_id = $1, email = $2, name = $3, page_url = $4,
		referrer = $5, language = $6, last_seen_at = $7 WHERE id = $8`,
		v.ContactID, v.Email, v.Name, v.PageURL, v.Referrer, v.Language, v.LastSeenAt, v.ID)
	if err != nil {
		return fmt.Errorf("update chat visitor %d: %w", v.ID, err)
	}
	return expectRows(res)
}

// ChatVisitorByToken returns the visitor of a channel with the token hash.
func (s *Store) ChatVisitorByToken(ctx context.Context, channelID int64, tokenHash string) (*ChatVisitor, error) {
	return scanChatVisitor(s.read.QueryRowContext(ctx, `SELECT `+chatVisitorColumns+`
		FROM chat_visitors WHERE token_hash = $1 AND channel_id = $2`, tokenHash, channelID))
}

// ChatVisitorByToken returns the visitor of a channel with the token hash, in the transaction.
func (tx *Tx) ChatVisitorByToken(ctx context.Context, channelID int64, tokenHash string) (*ChatVisitor, error) {
	return scanChatVisitor(tx.tx.QueryRowContext(ctx, `SELECT `+chatVisitorColumns+`
		FROM chat_visitors WHERE token_hash = $1 AND channel_id = $2`, tokenHash, channelID))
}

// ChatVisitor returns a visitor by id.
func (s *Store) ChatVisitor(ctx context.Context, id int64) (*ChatVisitor, error) {
	return scanChatVisitor(s.read.QueryRowContext(ctx, `SELECT `+chatVisitorColumns+`
		FROM chat_visitors WHERE id = $1`, id))
}

// ChatConversation returns the latest conversation of a channel with the thread key that is
// not in the trash (open or closed), without locking it.
func (s *Store) ChatConversation(ctx context.Context, channelID int64, threadKey string) (*Conversation, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2
		AND trashed_at IS NULL ORDER BY id DESC LIMIT 1`, channelID, threadKey).Scan(&id)
	if err != nil {
		return nil, mapErr(err)
	}
	return s.Conversation(ctx, id, 0)
}

// ChatMessagesAfter returns up to limit messages of a conversation with an id above afterID,
// in id order: what a visitor's reconnecting widget has not seen yet.
func (s *Store) ChatMessagesAfter(ctx context.Context, conversationID, afterID int64, limit int) ([]Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3`, conversationID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("chat messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, mapErr(rows.Err())
}

// ChatLastVisitorMessage returns the id of the latest inbound (visitor's) message of a
// conversation created at or before at (Unix milliseconds): what an agent who read the
// conversation at that moment has read. ErrNotFound when there is none.
func (s *Store) ChatLastVisitorMessage(ctx context.Context, conversationID, at int64) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'inbound'
		AND created_at <= $2 ORDER BY created_at DESC, id DESC LIMIT 1`, conversationID, at).Scan(&id)
	return id, mapErr(err)
}

// ChatAgent is what live chat's availability needs to know about one user a chatflow hands
// off to.
type ChatAgent struct {
	UserID       int64
	Role         string
	Deactivated  bool
	InboxMember  bool
	Status       string          // available | away
	WorkingHours json.RawMessage // nil when never set
}

// maxChatAgents bounds the users one availability check reads.
const maxChatAgents = 500

// ChatAgents returns the users a chatflow hands off to — userIDs and the primary members of
// teamIDs, or everyone when both are empty — with their status and working hours, and whether
// they may see inboxID. At most 500, in id order.
func (s *Store) ChatAgents(ctx context.Context, inboxID int64, userIDs, teamIDs []int64) ([]ChatAgent, error) {
	args := []any{inboxID}
	var where []string
	if len(userIDs) > 0 {
		in, a := idPlaceholders(userIDs, len(args))
		args = append(args, a...)
		where = append(where, `u.id IN (`+in+`)`)
	}
	if len(teamIDs) > 0 {
		in, a := idPlaceholders(teamIDs, len(args))
		args = append(args, a...)
		where = append(where, `u.id IN (SELECT tm.user_id FROM team_members tm WHERE tm.is_primary = 1 AND tm.team_id IN (`+in+`))`)
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " OR ")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT u.id, u.role, u.deactivated_at, COALESCE(a.status, 'available'),
		a.working_hours, CASE WHEN `+userSeesInbox1+` THEN 1 ELSE 0 END
		FROM users u LEFT JOIN user_availability a ON a.user_id = u.id
		WHERE `+cond+` ORDER BY u.id LIMIT `+fmt.Sprint(maxChatAgents), args...)
	if err != nil {
		return nil, fmt.Errorf("chat agents: %w", err)
	}
	defer rows.Close()
	var out []ChatAgent
	for rows.Next() {
		var a ChatAgent
		var deact sql.NullInt64
		var hours []byte
		var member int64
		if err := rows.Scan(&a.UserID, &a.Role, &deact, &a.Status, &hours, &member); err != nil {
			return nil, mapErr(err)
		}
		a.Deactivated, a.InboxMember = deact.Valid, member != 0
		if hours != nil {
			a.WorkingHours = json.RawMessage(hours)
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}
