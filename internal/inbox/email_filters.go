package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Email allow and deny lists (SPEC EMAIL-6, spec/inbox-behaviour.md §1.4): per inbox, addresses
// and domains whose mail never goes to spam (allow) or always does (deny). Changing them needs
// account access, which in Parley is an owner or admin; every change is audited. Receiving asks
// the store for the verdict on each sender (store.Tx.EmailFilterVerdict).

// ActionEmailFiltersChanged is the audit action of a change to an inbox's lists.
const ActionEmailFiltersChanged = "inbox.email_filters_changed"

// MaxEmailFilters bounds each list of an inbox.
const MaxEmailFilters = 1000

func inboxNotFound(id int64) error { return problem.NotFoundf("inbox_not_found", "no inbox %d", id) }

// EmailFilters returns an inbox's allow and deny lists (admins only).
func (s *Service) EmailFilters(ctx context.Context, actor *store.User, inboxID int64) (*store.EmailFilters, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	if _, err := s.Store.Inbox(ctx, inboxID); errors.Is(err, store.ErrNotFound) {
		return nil, inboxNotFound(inboxID)
	} else if err != nil {
		return nil, err
	}
	return s.Store.EmailFilters(ctx, inboxID)
}

// SetEmailFilters replaces an inbox's allow and deny lists (admins only). Each entry is an
// address (name@example.com) or a domain (example.com or @example.com); entries are lower-cased,
// blank ones skipped, duplicates dropped and each list sorted. A bad entry is refused with
// invalid_email_filter on the field "allow[i]" or "deny[i]", i being its index in the given
// list, and a list longer than MaxEmailFilters with too_many_email_filters.
func (s *Service) SetEmailFilters(ctx context.Context, actor *store.User, inboxID int64, allow, deny []string) (*store.EmailFilters, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	var next store.EmailFilters
	var err error
	if next.Allow, err = normalizeEmailFilters("allow", allow); err != nil {
		return nil, err
	}
	if next.Deny, err = normalizeEmailFilters("deny", deny); err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Inbox(ctx, inboxID); errors.Is(err, store.ErrNotFound) {
			return inboxNotFound(inboxID)
		} else if err != nil {
			return err
		}
		prev, err := tx.EmailFilters(ctx, inboxID)
		if err != nil {
			return err
		}
		if slices.Equal(prev.Allow, next.Allow) && slices.Equal(prev.Deny, next.Deny) {
			return nil
		}
		if err := tx.SetEmailFilters(ctx, inboxID, next); err != nil {
			return err
		}
		return auditChange(ctx, tx, actor, ActionEmailFiltersChanged, "inbox", inboxID, map[string]any{
			"allow": listChange(prev.Allow, next.Allow), "deny": listChange(prev.Deny, next.Deny)})
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// listChange is what the audit log keeps of a list's change: what was added and removed.
func listChange(prev, next []string) map[string][]string {
	out := map[string][]string{"added": {}, "removed": {}}
	for _, e := range next {
		if _, found := slices.BinarySearch(prev, e); !found {
			out["added"] = append(out["added"], e)
		}
	}
	for _, e := range prev {
		if _, found := slices.BinarySearch(next, e); !found {
			out["removed"] = append(out["removed"], e)
		}
	}
	return out
}

// normalizeEmailFilters checks and normalises one list; field names it in errors.
func normalizeEmailFilters(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for i, raw := range in {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		e, ok := NormalizeEmailFilter(raw)
		if !ok {
			return nil, problem.Field("invalid_email_filter", field+"["+strconv.Itoa(i)+"]",
				fmt.Sprintf("%q is not an email address (name@example.com) or a domain (example.com)", strings.TrimSpace(raw)))
		}
		out = append(out, e)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxEmailFilters {
		return nil, problem.Field("too_many_email_filters", field,
			fmt.Sprintf("must hold at most %d entries, not %d", MaxEmailFilters, len(out)))
	}
	return out, nil
}

// NormalizeEmailFilter reads one entry of an allow or deny list: an address (name@example.com)
// or a domain (example.com, or @example.com as some mail programs write it), returned in lower
// case; ok is false for anything else.
func NormalizeEmailFilter(raw string) (entry string, ok bool) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if len(s) > 254 { // the longest address SMTP carries
		return "", false
	}
	local, domain, hasAt := strings.Cut(s, "@")
	if !hasAt {
		domain = s
	}
	domain = strings.TrimSuffix(domain, ".")
	if !validDomain(domain) {
		return "", false
	}
	if !hasAt || local == "" {
		return domain, true // "@example.com" is the domain
	}
	if !validLocalPart(local) {
		return "", false
	}
	return local + "@" + domain, true
}

// validDomain accepts a host name of at least two labels: letters (any script, for
// internationalised names), digits and inner hyphens, each label at most 63 long, the last not
// all digits (an IP address is not a domain).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// validLocalPart accepts the part of an address before the @ as people type it: at most 64
// characters, printable, without spaces, quotes or the characters that separate addresses.
func validLocalPart(l string) bool {
	if len(l) > 64 || strings.HasPrefix(l, ".") || strings.HasSuffix(l, ".") || strings.Contains(l, "..") {
		return false
	}
	for _, r := range l {
		if r <= ' ' || r == 0x7f || !unicode.IsPrint(r) || strings.ContainsRune(`()<>[]:;@\,"`, r) {
			return false
		}
	}
	return true
}
