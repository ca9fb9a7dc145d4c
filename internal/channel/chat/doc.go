// Package chat is the live chat channel's server side (SPEC CHAT-1, 7, 8): chat channels and
// their chatflows, visitor sessions, the visitor WebSocket and the Sender that delivers agents'
// replies to visitors.
//
// A visitor is identified by a random token the widget keeps (only its hash is stored); their
// messages go through inbox.Service.Receive on the thread key "visitor:<id>", so they open and
// continue one conversation. An identity (email, name) is claimed only with a valid HMAC of the
// email under the channel's identity secret.
//
// Visitor connections live in a Hub shaped like package realtime's: shards owning connections,
// non-blocking bounded send queues (a slow visitor is disconnected and resumes), resume from the
// last message id seen. Frames to visitors carry "seq", which is the message id.
//
// The package must not write SQL (package store does); it answers its public visitor endpoints
// itself (Handler), since they are not part of the signed-in API, and returns problem.Error
// values to the API.
package chat
