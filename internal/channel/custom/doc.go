// Package custom is Parley's HubSpot-compatible custom channel: developers register a channel type
// with its capabilities and webhook, connect channel accounts of it to inboxes, publish incoming
// (and mirrored outgoing) messages, and receive agent replies on their webhook signed with
// HubSpot's v3 scheme, so integrations built for HubSpot's Custom Channels API port with a base-URL
// change.
//
// The package owns the capabilities and delivery-identifier rules, request signing, the
// HubSpot-shaped message object, publishing into the inbox domain and the Sender that delivers
// replies. It must not write SQL (package store does) nor render HTTP errors (package web/api
// does): it returns problem.Error values.
package custom
