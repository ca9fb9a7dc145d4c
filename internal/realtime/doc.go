// Package realtime serves agents' WebSockets (SPEC API-3, CONV-10): it replays the events a
// client missed since the seq it last saw, then streams live ones, each checked against what the
// user may see at that moment, and relays ephemeral presence and typing frames.
//
// Shape: one tailer goroutine reads the event log in seq order (woken by events.Bus after local
// commits and, on PostgreSQL, by other nodes' NOTIFY; also polling slowly as a safety net), so
// local and remote events take the same path. It encodes each event once and hands the shared
// bytes to every shard. Each shard is one goroutine owning its connections; it never blocks: a
// connection's bounded send queue that is full gets the connection closed (the client resumes
// with its last seq). Each connection has a writer (the HTTP handler's goroutine) and a reader;
// no lock is held while writing to a socket.
//
// Authorization: each user's visible inboxes are cached once per process and shared by the
// user's connections. An access.changed event (written by the workspace in the transaction that
// changes inbox access, teams, roles or deactivation) makes the tailer reload the affected users'
// visibility before it delivers any later event, and close a deactivated user's sockets.
//
// The package owns the WebSocket protocol; it must not write SQL (package store) or know HTTP
// routing and authentication (package api authenticates and upgrades, then calls Hub.Serve).
package realtime
