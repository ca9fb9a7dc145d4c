package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Bulk writes for `parley seed`, which fills a database with a generated installation for
// benchmarks. The generator assigns the ids of contacts, conversations and messages itself (after
// SeedStart's maximum ids) so a whole batch — conversations and the messages that refer to them —
// goes to the database in a few multi-row INSERT statements instead of one round trip per row.
// Nothing here runs in the server.

// SeedBatch is one transaction's worth of generated rows.
type SeedBatch struct {
	Contacts      []Contact // ID set by the caller; Identities are written too
	Conversations []Conversation
	Messages      []Message
	Events        []ConversationEvent
	Texts         []SearchText
	Reads         []ConversationRead
}

// SearchText is one row of the full-text index: a subject or a message's text, the N-th text
// indexed for its conversation (from 0).
type SearchText struct {
	ConversationID int64
	N              int
	Body           string
}

// ConversationRead records that a user has read a conversation up to ReadAt.
type ConversationRead struct {
	ConversationID int64
	UserID         int64
	ReadAt         int64
}

// SeedStart is where a seed run starts numbering.
type SeedStart struct {
	ContactID, ConversationID, MessageID, ConversationNumber int64
}

// SeedStart returns the first free contact, conversation and message ids and conversation number.
func (s *Store) SeedStart(ctx context.Context) (SeedStart, error) {
	var st SeedStart
	err := s.write.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(MAX(id), 0) FROM contacts),
		(SELECT COALESCE(MAX(id), 0) FROM conversations),
		(SELECT COALESCE(MAX(id), 0) FROM messages),
		(SELECT MAX(v) FROM (SELECT value AS v FROM counters WHERE name = 'conversation_number'
			UNION ALL SELECT COALESCE(MAX(number), 0) FROM conversations) n)`).
		Scan(&st.ContactID, &st.ConversationID, &st.MessageID, &st.ConversationNumber)
	if err != nil {
		return st, fmt.Errorf("seed start: %w", err)
	}
	st.ContactID++
	st.ConversationID++
	st.MessageID++
	st.ConversationNumber++
	return st, nil
}

// seedCountTables are the tables RowCounts reports, in a stable order.
var seedCountTables = []string{"users", "teams", "inboxes", "channels", "contacts", "contact_identities",
	"conversations", "conversation_tags", "messages", "comments", "conversation_events", "search_index"}

// RowCounts counts the rows of the main tables (for the seed summary and its emptiness check).
func (s *Store) RowCounts(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64, len(seedCountTables))
	for _, t := range seedCountTables {
		var n int64
		// t is one of the constant names above, never input.
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// SeedCountTables lists the tables RowCounts reports, in order.
func SeedCountTables() []string { return append([]string(nil), seedCountTables...) }

// bulkWriter inserts n rows into table; row appends row i's values, in columns' order, to a.
type bulkWriter func(ctx context.Context, table string, columns []string, n int, row func(i int, a []any) []any) error

// InsertSeedBatch writes b in one transaction: with COPY on PostgreSQL, with multi-row INSERTs on
// SQLite.
func (s *Store) InsertSeedBatch(ctx context.Context, b *SeedBatch) error {
	if s.dialect == Postgres {
		return s.copyInTx(ctx, func(w bulkWriter) error { return insertSeedBatch(ctx, s.dialect, w, b) })
	}
	return s.InTx(ctx, func(tx *Tx) error { return insertSeedBatch(ctx, s.dialect, tx.bulkInsert, b) })
}

// copyInTx runs fn in a transaction on a native pgx connection, whose COPY protocol loads rows
// several times faster than INSERT statements. A seed need not wait for its commits to reach the
// disk: a crash only loses generated rows, which a rerun makes again.
func (s *Store) copyInTx(ctx context.Context, fn func(w bulkWriter) error) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("seed connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("seed connection: unexpected driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // a no-op after commit
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		err = fn(func(ctx context.Context, table string, columns []string, n int, row func(i int, a []any) []any) error {
			if n == 0 {
				return nil
			}
			i := 0
			a := make([]any, 0, len(columns))
			_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				a = row(i, a[:0])
				i++
				return a, nil
			}))
			if err != nil {
				return mapErr(fmt.Errorf("copy into %s: %w", table, err))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return mapErr(fmt.Errorf("commit: %w", err))
		}
		return nil
	})
}

func insertSeedBatch(ctx context.Context, d Dialect, bulk bulkWriter, b *SeedBatch) error {
	if err := bulk(ctx, "contacts", []string{"id", "name", "company", "owner_id", "blocked", "properties",
		"created_at", "updated_at"}, len(b.Contacts), func(i int, a []any) []any {
		c := &b.Contacts[i]
		return append(a, c.ID, c.Name, c.Company, c.OwnerID, b2i(c.Blocked), jsonOr(c.Properties, "{}"), c.CreatedAt, c.CreatedAt)
	}); err != nil {
		return err
	}
	type identity struct {
		contactID, at int64
		Identity
	}
	var ids []identity
	for _, c := range b.Contacts {
		for _, id := range c.Identities {
			ids = append(ids, identity{c.ID, c.CreatedAt, id})
		}
	}
	if err := bulk(ctx, "contact_identities", []string{"contact_id", "kind", "value", "created_at"},
		len(ids), func(i int, a []any) []any {
			return append(a, ids[i].contactID, ids[i].Kind, ids[i].Value, ids[i].at)
		}); err != nil {
		return err
	}
	// The open-count triggers (migration 00010) lock one counter row per assignee and channel;
	// two batches copied at once must take them in the same order, or they deadlock.
	order := make([]int, len(b.Conversations))
	for i := range order {
		order[i] = i
	}
	key := func(c *Conversation) (int64, int64) {
		var a, ch int64
		if c.AssigneeID != nil {
			a = *c.AssigneeID
		}
		if c.ChannelID != nil {
			ch = *c.ChannelID
		}
		return a, ch
	}
	sort.SliceStable(order, func(i, j int) bool {
		ai, ci := key(&b.Conversations[order[i]])
		aj, cj := key(&b.Conversations[order[j]])
		return ai < aj || ai == aj && ci < cj
	})
	if err := bulk(ctx, "conversations", []string{"id", "number", "inbox_id", "channel_id", "contact_id",
		"thread_key", "subject", "preview", "status", "snoozed_until", "spam", "trashed_at", "assignee_id",
		"previous_assignee_id", "team_id", "priority", "created_at", "updated_at", "closed_at", "last_activity_at",
		"last_inbound_at", "last_outbound_at"}, len(b.Conversations), func(i int, a []any) []any {
		c := &b.Conversations[order[i]]
		return append(a, c.ID, c.Number, c.InboxID, c.ChannelID, c.ContactID, c.ThreadKey, c.Subject, c.Preview,
			c.Status, c.SnoozedUntil, spamColumn(c), c.TrashedAt, c.AssigneeID, c.PreviousAssigneeID, c.TeamID,
			c.Priority, c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.LastActivityAt, c.LastInboundAt, c.LastOutboundAt)
	}); err != nil {
		return err
	}
	type tag struct {
		id  int64
		tag string
	}
	var tags []tag
	for _, c := range b.Conversations {
		for _, t := range c.Tags {
			tags = append(tags, tag{c.ID, t})
		}
	}
	if err := bulk(ctx, "conversation_tags", []string{"conversation_id", "tag"}, len(tags),
		func(i int, a []any) []any { return append(a, tags[i].id, tags[i].tag) }); err != nil {
		return err
	}
	if err := bulk(ctx, "messages", []string{"id", "conversation_id", "channel_id", "direction", "author_id",
		"sender", "recipients", "text", "html", "attachments", "status", "failure_reason", "external_id",
		"idempotency_key", "in_reply_to_id", "created_at", "updated_at"}, len(b.Messages), func(i int, a []any) []any {
		m := &b.Messages[i]
		return append(a, m.ID, m.ConversationID, m.ChannelID, m.Direction, m.AuthorID, jsonOr(m.Sender, "{}"),
			jsonOr(m.Recipients, "[]"), m.Text, m.HTML, jsonOr(m.Attachments, "[]"), m.Status, m.FailureReason,
			m.ExternalID, m.IdempotencyKey, m.InReplyToID, m.CreatedAt, m.UpdatedAt)
	}); err != nil {
		return err
	}
	if err := bulk(ctx, "conversation_events", []string{"conversation_id", "type", "actor_id", "data", "created_at"},
		len(b.Events), func(i int, a []any) []any {
			e := &b.Events[i]
			return append(a, e.ConversationID, e.Type, e.ActorID, jsonOr(e.Data, "{}"), e.CreatedAt)
		}); err != nil {
		return err
	}
	if err := bulk(ctx, "conversation_reads", []string{"conversation_id", "user_id", "read_at"},
		len(b.Reads), func(i int, a []any) []any {
			r := &b.Reads[i]
			return append(a, r.ConversationID, r.UserID, r.ReadAt)
		}); err != nil {
		return err
	}
	if d == SQLite {
		return bulk(ctx, "search_index", []string{"rowid", "body", "conversation_id"}, len(b.Texts),
			func(i int, a []any) []any {
				t := &b.Texts[i]
				return append(a, SearchRowid(t.ConversationID, t.N), cleanSearchText(t.Body), t.ConversationID)
			})
	}
	return bulk(ctx, "search_index", []string{"body", "conversation_id"}, len(b.Texts),
		func(i int, a []any) []any {
			return append(a, cleanSearchText(b.Texts[i].Body), b.Texts[i].ConversationID)
		})
}

// bulkInsert inserts n rows into table, as many per statement as the engine's parameter limit
// allows (SQLite 32766, PostgreSQL 65535). row appends row i's values, in columns' order, to a.
// table and columns are constants of this file.
func (tx *Tx) bulkInsert(ctx context.Context, table string, columns []string, n int, row func(i int, a []any) []any) error {
	if n == 0 {
		return nil
	}
	maxParams := 32766
	if tx.dialect == Postgres {
		maxParams = 65535
	}
	per := min(maxParams/len(columns), 1000)
	head := `INSERT INTO ` + table + ` (` + strings.Join(columns, ", ") + `) VALUES `
	args := make([]any, 0, per*len(columns))
	var sb strings.Builder
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		args = args[:0]
		sb.Reset()
		sb.WriteString(head)
		p := 1
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range columns {
				if c > 0 {
					sb.WriteString(", ")
				}
				// SQLite looks "$N" names up in a list, which is quadratic in a statement with
				// thousands of them; plain "?" binds by position.
				if tx.dialect == Postgres {
					sb.WriteByte('$')
					sb.WriteString(strconv.Itoa(p))
				} else {
					sb.WriteByte('?')
				}
				p++
			}
			sb.WriteByte(')')
			args = row(i, args)
		}
		if len(args) != (end-start)*len(columns) {
			return fmt.Errorf("bulk insert into %s: %d values for %d rows of %d columns", table, len(args), end-start, len(columns))
		}
		if _, err := tx.exec(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("bulk insert into %s: %w", table, err)
		}
	}
	return nil
}

// FinishSeed makes the database consistent with rows inserted with explicit ids: PostgreSQL's
// identity sequences continue after the largest id, and conversation numbers after the largest.
func (s *Store) FinishSeed(ctx context.Context) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE counters SET value = (SELECT COALESCE(MAX(number), value) FROM conversations)
			WHERE name = 'conversation_number' AND value < (SELECT COALESCE(MAX(number), 0) FROM conversations)`); err != nil {
			return fmt.Errorf("advance conversation numbers: %w", err)
		}
		if tx.dialect != Postgres {
			return nil // SQLite's AUTOINCREMENT continues after the largest id by itself
		}
		if _, err := tx.exec(ctx, `SELECT setval('conversation_number_seq', GREATEST(
			(SELECT COALESCE(MAX(number), 0) FROM conversations), (SELECT last_value FROM conversation_number_seq)))`); err != nil {
			return fmt.Errorf("advance conversation numbers: %w", err)
		}
		for _, t := range []string{"contacts", "conversations", "messages"} {
			if _, err := tx.exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'),
				(SELECT COALESCE(MAX(id), 0) + 1 FROM `+t+`), false)`); err != nil {
				return fmt.Errorf("advance %s ids: %w", t, err)
			}
		}
		return nil
	})
}

// Analyze refreshes the query planner's statistics after a bulk load.
func (s *Store) Analyze(ctx context.Context) error {
	if s.dialect == SQLite {
		// A sampled analysis: exact statistics over millions of rows take minutes and plan no better.
		// The write pool's single connection runs both statements.
		if _, err := s.write.ExecContext(ctx, `PRAGMA analysis_limit = 1000`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	q := `ANALYZE`
	if s.dialect == Postgres {
		// Also what autovacuum would do a little later: merge the full-text index's pending
		// list and mark pages all-visible, so the first benchmark does not pay for it.
		q = `VACUUM (ANALYZE)`
	}
	if _, err := s.write.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// EngineVersion reports the database engine's version, for benchmark reports.
func (s *Store) EngineVersion(ctx context.Context) string {
	q := `SELECT sqlite_version()`
	if s.dialect == Postgres {
		q = `SHOW server_version`
	}
	var v string
	if err := s.read.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "(unknown version)"
	}
	return v
}

// CountChannelMessages counts the messages stored for a channel (benchmarks check that every
// acknowledged message was stored).
func (s *Store) CountChannelMessages(ctx context.Context, channelID int64) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE channel_id = $1`, channelID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count channel messages: %w", err)
	}
	return n, nil
}

// BenchAgent returns the active agent who sees the most inboxes (ErrNotFound when there is no
// agent), whom benchmarks sign in as to measure an agent's view of a seeded installation.
func (s *Store) BenchAgent(ctx context.Context) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT u.id FROM users u
		WHERE u.role = 'agent' AND u.deactivated_at IS NULL
		ORDER BY (SELECT COUNT(*) FROM (`+VisibleInboxes("u.id")+`) v) DESC, u.id LIMIT 1`).Scan(&id)
	return id, mapErr(err)
}
