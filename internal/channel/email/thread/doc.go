// Package thread decides which conversation an inbound email belongs to, and gives outbound
// email the identifiers that make replies find their way back (spec/email.md §4.2).
//
// It owns:
//   - our Message-ID format, <parley.c{conversation}.m{message}.{random}.{signature}@{domain}>,
//     and reading it back (the signature stops a forged References header from pointing at an
//     arbitrary conversation);
//   - In-Reply-To and References for an outbound reply, capped the way mail clients cap them;
//   - the signed plus-address reply token (support+c42.{signature}@example.com);
//   - the subject token [#1042] (the conversation's display number), trusted only for senders
//     who already take part in that conversation;
//   - the hidden marker in HTML bodies, for providers that rewrite Message-IDs;
//   - Resolve, which applies the rules in the spec's order and says which one matched, so the
//     timeline can explain why a reply landed where it did.
//
// The package is pure except for Resolve, which asks a Lookup (implemented by *store.Store) about
// Message-IDs seen on a channel, conversation numbers and participants. It writes no SQL and
// sends no mail.
package thread
