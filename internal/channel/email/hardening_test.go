package email

// Hostile and unusual mail that once broke the channel: each test names what went wrong.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// deliverJob runs the delivery job of msg once and returns the message afterwards.
func (f *fixture) deliverJob(msg *store.Message) *store.Message {
	f.t.Helper()
	payload, _ := json.Marshal(map[string]int64{"message_id": msg.ID})
	_ = f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Payload: payload, Attempts: 1, MaxAttempts: 5})
	got, err := f.store.Message(f.ctx, msg.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// A team member's forward whose text lower-cases to more bytes than it has (Ⱥ becomes ⱥ, two
// bytes to three) sliced out of range in forwardedSender: a panic that killed the IMAP
// fetcher's goroutine, and with it the server, on every restart. Anyone can write such a
// mail with a team member's From.
func TestForwardedSenderLongerLowerCase(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	out := f.deliver("From: Ana Berg <ana@acme.example>\nTo: support-desk@in.parley.test\nSubject: Fwd\n" +
		"Message-ID: <grow.1@acme.example>\nContent-Type: text/plain; charset=utf-8\n\n" +
		strings.Repeat("\u023a", 40) + "\nforwarded message\n")
	if out.ConversationID == 0 {
		t.Fatalf("outcome %+v", out)
	}
	if p, ok := forwardedSender(strings.Repeat("\u023a", 20) + "Forwarded message\nFrom: Lars <lars@client.example>"); !ok || p.Address != "lars@client.example" {
		t.Fatalf("forwardedSender = %+v %v", p, ok)
	}
}

// A Message-ID or From address longer than PostgreSQL's index rows (2,704 bytes) could not be
// stored: the SMTP sender got 451 for ever, the webhook 500, and an IMAP mailbox stopped at
// that message for good.
func TestOverlongIdentifiers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		long := strings.Repeat("0123456789abcdef", 200) // 3,200 characters, no repetition a compressor could use…
		for i := range len(long) / 16 {
			long = long[:i*16] + fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15) + long[(i+1)*16:]
		}
		raw := "From: Maria <maria@customer.example>\nTo: support-desk@in.parley.test\nSubject: Long id\n" +
			"Message-ID: <" + long + "@mail.customer.example>\n\nHello.\n"
		first := f.deliver(raw)
		if first.MessageID == 0 || first.Duplicate {
			t.Fatalf("long Message-ID: %+v", first)
		}
		if again := f.deliver(raw); !again.Duplicate || again.MessageID != first.MessageID {
			t.Fatalf("the same mail again: %+v", again)
		}
		out := f.deliver("From: Someone <" + long + "@customer.example>\nTo: support-desk@in.parley.test\nSubject: Long from\n" +
			"Message-ID: <from.1@customer.example>\n\nHello.\n")
		if out.MessageID == 0 {
			t.Fatalf("long From: %+v", out)
		}
	})
}

// A customer's Message-ID that our header writer refuses (a quote, non-ASCII) went into every
// reply's In-Reply-To and References: no reply in that conversation could ever be sent.
func TestReplyAfterUnwritableMessageID(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	first := f.deliver(strings.Replace(firstMail, "<first.1@mail.customer.example>", `<a"b\c(é)@mail.customer.example>`, 1))
	second := f.deliver("From: Maria Gonzalez <maria@customer.example>\nTo: support@acme.example\nSubject: Re: Export fails\n" +
		"Message-ID: <second.1@mail.customer.example>\nIn-Reply-To: <a\"b\\c(é)@mail.customer.example>\n\n" +
		"Still failing.\n")
	if second.ConversationID != first.ConversationID {
		t.Fatalf("second mail in %d, first in %d", second.ConversationID, first.ConversationID)
	}
	_, got := f.reply(first.ConversationID, inbox.ReplyInput{Text: "Looking into it."})
	if irt := headerValue(got.Raw, "In-Reply-To"); len(irt) != 1 || irt[0] != "<second.1@mail.customer.example>" {
		t.Fatalf("In-Reply-To %q", irt)
	}
	if refs := strings.Join(headerValue(got.Raw, "References"), " "); strings.Contains(refs, "é") || !strings.Contains(refs, "second.1@") {
		t.Fatalf("References %q", refs)
	}
}

const gmailInlineImage = `From: Maria <maria@customer.example>
To: support-desk@in.parley.test
Subject: Screenshot
Message-ID: <gm.1@mail.customer.example>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<div>See <img src="cid:ii_lk2ksbc50" alt="shot"></div>
--b1
Content-Type: image/png; name="image.png"
Content-Disposition: inline; filename="image.png"
Content-Transfer-Encoding: base64
Content-ID: <ii_lk2ksbc50>
X-Attachment-Id: ii_lk2ksbc50

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--b1--
`

// Gmail names inline images <ii_…>, without an @: forwarding such a mail failed on its
// Content-ID and was retried until it gave up.
func TestForwardGmailInlineImage(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	out := f.deliver(gmailInlineImage)
	msg, got := f.reply(out.ConversationID, inbox.ReplyInput{Text: "FYI", To: []string{"lars@partner.example"}, ForwardOf: out.MessageID})
	if msg.Status != "sent" || !strings.Contains(string(got.Raw), "Content-ID: <ii_lk2ksbc50>") || !strings.Contains(string(got.Raw), "cid:ii_lk2ksbc50") {
		t.Fatalf("forward %s:\n%s", msg.Status, got.Raw)
	}
}

// The JSON API takes a reply's attachments as the client writes them; the email channel sent
// whatever file ids they named, so an agent who knew the id of a file on a conversation they
// cannot see could mail it to themselves.
func TestSendOnlyTheConversationsFiles(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	mine := f.deliver(firstMail)
	other := f.deliver(strings.NewReplacer("maria@customer.example", "olof@other.example", "first.1@", "other.1@").Replace(gmailInlineImage))
	var files []ReceivedFile
	m, err := f.store.Message(f.ctx, other.MessageID)
	if err != nil || json.Unmarshal(m.Attachments, &files) != nil || len(files) != 1 {
		t.Fatalf("other conversation's files %s %v", m.Attachments, err)
	}
	loose, err := f.svc.Files.Put(f.ctx, "loose.txt", "text/plain", strings.NewReader("not on any conversation"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{files[0].ID, loose.ID} {
		att, _ := json.Marshal([]map[string]string{{"id": id, "name": "x.png"}})
		msg, err := f.inbox.Reply(f.ctx, f.admin, mine.ConversationID, inbox.ReplyInput{Text: "Here", Attachments: att})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.deliverJob(msg); got.Status != "failed" {
			t.Fatalf("reply carrying file %s: %s %s", id, got.Status, got.FailureReason)
		}
	}
	f.sink.None(t, 200*time.Millisecond)
}

// A runaway sender was only counted by the Message-IDs it sent: one that sent none was never
// quarantined, and each of its mails opened a conversation and paged the team.
func TestRunawaySenderWithoutMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		var last Outcome
		for i := range runawayLimit + 2 {
			last = f.deliver(fmt.Sprintf("From: robot@flood.example\nTo: support-desk@in.parley.test\nSubject: Alert %d\n\nAlert %d.\n", i, i))
		}
		if last.Filed != inbox.FileSpam || last.FiledBy != "runaway_sender" {
			t.Fatalf("runaway without Message-IDs: %+v", last)
		}
	})
}

// A reply quotes and answers the customer's latest mail, also when that one had no Message-ID.
func TestReplyToMailWithoutMessageID(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	first := f.deliver(firstMail)
	c := f.conversation(first.ConversationID)
	second := f.deliver(fmt.Sprintf("From: Maria Gonzalez <maria@customer.example>\nTo: support@acme.example\n"+
		"Subject: Re: Export fails [#%d]\n\nThe second mail, sent without a Message-ID.\n", c.Number))
	if second.ConversationID != first.ConversationID {
		t.Fatalf("second mail in %d", second.ConversationID)
	}
	_, got := f.reply(first.ConversationID, inbox.ReplyInput{Text: "Thanks."})
	if !strings.Contains(string(got.Raw), "sent without a Message-ID") {
		t.Fatalf("the reply does not quote the latest mail:\n%s", got.Raw)
	}
	if refs := strings.Join(headerValue(got.Raw, "References"), " "); strings.Contains(refs, "sha256") {
		t.Fatalf("References %q", refs)
	}
}

// panicInbox stands in for an inbox whose code has a bug.
type panicInbox struct{ Inbox }

func (panicInbox) Receive(context.Context, inbox.Inbound) (*store.Message, *store.Conversation, bool, error) {
	panic("a bug")
}

// A panic while taking in a fetched message ended the IMAP fetcher's goroutine and so the
// whole server, again after every restart since the message is fetched again. It is an error
// of that mailbox now: the fetcher retries it and the channel shows it.
func TestDeliverFetchedPanic(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	out := f.deliver(firstMail)
	f.svc.Inbox = panicInbox{f.inbox}
	f.svc.Log = slog.New(slog.DiscardHandler)
	err := f.svc.DeliverFetched(f.ctx, out.ChannelID, []byte(strings.ReplaceAll(strings.Replace(firstMail, "first.1", "second.1", 1), "\n", "\r\n")))
	if err == nil || !strings.Contains(err.Error(), "a bug") {
		t.Fatalf("DeliverFetched: %v", err)
	}
	var pe *panicError
	if !errors.As(err, &pe) {
		t.Fatalf("not a panic error: %T", err)
	}
}
