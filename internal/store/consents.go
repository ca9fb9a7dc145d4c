package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Consent modes recorded on a contact (CHAT-12); a flow with consent "none" records nothing.
const (
	ConsentImplicit = "implicit"
	ConsentExplicit = "explicit"
)

// Consent is one recorded agreement to data processing: what the visitor was shown and when
// they agreed (migration 00017).
type Consent struct {
	ID int64
	// ContactID is nil until the visitor's first message makes them a contact.
	ContactID *int64
	VisitorID *int64
	ChannelID *int64
	FlowID    int64
	Mode      string
	// Text and PrivacyURL are exactly what the widget showed.
	Text       string
	PrivacyURL string
	GivenAt    int64
}

const consentColumns = `id, contact_id, visitor_id, channel_id, flow_id, mode, text, privacy_url, given_at`

func scanConsent(row interface{ Scan(...any) error }) (*Consent, error) {
	var c Consent
	var contact, visitor, channel sql.NullInt64
	if err := row.Scan(&c.ID, &contact, &visitor, &channel, &c.FlowID, &c.Mode, &c.Text, &c.PrivacyURL, &c.GivenAt); err != nil {
		return nil, mapErr(err)
	}
	c.ContactID, c.VisitorID, c.ChannelID = nullInt(contact), nullInt(visitor), nullInt(channel)
	return &c, nil
}

// InsertConsent records a consent and sets its ID (GivenAt defaults to now).
func (tx *Tx) InsertConsent(ctx context.Context, c *Consent) error {
	if c.GivenAt == 0 {
		c.GivenAt = Now()
	}
	id, err := tx.insert(ctx, `INSERT INTO contact_consents (contact_id, visitor_id, channel_id, flow_id, mode, text,
		privacy_url, given_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ContactID, c.VisitorID, c.ChannelID, c.FlowID, c.Mode, c.Text, c.PrivacyURL, c.GivenAt)
	if err != nil {
		return fmt.Errorf("insert consent: %w", err)
	}
	c.ID = id
	return nil
}

// LinkVisitorConsents gives a visitor's consents that have no contact yet the contact their
// messages were filed under.
func (tx *Tx) LinkVisitorConsents(ctx context.Context, visitorID, contactID int64) error {
	if _, err := tx.exec(ctx, `UPDATE contact_consents SET contact_id = $1 WHERE visitor_id = $2 AND contact_id IS NULL`,
		contactID, visitorID); err != nil {
		return fmt.Errorf("link consents of visitor %d: %w", visitorID, err)
	}
	return nil
}

// VisitorConsent returns the visitor's latest consent to a flow with exactly this text:
// consent to an earlier wording is not consent to the new one. ErrNotFound when there is none.
func (s *Store) VisitorConsent(ctx context.Context, visitorID, flowID int64, text string) (*Consent, error) {
	return scanConsent(s.read.QueryRowContext(ctx, `SELECT `+consentColumns+` FROM contact_consents
		WHERE visitor_id = $1 AND flow_id = $2 AND text = $3 ORDER BY given_at DESC, id DESC LIMIT 1`,
		visitorID, flowID, text))
}

// VisitorConsent is Store.VisitorConsent inside the transaction.
func (tx *Tx) VisitorConsent(ctx context.Context, visitorID, flowID int64, text string) (*Consent, error) {
	return scanConsent(tx.tx.QueryRowContext(ctx, `SELECT `+consentColumns+` FROM contact_consents
		WHERE visitor_id = $1 AND flow_id = $2 AND text = $3 ORDER BY given_at DESC, id DESC LIMIT 1`,
		visitorID, flowID, text))
}

// maxContactConsents bounds what ContactConsents returns.
const maxContactConsents = 200

// ContactConsents returns a contact's recorded consents, newest first (at most 200).
func (s *Store) ContactConsents(ctx context.Context, contactID int64) ([]Consent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+consentColumns+` FROM contact_consents WHERE contact_id = $1
		ORDER BY given_at DESC, id DESC LIMIT `+fmt.Sprint(maxContactConsents), contactID)
	if err != nil {
		return nil, fmt.Errorf("contact consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, mapErr(rows.Err())
}
