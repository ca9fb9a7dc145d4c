// Package email is the team email channel (SPEC EMAIL-1…9, spec/email.md): it turns mail that
// arrives — through the built-in SMTP receiver at an inbox's receiving address, an IMAP mailbox or
// a provider's raw-MIME webhook — into inbox.Inbound, and sends agents' replies and forwards
// through an SMTP relay.
//
// The pieces it puts together live in its subpackages: mime parses, sanitizes and classifies
// mail; thread decides which conversation a reply belongs to and makes our Message-IDs and reply
// addresses; outbound composes and relays; smtpd receives; imapsync fetches. This package owns the
// order in which they are applied (filters, threading, contact, filing) and the channel's settings
// and state. It writes no SQL of its own and never acknowledges mail before inbox.Receive has
// committed it.
package email
