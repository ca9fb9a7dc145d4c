// Package imapsync fetches mail from IMAP mailboxes for email channels (SPEC EMAIL-1b).
//
// A Fetcher owns one mailbox: it logs in, selects the mailbox and hands every message
// above its checkpoint (UIDVALIDITY + last UID, kept in the store) to Deliver, in UID
// order, then waits for new mail with IDLE or by polling. It reads with BODY.PEEK[] and
// never changes the mailbox: no flags set, nothing moved or deleted, so a team can keep
// using the mailbox in its mail program. Deliver must commit before it returns and be
// idempotent; the checkpoint moves after each message, so a crash re-delivers at most the
// message being handled and skips none.
//
// A Supervisor runs one Fetcher per configured mailbox whose lease this node holds, so that
// several `parley serve` nodes on one PostgreSQL fetch each mailbox once. Test checks the
// settings of the channel setup screen and says which step failed.
//
// The package does not parse, thread or store mail (Deliver does) and does not read
// channel settings (the caller's List does).
package imapsync
