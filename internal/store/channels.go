package store

import (
	"context"
	"database/sql"
	"fmt"
)

const channelColumns = `c.id, c.inbox_id, c.kind, c.name, c.status, c.last_error, c.settings, c.custom_channel_id,
	c.address_type, c.address, c.authorized, c.archived_at, c.created_at, c.updated_at`

func scanChannel(row interface{ Scan(...any) error }) (*Channel, error) {
	var c Channel
	var settings []byte
	var custom, archived sql.NullInt64
	var authorized int64
	err := row.Scan(&c.ID, &c.InboxID, &c.Kind, &c.Name, &c.Status, &c.LastError, &settings, &custom,
		&c.AddressType, &c.Address, &authorized, &archived, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	c.Settings = settings
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
