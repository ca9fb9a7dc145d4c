// Package slack mirrors live chats into a Slack channel per inbox and brings replies from the
// Slack thread back as agents' replies (SPEC CHAT-13), through a Slack app of the installation's
// own: the Web API (chat.postMessage, chat.postEphemeral, users.info, auth.test) and the Events
// API (POST /slack/events, signed with the app's signing secret).
//
// Outbound, durably: the mirror tails the event log (store.EventsAfter) from a cursor kept in
// the database. For each message.created of a chat conversation in an inbox whose Slack mirror
// is on, it enqueues a mirror job in the transaction that moves the cursor past the event (a
// compare-and-set, so two nodes never enqueue the same window). Every path that stores a chat
// message — a visitor's, an agent's reply, a bot's — writes that event in its own transaction,
// so none is missed and no other package needs to know about Slack. The job posts the
// conversation's parent message first if it has none, then the message as a threaded reply,
// and records the Slack ts per message before it completes: a retried job finds the ts and does
// not post twice.
//
// Inbound: a verified event for a message in a mirrored thread is recorded by its event_id
// together with its job, in one transaction, before Slack gets its 200 — so a retried delivery
// is recorded once, and a reply is never lost once acknowledged. The job looks the Slack user up
// (users.info), matches a Parley user by email and stores the reply through inbox.Service.Reply,
// whose deliver job takes it to the visitor; unmatched users get an ephemeral note.
//
// The package writes no SQL (package store does) and knows nothing of the web app.
package slack
