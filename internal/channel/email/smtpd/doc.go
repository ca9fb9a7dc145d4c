// Package smtpd is Parley's built-in SMTP receiver (SPEC EMAIL-1a): the
// server that accepts mail forwarded to an inbox's receiving address.
//
// It owns the SMTP conversation only: who may connect and how often
// (per-IP token buckets), which recipients are ours (Server.Accept, so it
// is never an open relay), size and recipient limits, STARTTLS when a
// certificate is configured, timeouts, and the authentication checks of
// the received message (DKIM, SPF, DMARC) recorded in Envelope.Auth.
//
// It does not parse, thread or store mail. Each accepted message is
// handed to Server.Deliver together with its Envelope; the server answers
// 250 only after Deliver has returned nil, i.e. after the message is
// committed. A Deliver error makes the sender retry (451) unless it is a
// Rejection, which refuses the message for good (550).
//
// The raw message is passed on exactly as received; any
// Authentication-Results header already inside it was written by someone
// else and must not be trusted. Envelope.Auth is the only verdict.
package smtpd
