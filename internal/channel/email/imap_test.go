package email

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/channel/email/imapsync/imaptest"
	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestIMAPMailbox is issue 5's "an IMAP mailbox with 1,000 messages all end in the right
// conversations, with no duplicate after restarts", through the whole channel: a real Dovecot
// mailbox, an email channel made by CreateChannel with IMAP settings, the Supervisor listing it
// with Service.Mailboxes and storing with Service.DeliverFetched.
//
// The mailbox holds 400 conversation starters from 200 customers (and some colleagues of
// theirs) and 600 replies that name earlier messages the ways mail programs do: In-Reply-To
// and References, References only, References only naming the first message, an In-Reply-To
// naming a message we never saw, and a changed subject without a [#number]. Five older messages lie outside the backfill period.
// Then the node restarts twice: mail arriving while it is down and while it runs is stored
// once, and nothing is delivered again.
func TestIMAPMailbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		start := time.Now()
		f := newFixture(t, s)
		d := imaptest.StartDovecot(t, imaptest.Options{})
		c := d.Client()
		ctx := f.ctx
		now := time.Now()

		v, err := f.svc.CreateChannel(ctx, f.admin, ChannelInput{InboxID: f.ib.ID, Address: ptr("support@acme.example"),
			IMAP: &IMAPSettings{Host: imaptest.Host, Port: d.Port, Security: imapsync.SecurityNone,
				Username: imaptest.User, Password: imaptest.Password, BackfillDays: 3}})
		if err != nil {
			t.Fatal(err)
		}
		chID := v.Channel.ID

		mail := newMailbox(now.Add(-36 * time.Hour))
		old := make([][]byte, 5)
		for i := range old {
			old[i] = []byte(fmt.Sprintf("From: Old Customer <old.customer%d@archive.example>\r\nTo: support@acme.example\r\n"+
				"Subject: Last month\r\nMessage-ID: <old.%d@archive.example>\r\nDate: %s\r\n\r\nFrom before the backfill period.\r\n",
				i, i, now.Add(-10*24*time.Hour).Format(time.RFC1123Z)))
		}
		imaptest.Append(t, c, "INBOX", now.Add(-10*24*time.Hour), old...)
		mail.generate(t, 400, 600)
		uids := imaptest.Append(t, c, "INBOX", now.Add(-36*time.Hour), mail.raws(0)...)
		last := uids[len(uids)-1]
		t.Logf("appended %d messages in %v", len(mail.items)+len(old), time.Since(start))

		var logs syncBuffer
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("logs:\n%s", logs.String())
			}
		})
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		f.svc.Log = log
		var mu sync.Mutex
		delivered := map[string]int{} // Message-ID → successful DeliverFetched calls
		run := func(owner string) (stop func()) {
			sup := &imapsync.Supervisor{Store: s, List: f.svc.Mailboxes, Log: log, Owner: owner,
				Interval: 200 * time.Millisecond,
				Deliver: func(ctx context.Context, channelID int64, raw []byte) error {
					if err := f.svc.DeliverFetched(ctx, channelID, raw); err != nil {
						return err
					}
					mu.Lock()
					delivered[headerID(raw)]++
					mu.Unlock()
					return nil
				}}
			rctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := sup.Run(rctx); err != nil {
					t.Error(err)
				}
			}()
			var once sync.Once
			stop = func() { once.Do(func() { cancel(); <-done }) }
			t.Cleanup(stop)
			return stop
		}
		// waitStored waits until the channel has n messages and the checkpoint has passed uid:
		// stopping earlier could (rightly) deliver the last message again.
		waitStored := func(n int64, uid imap.UID) {
			t.Helper()
			deadline := time.Now().Add(2 * time.Minute)
			for {
				got, err := s.CountChannelMessages(ctx, chID)
				if err != nil {
					t.Fatal(err)
				}
				st, err := s.EmailIMAPState(ctx, chID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatal(err)
				}
				if got > n {
					t.Fatalf("%d messages stored, want %d", got, n)
				}
				if got == n && st != nil && st.LastUID >= uint32(uid) {
					if st.Failing() {
						t.Fatalf("the channel shows an error: %s", st.LastError)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d messages stored; state %+v", got, n, st)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		// deliveredOnce checks that every message was handed to DeliverFetched exactly once:
		// the checkpoint, not only Receive's de-duplication, kept it from coming again.
		deliveredOnce := func() {
			t.Helper()
			mu.Lock()
			defer mu.Unlock()
			var wrong []string
			for _, it := range mail.items {
				if n := delivered[it.id]; n != 1 {
					wrong = append(wrong, fmt.Sprintf("%s %d times", it.id, n))
				}
			}
			if len(wrong) > 0 || len(delivered) != len(mail.items) {
				t.Fatalf("%d distinct messages delivered, want %d; delivered other than once: %d, e.g. %v",
					len(delivered), len(mail.items), len(wrong), wrong[:min(len(wrong), 3)])
			}
		}

		// The first node backfills the mailbox.
		fetchStart := time.Now()
		stop := run("node-1")
		waitStored(1000, last)
		t.Logf("fetched and stored 1000 messages in %v", time.Since(fetchStart))
		stop()
		mail.check(t, s, chID)
		deliveredOnce()
		for i := range old {
			if _, err := s.MessageByExternalID(ctx, chID, fmt.Sprintf("old.%d@archive.example", i)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a message from before the backfill period: %v", err)
			}
		}

		// Down: mail arrives meanwhile. A new node (a restart) fetches it, and then mail that
		// arrives while it runs.
		n := len(mail.items)
		mail.generate(t, 2, 3)
		uids = imaptest.Append(t, c, "INBOX", time.Now(), mail.raws(n)...)
		stop = run("node-2")
		waitStored(1005, uids[len(uids)-1])
		n = len(mail.items)
		mail.generate(t, 2, 3)
		uids = imaptest.Append(t, c, "INBOX", time.Now(), mail.raws(n)...)
		waitStored(1010, uids[len(uids)-1])
		stop()
		mail.check(t, s, chID)
		deliveredOnce()

		// Another restart without new mail delivers nothing.
		before := store.Now()
		stop = run("node-3")
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := s.EmailIMAPState(ctx, chID)
			if err != nil {
				t.Fatal(err)
			}
			if st.LastSuccessAt > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no round after the restart: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		if got, err := s.CountChannelMessages(ctx, chID); err != nil || got != 1010 {
			t.Fatalf("%d messages after a restart without new mail (%v)", got, err)
		}
		deliveredOnce()
		t.Logf("%s: %v in all", t.Name(), time.Since(start))
	})
}

// mailItem is one generated message.
type mailItem struct {
	id     string // Message-ID, without brackets
	thread int    // the conversation it belongs to: its starter's index in mailbox.threads
	rule   thread.Rule
	raw    []byte
}

// mailbox generates conversations and replies to them, remembering where each belongs.
type mailbox struct {
	rng      *rand.Rand
	base     time.Time
	items    []mailItem
	threads  [][]int // conversation → its messages, as indexes into items
	customer []string
	subject  []string
	sent     map[string]int // sender → messages, kept below the runaway limit
}

func newMailbox(base time.Time) *mailbox {
	// A fixed seed: every run threads the same mailbox.
	return &mailbox{rng: rand.New(rand.NewPCG(5, 1000)), base: base, sent: map[string]int{}}
}

var products = []string{"invoice", "export", "login", "password reset", "order", "refund", "delivery", "API key",
	"subscription", "report"}

// generate adds starters new conversations and replies replies, mixed; a reply always comes
// after the message it answers.
func (m *mailbox) generate(t *testing.T, starters, replies int) {
	t.Helper()
	for starters+replies > 0 {
		// Keep a few conversations ahead so that the first replies have something to answer.
		if starters > 0 && (len(m.threads) < 10 || m.rng.IntN(starters+replies) < starters) {
			m.starter()
			starters--
		} else {
			m.reply()
			replies--
		}
	}
	rules := map[thread.Rule]int{}
	for _, it := range m.items {
		rules[it.rule]++
	}
	for _, r := range []thread.Rule{thread.RuleNew, thread.RuleInReplyTo, thread.RuleReferences} {
		if len(m.items) >= 1000 && rules[r] < 50 {
			t.Fatalf("the mailbox has only %d messages threaded by %s: %v", rules[r], r, rules)
		}
	}
}

// sender returns who writes in conversation n: its customer, or a colleague when the customer
// has written much (twenty in ten minutes would quarantine them as a runaway sender).
func (m *mailbox) sender(n int) string {
	from := m.customer[n]
	if m.sent[from] >= runawayLimit/2 || m.rng.IntN(10) == 0 {
		local, domain, _ := strings.Cut(from, "@")
		from = fmt.Sprintf("colleague.of.%s.%d@%s", local, len(m.items), domain)
	}
	m.sent[from]++
	return from
}

func (m *mailbox) starter() {
	n := len(m.threads)
	// Two conversations per customer: 400 starters come from 200 senders.
	m.customer = append(m.customer, fmt.Sprintf("maria.lopez%d@customer%d.example", n/2, n/2%37))
	m.subject = append(m.subject, fmt.Sprintf("Question %d about the %s", n, products[n%len(products)]))
	m.threads = append(m.threads, nil)
	m.add(n, thread.RuleNew, m.subject[n], "", "", "Hello, I have a question about this.")
}

func (m *mailbox) reply() {
	n := m.rng.IntN(len(m.threads))
	msgs := m.threads[n]
	parent := m.items[msgs[m.rng.IntN(len(msgs))]]
	root := m.items[msgs[0]]
	refs := append(headerValue(parent.raw, "References"), "<"+parent.id+">")
	subject := "Re: " + m.subject[n]
	switch k := m.rng.IntN(100); {
	case k < 60: // a usual reply
		m.add(n, thread.RuleInReplyTo, subject, "<"+parent.id+">", strings.Join(refs, " "), "Thanks, that helped.")
	case k < 75: // References only
		m.add(n, thread.RuleReferences, subject, "", strings.Join(refs, " "), "One more thing.")
	case k < 85: // References naming the first message only, as some mail programs trim it
		m.add(n, thread.RuleReferences, subject, "", "<"+root.id+">", "Following up.")
	case k < 95: // In-Reply-To a message we never saw (sent to someone else), References ours
		m.add(n, thread.RuleReferences, subject, fmt.Sprintf("<elsewhere.%d@other.example>", len(m.items)),
			strings.Join(refs, " "), "Adding what I wrote to my colleague.")
	default: // a new subject, without a [#number], on a reply
		m.add(n, thread.RuleInReplyTo, fmt.Sprintf("Also: the %s", products[m.rng.IntN(len(products))]),
			"<"+parent.id+">", strings.Join(refs, " "), "A different matter, same thread.")
	}
}

func (m *mailbox) add(n int, rule thread.Rule, subject, inReplyTo, references, body string) {
	i := len(m.items)
	from := m.sender(n)
	id := fmt.Sprintf("m%d.c%d.%x@%s", i, n, m.rng.Uint32(), strings.SplitN(from, "@", 2)[1])
	var b strings.Builder
	fmt.Fprintf(&b, "From: \"%s\" <%s>\r\nTo: Support <support@acme.example>\r\nSubject: %s\r\n", strings.Split(from, "@")[0], from, subject)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s>\r\n", m.base.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z), id)
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", inReplyTo)
	}
	if references != "" {
		fmt.Fprintf(&b, "References: %s\r\n", references)
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n\r\nMessage %d.\r\n", body, i)
	m.items = append(m.items, mailItem{id: id, thread: n, rule: rule, raw: []byte(b.String())})
	m.threads[n] = append(m.threads[n], i)
}

// raws returns the messages from index from on.
func (m *mailbox) raws(from int) [][]byte {
	var out [][]byte
	for _, it := range m.items[from:] {
		out = append(out, it.raw)
	}
	return out
}

// check verifies that every message is stored once, in the conversation of the message that
// started its thread, placed by the expected threading rule, and that there are no other
// conversations: one per thread, with its starter's subject and sender.
func (m *mailbox) check(t *testing.T, s *store.Store, chID int64) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.CountChannelMessages(ctx, chID); err != nil || got != int64(len(m.items)) {
		t.Fatalf("%d messages stored (%v), want %d", got, err, len(m.items))
	}
	convOf := make([]int64, len(m.threads)) // conversation → its stored id
	threadOf := map[int64]int{}
	for _, it := range m.items {
		msg, err := s.MessageByExternalID(ctx, chID, it.id)
		if err != nil {
			t.Fatalf("message %s: %v", it.id, err)
		}
		if convOf[it.thread] == 0 {
			convOf[it.thread] = msg.ConversationID
			if other, ok := threadOf[msg.ConversationID]; ok {
				t.Fatalf("conversations %d and %d share stored conversation %d", other, it.thread, msg.ConversationID)
			}
			threadOf[msg.ConversationID] = it.thread
		} else if msg.ConversationID != convOf[it.thread] {
			t.Fatalf("message %s (%s) is in conversation %d, its conversation is %d",
				it.id, it.rule, msg.ConversationID, convOf[it.thread])
		}
		var sender struct {
			Email string `json:"email"`
			Rule  string `json:"thread_rule"`
		}
		if err := json.Unmarshal(msg.Sender, &sender); err != nil {
			t.Fatal(err)
		}
		if sender.Rule != string(it.rule) {
			t.Errorf("message %s threaded by %q, want %q", it.id, sender.Rule, it.rule)
		}
	}

	var all []store.Conversation
	var after *store.ConversationCursor
	for {
		list, next, err := s.Conversations(ctx, store.ConversationFilter{AnyState: true, After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, list...)
		if next == nil {
			break
		}
		after = next
	}
	if len(all) != len(m.threads) {
		t.Fatalf("%d conversations, want %d", len(all), len(m.threads))
	}
	for _, c := range all {
		n, ok := threadOf[c.ID]
		if !ok {
			t.Fatalf("conversation %d holds none of the messages", c.ID)
		}
		if c.Spam || c.Filtered || c.Subject != m.subject[n] || c.ContactID == nil {
			t.Fatalf("conversation %d: %+v, want subject %q in the inbox", c.ID, c, m.subject[n])
		}
		msgs, err := s.Messages(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != len(m.threads[n]) {
			t.Fatalf("conversation %d has %d messages, want %d", c.ID, len(msgs), len(m.threads[n]))
		}
		contact, err := s.Contact(ctx, *c.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		if len(contact.Identities) == 0 || contact.Identities[0].Value != strings.ToLower(headerAddress(m.items[m.threads[n][0]].raw)) {
			t.Fatalf("conversation %d is with %+v, want its starter's sender", c.ID, contact.Identities)
		}
	}
}

// headerValue returns the ids of a References-like header of a generated message.
func headerValue(raw []byte, name string) []string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return strings.Fields(v)
		}
	}
	return nil
}

// headerAddress returns the address in a generated message's From.
func headerAddress(raw []byte) string {
	from := headerValue(raw, "From")
	return strings.Trim(from[len(from)-1], "<>")
}

// headerID returns a message's Message-ID without brackets.
func headerID(raw []byte) string {
	_, rest, _ := bytes.Cut(raw, []byte("Message-ID: <"))
	id, _, _ := bytes.Cut(rest, []byte(">"))
	return string(id)
}

// syncBuffer is a log sink read while fetchers may still write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
