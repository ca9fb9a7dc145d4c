package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

const conversationColumns = `c.id, c.number, c.inbox_id, c.channel_id, c.contact_id, c.thread_key, c.subject,
	c.preview, c.status, c.snoozed_until, c.spam, c.trashed_at, c.assignee_id, c.previous_assignee_id,
	c.team_id, c.priority, c.created_at, c.updated_at, c.closed_at, c.last_activity_at, c.last_inbound_at,
	c.last_outbound_at`

// unreadColumn computes whether the conversation is unread for the user bound to placeholder p:
// it has an inbound message the user has not read since it arrived.
func unreadColumn(p string) string {
	return `CASE WHEN c.last_inbound_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_reads cr
		WHERE cr.conversation_id = c.id AND cr.user_id = ` + p + ` AND cr.read_at >= c.last_inbound_at) THEN 1 ELSE 0 END`
}

// The spam column says where a conversation is filed (migration 00013): the inbox, spam, or the
// Filtered view of automated mail. Filtered is not 0, so every "spam = 0" condition — the views,
// their counts, routing, capacity and its triggers — leaves filtered conversations out unchanged.
const (
	spamColumnInbox    = 0
	spamColumnSpam     = 1
	spamColumnFiltered = 2
)

// spamColumn encodes c's Spam and Filtered; spam wins when both are set.
func spamColumn(c *Conversation) int {
	switch {
	case c.Spam:
		return spamColumnSpam
	case c.Filtered:
		return spamColumnFiltered
	}
	return spamColumnInbox
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func scanConversation(row interface{ Scan(...any) error }, withUnread bool, extra ...any) (*Conversation, error) {
	var c Conversation
	var channel, contact, snoozed, trashed, assignee, prev, team, closed, lastIn, lastOut sql.NullInt64
	var spam, unread int
	dest := []any{&c.ID, &c.Number, &c.InboxID, &channel, &contact, &c.ThreadKey, &c.Subject,
		&c.Preview, &c.Status, &snoozed, &spam, &trashed, &assignee, &prev,
		&team, &c.Priority, &c.CreatedAt, &c.UpdatedAt, &closed, &c.LastActivityAt, &lastIn,
		&lastOut}
	if withUnread {
		dest = append(dest, &unread)
	}
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	c.ChannelID, c.ContactID, c.SnoozedUntil = nullInt(channel), nullInt(contact), nullInt(snoozed)
	c.TrashedAt, c.AssigneeID, c.PreviousAssigneeID = nullInt(trashed), nullInt(assignee), nullInt(prev)
	c.TeamID, c.ClosedAt, c.LastInboundAt, c.LastOutboundAt = nullInt(team), nullInt(closed), nullInt(lastIn), nullInt(lastOut)
	c.Spam, c.Filtered = spam == spamColumnSpam, spam == spamColumnFiltered
	c.Unread = unread != 0
	c.Tags = []string{}
	return &c, nil
}

// LockConversationThread serialises receivers of one (channel, thread key) until the transaction
// ends, so two messages arriving together for a new thread open one conversation, not two.
// SQLite transactions are already serial (one writer), so it is a no-op there.
func (tx *Tx) LockConversationThread(ctx context.Context, channelID int64, threadKey string) error {
	if tx.dialect != Postgres {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "conversation-thread\x00%d\x00%s", channelID, threadKey)
	if _, err := tx.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock conversation thread: %w", err)
	}
	return nil
}

// NextConversationNumber hands out the next display number (#1042).
func (tx *Tx) NextConversationNumber(ctx context.Context) (int64, error) {
	q := `UPDATE counters SET value = value + 1 WHERE name = 'conversation_number' RETURNING value`
	if tx.dialect == Postgres {
		// A sequence hands numbers out without a row lock held until commit, which serialised
		// every transaction that opened a conversation (migration 00004).
		q = `SELECT nextval('conversation_number_seq')`
	}
	var n int64
	err := tx.tx.QueryRowContext(ctx, q).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next conversation number: %w", mapErr(err))
	}
	return n, nil
}

// InsertConversation stores a new conversation (Number must be set) and sets c.ID. Tags are not
// written; use SetConversationTags.
func (tx *Tx) InsertConversation(ctx context.Context, c *Conversation) error {
	now := Now()
	if c.CreatedAt == 0 {
		c.CreatedAt = now
	}
	c.UpdatedAt = c.CreatedAt
	if c.LastActivityAt == 0 {
		c.LastActivityAt = c.CreatedAt
	}
	if c.Status == "" {
		c.Status = "open"
	}
	if c.Priority == "" {
		c.Priority = "none"
	}
	id, err := tx.insert(ctx, `INSERT INTO conversations (number, inbox_id, channel_id, contact_id, thread_key,
		subject, preview, status, snoozed_until, spam, trashed_at, assignee_id, previous_assignee_id, team_id,
		priority, created_at, updated_at, closed_at, last_activity_at, last_inbound_at, last_outbound_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		c.Number, c.InboxID, c.ChannelID, c.ContactID, c.ThreadKey,
		c.Subject, c.Preview, c.Status, c.SnoozedUntil, spamColumn(c), c.TrashedAt, c.AssigneeID, c.PreviousAssigneeID, c.TeamID,
		c.Priority, c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.LastActivityAt, c.LastInboundAt, c.LastOutboundAt)
	if err != nil {
		return fmt.Errorf("insert conversation: %w", err)
	}
	c.ID = id
	return nil
}

// UpdateConversation writes every mutable field of c (not its tags) and bumps updated_at.
// Callers read the row with Tx.Conversation first, which locks it on PostgreSQL.
func (tx *Tx) UpdateConversation(ctx context.Context, c *Conversation) error {
	c.UpdatedAt = Now()
	res, err := tx.exec(ctx, `UPDATE conversations SET inbox_id = $2, channel_id = $3, contact_id = $4,
		thread_key = $5, subject = $6, preview = $7, status = $8, snoozed_until = $9, spam = $10, trashed_at = $11,
		assignee_id = $12, previous_assignee_id = $13, team_id = $14, priority = $15, updated_at = $16,
		closed_at = $17, last_activity_at = $18, last_inbound_at = $19, last_outbound_at = $20
		WHERE id = $1`,
		c.ID, c.InboxID, c.ChannelID, c.ContactID,
		c.ThreadKey, c.Subject, c.Preview, c.Status, c.SnoozedUntil, spamColumn(c), c.TrashedAt,
		c.AssigneeID, c.PreviousAssigneeID, c.TeamID, c.Priority, c.UpdatedAt,
		c.ClosedAt, c.LastActivityAt, c.LastInboundAt, c.LastOutboundAt)
	if err != nil {
		return fmt.Errorf("update conversation %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdateConversationFrom writes the fields of c that differ from before (c as the transaction
// read or inserted it), and updated_at. It is UpdateConversation for the hot path: SQLite
// rewrites every index that holds a column named in an UPDATE's SET list, changed or not, and a
// conversation has a dozen indexes, most of which a new message leaves alone (its preview and
// activity times change). The row must be locked as for UpdateConversation.
func (tx *Tx) UpdateConversationFrom(ctx context.Context, before, c *Conversation) error {
	c.UpdatedAt = Now()
	var q strings.Builder
	q.WriteString(`UPDATE conversations SET updated_at = $2`)
	args := []any{c.ID, c.UpdatedAt}
	set := func(column string, changed bool, v any) {
		if changed {
			args = append(args, v)
			fmt.Fprintf(&q, ", %s = $%d", column, len(args))
		}
	}
	set("inbox_id", c.InboxID != before.InboxID, c.InboxID)
	set("channel_id", !sameInt(c.ChannelID, before.ChannelID), c.ChannelID)
	set("contact_id", !sameInt(c.ContactID, before.ContactID), c.ContactID)
	set("thread_key", c.ThreadKey != before.ThreadKey, c.ThreadKey)
	set("subject", c.Subject != before.Subject, c.Subject)
	set("preview", c.Preview != before.Preview, c.Preview)
	set("status", c.Status != before.Status, c.Status)
	set("snoozed_until", !sameInt(c.SnoozedUntil, before.SnoozedUntil), c.SnoozedUntil)
	set("spam", spamColumn(c) != spamColumn(before), spamColumn(c))
	set("trashed_at", !sameInt(c.TrashedAt, before.TrashedAt), c.TrashedAt)
	set("assignee_id", !sameInt(c.AssigneeID, before.AssigneeID), c.AssigneeID)
	set("previous_assignee_id", !sameInt(c.PreviousAssigneeID, before.PreviousAssigneeID), c.PreviousAssigneeID)
	set("team_id", !sameInt(c.TeamID, before.TeamID), c.TeamID)
	set("priority", c.Priority != before.Priority, c.Priority)
	set("closed_at", !sameInt(c.ClosedAt, before.ClosedAt), c.ClosedAt)
	set("last_activity_at", c.LastActivityAt != before.LastActivityAt, c.LastActivityAt)
	set("last_inbound_at", !sameInt(c.LastInboundAt, before.LastInboundAt), c.LastInboundAt)
	set("last_outbound_at", !sameInt(c.LastOutboundAt, before.LastOutboundAt), c.LastOutboundAt)
	q.WriteString(` WHERE id = $1`)
	res, err := tx.exec(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("update conversation %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CopyConversation returns a copy of c that shares no memory with it, for
// UpdateConversationFrom's before.
func CopyConversation(c *Conversation) *Conversation {
	d := *c
	for _, p := range []**int64{&d.ChannelID, &d.ContactID, &d.SnoozedUntil, &d.TrashedAt, &d.AssigneeID,
		&d.PreviousAssigneeID, &d.TeamID, &d.ClosedAt, &d.LastInboundAt, &d.LastOutboundAt} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	d.Tags = slices.Clone(c.Tags)
	return &d
}

func sameInt(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// forUpdate locks the selected rows on PostgreSQL; SQLite's single writer needs no row locks.
func (tx *Tx) forUpdate() string {
	if tx.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Conversation reads a conversation with its tags inside the transaction, locking the row on
// PostgreSQL so a read-modify-write cannot lose a concurrent change.
func (tx *Tx) Conversation(ctx context.Context, id int64) (*Conversation, error) {
	return tx.conversation(ctx, id, tx.forUpdate())
}

// conversation reads one conversation with its tags; lock is the row-locking clause, if any.
func (tx *Tx) conversation(ctx context.Context, id int64, lock string) (*Conversation, error) {
	return tx.conversationWithTags(ctx, `c.id = $1`+lock, id)
}

// ConversationByThread returns the latest conversation that is not in the trash with the given
// channel and thread key, locked for update.
func (tx *Tx) ConversationByThread(ctx context.Context, channelID int64, threadKey string) (*Conversation, error) {
	return tx.conversationWithTags(ctx, `c.channel_id = $1 AND c.thread_key = $2 AND c.trashed_at IS NULL
		ORDER BY c.id DESC LIMIT 1`+tx.forUpdate(), channelID, threadKey)
}

// conversationWithTags reads the conversation that cond (the query's tail after WHERE) selects,
// with its tags in the same statement: receiving a message reads its conversation on the
// serial write path, where every statement counts.
func (tx *Tx) conversationWithTags(ctx context.Context, cond string, args ...any) (*Conversation, error) {
	tags := `(SELECT json_group_array(tag) FROM (SELECT tag FROM conversation_tags WHERE conversation_id = c.id ORDER BY tag))`
	if tx.dialect == Postgres {
		tags = `(SELECT COALESCE(json_agg(tag ORDER BY tag), '[]'::json)::text FROM conversation_tags WHERE conversation_id = c.id)`
	}
	var raw []byte
	c, err := scanConversation(tx.tx.QueryRowContext(ctx, `SELECT `+conversationColumns+`, `+tags+`
		FROM conversations c WHERE `+cond, args...), false, &raw)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &c.Tags); err != nil {
		return nil, fmt.Errorf("tags of conversation %d: %w", c.ID, err)
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if tx.dialect == SQLite {
		slices.Sort(c.Tags) // the aggregate's order is not guaranteed; ORDER BY tag is binary there
	}
	return c, nil
}

// Conversation returns a conversation with its tags and whether it is unread for userID.
func (s *Store) Conversation(ctx context.Context, id, userID int64) (*Conversation, error) {
	c, err := scanConversation(s.read.QueryRowContext(ctx, `SELECT `+conversationColumns+`, `+unreadColumn("$2")+`
		FROM conversations c WHERE c.id = $1`, id, userID), true)
	if err != nil {
		return nil, err
	}
	list := []Conversation{*c}
	if err := loadTags(ctx, s.read, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func loadTags(ctx context.Context, q queryer, list []Conversation) error {
	if len(list) == 0 {
		return nil
	}
	var a qargs
	ph := make([]string, len(list))
	index := make(map[int64]int, len(list))
	for i, c := range list {
		ph[i] = a.add(c.ID)
		index[c.ID] = i
		list[i].Tags = []string{}
	}
	rows, err := q.QueryContext(ctx, `SELECT conversation_id, tag FROM conversation_tags
		WHERE conversation_id IN (`+strings.Join(ph, ", ")+`) ORDER BY tag`, a.args...)
	if err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		i := index[id]
		list[i].Tags = append(list[i].Tags, tag)
	}
	return rows.Err()
}

// SetConversationTags replaces the conversation's tags.
func (tx *Tx) SetConversationTags(ctx context.Context, conversationID int64, tags []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM conversation_tags WHERE conversation_id = $1`, conversationID); err != nil {
		return fmt.Errorf("clear tags: %w", err)
	}
	for _, t := range tags {
		if _, err := tx.exec(ctx, `INSERT INTO conversation_tags (conversation_id, tag) VALUES ($1, $2)
			ON CONFLICT (conversation_id, tag) DO NOTHING`, conversationID, t); err != nil {
			return fmt.Errorf("add tag: %w", err)
		}
	}
	return nil
}

// MarkConversationRead records that the user has read the conversation up to at.
func (tx *Tx) MarkConversationRead(ctx context.Context, conversationID, userID, at int64) error {
	_, err := tx.exec(ctx, `INSERT INTO conversation_reads (conversation_id, user_id, read_at) VALUES ($1, $2, $3)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET read_at = excluded.read_at`, conversationID, userID, at)
	if err != nil {
		return fmt.Errorf("mark conversation read: %w", err)
	}
	return nil
}

// ClearConversationReads makes the conversation unread for everyone (a new inbound message
// arrived), whatever the clocks of the provider and the readers say.
func (tx *Tx) ClearConversationReads(ctx context.Context, conversationID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM conversation_reads WHERE conversation_id = $1`, conversationID); err != nil {
		return fmt.Errorf("clear conversation reads: %w", err)
	}
	return nil
}

// InboxVisibleTo reports whether the inbox exists and the user may see its conversations.
func (tx *Tx) InboxVisibleTo(ctx context.Context, u *User, inboxID int64) (bool, error) {
	var n int
	var err error
	if u.IsAdmin() {
		err = tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inboxes WHERE id = $1`, inboxID).Scan(&n)
	} else {
		err = tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+VisibleInboxes("$1")+`) v WHERE v.id = $2`,
			u.ID, inboxID).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("inbox visibility: %w", err)
	}
	return n > 0, nil
}

// ConversationFilter selects conversations for a list. Zero values do not filter.
type ConversationFilter struct {
	// ForUser computes Unread for this user; when VisibleOnly it also limits the list to the
	// inboxes the user may see (agents), else every inbox (admins).
	ForUser     int64
	VisibleOnly bool

	InboxID    *int64
	Status     string // open | closed
	AssigneeID *int64
	// Unassigned keeps the conversations nobody has: no assignee and no active bot run.
	Unassigned bool
	TeamID     *int64
	ChannelID  *int64
	ContactID  *int64
	Tag        string
	Priority   string
	// Q is full-text search over subjects, message text and comments (search_index), and a
	// substring match over the contact's name, emails and phones.
	Q string
	// Spam, Filtered and Trashed select the spam, the filtered conversations (automated mail,
	// EMAIL-8) or the trash instead of excluding them. Spam wins over Filtered.
	Spam     bool
	Filtered bool
	Trashed  bool
	// AnyState lists spam, filtered and trash along with the rest (a contact's history),
	// ignoring Spam, Filtered and Trashed.
	AnyState bool
	// BotActive keeps only the chat conversations a bot still has (the Bots view, CHAT-9): those
	// whose bot run is active, until it hands off or an agent takes over.
	BotActive bool
	// Snoozed, when set, keeps only the conversations snoozed at SnoozedAt (true) or only those
	// that are not (false). SnoozedAt is unix ms; zero means now.
	Snoozed   *bool
	SnoozedAt int64
	// ActiveFrom and ActiveBefore bound the last activity (unix ms, ActiveBefore exclusive).
	ActiveFrom   *int64
	ActiveBefore *int64

	Oldest bool // sort oldest activity first instead of newest
	// After continues a list after the row with this sort position (from the last page's
	// NextConversationCursor).
	After *ConversationCursor
	Limit int
}

// ConversationCursor is a keyset position in a conversation list.
type ConversationCursor struct {
	LastActivityAt int64
	ID             int64
}

// String encodes the cursor; ParseConversationCursor reads it back.
func (c ConversationCursor) String() string {
	return strconv.FormatInt(c.LastActivityAt, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseConversationCursor reads a cursor made by ConversationCursor.String.
func ParseConversationCursor(s string) (ConversationCursor, error) {
	at, id, ok := strings.Cut(s, ".")
	if !ok {
		return ConversationCursor{}, errors.New("malformed cursor")
	}
	a, err1 := strconv.ParseInt(at, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || i <= 0 {
		return ConversationCursor{}, errors.New("malformed cursor")
	}
	return ConversationCursor{LastActivityAt: a, ID: i}, nil
}

// Conversations lists conversations matching f by last activity. next is nil at the end.
func (s *Store) Conversations(ctx context.Context, f ConversationFilter) (list []Conversation, next *ConversationCursor, err error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if q := cleanSearchText(f.Q); strings.TrimSpace(q) != "" {
		list, err = s.searchConversations(ctx, f, q, limit)
	} else {
		list, err = s.listConversations(ctx, f, limit, nil)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = &ConversationCursor{LastActivityAt: last.LastActivityAt, ID: last.ID}
	}
	if err := loadTags(ctx, s.read, list); err != nil {
		return nil, nil, err
	}
	return list, next, nil
}

// filterConditions returns f's conditions except the search, with their arguments in a. user is
// the placeholder holding f.ForUser, or "" to add it only if a condition needs it (PostgreSQL
// refuses a parameter no condition uses).
func filterConditions(f ConversationFilter, a *qargs, user string) (where []string) {
	if f.VisibleOnly {
		if user == "" {
			user = a.add(f.ForUser)
		}
		where = append(where, `c.inbox_id IN (`+VisibleInboxes(user)+`)`)
	}
	if f.InboxID != nil {
		where = append(where, `c.inbox_id = `+a.add(*f.InboxID))
	}
	if f.Status != "" {
		where = append(where, `c.status = `+a.add(f.Status))
	}
	if f.Unassigned {
		// Nobody has it: no person, and no bot either. A bot's conversation is the Bots view's
		// until the bot hands off (CONV-8); the anti-join reads chat_bot_runs by its key.
		where = append(where, `c.assignee_id IS NULL`, `NOT `+botActiveCondition)
	} else if f.AssigneeID != nil {
		where = append(where, `c.assignee_id = `+a.add(*f.AssigneeID))
	}
	if f.TeamID != nil {
		where = append(where, `c.team_id = `+a.add(*f.TeamID))
	}
	if f.ChannelID != nil {
		where = append(where, `c.channel_id = `+a.add(*f.ChannelID))
	}
	if f.ContactID != nil {
		where = append(where, `c.contact_id = `+a.add(*f.ContactID))
	}
	if f.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM conversation_tags ctg WHERE ctg.conversation_id = c.id AND ctg.tag = `+a.add(f.Tag)+`)`)
	}
	if f.Priority != "" {
		where = append(where, `c.priority = `+a.add(f.Priority))
	}
	if f.BotActive {
		where = append(where, botActiveCondition)
	}
	switch {
	case f.AnyState:
	case f.Spam:
		where = append(where, `c.spam = 1`)
	case f.Filtered:
		where = append(where, `c.spam = 2`)
	default:
		where = append(where, `c.spam = 0`)
	}
	switch {
	case f.AnyState:
	case f.Trashed:
		where = append(where, `c.trashed_at IS NOT NULL`)
	default:
		where = append(where, `c.trashed_at IS NULL`)
	}
	if f.Snoozed != nil {
		at := f.SnoozedAt
		if at == 0 {
			at = Now()
		}
		if *f.Snoozed {
			where = append(where, `c.snoozed_until > `+a.add(at))
		} else {
			where = append(where, `(c.snoozed_until IS NULL OR c.snoozed_until <= `+a.add(at)+`)`)
		}
	}
	if f.ActiveFrom != nil {
		where = append(where, `c.last_activity_at >= `+a.add(*f.ActiveFrom))
	}
	if f.ActiveBefore != nil {
		where = append(where, `c.last_activity_at < `+a.add(*f.ActiveBefore))
	}
	if f.After != nil {
		where = append(where, rankedAfter(f.Oldest, a, f.After.LastActivityAt, f.After.ID))
	}
	return where
}

// botActiveCondition is "a bot still has conversation c": its run is active.
const botActiveCondition = `EXISTS (SELECT 1 FROM chat_bot_runs br WHERE br.conversation_id = c.id AND br.status = 'active')`

// rankedAfter is the condition "comes after (at, id) in the list's order".
func rankedAfter(oldest bool, a *qargs, at, id int64) string {
	cmp := "<"
	if oldest {
		cmp = ">"
	}
	pa, pi := a.add(at), a.add(id)
	return `(c.last_activity_at ` + cmp + ` ` + pa + ` OR (c.last_activity_at = ` + pa + ` AND c.id ` + cmp + ` ` + pi + `))`
}

// listConversations returns up to limit+1 conversations matching f's filters and the conditions
// extra adds, in list order, without their tags.
func (s *Store) listConversations(ctx context.Context, f ConversationFilter, limit int, extra func(a *qargs) []string) ([]Conversation, error) {
	var a qargs
	user := a.add(f.ForUser) // unread state is computed for this user
	where := filterConditions(f, &a, user)
	if extra != nil {
		where = append(where, extra(&a)...)
	}
	order := "DESC"
	if f.Oldest {
		order = "ASC"
	}
	query := `SELECT ` + conversationColumns + `, ` + unreadColumn(user) + ` FROM conversations c
		WHERE ` + whereSQL(where) + `
		ORDER BY c.last_activity_at ` + order + `, c.id ` + order + ` LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.read.QueryContext(ctx, query, a.args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	var list []Conversation
	for rows.Next() {
		c, err := scanConversation(rows, true)
		if err != nil {
			return nil, err
		}
		list = append(list, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return list, nil
}

func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}
