// Package mime turns a raw RFC 5322 message into the normalized value the
// email channel works with, and answers the questions the channel asks about
// it before anything is stored.
//
// It owns three things and nothing else (no storage, no threading, no
// sending):
//
//   - Parse reads a raw message (any common charset and transfer encoding,
//     lenient with broken headers and MIME structure) into a Message: the
//     addresses, decoded subject, date, Message-ID, In-Reply-To, References,
//     the plain text body, the sanitized HTML body, the attachments and
//     inline (cid:) parts, and the raw header for later checks. The HTML is
//     safe to show in the agent app: no scripts, event handlers, forms,
//     frames, objects or CSS that could escape its box, and remote images
//     are parked in a data-src attribute so nothing is fetched until an
//     agent chooses to load them (see LoadRemoteImages). cid: references
//     are kept so inline parts can be served next to the message.
//
//   - Classify tells automated mail apart from mail written by a person
//     (spec/email.md §4.3): auto-replies, bounces (with the original
//     Message-ID, failed recipient and reason), bulk and list mail,
//     role-based senders, and Gmail forwarding confirmations (with code and
//     link). Each signal is reported separately so the Filtered view rules
//     can be toggled one by one.
//
//   - SplitText and SplitHTML separate the new text of a reply from its
//     signature and quoted history so the timeline can fold them.
//
// Size limits are the caller's job: Parse reads the whole message into
// memory, so receivers must cap what they hand it.
package mime
