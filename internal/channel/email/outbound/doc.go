// Package outbound builds and delivers the email an agent sends from a team inbox.
//
// It owns three things and nothing else:
//
//   - Compose and Forward turn an agent's reply (or a forward to a third party) into RFC 5322
//     bytes: the From name ("Ana at Acme" or the company), Reply-To, To/Cc (Bcc only on the
//     envelope), a "Re: " subject that never stacks, the Message-ID / In-Reply-To / References the
//     caller's threading gives it, multipart/alternative text and HTML, attachments and inline
//     images, the quoted previous message, and the team signature with its tokens (SPEC EMAIL-2).
//     Every header value is cleaned so no input can start a header of its own.
//   - DKIM signs composed bytes with an RSA or Ed25519 key (go-msgauth).
//   - Sender hands composed bytes to an SMTP relay (smtp:// with STARTTLS, smtps://, AUTH PLAIN
//     or LOGIN) and classifies failures with channel.Permanent, so the durable job queue retries
//     only what a retry can fix.
//
// It knows nothing of conversations, the store or threading tokens: the caller (the email
// channel's channel.Sender) picks the addresses, ids and texts and records the outcome.
package outbound
