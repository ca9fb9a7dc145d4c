package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The event log: every change a client may see is a row with a strictly increasing seq, written
// in the transaction of the change. Realtime clients resume from the last seq they saw.
//
// The hazard: on PostgreSQL, numbers from a sequence (or an identity column) are handed out when a
// row is inserted, not when its transaction commits. A transaction holding seq 10 may commit after
// one holding seq 11; a reader polling "seq > last" that saw 11 first never sees 10.
//
// SQLite has one writer: a transaction numbers its events itself, from counters.event_seq, as its
// last statements before COMMIT (flushEvents). Transactions commit one after another, so seq
// order is commit order.
//
// PostgreSQL: a transaction inserts its events with seq NULL. The sequencer (SequenceEvents, run
// by every node's events.Bus right after its own commits and every second) numbers committed
// events in one transaction per batch: it first locks the counter row, which it holds until its
// COMMIT, then numbers every committed event without a seq, in insertion order, and notifies the
// nodes. Sequencer transactions therefore commit one at a time, in the order of the seqs they
// hand out, and each numbers only rows already committed — so whenever a reader's snapshot holds
// seq N it holds every seq below N, and tailing "seq > last" cannot skip one, however late a
// writer commits. The writers themselves take no shared lock: numbering them in their own
// transactions under the counter lock (and NOTIFY, which serialises commits the same way)
// measured at about a sixth of the commit throughput. Seqs are dense: a rolled back numbering
// rolls back its counter too. A change that depends on another (both lock the same row) inserts
// its event after the first committed, so it is numbered after it too.
// TestEventSeqConcurrentWriters proves it with many concurrent writers and sequencers.

// EventsChannel is the PostgreSQL NOTIFY channel that carries the highest seq a commit wrote.
const EventsChannel = "parley_events"

// Event is one row of the event log.
type Event struct {
	Seq  int64
	Type string
	// InboxID is the inbox whose members may see the event; nil for installation-wide internal
	// events (access.changed) that no client receives.
	InboxID        *int64
	ConversationID *int64
	// UserID, when set, restricts the event to that user (per-user state such as read markers).
	UserID    *int64
	Data      json.RawMessage
	CreatedAt int64
}

// pendingEvent is an event waiting for its transaction's commit.
type pendingEvent struct {
	typ   string
	build func(e *Event) error
}

// Emit adds an event to the transaction; it is written with its seq when the transaction
// commits, and not at all if it rolls back. build fills in the event's inbox, conversation, user
// and data; it runs at commit time, so it renders the object as the transaction left it.
//
// Events with the same non-empty key are one event: a later Emit replaces the earlier one's
// build but keeps its place and its type, so a conversation created and then updated in one
// transaction is one conversation.created carrying the final state.
func (tx *Tx) Emit(typ, key string, build func(e *Event) error) {
	if key != "" {
		if i, ok := tx.eventKeys[key]; ok {
			tx.events[i].build = build
			return
		}
		if tx.eventKeys == nil {
			tx.eventKeys = map[string]int{}
		}
		tx.eventKeys[key] = len(tx.events)
	}
	tx.events = append(tx.events, pendingEvent{typ: typ, build: build})
}

// testHookAfterEventSeq, when set (tests only), runs between writing (SQLite: and numbering) a
// transaction's events and its commit, and between a sequencer's numbering and its commit: tests
// widen those windows to prove no reader skips a late committer.
var testHookAfterEventSeq func(ctx context.Context)

// eventInsertBatch bounds the rows of one INSERT.
const eventInsertBatch = 100

// flushEvents writes the transaction's events, as the last statements before COMMIT, and reports
// whether it wrote any. On SQLite it numbers them; on PostgreSQL the sequencer will.
func (tx *Tx) flushEvents(ctx context.Context) (bool, error) {
	if len(tx.events) == 0 {
		return false, nil
	}
	evs := make([]Event, len(tx.events))
	for i, p := range tx.events {
		evs[i].Type = p.typ
		if err := p.build(&evs[i]); err != nil {
			return false, fmt.Errorf("event %s: %w", p.typ, err)
		}
		if len(evs[i].Data) == 0 {
			evs[i].Data = json.RawMessage("{}")
		}
	}
	numbered := tx.dialect == SQLite
	var first int64
	if numbered {
		var last int64
		if err := tx.tx.QueryRowContext(ctx, `UPDATE counters SET value = value + $1 WHERE name = 'event_seq' RETURNING value`,
			len(evs)).Scan(&last); err != nil {
			return false, fmt.Errorf("event seq: %w", mapErr(err))
		}
		first = last - int64(len(evs)) + 1
	}
	now := Now()
	for start := 0; start < len(evs); start += eventInsertBatch {
		batch := evs[start:min(start+eventInsertBatch, len(evs))]
		var sb strings.Builder
		args := make([]any, 0, len(batch)*7)
		if numbered {
			sb.WriteString(`INSERT INTO events (seq, type, inbox_id, conversation_id, user_id, data, created_at) VALUES `)
		} else {
			sb.WriteString(`INSERT INTO events (type, inbox_id, conversation_id, user_id, data, created_at) VALUES `)
		}
		for i := range batch {
			e := &batch[i]
			e.CreatedAt = now
			row := []any{e.Type, e.InboxID, e.ConversationID, e.UserID, string(e.Data), e.CreatedAt}
			if numbered {
				e.Seq = first + int64(start+i)
				row = append([]any{e.Seq}, row...)
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					sb.WriteString(", ")
				}
				args = append(args, v)
				if numbered {
					// SQLite: anonymous parameters. Its driver looks every named one ($n) up
					// by a linear scan, which made binding a group's events quadratic.
					sb.WriteByte('?')
				} else {
					sb.WriteByte('$')
					sb.WriteString(strconv.Itoa(len(args)))
				}
			}
			sb.WriteByte(')')
		}
		if _, err := tx.exec(ctx, sb.String(), args...); err != nil {
			return false, fmt.Errorf("insert events: %w", err)
		}
	}
	return true, nil
}

// sequenceBatch bounds the events one sequencer transaction numbers.
const sequenceBatch = 5000

// SequenceEvents numbers committed events that have none yet, on PostgreSQL, in one transaction
// (see the top of this file), notifies every node, and returns the highest seq it gave and how
// many it numbered (0 when there was nothing to do; call it again while it numbers a full batch).
// SQLite numbers events as they are written: there it does nothing.
func (s *Store) SequenceEvents(ctx context.Context) (last int64, n int, err error) {
	if s.dialect != Postgres {
		return 0, 0, nil
	}
	var pending bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL)`).Scan(&pending); err != nil {
		return 0, 0, fmt.Errorf("sequence events: %w", err)
	}
	if !pending {
		return 0, 0, nil
	}
	err = s.InTx(ctx, func(tx *Tx) error {
		last, n = 0, 0
		// The lock comes first and is held until COMMIT: sequencer transactions run one at a
		// time, and each sees every event committed before it took the lock.
		var counter int64
		if err := tx.tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'event_seq' FOR UPDATE`).Scan(&counter); err != nil {
			return fmt.Errorf("lock event seq: %w", mapErr(err))
		}
		res, err := tx.exec(ctx, `UPDATE events e SET seq = $1 + r.rn
			FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events WHERE seq IS NULL ORDER BY id LIMIT $2) r
			WHERE e.id = r.id`, counter, sequenceBatch)
		if err != nil {
			return fmt.Errorf("number events: %w", err)
		}
		affected, err := res.RowsAffected()
		if err != nil || affected == 0 {
			return err
		}
		last, n = counter+affected, int(affected)
		if _, err := tx.exec(ctx, `UPDATE counters SET value = $1 WHERE name = 'event_seq'`, last); err != nil {
			return fmt.Errorf("event seq: %w", err)
		}
		// The payload is only the newest seq (NOTIFY payloads are limited to 8000 bytes); nodes
		// read the rows themselves. It is delivered when, and only if, this commits.
		if _, err := tx.exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, strconv.FormatInt(last, 10)); err != nil {
			return fmt.Errorf("notify events: %w", err)
		}
		if testHookAfterEventSeq != nil {
			testHookAfterEventSeq(ctx)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return last, n, nil
}

// SequenceAllEvents numbers every committed event that has no seq yet (PostgreSQL; a no-op on
// SQLite). Tests that read the log right after writing call it; the
// running server's sequencer does it on its own.
func (s *Store) SequenceAllEvents(ctx context.Context) error {
	for {
		_, n, err := s.SequenceEvents(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// OnEventsCommitted sets the function called, in the committing goroutine, after every commit
// that wrote events. The realtime bus uses it to number them (PostgreSQL) and wake this process's
// hub at once; it must not block.
func (s *Store) OnEventsCommitted(fn func()) {
	if fn == nil {
		s.eventsCommitted.Store(nil)
		return
	}
	s.eventsCommitted.Store(&fn)
}

// EventsAfter returns up to limit events with seq greater than after, in seq order.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, type, inbox_id, conversation_id, user_id, data, created_at
		FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var list []Event
	for rows.Next() {
		var e Event
		var inbox, conv, user sql.NullInt64
		var data []byte
		if err := rows.Scan(&e.Seq, &e.Type, &inbox, &conv, &user, &data, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.InboxID, e.ConversationID, e.UserID = nullInt(inbox), nullInt(conv), nullInt(user)
		e.Data = json.RawMessage(data)
		list = append(list, e)
	}
	return list, rows.Err()
}

// EventBounds returns the oldest retained seq and the latest seq written. With nothing retained
// oldest is latest+1; so a client that saw seq N has missed nothing exactly when N+1 >= oldest.
func (s *Store) EventBounds(ctx context.Context) (oldest, latest int64, err error) {
	// One statement, one snapshot: the counter and the rows it numbered agree.
	var first sql.NullInt64
	err = s.read.QueryRowContext(ctx, `SELECT (SELECT value FROM counters WHERE name = 'event_seq'),
		(SELECT MIN(seq) FROM events)`).Scan(&latest, &first)
	if err != nil {
		return 0, 0, fmt.Errorf("event bounds: %w", mapErr(err))
	}
	if !first.Valid {
		return latest + 1, latest, nil
	}
	return first.Int64, latest, nil
}

// deleteEventsChunk bounds the events one retention statement deletes, so that pruning a busy
// log does not hold SQLite's one writer for long.
const deleteEventsChunk = 10_000

// DeleteEventsBefore removes the events written before the given time (unix ms) and returns how
// many. It deletes a prefix of the log by seq (up to the seq of the newest event written before
// the time), never a hole, so a client resuming after the retained range is always told to
// resync rather than silently missing an event.
func (s *Store) DeleteEventsBefore(ctx context.Context, before int64) (int64, error) {
	var upTo sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT seq FROM events WHERE created_at < $1 AND seq IS NOT NULL
		ORDER BY created_at DESC, seq DESC LIMIT 1`, before).Scan(&upTo)
	if mapErr(err) == ErrNotFound {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("delete old events: %w", err)
	}
	var total int64
	for {
		res, err := s.write.ExecContext(ctx, `DELETE FROM events WHERE seq <= $1 AND seq <= (SELECT MIN(seq) FROM events) + $2`,
			upTo.Int64, deleteEventsChunk-1)
		if err != nil {
			return total, fmt.Errorf("delete old events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// UserAccess returns the user and, unless they are an admin (who see every inbox), the ids of the
// inboxes they may see. Realtime checks every event against it.
func (s *Store) UserAccess(ctx context.Context, userID int64) (*User, []int64, error) {
	u, err := userByID(ctx, s.read, userID)
	if err != nil {
		return nil, nil, err
	}
	if u.IsAdmin() {
		return u, nil, nil
	}
	rows, err := s.read.QueryContext(ctx, VisibleInboxes("$1"), userID)
	if err != nil {
		return nil, nil, fmt.Errorf("visible inboxes: %w", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
	}
	return u, ids, rows.Err()
}

// ConversationInbox returns the inbox of a conversation.
func (s *Store) ConversationInbox(ctx context.Context, conversationID int64) (int64, error) {
	var id int64
	if err := s.read.QueryRowContext(ctx, `SELECT inbox_id FROM conversations WHERE id = $1`, conversationID).Scan(&id); err != nil {
		return 0, mapErr(err)
	}
	return id, nil
}

// ConversationInbox returns the inbox of a conversation, inside the transaction.
func (tx *Tx) ConversationInbox(ctx context.Context, conversationID int64) (int64, error) {
	var id int64
	if err := tx.tx.QueryRowContext(ctx, `SELECT inbox_id FROM conversations WHERE id = $1`, conversationID).Scan(&id); err != nil {
		return 0, mapErr(err)
	}
	return id, nil
}
