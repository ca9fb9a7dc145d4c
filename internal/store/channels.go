package store

import (
	"context"
	"database/sql"
	"fmt"
)

const channelColumns = `c.id, c.inbox_id, c.kind, c.name, c.status, c.last_error, c.settings, c.state, c.custom_channel_id,
	c.address_type, c.address, c.authorized, c.archived_at, c.created_at, c.updated_at`

func scanChannel(row interface{ Scan(...any) error }) (*Channel, error) {
	var c Channel
	var settings, state []byte
	var custom, archived sql.NullInt64
	var authorized int64
	err := row.Scan(&c.ID, &c.InboxID, &c.Kind, &c.Name, &c.Status, &c.LastError, &settings, &state, &custom,
		&c.AddressType, &c.Address, &authorized, &archived, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	c.Settings = settings
	c.State = state
	c.Authorized = authorized != 0
	if custom.Valid {
		c.CustomChannelID = &custom.Int64
	}
	if archived.Valid {
		c.ArchivedAt = &archived.Int64
	}
	return &c, nil
}

// InsertChannel adds a channel to an inbox and returns its id. Empty Status and Settings take
// the column defaults' values; CreatedAt/UpdatedAt are set from the store's clock when zero.
func (tx *Tx) InsertChannel(ctx context.Context, c *Channel) (int64, error) {
	now := Now()
	if c.CreatedAt == 0 {
		c.CreatedAt = now
	}
	if c.UpdatedAt == 0 {
		c.UpdatedAt = c.CreatedAt
	}
	if c.Status == "" {
		c.Status = "active"
	}
	settings := string(c.Settings)
	if settings == "" {
		settings = "{}"
	}
	id, err := tx.insert(ctx, `INSERT INTO channels (inbox_id, kind, name, status, last_error, settings, custom_channel_id,
		address_type, address, authorized, archived_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.InboxID, c.Kind, c.Name, c.Status, c.LastError, settings, c.CustomChannelID,
		c.AddressType, c.Address, b2i(c.Authorized), c.ArchivedAt, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return 0, fmt.Errorf("insert channel: %w", err)
	}
	c.ID = id
	return id, nil
}

// Channel returns one channel by id.
func (s *Store) Channel(ctx context.Context, id int64) (*Channel, error) {
	return scanChannel(s.read.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.id = $1`, id))
}

// Channel returns one channel by id inside the transaction (seeing its uncommitted writes).
func (tx *Tx) Channel(ctx context.Context, id int64) (*Channel, error) {
	return scanChannel(tx.tx.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.id = $1`, id))
}

// ChannelsByInbox returns the inbox's channels, archived ones included, oldest first.
func (s *Store) ChannelsByInbox(ctx context.Context, inboxID int64) ([]*Channel, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.inbox_id = $1 ORDER BY c.id`, inboxID)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanChannels(rows)
}

// ChannelsByInbox returns the inbox's channels as the transaction sees them, oldest first.
func (tx *Tx) ChannelsByInbox(ctx context.Context, inboxID int64) ([]*Channel, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.inbox_id = $1 ORDER BY c.id`, inboxID)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanChannels(rows)
}

// scanChannels reads every row of a channel query and closes it.
func scanChannels(rows *sql.Rows) ([]*Channel, error) {
	defer rows.Close()
	var out []*Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// UpdateChannel writes what an admin edits of a channel — name, status, last error, settings,
// address — and sets UpdatedAt. State is left alone (SetChannelState writes it).
func (tx *Tx) UpdateChannel(ctx context.Context, c *Channel) error {
	c.UpdatedAt = Now()
	settings := string(c.Settings)
	if settings == "" {
		settings = "{}"
	}
	res, err := tx.exec(ctx, `UPDATE channels SET name = $1, status = $2, last_error = $3, settings = $4,
		address_type = $5, address = $6, archived_at = $7, updated_at = $8 WHERE id = $9`,
		c.Name, c.Status, c.LastError, settings, c.AddressType, c.Address, c.ArchivedAt, c.UpdatedAt, c.ID)
	if err != nil {
		return fmt.Errorf("update channel %d: %w", c.ID, err)
	}
	return expectRows(res)
}

// ChannelForUpdate reads a channel inside the transaction, locking its row on PostgreSQL so a
// read-modify-write of its state is not lost to a concurrent one (SQLite's single writer
// serialises them already).
func (tx *Tx) ChannelForUpdate(ctx context.Context, id int64) (*Channel, error) {
	q := `SELECT ` + channelColumns + ` FROM channels c WHERE c.id = $1`
	if tx.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	return scanChannel(tx.tx.QueryRowContext(ctx, q, id))
}

// SetChannelState replaces the channel's state (read it with ChannelForUpdate in the same
// transaction to change part of it).
func (tx *Tx) SetChannelState(ctx context.Context, id int64, state []byte) error {
	res, err := tx.exec(ctx, `UPDATE channels SET state = $1 WHERE id = $2`, string(state), id)
	if err != nil {
		return fmt.Errorf("set channel %d state: %w", id, err)
	}
	return expectRows(res)
}

// ChannelsOfKind lists the connected (not archived) channels of a kind in id order, for
// workers that serve every channel of their kind (the IMAP fetchers).
func (s *Store) ChannelsOfKind(ctx context.Context, kind string) ([]*Channel, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c
		WHERE c.kind = $1 AND c.archived_at IS NULL ORDER BY c.id`, kind)
	if err != nil {
		return nil, fmt.Errorf("channels of kind: %w", err)
	}
	return scanChannels(rows)
}

// EmailChannelByAddress returns the id of the connected email channel with a team address.
func (tx *Tx) EmailChannelByAddress(ctx context.Context, address string) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, `SELECT id FROM channels WHERE kind = 'email' AND address = $1
		AND archived_at IS NULL ORDER BY id LIMIT 1`, address).Scan(&id)
	return id, mapErr(err)
}
