package store

import (
	"context"
	"fmt"
)

// The IMAP fetcher's state per email channel (table email_imap_state, package
// channel/email/imapsync): its checkpoint in the mailbox, the outcome of its last rounds for
// the channel's status, and the lease that makes one node of several fetch a mailbox.
// These methods write outside a domain transaction on purpose: a checkpoint is saved right
// after Deliver has committed the message, and losing one only re-delivers (Deliver is
// idempotent).

// EmailIMAPCheckpoint is where a fetcher stands in a mailbox.
type EmailIMAPCheckpoint struct {
	// UIDValidity is the mailbox's UIDVALIDITY when LastUID was fetched; 0 means no
	// checkpoint yet.
	UIDValidity uint32
	// LastUID is the highest UID handled: every message above it is still to be fetched.
	LastUID uint32
	// Messages up to BackfillUntilUID (the last UID when the checkpoint was started) are
	// fetched only when their INTERNALDATE is at or after BackfillSince (unix ms).
	BackfillUntilUID uint32
	BackfillSince    int64
}

// EmailIMAPState is the stored row of one channel: the checkpoint, the outcome of the last
// rounds (for the channel's status in the UI) and the lease.
type EmailIMAPState struct {
	ChannelID int64
	EmailIMAPCheckpoint
	LastSuccessAt int64 // unix ms of the last round that completed; 0 never
	LastError     string
	LastErrorAt   int64
	LeaseOwner    string // "" when no node holds the lease
	LeaseUntil    int64
	UpdatedAt     int64
}

// Failing reports whether the last thing that happened was an error: the channel should show
// the error (with LastSuccessAt as the last time it worked).
func (s *EmailIMAPState) Failing() bool {
	return s.LastErrorAt > 0 && s.LastErrorAt >= s.LastSuccessAt
}

// EmailIMAPState returns a channel's IMAP state, ErrNotFound when the channel has none yet.
func (s *Store) EmailIMAPState(ctx context.Context, channelID int64) (*EmailIMAPState, error) {
	st := &EmailIMAPState{ChannelID: channelID}
	var validity, last, until int64
	err := s.read.QueryRowContext(ctx, `SELECT uid_validity, last_uid, backfill_until_uid,
		backfill_since, last_success_at, last_error, last_error_at, lease_owner, lease_until, updated_at
		FROM email_imap_state WHERE channel_id = $1`, channelID).Scan(&validity, &last, &until,
		&st.BackfillSince, &st.LastSuccessAt, &st.LastError, &st.LastErrorAt, &st.LeaseOwner,
		&st.LeaseUntil, &st.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("email imap state: %w", mapErr(err))
	}
	st.UIDValidity, st.LastUID, st.BackfillUntilUID = uint32(validity), uint32(last), uint32(until)
	return st, nil
}

// SaveEmailIMAPCheckpoint stores a channel's checkpoint. Within the same UIDVALIDITY the
// checkpoint never moves back: a fetcher that lost its lease and lags behind the new holder
// cannot undo the holder's progress.
func (s *Store) SaveEmailIMAPCheckpoint(ctx context.Context, channelID int64, cp EmailIMAPCheckpoint) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO email_imap_state
		(channel_id, uid_validity, last_uid, backfill_until_uid, backfill_since, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (channel_id) DO UPDATE SET uid_validity = excluded.uid_validity,
			last_uid = excluded.last_uid, backfill_until_uid = excluded.backfill_until_uid,
			backfill_since = excluded.backfill_since, updated_at = excluded.updated_at
		WHERE email_imap_state.uid_validity <> excluded.uid_validity
			OR email_imap_state.last_uid <= excluded.last_uid`,
		channelID, int64(cp.UIDValidity), int64(cp.LastUID), int64(cp.BackfillUntilUID), cp.BackfillSince, Now())
	if err != nil {
		return fmt.Errorf("save email imap checkpoint: %w", mapErr(err))
	}
	return nil
}

// RecordEmailIMAPSuccess notes that a round against the mailbox completed at at (unix ms).
func (s *Store) RecordEmailIMAPSuccess(ctx context.Context, channelID int64, at int64) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO email_imap_state (channel_id, last_success_at, updated_at)
		VALUES ($1, $2, $2)
		ON CONFLICT (channel_id) DO UPDATE SET last_success_at = excluded.last_success_at,
			updated_at = excluded.updated_at`, channelID, at)
	if err != nil {
		return fmt.Errorf("record email imap success: %w", mapErr(err))
	}
	return nil
}

// RecordEmailIMAPError notes a failed connection or round at at (unix ms). The last success
// stays, so the channel can say since when it has not worked.
func (s *Store) RecordEmailIMAPError(ctx context.Context, channelID int64, msg string, at int64) error {
	// Server responses can be long and, from a broken server, not even valid UTF-8.
	msg = truncateError(msg)
	_, err := s.write.ExecContext(ctx, `INSERT INTO email_imap_state (channel_id, last_error, last_error_at, updated_at)
		VALUES ($1, $2, $3, $3)
		ON CONFLICT (channel_id) DO UPDATE SET last_error = excluded.last_error,
			last_error_at = excluded.last_error_at, updated_at = excluded.updated_at`, channelID, msg, at)
	if err != nil {
		return fmt.Errorf("record email imap error: %w", mapErr(err))
	}
	return nil
}

// ClaimEmailIMAPLease takes or renews the lease on a channel's mailbox for owner until until
// (unix ms; now is the caller's clock). It succeeds only when the lease is free, expired or
// already owner's. It is one statement, so two nodes claiming at once cannot both win: on
// PostgreSQL the conflicting INSERT locks the row and re-checks the condition on the committed
// version, on SQLite writes are serialised.
func (s *Store) ClaimEmailIMAPLease(ctx context.Context, channelID int64, owner string, until, now int64) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("claim email imap lease: empty owner")
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO email_imap_state (channel_id, lease_owner, lease_until, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel_id) DO UPDATE SET lease_owner = excluded.lease_owner,
			lease_until = excluded.lease_until, updated_at = excluded.updated_at
		WHERE email_imap_state.lease_owner = excluded.lease_owner
			OR email_imap_state.lease_owner = ''
			OR email_imap_state.lease_until < excluded.updated_at`, channelID, owner, until, now)
	if err != nil {
		return false, fmt.Errorf("claim email imap lease: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim email imap lease: %w", err)
	}
	return n > 0, nil
}

// ReleaseEmailIMAPLease gives up owner's lease on a channel's mailbox so another node can take
// it at once. Releasing a lease owner does not hold changes nothing.
func (s *Store) ReleaseEmailIMAPLease(ctx context.Context, channelID int64, owner string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE email_imap_state SET lease_owner = '', lease_until = 0,
		updated_at = $3 WHERE channel_id = $1 AND lease_owner = $2`, channelID, owner, Now())
	if err != nil {
		return fmt.Errorf("release email imap lease: %w", mapErr(err))
	}
	return nil
}
