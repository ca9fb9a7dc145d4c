package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Email allow and deny lists per inbox (SPEC EMAIL-6, migration 00013). The inbox package
// validates and normalises the entries; the store keeps them and answers, for one sender, which
// list decides.

// Email filter lists and the verdicts EmailFilterVerdict returns.
const (
	EmailFilterAllow = "allow"
	EmailFilterDeny  = "deny"
)

// EmailFilters are an inbox's allow and deny lists, each sorted.
type EmailFilters struct {
	Allow []string
	Deny  []string
}

// emailFilterChunk bounds the rows of one INSERT: well under both engines' parameter limits.
const emailFilterChunk = 250

// SetEmailFilters replaces the inbox's allow and deny lists with the given entries, which the
// caller has normalised (lower-case, no duplicates within a list).
func (tx *Tx) SetEmailFilters(ctx context.Context, inboxID int64, f EmailFilters) error {
	if _, err := tx.exec(ctx, `DELETE FROM email_filter_entries WHERE inbox_id = $1`, inboxID); err != nil {
		return fmt.Errorf("clear email filters of inbox %d: %w", inboxID, err)
	}
	type row struct{ list, entry string }
	rows := make([]row, 0, len(f.Allow)+len(f.Deny))
	for _, e := range f.Allow {
		rows = append(rows, row{EmailFilterAllow, e})
	}
	for _, e := range f.Deny {
		rows = append(rows, row{EmailFilterDeny, e})
	}
	now := Now()
	for len(rows) > 0 {
		n := min(len(rows), emailFilterChunk)
		var a qargs
		values := make([]string, n)
		for i, r := range rows[:n] {
			values[i] = "(" + a.add(inboxID) + ", " + a.add(r.list) + ", " + a.add(r.entry) + ", " + a.add(now) + ")"
		}
		rows = rows[n:]
		if _, err := tx.exec(ctx, `INSERT INTO email_filter_entries (inbox_id, list, entry, created_at) VALUES `+
			strings.Join(values, ", "), a.args...); err != nil {
			return fmt.Errorf("set email filters of inbox %d: %w", inboxID, err)
		}
	}
	return nil
}

// EmailFilters returns the inbox's lists (empty for an inbox without any).
func (s *Store) EmailFilters(ctx context.Context, inboxID int64) (*EmailFilters, error) {
	return emailFilters(ctx, s.read, inboxID)
}

// EmailFilters returns the inbox's lists as the transaction sees them.
func (tx *Tx) EmailFilters(ctx context.Context, inboxID int64) (*EmailFilters, error) {
	return emailFilters(ctx, tx.tx, inboxID)
}

func emailFilters(ctx context.Context, q queryer, inboxID int64) (*EmailFilters, error) {
	rows, err := q.QueryContext(ctx, `SELECT list, entry FROM email_filter_entries WHERE inbox_id = $1
		ORDER BY list, entry`, inboxID)
	if err != nil {
		return nil, fmt.Errorf("email filters of inbox %d: %w", inboxID, err)
	}
	defer rows.Close()
	f := &EmailFilters{Allow: []string{}, Deny: []string{}}
	for rows.Next() {
		var list, entry string
		if err := rows.Scan(&list, &entry); err != nil {
			return nil, mapErr(err)
		}
		if list == EmailFilterAllow {
			f.Allow = append(f.Allow, entry)
		} else {
			f.Deny = append(f.Deny, entry)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("email filters of inbox %d: %w", inboxID, err)
	}
	return f, nil
}

// maxSenderLabels bounds the domains of one sender that are looked up: a.b.c.example.com is
// checked against itself and each parent with a dot in it, and a hostile sender could send a
// domain of hundreds of labels. No entry has more labels than a real host name.
const maxSenderLabels = 16

// EmailFilterVerdict says which of the inbox's lists decides mail from address: "allow",
// "deny", or "" when neither names it. An entry for the exact address beats one for its domain,
// a subdomain's entry beats its parent's (a.b.example.com matches b.example.com and
// example.com), and allow beats deny for the same entry. address is a bare address
// (name@example.com), in any case; anything without a domain gets "".
//
// It is one query over the primary key, run on every inbound mail: the address and each of its
// domains are the candidates, and the longest matching entry is the most specific one (an
// address is longer than its own domain, a subdomain than its parent), 'allow' sorting first.
func (tx *Tx) EmailFilterVerdict(ctx context.Context, inboxID int64, address string) (string, error) {
	return emailFilterVerdict(ctx, tx.tx, inboxID, address)
}

// EmailFilterVerdict is Tx.EmailFilterVerdict on the read pool, for the email channel's filing
// before its receive transaction begins.
func (s *Store) EmailFilterVerdict(ctx context.Context, inboxID int64, address string) (string, error) {
	return emailFilterVerdict(ctx, s.read, inboxID, address)
}

func emailFilterVerdict(ctx context.Context, q queryer, inboxID int64, address string) (string, error) {
	address = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(address)), ".")
	at := strings.LastIndexByte(address, '@')
	if at <= 0 || at == len(address)-1 {
		return "", nil
	}
	candidates := []string{address}
	labels := strings.Split(address[at+1:], ".")
	if len(labels) > maxSenderLabels {
		labels = labels[len(labels)-maxSenderLabels:]
	}
	for i := 0; i < len(labels)-1; i++ {
		candidates = append(candidates, strings.Join(labels[i:], "."))
	}
	var a qargs
	inbox := a.add(inboxID)
	ph := make([]string, len(candidates))
	for i, c := range candidates {
		ph[i] = a.add(c)
	}
	var list string
	err := q.QueryRowContext(ctx, `SELECT list FROM email_filter_entries
		WHERE inbox_id = `+inbox+` AND entry IN (`+strings.Join(ph, ", ")+`)
		ORDER BY LENGTH(entry) DESC, list LIMIT 1`, a.args...).Scan(&list)
	if err != nil {
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("email filter verdict: %w", err)
	}
	return list, nil
}
