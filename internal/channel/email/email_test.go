package email

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/channel/email/smtpd"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/mail/mailtest"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// fixture is an installation with one inbox, an admin and an email service relaying into a
// capturing SMTP server.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	store  *store.Store
	inbox  *inbox.Service
	svc    *Service
	sink   *mailtest.Server
	ib     *store.Inbox
	admin  *store.User
	denied map[string]string
}

func (f *fixture) EmailFilterVerdict(_ context.Context, _ int64, addr string) (string, error) {
	return f.denied[addr], nil
}

func newFixture(t testing.TB, s *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, store: s, denied: map[string]string{}}
	f.inbox = &inbox.Service{Store: s}
	tr, err := thread.New([]byte("a-test-installation-secret-32-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	f.sink = mailtest.Start(t)
	relay, err := outbound.NewSender(f.sink.URL)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = &Service{Store: s, Inbox: f.inbox, Files: files.New(s, t.TempDir(), "http://parley.test"),
		Filters: f, Threader: tr, Domain: "in.parley.test", Relay: relay, NotificationFrom: "notify@parley.test"}
	f.inbox.Senders = map[string]channel.Sender{Kind: f.svc}
	err = s.InTx(ctx, func(tx *store.Tx) error {
		f.ib = &store.Inbox{Name: "Support Desk", Access: "everyone"}
		if err := tx.CreateInbox(ctx, f.ib); err != nil {
			return err
		}
		f.admin = &store.User{Email: "ana@acme.example", Name: "Ana Berg", Role: "admin", JobTitle: "Support lead"}
		return tx.CreateUser(ctx, f.admin)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// deliver runs raw mail through the receiving address, as the SMTP receiver does.
func (f *fixture) deliver(raw string) Outcome {
	f.t.Helper()
	out, err := f.svc.Receive(f.ctx, Delivery{InboxID: f.ib.ID, Raw: []byte(strings.ReplaceAll(raw, "\n", "\r\n")),
		Recipients: []string{f.svc.ReceivingAddress(f.ib)}})
	if err != nil {
		f.t.Fatalf("receive: %v", err)
	}
	return out
}

func (f *fixture) conversation(id int64) *store.Conversation {
	f.t.Helper()
	c, err := f.store.Conversation(f.ctx, id, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// reply sends an agent's reply through the real delivery job and returns what the relay got.
func (f *fixture) reply(convID int64, in inbox.ReplyInput) (*store.Message, mailtest.Received) {
	f.t.Helper()
	msg, err := f.inbox.Reply(f.ctx, f.admin, convID, in)
	if err != nil {
		f.t.Fatalf("reply: %v", err)
	}
	payload, _ := json.Marshal(map[string]int64{"message_id": msg.ID})
	if err := f.inbox.Deliver(f.ctx, &store.Job{ID: 1, Payload: payload, Attempts: 1, MaxAttempts: 5}); err != nil {
		f.t.Fatalf("deliver: %v", err)
	}
	got, err := f.store.Message(f.ctx, msg.ID)
	if err != nil || got.Status != "sent" {
		f.t.Fatalf("message after delivery: %+v %v", got, err)
	}
	return got, f.sink.Next(f.t)
}

const firstMail = `From: Maria Gonzalez <maria@customer.example>
To: support@acme.example
Delivered-To: support-desk@in.parley.test
Subject: Export fails
Date: Tue, 09 Jan 2024 14:00:00 +0100
Message-ID: <first.1@mail.customer.example>
Content-Type: text/plain; charset=utf-8

Hello, the export fails with an error.
`

func TestReceiveReplyAndThread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		if got := f.svc.ReceivingAddress(f.ib); got != "support-desk@in.parley.test" {
			t.Fatalf("receiving address %q", got)
		}

		first := f.deliver(firstMail)
		if first.Duplicate || first.Rule != thread.RuleNew || first.Filed != "" {
			t.Fatalf("first mail: %+v", first)
		}
		conv := f.conversation(first.ConversationID)
		if conv.Subject != "Export fails" || conv.ContactID == nil || conv.Spam || conv.Filtered {
			t.Fatalf("conversation %+v", conv)
		}
		contact, err := s.Contact(f.ctx, *conv.ContactID)
		if err != nil || contact.Name != "Maria Gonzalez" || len(contact.Identities) != 1 || contact.Identities[0].Value != "maria@customer.example" {
			t.Fatalf("contact %+v %v", contact, err)
		}
		// The first mail made the inbox's email channel.
		ch, err := s.Channel(f.ctx, first.ChannelID)
		if err != nil || ch.Kind != Kind || ch.Address != "support-desk@in.parley.test" {
			t.Fatalf("fallback channel %+v %v", ch, err)
		}
		// The same mail again (a retried SMTP delivery, a re-fetch) is the same message.
		again := f.deliver(firstMail)
		if !again.Duplicate || again.MessageID != first.MessageID {
			t.Fatalf("second delivery: %+v", again)
		}

		// The agent answers with a Cc; the mail threads under the customer's.
		msg, sent := f.reply(conv.ID, inbox.ReplyInput{Text: "Please try again now.", Cc: []string{"Boss <boss@customer.example>"}})
		ourID := thread.NormalizeID(sent.Header.Get("Message-ID"))
		if c, m, ok := f.svc.Threader.ParseMessageID(ourID); !ok || c != conv.ID || m != msg.ID {
			t.Fatalf("our Message-ID %q", ourID)
		}
		if got := sent.Header.Get("In-Reply-To"); got != "<first.1@mail.customer.example>" {
			t.Fatalf("In-Reply-To %q", got)
		}
		if !strings.Contains(sent.Header.Get("References"), "<first.1@mail.customer.example>") {
			t.Fatalf("References %q", sent.Header.Get("References"))
		}
		if to := sent.Header.Get("To"); !strings.Contains(to, "maria@customer.example") {
			t.Fatalf("To %q", to)
		}
		if cc := sent.Header.Get("Cc"); !strings.Contains(cc, "boss@customer.example") {
			t.Fatalf("Cc %q", cc)
		}
		if len(sent.To) != 2 {
			t.Fatalf("envelope recipients %v", sent.To)
		}
		if from := sent.Header.Get("From"); !strings.Contains(from, "Ana at Support Desk") || !strings.Contains(from, "<support-desk@in.parley.test>") {
			t.Fatalf("From %q", from)
		}
		replyTo := sent.Header.Get("Reply-To")
		if conv2, ok := f.svc.Threader.ParseReplyAddress(replyTo); !ok || conv2 != conv.ID {
			t.Fatalf("Reply-To %q", replyTo)
		}
		if sent.Subject != "Re: Export fails" {
			t.Fatalf("subject %q", sent.Subject)
		}
		if !bytes.Contains(sent.Raw, []byte("the export fails")) {
			t.Fatalf("the reply does not quote the customer:\n%s", sent.Raw)
		}

		// The agent closes it; the customer's mail program answers our Message-ID and reopens it.
		if _, err := f.inbox.Update(f.ctx, f.admin, conv.ID, inbox.Patch{Status: ptr("closed")}); err != nil {
			t.Fatal(err)
		}
		answer := f.deliver(fmt.Sprintf(`From: Maria Gonzalez <maria@customer.example>
To: Support <support-desk@in.parley.test>
Subject: Re: Export fails
Message-ID: <second.2@mail.customer.example>
In-Reply-To: <%s>
References: <first.1@mail.customer.example> <%s>
Content-Type: text/plain

It still fails.

On Tue, 9 Jan 2024 at 15:00, Support Desk <support-desk@in.parley.test> wrote:
> Please try again now.
`, ourID, ourID))
		if answer.ConversationID != conv.ID || answer.Rule != thread.RuleInReplyTo {
			t.Fatalf("answer: %+v", answer)
		}
		if c := f.conversation(conv.ID); c.Status != "open" {
			t.Fatalf("a customer's answer must reopen, status %s", c.Status)
		} else if c.Preview != "It still fails." {
			// The quoted history is the earlier messages' text: not the preview, not indexed again.
			t.Fatalf("preview %q", c.Preview)
		}

		// A reply to the plus address alone (a client that drops headers) threads too.
		plus := f.deliver(fmt.Sprintf("From: maria@customer.example\nTo: %s\nSubject: one more thing\nMessage-ID: <third.3@x>\n\nAnd another.\n", replyTo))
		if plus.ConversationID != conv.ID || plus.Rule != thread.RuleReplyAddress {
			t.Fatalf("plus address: %+v", plus)
		}

		// Closed again, an out-of-office answer is kept on the thread but does not reopen it.
		if _, err := f.inbox.Update(f.ctx, f.admin, conv.ID, inbox.Patch{Status: ptr("closed")}); err != nil {
			t.Fatal(err)
		}
		ooo := f.deliver(fmt.Sprintf("From: maria@customer.example\nTo: support-desk@in.parley.test\nSubject: Out of office: Re: Export fails\nAuto-Submitted: auto-replied\nMessage-ID: <ooo.4@x>\nIn-Reply-To: <%s>\n\nI am away.\n", ourID))
		if ooo.ConversationID != conv.ID {
			t.Fatalf("auto-reply: %+v", ooo)
		}
		if c := f.conversation(conv.ID); c.Status != "closed" {
			t.Fatalf("an auto-reply must not reopen, status %s", c.Status)
		}

		// A bounce of our reply lands on the conversation and fails the message.
		bounce := f.deliver(fmt.Sprintf(`From: Mail Delivery Subsystem <mailer-daemon@mx.customer.example>
To: support-desk@in.parley.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce.5@mx.customer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; maria@customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b
Content-Type: text/rfc822-headers

Message-ID: <%s>
Subject: Re: Export fails

--b--
`, ourID))
		if bounce.ConversationID != conv.ID {
			t.Fatalf("bounce: %+v", bounce)
		}
		failed, err := s.Message(f.ctx, msg.ID)
		if err != nil || failed.Status != "failed" || !strings.Contains(failed.FailureReason, "5.1.1") {
			t.Fatalf("bounced message: %+v %v", failed, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestFiling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		// Automated mail opening a conversation goes to Filtered, with the rule.
		auto := f.deliver("From: noreply@shop.example\nTo: support-desk@in.parley.test\nSubject: Your order\nMessage-ID: <o1@shop>\n\nThanks for your order.\n")
		if auto.Filed != inbox.FileFiltered || auto.FiledBy != "role_sender" {
			t.Fatalf("noreply: %+v", auto)
		}
		if c := f.conversation(auto.ConversationID); !c.Filtered || c.Spam {
			t.Fatalf("conversation %+v", c)
		}
		list := f.deliver("From: news@shop.example\nTo: support-desk@in.parley.test\nSubject: Deals\nList-Unsubscribe: <mailto:u@shop>\nMessage-ID: <n1@shop>\n\nDeals.\n")
		if list.Filed != inbox.FileFiltered || list.FiledBy != "bulk" {
			t.Fatalf("list mail: %+v", list)
		}
		// A rule turned off lets the mail into the inbox.
		ch, _ := s.Channel(f.ctx, auto.ChannelID)
		if _, err := f.svc.UpdateChannel(f.ctx, f.admin, ch.ID, ChannelInput{Filters: &FilterRules{AutoReplies: true, Bounces: true, Bulk: false, RoleSenders: true}}); err != nil {
			t.Fatal(err)
		}
		list2 := f.deliver("From: news@shop.example\nTo: support-desk@in.parley.test\nSubject: More deals\nList-Id: <deals.shop>\nMessage-ID: <n2@shop>\n\nDeals.\n")
		if list2.Filed != "" {
			t.Fatalf("bulk rule off: %+v", list2)
		}
		// The deny list sends mail to spam; the allow list beats every other rule.
		f.denied["spammer@bad.example"] = "deny"
		spam := f.deliver("From: spammer@bad.example\nTo: support-desk@in.parley.test\nSubject: Win\nMessage-ID: <s1@bad>\n\nWin.\n")
		if spam.Filed != inbox.FileSpam || spam.FiledBy != "deny_list" || !f.conversation(spam.ConversationID).Spam {
			t.Fatalf("deny list: %+v", spam)
		}
		f.denied["noreply@partner.example"] = "allow"
		allowed := f.deliver("From: noreply@partner.example\nTo: support-desk@in.parley.test\nSubject: Report\nMessage-ID: <a1@partner>\n\nReport.\n")
		if allowed.Filed != "" {
			t.Fatalf("allow list: %+v", allowed)
		}
		// Our own mail coming back is a loop.
		loop := f.deliver("From: support-desk@in.parley.test\nTo: support-desk@in.parley.test\nSubject: Loop\nMessage-ID: <l1@x>\n\nLoop.\n")
		if loop.Filed != inbox.FileSpam || loop.FiledBy != "loop" {
			t.Fatalf("loop: %+v", loop)
		}
		// A runaway sender: after 20 mails in ten minutes the rest are quarantined.
		var last Outcome
		for i := range runawayLimit + 2 {
			last = f.deliver(fmt.Sprintf("From: robot@flood.example\nTo: support-desk@in.parley.test\nSubject: Alert %d\nMessage-ID: <f%d@flood>\n\nAlert.\n", i, i))
		}
		if last.Filed != inbox.FileSpam || last.FiledBy != "runaway_sender" {
			t.Fatalf("runaway: %+v", last)
		}
		v, err := f.svc.Channel(f.ctx, ch.ID)
		if err != nil || len(v.State.Quarantined) != 1 || v.State.Quarantined[0].Sender != "robot@flood.example" {
			t.Fatalf("quarantine state %+v %v", v, err)
		}
	})
}

func TestForwardingConfirmationAndTestMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		v, err := f.svc.CreateChannel(f.ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("Support@Acme.example"),
			FromName: ptr("company"), CompanyName: ptr("Acme")})
		if err != nil {
			t.Fatal(err)
		}
		if v.Settings.Address != "support@acme.example" || v.ReceivingAddress != "support-desk@in.parley.test" || v.Settings.WebhookSecret == "" {
			t.Fatalf("view %+v", v)
		}
		raw, err := os.ReadFile(filepath.Join("mime", "testdata", "gmail_forwarding.eml"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.Receive(f.ctx, Delivery{InboxID: f.ib.ID, Raw: raw})
		if err != nil || out.MessageID != 0 || out.ConversationID != 0 || out.ChannelID != v.Channel.ID {
			t.Fatalf("confirmation: %+v %v", out, err)
		}
		v, _ = f.svc.Channel(f.ctx, v.Channel.ID)
		if fc := v.State.ForwardingConfirmation; fc == nil || fc.Code == "" || !strings.HasPrefix(fc.Link, "https://") {
			t.Fatalf("state %+v", v.State)
		}

		// The test mail goes to the team address; the provider forwards it back to us.
		v, err = f.svc.SendTest(f.ctx, f.admin, v.Channel.ID)
		if err != nil || v.State.Test == nil || v.State.Test.ReceivedAt != 0 {
			t.Fatalf("send test: %+v %v", v, err)
		}
		sent := f.sink.Next(t)
		if len(sent.To) != 1 || sent.To[0] != "support@acme.example" {
			t.Fatalf("test mail to %v", sent.To)
		}
		out, err = f.svc.Receive(f.ctx, Delivery{InboxID: f.ib.ID, Raw: sent.Raw})
		if err != nil || out.Kind != KindTest || out.MessageID != 0 {
			t.Fatalf("test mail back: %+v %v", out, err)
		}
		v, _ = f.svc.Channel(f.ctx, v.Channel.ID)
		if v.State.Test.ReceivedAt == 0 {
			t.Fatalf("arrival not recorded: %+v", v.State.Test)
		}
		// Agents cannot change channels.
		agent := &store.User{ID: 99, Role: "agent"}
		if _, err := f.svc.SendTest(f.ctx, agent, v.Channel.ID); err == nil {
			t.Fatal("an agent sent a test mail")
		}
	})
}

func TestChannelValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		bad := []struct {
			in   ChannelInput
			code string
		}{
			{ChannelInput{InboxID: f.ib.ID}, "invalid_email_address"},
			{ChannelInput{InboxID: f.ib.ID, Address: ptr("not an address")}, "invalid_email_address"},
			{ChannelInput{InboxID: f.ib.ID, Address: ptr("a@b.example"), FromName: ptr("agent")}, "invalid_from_name"},
			{ChannelInput{InboxID: f.ib.ID, Address: ptr("a@b.example"), IMAP: &IMAPSettings{Host: "imap.b.example"}}, "invalid_imap"},
			{ChannelInput{InboxID: f.ib.ID, Address: ptr("a@b.example"), IMAP: &IMAPSettings{Host: "x y", Username: "u", Password: "p"}}, "invalid_imap"},
			{ChannelInput{InboxID: f.ib.ID, Address: ptr("a@b.example"), SMTP: &SMTPSettings{Host: "smtp.b.example", Security: "ssl3"}}, "invalid_smtp"},
			{ChannelInput{InboxID: 999, Address: ptr("a@b.example")}, "inbox_not_found"},
		}
		for _, tc := range bad {
			_, err := f.svc.CreateChannel(f.ctx, f.admin, tc.in)
			if p, ok := problem.As(err); !ok || p.Code != tc.code {
				t.Errorf("%+v: got %v, want %s", tc.in, err, tc.code)
			}
		}
		v, err := f.svc.CreateChannel(f.ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("help@b.example"),
			IMAP: &IMAPSettings{Host: "imap.b.example", Username: "help", Password: "secret"}})
		if err != nil {
			t.Fatal(err)
		}
		if v.Settings.IMAP.Password != "" || !v.IMAPPasswordSet || v.Settings.IMAP.Port != 993 || v.Settings.IMAP.Mailbox != "INBOX" {
			t.Fatalf("view leaks or misses defaults: %+v", v.Settings.IMAP)
		}
		// Saving the form without retyping the password keeps it.
		if _, err := f.svc.UpdateChannel(f.ctx, f.admin, v.Channel.ID, ChannelInput{IMAP: &IMAPSettings{Host: "imap.b.example", Username: "help", BackfillDays: 7}}); err != nil {
			t.Fatal(err)
		}
		ch, _ := s.Channel(f.ctx, v.Channel.ID)
		st, _ := ChannelSettings(ch)
		if st.IMAP.Password != "secret" || st.IMAP.BackfillDays != 7 {
			t.Fatalf("stored imap %+v", st.IMAP)
		}
		// Switching to an unencrypted connection needs the password typed again.
		_, err = f.svc.UpdateChannel(f.ctx, f.admin, v.Channel.ID, ChannelInput{IMAP: &IMAPSettings{Host: "imap.b.example", Username: "help", Security: "none"}})
		if p, ok := problem.As(err); !ok || p.Code != "invalid_imap" {
			t.Fatalf("downgrade to none kept the password: %v", err)
		}
		_, err = f.svc.CreateChannel(f.ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("HELP@b.example")})
		if p, ok := problem.As(err); !ok || p.Code != "email_address_in_use" {
			t.Fatalf("duplicate address: %v", err)
		}
	})
}

// TestTeamMemberForward: an agent forwards a customer's mail into the inbox by hand; the
// conversation is with the customer, not the agent (EMAIL-5).
func TestTeamMemberForward(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		out := f.deliver(`From: Ana Berg <ana@acme.example>
To: support-desk@in.parley.test
Subject: Fwd: Broken invoice
Message-ID: <fw.1@acme.example>
Content-Type: text/plain

FYI

---------- Forwarded message ---------
From: Lars Holm <lars@client.example>
Date: Mon, 8 Jan 2024 at 09:00
Subject: Broken invoice
To: <ana@acme.example>

The invoice total is wrong.
`)
		c := f.conversation(out.ConversationID)
		contact, err := s.Contact(f.ctx, *c.ContactID)
		if err != nil || contact.Name != "Lars Holm" || contact.Identities[0].Value != "lars@client.example" {
			t.Fatalf("contact %+v %v", contact, err)
		}
	})
}

// TestCorpusOutcomes runs every message of the corpus through the whole pipeline: none may
// fail, and each lands where its expected outcome says.
func TestCorpusOutcomes(t *testing.T) {
	want := map[string]struct{ filed, rule, contact string }{
		"gmail_reply.eml":        {"", "", "maria.gonzalez@gmail.com"},
		"outlook_reply.eml":      {"", "", "joerg.mueller@contoso.example"},
		"ooo_autoreply.eml":      {inbox.FileFiltered, "auto_reply", ""},
		"exchange_autoreply.eml": {inbox.FileFiltered, "auto_reply", ""},
		"dsn_bounce.eml":         {inbox.FileFiltered, "bounce", ""},
		"qmail_bounce.eml":       {inbox.FileFiltered, "bounce", ""},
		"list_mail.eml":          {inbox.FileFiltered, "bulk", ""},
		"noreply.eml":            {inbox.FileFiltered, "role_sender", ""},
		"gmail_forwarding.eml":   {"confirmation", "", ""},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		entries, err := os.ReadDir(filepath.Join("mime", "testdata"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			raw, err := os.ReadFile(filepath.Join("mime", "testdata", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
			out, err := f.svc.Receive(ctx, Delivery{InboxID: f.ib.ID, Raw: raw})
			cancel()
			if err != nil {
				t.Errorf("%s: %v", e.Name(), err)
				continue
			}
			w, ok := want[e.Name()]
			if !ok {
				// A person's mail: a conversation in the inbox.
				if out.ConversationID == 0 || out.Filed != "" {
					t.Errorf("%s: %+v", e.Name(), out)
				}
				continue
			}
			if w.filed == "confirmation" {
				if out.ConversationID != 0 {
					t.Errorf("%s: a confirmation opened a conversation", e.Name())
				}
				continue
			}
			if out.Filed != w.filed || out.FiledBy != w.rule {
				t.Errorf("%s: filed %q by %q, want %q by %q", e.Name(), out.Filed, out.FiledBy, w.filed, w.rule)
			}
			if w.contact != "" {
				c := f.conversation(out.ConversationID)
				contact, err := s.Contact(f.ctx, *c.ContactID)
				if err != nil || len(contact.Identities) == 0 || contact.Identities[0].Value != w.contact {
					t.Errorf("%s: contact %+v %v", e.Name(), contact, err)
				}
			}
		}
	})
}

// TestDKIMSigning: a channel with a DKIM key signs its replies; the key never shows.
func TestDKIMSigning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		_, err = f.svc.CreateChannel(f.ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("help@acme.example"),
			DKIM: &DKIMSettings{Selector: "parley", PrivateKey: "not a key"}})
		if p, ok := problem.As(err); !ok || p.Code != "invalid_dkim" {
			t.Fatalf("bad key: %v", err)
		}
		v, err := f.svc.CreateChannel(f.ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("help@acme.example"),
			DKIM: &DKIMSettings{Selector: "parley", PrivateKey: keyPEM}})
		if err != nil {
			t.Fatal(err)
		}
		if !v.DKIMKeySet || v.Settings.DKIM.PrivateKey != "" {
			t.Fatalf("view %+v", v.Settings.DKIM)
		}
		out := f.deliver("From: kim@customer.example\nTo: help@acme.example\nSubject: Hi\nMessage-ID: <k1@customer.example>\n\nHello.\n")
		_, sent := f.reply(out.ConversationID, inbox.ReplyInput{Text: "Hello Kim."})
		sig := sent.Header.Get("DKIM-Signature")
		if !strings.Contains(sig, "d=acme.example") || !strings.Contains(sig, "s=parley") {
			t.Fatalf("DKIM-Signature %q", sig)
		}
		// The installation's relay itself stays unsigned for other channels.
		if f.svc.Relay.DKIM != nil {
			t.Fatal("the shared relay was changed")
		}
	})
}

// TestForgedSendersFailingDMARC: over SMTP, mail whose From fails DMARC can neither replace the
// Gmail confirmation on the setup screen nor pose as a team member forwarding a customer's mail.
func TestForgedSendersFailingDMARC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		fail := &smtpd.AuthResults{DMARC: smtpd.DMARCResult{Result: "fail", Policy: "none"}}
		raw, err := os.ReadFile(filepath.Join("mime", "testdata", "gmail_forwarding.eml"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.Receive(f.ctx, Delivery{InboxID: f.ib.ID, Raw: raw, Auth: fail})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Channel(f.ctx, out.ChannelID)
		if err != nil || v.State.ForwardingConfirmation != nil {
			t.Fatalf("a forged confirmation was recorded: %+v %v", v, err)
		}
		forward := strings.ReplaceAll(`From: Ana Berg <ana@acme.example>
To: support-desk@in.parley.test
Subject: Fwd: Invoice
Message-ID: <forged.1@evil.example>

---------- Forwarded message ---------
From: Lars Holm <lars@client.example>

Please pay to this new account.
`, "\n", "\r\n")
		out, err = f.svc.Receive(f.ctx, Delivery{InboxID: f.ib.ID, Raw: []byte(forward), Auth: fail})
		if err != nil {
			t.Fatal(err)
		}
		c := f.conversation(out.ConversationID)
		contact, err := s.Contact(f.ctx, *c.ContactID)
		if err != nil || contact.Identities[0].Value != "ana@acme.example" {
			t.Fatalf("a forged team member chose the contact: %+v %v", contact, err)
		}
	})
}
