// Package events owns the event log's vocabulary and its delivery between processes.
//
// Recording: domain code calls the functions of emit.go (ConversationUpdated, MessageCreated…)
// inside the store transaction that makes the change, right after writing the object, passing the
// struct it wrote. The store writes the events with the transaction (a rollback writes none) and
// numbers them in commit order: SQLite as the transaction commits, PostgreSQL a moment after, in
// the Bus's sequencer (store/events.go says why that is safe and fast). Every change a client may
// see must be recorded here: realtime clients never see anything else.
//
// Delivery: Bus wakes this process's realtime hub when new events may exist — after this
// process's own commits, and on PostgreSQL after any node's numbering (LISTEN/NOTIFY carrying
// only the highest seq; nodes read the rows themselves) — and carries ephemeral messages
// (presence, typing) between nodes. It must not touch HTTP or WebSockets; that is package realtime.
package events
