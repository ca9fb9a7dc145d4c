package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

const customChannelColumns = `cc.id, cc.name, cc.capabilities, cc.webhook_url, cc.connect_redirect_url, cc.description,
	cc.logo_url, cc.secret, cc.created_by, cc.archived_at, cc.created_at, cc.updated_at`

func scanCustomChannel(row interface{ Scan(...any) error }) (*CustomChannel, error) {
	var c CustomChannel
	var caps []byte
	var createdBy, archived sql.NullInt64
	err := row.Scan(&c.ID, &c.Name, &caps, &c.WebhookURL, &c.ConnectRedirectURL, &c.Description,
		&c.LogoURL, &c.Secret, &createdBy, &archived, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	c.Capabilities = caps
	if createdBy.Valid {
		c.CreatedBy = &createdBy.Int64
	}
	if archived.Valid {
		c.ArchivedAt = &archived.Int64
	}
	return &c, nil
}

// NewCustomChannelSecret returns a random signing secret for a custom channel's webhooks.
func NewCustomChannelSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return "pcs_" + base64.RawURLEncoding.EncodeToString(b)
}

// InsertCustomChannel registers a custom channel and sets its ID. An empty Secret gets a random one.
func (tx *Tx) InsertCustomChannel(ctx context.Context, c *CustomChannel) error {
	if c.Secret == "" {
		c.Secret = NewCustomChannelSecret()
	}
	if c.CreatedAt == 0 {
		c.CreatedAt = Now()
	}
	c.UpdatedAt = c.CreatedAt
	id, err := tx.insert(ctx, `INSERT INTO custom_channels (name, capabilities, webhook_url, connect_redirect_url,
		description, logo_url, secret, created_by, archived_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Name, string(c.Capabilities), c.WebhookURL, c.ConnectRedirectURL, c.Description, c.LogoURL,
		c.Secret, c.CreatedBy, c.ArchivedAt, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert custom channel: %w", err)
	}
	c.ID = id
	return nil
}

// CustomChannel returns one custom channel by id, archived or not.
func (s *Store) CustomChannel(ctx context.Context, id int64) (*CustomChannel, error) {
	return scanCustomChannel(s.read.QueryRowContext(ctx, `SELECT `+customChannelColumns+` FROM custom_channels cc WHERE cc.id = $1`, id))
}

// CustomChannel returns one custom channel by id as the transaction sees it. On PostgreSQL the row
// is locked until the transaction ends, so read-modify-write updates do not lose each other's changes.
func (tx *Tx) CustomChannel(ctx context.Context, id int64) (*CustomChannel, error) {
	q := `SELECT ` + customChannelColumns + ` FROM custom_channels cc WHERE cc.id = $1`
	if tx.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanCustomChannel(tx.tx.QueryRowContext(ctx, q, id))
}

// CustomChannelFilter selects custom channels for a list.
type CustomChannelFilter struct {
	IncludeArchived bool
	AfterID         int64 // cursor: channels with a greater id
	Limit           int   // 0 means 50
}

// CustomChannels lists custom channels in id order. It returns one page and whether more follow.
func (s *Store) CustomChannels(ctx context.Context, f CustomChannelFilter) ([]*CustomChannel, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + customChannelColumns + ` FROM custom_channels cc WHERE cc.id > $1`
	if !f.IncludeArchived {
		q += ` AND cc.archived_at IS NULL`
	}
	q += ` ORDER BY cc.id LIMIT $2`
	rows, err := s.read.QueryContext(ctx, q, f.AfterID, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list custom channels: %w", err)
	}
	defer rows.Close()
	var out []*CustomChannel
	for rows.Next() {
		c, err := scanCustomChannel(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list custom channels: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// UpdateCustomChannel writes every mutable column of c (secret and archival included) and sets UpdatedAt.
func (tx *Tx) UpdateCustomChannel(ctx context.Context, c *CustomChannel) error {
	c.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE custom_channels SET name = $1, capabilities = $2, webhook_url = $3,
		connect_redirect_url = $4, description = $5, logo_url = $6, secret = $7, archived_at = $8, updated_at = $9
		WHERE id = $10`,
		c.Name, string(c.Capabilities), c.WebhookURL, c.ConnectRedirectURL, c.Description, c.LogoURL,
		c.Secret, c.ArchivedAt, c.UpdatedAt, c.ID)
	if err != nil {
		return fmt.Errorf("update custom channel %d: %w", c.ID, err)
	}
	return expectRows(res)
}

// ChannelAccountFilter selects the channel accounts (channels of kind "custom") of one custom channel.
type ChannelAccountFilter struct {
	CustomChannelID int64
	Archived        *bool  // nil: both
	AddressType     string // delivery identifier type; empty matches any
	Address         string // delivery identifier value; empty matches any
	AfterID         int64  // cursor: accounts with a greater id
	Limit           int    // 0 means 50
}

// ChannelAccounts lists a custom channel's accounts in id order. It returns one page and whether more follow.
func (s *Store) ChannelAccounts(ctx context.Context, f ChannelAccountFilter) ([]*Channel, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + channelColumns + ` FROM channels c WHERE c.kind = 'custom' AND c.custom_channel_id = $1 AND c.id > $2`
	args := []any{f.CustomChannelID, f.AfterID}
	if f.Archived != nil {
		if *f.Archived {
			q += ` AND c.archived_at IS NOT NULL`
		} else {
			q += ` AND c.archived_at IS NULL`
		}
	}
	if f.AddressType != "" {
		args = append(args, f.AddressType)
		q += ` AND c.address_type = $` + strconv.Itoa(len(args))
	}
	if f.Address != "" {
		args = append(args, f.Address)
		q += ` AND c.address = $` + strconv.Itoa(len(args))
	}
	args = append(args, f.Limit+1)
	q += ` ORDER BY c.id LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list channel accounts: %w", err)
	}
	defer rows.Close()
	var out []*Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list channel accounts: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// UpdateChannelAccount writes a channel's name, status, address, authorization and archival, and sets UpdatedAt.
func (tx *Tx) UpdateChannelAccount(ctx context.Context, c *Channel) error {
	c.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE channels SET name = $1, status = $2, address_type = $3, address = $4,
		authorized = $5, archived_at = $6, updated_at = $7 WHERE id = $8`,
		c.Name, c.Status, c.AddressType, c.Address, b2i(c.Authorized), c.ArchivedAt, c.UpdatedAt, c.ID)
	if err != nil {
		return fmt.Errorf("update channel %d: %w", c.ID, err)
	}
	return expectRows(res)
}

// CustomMessageByIdempotencyKey returns the message published on any account of the custom
// channel with the integration's idempotency key, as the transaction sees it.
func (tx *Tx) CustomMessageByIdempotencyKey(ctx context.Context, customChannelID int64, key string) (*Message, error) {
	return scanMessage(tx.tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE c.custom_channel_id = $1 AND m.idempotency_key = $2 ORDER BY m.id LIMIT 1`, customChannelID, key))
}

// CustomPeer is what a custom channel needs to address the customer of a conversation.
type CustomPeer struct {
	ConversationID int64
	ThreadKey      string
	ContactID      *int64
	ContactName    string
	Identities     []Identity
	// LastInboundSender is the sender column of the newest inbound message (empty if none).
	LastInboundSender json.RawMessage
	// LastMirroredRecipients is the recipients column of the newest outbound message that had no
	// author (one an integration mirrored in), used when the customer has not written yet.
	LastMirroredRecipients json.RawMessage
}

// CustomConversationPeer reads the customer side of a conversation.
func (s *Store) CustomConversationPeer(ctx context.Context, conversationID int64) (*CustomPeer, error) {
	p := &CustomPeer{ConversationID: conversationID}
	var contactID sql.NullInt64
	var contactName sql.NullString
	err := s.read.QueryRowContext(ctx, `SELECT cv.thread_key, cv.contact_id, ct.name
		FROM conversations cv LEFT JOIN contacts ct ON ct.id = cv.contact_id WHERE cv.id = $1`, conversationID).
		Scan(&p.ThreadKey, &contactID, &contactName)
	if err != nil {
		return nil, mapErr(err)
	}
	if contactID.Valid {
		p.ContactID = &contactID.Int64
		p.ContactName = contactName.String
		rows, err := s.read.QueryContext(ctx, `SELECT kind, value FROM contact_identities WHERE contact_id = $1 ORDER BY id`, contactID.Int64)
		if err != nil {
			return nil, fmt.Errorf("contact identities: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id Identity
			if err := rows.Scan(&id.Kind, &id.Value); err != nil {
				return nil, mapErr(err)
			}
			p.Identities = append(p.Identities, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("contact identities: %w", err)
		}
	}
	var raw []byte
	err = s.read.QueryRowContext(ctx, `SELECT m.sender FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'inbound'
		ORDER BY m.created_at DESC, m.id DESC LIMIT 1`, conversationID).Scan(&raw)
	if err := mapErr(err); err != nil && err != ErrNotFound {
		return nil, fmt.Errorf("last inbound sender: %w", err)
	}
	p.LastInboundSender = raw
	raw = nil
	err = s.read.QueryRowContext(ctx, `SELECT m.recipients FROM messages m WHERE m.conversation_id = $1
		AND m.direction = 'outbound' AND m.author_id IS NULL ORDER BY m.created_at DESC, m.id DESC LIMIT 1`, conversationID).Scan(&raw)
	if err := mapErr(err); err != nil && err != ErrNotFound {
		return nil, fmt.Errorf("last mirrored recipients: %w", err)
	}
	p.LastMirroredRecipients = raw
	return p, nil
}
