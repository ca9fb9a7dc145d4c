package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

const contactColumns = `ct.id, ct.name, ct.company, ct.owner_id, ct.blocked, ct.properties, ct.created_at, ct.updated_at`

func scanContact(row interface{ Scan(...any) error }) (*Contact, error) {
	var c Contact
	var owner sql.NullInt64
	var blocked int
	var props []byte
	if err := row.Scan(&c.ID, &c.Name, &c.Company, &owner, &blocked, &props, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	if owner.Valid {
		c.OwnerID = &owner.Int64
	}
	c.Blocked = blocked != 0
	c.Properties = json.RawMessage(props)
	return &c, nil
}

func jsonOr(raw json.RawMessage, def string) string {
	if len(raw) == 0 {
		return def
	}
	return string(raw)
}

// InsertContact creates a contact (without identities; add them with AddContactIdentity) and
// sets c.ID.
func (tx *Tx) InsertContact(ctx context.Context, c *Contact) error {
	now := Now()
	if c.CreatedAt == 0 {
		c.CreatedAt = now
	}
	c.UpdatedAt = c.CreatedAt
	id, err := tx.insert(ctx, `INSERT INTO contacts (name, company, owner_id, blocked, properties, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		c.Name, c.Company, c.OwnerID, b2i(c.Blocked), jsonOr(c.Properties, "{}"), c.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert contact: %w", err)
	}
	c.ID = id
	return nil
}

// UpdateContact writes the contact's editable fields (not its identities).
func (tx *Tx) UpdateContact(ctx context.Context, c *Contact) error {
	c.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE contacts SET name = $2, company = $3, owner_id = $4, blocked = $5,
		properties = $6, updated_at = $7 WHERE id = $1`,
		c.ID, c.Name, c.Company, c.OwnerID, b2i(c.Blocked), jsonOr(c.Properties, "{}"), c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("update contact %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// AddContactIdentity records an identity for the contact. It reports false when the identity
// already exists (for this or another contact) and so was not added; ON CONFLICT keeps a
// concurrent receive of the same sender from aborting the transaction on PostgreSQL.
func (tx *Tx) AddContactIdentity(ctx context.Context, contactID int64, id Identity) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO contact_identities (contact_id, kind, value, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (kind, value) DO NOTHING`, contactID, id.Kind, id.Value, Now())
	if err != nil {
		return false, fmt.Errorf("add contact identity: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RemoveContactIdentity deletes one of the contact's identities; a missing one is not an error.
func (tx *Tx) RemoveContactIdentity(ctx context.Context, contactID int64, id Identity) error {
	_, err := tx.exec(ctx, `DELETE FROM contact_identities WHERE contact_id = $1 AND kind = $2 AND value = $3`,
		contactID, id.Kind, id.Value)
	if err != nil {
		return fmt.Errorf("remove contact identity: %w", err)
	}
	return nil
}

// ContactIDByIdentity returns the id of the contact holding the identity.
func (tx *Tx) ContactIDByIdentity(ctx context.Context, id Identity) (int64, error) {
	var cid int64
	err := tx.tx.QueryRowContext(ctx, `SELECT contact_id FROM contact_identities WHERE kind = $1 AND value = $2`,
		id.Kind, id.Value).Scan(&cid)
	return cid, mapErr(err)
}

// ContactByIdentity returns the contact holding the identity, without its identities (Identities
// is nil): receiving a message needs only the contact, and reads it in one statement.
func (tx *Tx) ContactByIdentity(ctx context.Context, id Identity) (*Contact, error) {
	return scanContact(tx.tx.QueryRowContext(ctx, `SELECT `+contactColumns+`
		FROM contact_identities ci JOIN contacts ct ON ct.id = ci.contact_id WHERE ci.kind = $1 AND ci.value = $2`,
		id.Kind, id.Value))
}

// Contact returns a contact with its identities, inside the transaction.
func (tx *Tx) Contact(ctx context.Context, id int64) (*Contact, error) {
	return getContact(ctx, tx.tx, id)
}

// Contact returns a contact with its identities.
func (s *Store) Contact(ctx context.Context, id int64) (*Contact, error) {
	return getContact(ctx, s.read, id)
}

func getContact(ctx context.Context, q queryer, id int64) (*Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts ct WHERE ct.id = $1`, id))
	if err != nil {
		return nil, err
	}
	list := []Contact{*c}
	if err := loadIdentities(ctx, q, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// loadIdentities fills Identities of each contact with one query.
func loadIdentities(ctx context.Context, q queryer, contacts []Contact) error {
	if len(contacts) == 0 {
		return nil
	}
	var a qargs
	ph := make([]string, len(contacts))
	index := make(map[int64]int, len(contacts))
	for i, c := range contacts {
		ph[i] = a.add(c.ID)
		index[c.ID] = i
		contacts[i].Identities = []Identity{}
	}
	rows, err := q.QueryContext(ctx, `SELECT contact_id, kind, value FROM contact_identities
		WHERE contact_id IN (`+strings.Join(ph, ", ")+`) ORDER BY id`, a.args...)
	if err != nil {
		return fmt.Errorf("load contact identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var id Identity
		if err := rows.Scan(&cid, &id.Kind, &id.Value); err != nil {
			return err
		}
		i := index[cid]
		contacts[i].Identities = append(contacts[i].Identities, id)
	}
	return rows.Err()
}

// contactVisible is the condition that the contact ct is visible to the user bound to
// placeholder p: it has a conversation in an inbox the user may see, or no conversation at all
// (a contact created by hand belongs to no inbox yet). A contact known only from other inboxes'
// conversations stays hidden, so agents learn nothing about those inboxes' customers (ACCESS-9).
func contactVisible(p string) string {
	return `(NOT EXISTS (SELECT 1 FROM conversations vcv WHERE vcv.contact_id = ct.id)
		OR EXISTS (SELECT 1 FROM conversations vcv WHERE vcv.contact_id = ct.id AND vcv.inbox_id IN (` + VisibleInboxes(p) + `)))`
}

// ContactVisibleTo reports whether the contact exists and the user may see it: admins see
// every contact, agents those with a conversation they may see or with no conversation.
func (s *Store) ContactVisibleTo(ctx context.Context, u *User, contactID int64) (bool, error) {
	return contactVisibleTo(ctx, s.read, u, contactID)
}

// ContactVisibleTo is the same check inside a transaction.
func (tx *Tx) ContactVisibleTo(ctx context.Context, u *User, contactID int64) (bool, error) {
	return contactVisibleTo(ctx, tx.tx, u, contactID)
}

func contactVisibleTo(ctx context.Context, q queryer, u *User, contactID int64) (bool, error) {
	var n int
	var err error
	if u.IsAdmin() {
		err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts ct WHERE ct.id = $1`, contactID).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts ct WHERE ct.id = $1 AND `+contactVisible("$2"),
			contactID, u.ID).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("contact visibility: %w", err)
	}
	return n > 0, nil
}

// ContactFilter selects contacts for a list.
type ContactFilter struct {
	// VisibleTo, when not zero, limits the list to contacts that user may see (for agents; see
	// ContactVisibleTo).
	VisibleTo int64
	// Q matches name, company, emails and phones (case-insensitive substring).
	Q string
	// AfterID continues a list after this id (lists run newest first, by id).
	AfterID int64
	Limit   int
}

// Contacts lists contacts newest first. next is the id to continue after, or 0 at the end.
func (s *Store) Contacts(ctx context.Context, f ContactFilter) (list []Contact, next int64, err error) {
	var a qargs
	var where []string
	if q := strings.TrimSpace(f.Q); q != "" {
		p := a.add(likePattern(q))
		where = append(where, `(lower(ct.name) LIKE `+p+` ESCAPE '\' OR lower(ct.company) LIKE `+p+` ESCAPE '\'
			OR EXISTS (SELECT 1 FROM contact_identities ci WHERE ci.contact_id = ct.id AND lower(ci.value) LIKE `+p+` ESCAPE '\'))`)
	}
	if f.AfterID > 0 {
		where = append(where, `ct.id < `+a.add(f.AfterID))
	}
	if f.VisibleTo != 0 {
		where = append(where, contactVisible(a.add(f.VisibleTo)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	query := `SELECT ` + contactColumns + ` FROM contacts ct`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY ct.id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.read.QueryContext(ctx, query, a.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	if err := loadIdentities(ctx, s.read, list); err != nil {
		return nil, 0, err
	}
	return list, next, nil
}

// likePattern turns user text into a lower-case LIKE pattern matching it anywhere, with the
// pattern characters escaped (ESCAPE '\').
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// qargs numbers placeholders while a query is assembled, so dynamic filters stay parameterised.
type qargs struct{ args []any }

func (a *qargs) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}
