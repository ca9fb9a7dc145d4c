package inbox_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestReceiveCreatesContactAndConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		m, c := f.receive("t1", "Hello, I need help with my invoice", func(in *inbox.Inbound) {
			in.Subject = "Invoice question"
			in.HTML = `<p onclick="x()">Hello <script>alert(1)</script><b>there</b></p>`
			in.ContactIdentities = append(in.ContactIdentities, store.Identity{Kind: "phone", Value: "+46 70 123 45 67"})
		})
		if m.Status != "received" || m.Direction != "inbound" || m.ConversationID != c.ID {
			t.Fatalf("message = %+v", m)
		}
		if strings.Contains(m.HTML, "script") || strings.Contains(m.HTML, "onclick") || !strings.Contains(m.HTML, "<b>there</b>") {
			t.Fatalf("html not sanitized: %q", m.HTML)
		}
		if c.Number != 1001 || c.InboxID != f.support.ID || *c.ChannelID != f.chSup.ID || c.Status != "open" ||
			c.Subject != "Invoice question" || c.Preview != "Hello, I need help with my invoice" || c.LastInboundAt == nil {
			t.Fatalf("conversation = %+v", c)
		}
		contact, err := s.Contact(f.ctx, *c.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Identity{{Kind: "email", Value: "ada@example.com"}, {Kind: "phone", Value: "+46701234567"}}
		if contact.Name != "Ada Lovelace" || !slices.Equal(contact.Identities, want) {
			t.Fatalf("contact = %+v", contact)
		}
		if types, _ := f.events(c.ID); !slices.Equal(types, []string{"created"}) {
			t.Fatalf("events = %v", types)
		}
		got := f.conversation(f.agent, c.ID)
		if !got.Unread {
			t.Fatal("new conversation is not unread for the agent")
		}
		// A second conversation gets the next number and the same contact (matched by email).
		_, c2 := f.receive("t2", "another question", func(in *inbox.Inbound) {
			in.ContactName = "Someone Else"
			in.ContactIdentities = []store.Identity{{Kind: "email", Value: "ada@example.com"}}
		})
		if c2.Number != 1002 || *c2.ContactID != *c.ContactID {
			t.Fatalf("second conversation = %+v", c2)
		}
	})
}

func TestReceiveDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		m1, c1 := f.receive("t1", "first", func(in *inbox.Inbound) { in.IdempotencyKey = "k1"; in.ExternalID = "e1" })
		in := inbox.Inbound{ChannelID: f.chSup.ID, ThreadKey: "t1", Text: "first", IdempotencyKey: "k1"}
		m2, c2, dup, err := f.svc.Receive(f.ctx, in)
		if err != nil || !dup || m2.ID != m1.ID || c2.ID != c1.ID {
			t.Fatalf("replay by idempotency key: dup=%v m=%v c=%v err=%v", dup, m2, c2, err)
		}
		in = inbox.Inbound{ChannelID: f.chSup.ID, ThreadKey: "other", Text: "first", ExternalID: "e1"}
		m3, _, dup, err := f.svc.Receive(f.ctx, in)
		if err != nil || !dup || m3.ID != m1.ID {
			t.Fatalf("replay by external id: dup=%v m=%v err=%v", dup, m3, err)
		}
		// The same key on another channel is another message.
		_, c4, dup, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSales.ID, ThreadKey: "t1", Text: "x", IdempotencyKey: "k1"})
		if err != nil || dup || c4.ID == c1.ID {
			t.Fatalf("other channel: dup=%v err=%v", dup, err)
		}
		msgs, err := s.Messages(f.ctx, c1.ID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages = %d, %v", len(msgs), err)
		}
	})
}

func TestReceiveConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		const n = 20
		var wg sync.WaitGroup
		ids := make([]int64, n)
		dups := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				m, _, dup, err := f.svc.Receive(f.ctx, inbox.Inbound{
					ChannelID: f.chSup.ID, ThreadKey: "race", IdempotencyKey: "same-key", Text: "hello",
					ContactIdentities: []store.Identity{{Kind: "email", Value: "racer@example.com"}},
				})
				errs[i], dups[i] = err, dup
				if m != nil {
					ids[i] = m.ID
				}
			})
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("receive %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("receive %d stored message %d, receive 0 stored %d", i, ids[i], ids[0])
			}
			if !dups[i] {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d receives were not duplicates, want 1", fresh)
		}
		list, _, err := f.svc.Conversations(f.ctx, f.admin, inbox.Filter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("conversations = %d, %v", len(list), err)
		}
		msgs, err := s.Messages(f.ctx, list[0].ID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages = %d, %v", len(msgs), err)
		}

		// Different messages (from different people, as in a group chat) racing into one new
		// thread still open a single conversation.
		for i := range n {
			wg.Go(func() {
				_, _, _, errs[i] = f.svc.Receive(f.ctx, inbox.Inbound{
					ChannelID: f.chSup.ID, ThreadKey: "race-2", Text: "part", IdempotencyKey: fmt.Sprintf("p%d", i),
					ContactIdentities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("new-racer-%d@example.com", i)}},
				})
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("receive %d: %v", i, errs[i])
			}
		}
		list, _, err = f.svc.Conversations(f.ctx, f.admin, inbox.Filter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("conversations = %d, %v", len(list), err)
		}
		msgs, err = s.Messages(f.ctx, list[0].ID)
		if err != nil || len(msgs) != n {
			t.Fatalf("messages in race-2 = %d, %v", len(msgs), err)
		}
		contacts, _, err := f.svc.Contacts(f.ctx, f.admin, "racer@example.com", 10, "")
		if err != nil || len(contacts) != 1 {
			t.Fatalf("contacts = %d, %v", len(contacts), err)
		}
	})
}

func TestReceiveThreading(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, a1 := f.receive("thread-a", "one")
		_, a2 := f.receive("thread-a", "two")
		_, b := f.receive("thread-b", "three")
		if a1.ID != a2.ID || b.ID == a1.ID {
			t.Fatalf("threads: a1=%d a2=%d b=%d", a1.ID, a2.ID, b.ID)
		}
		if a2.Preview != "two" {
			t.Fatalf("preview = %q", a2.Preview)
		}
		// The same key on another channel is another thread.
		_, other, _, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSales.ID, ThreadKey: "thread-a", Text: "x"})
		if err != nil || other.ID == a1.ID || other.InboxID != f.sales.ID {
			t.Fatalf("other channel: %+v %v", other, err)
		}
		// A trashed conversation is not continued: the thread starts over.
		f.update(f.admin, a1.ID, inbox.Patch{Trashed: ptr(true)})
		_, a3 := f.receive("thread-a", "after trash")
		if a3.ID == a1.ID {
			t.Fatal("message threaded into a trashed conversation")
		}
	})
}

func TestReceiveReopensAndWakes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "one")
		f.update(f.agent, c.ID, inbox.Patch{Status: ptr("closed"), SnoozedUntil: ptr(time.Now().Add(time.Hour).UnixMilli())})
		if err := f.svc.MarkRead(f.ctx, f.agent, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.conversation(f.agent, c.ID); got.Status != "closed" || got.SnoozedUntil == nil || got.ClosedAt == nil || got.Unread {
			t.Fatalf("before: %+v", got)
		}
		f.receive("t", "two")
		got := f.conversation(f.agent, c.ID)
		if got.Status != "open" || got.SnoozedUntil != nil || got.ClosedAt != nil || !got.Unread {
			t.Fatalf("after inbound: %+v", got)
		}
		types, data := f.events(c.ID)
		n := len(types)
		if n < 2 || types[n-2] != "reopened" || types[n-1] != "unsnoozed" ||
			data[n-2]["reason"] != "new inbound message" || data[n-1]["reason"] != "new inbound message" {
			t.Fatalf("events = %v %v", types, data)
		}

		// A mirrored business message neither reopens nor marks unread.
		f.update(f.agent, c.ID, inbox.Patch{Status: ptr("closed")})
		if err := f.svc.MarkRead(f.ctx, f.agent, c.ID); err != nil {
			t.Fatal(err)
		}
		m, _ := f.receive("t", "sent from the phone", func(in *inbox.Inbound) { in.Direction = "outbound" })
		got = f.conversation(f.agent, c.ID)
		if m.Status != "sent" || got.Status != "closed" || got.Unread || got.LastOutboundAt == nil {
			t.Fatalf("mirrored outbound: message %+v conversation %+v", m, got)
		}
	})
}

func TestReceiveFromBlockedContactIsSpam(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hello")
		if _, err := f.svc.UpdateContact(f.ctx, f.agent, *c.ContactID, inbox.ContactPatch{Blocked: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		_, c2 := f.receive("t2", "buy cheap pills")
		if !c2.Spam {
			t.Fatal("conversation of a blocked contact is not spam")
		}
		if typ, data := f.lastEvent(c2.ID); typ != "marked_spam" || data["reason"] != "blocked contact" {
			t.Fatalf("last event = %s %v", typ, data)
		}
		// An existing conversation of theirs goes to spam too.
		f.receive("t", "more")
		if got := f.conversation(f.agent, c.ID); !got.Spam {
			t.Fatal("existing conversation not marked spam")
		}
		list, _, err := f.svc.Conversations(f.ctx, f.agent, inbox.Filter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("default list shows spam: %d %v", len(list), err)
		}
		list, _, err = f.svc.Conversations(f.ctx, f.agent, inbox.Filter{Spam: true})
		if err != nil || len(list) != 2 {
			t.Fatalf("spam list = %d, %v", len(list), err)
		}
	})
}

func TestReceiveCleansInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		m, c := f.receive("t\x00", "bad \xff bytes and a \x00 nul", func(in *inbox.Inbound) {
			in.Sender = json.RawMessage(`{"name": "a\u0000b"}`)
			in.Recipients = json.RawMessage(`not json`)
			in.At = time.Now().Add(24 * time.Hour).UnixMilli() // from the future: clamped
		})
		if strings.Contains(m.Text, "\x00") || !strings.Contains(m.Text, "\uFFFD") {
			t.Fatalf("text = %q", m.Text)
		}
		if string(m.Recipients) != "[]" {
			t.Fatalf("recipients = %s", m.Recipients)
		}
		if m.CreatedAt > time.Now().UnixMilli() {
			t.Fatal("message time from the future kept")
		}
		if c.ID == 0 {
			t.Fatal("no conversation")
		}
		if _, _, _, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: 999999, Text: "x"}); err == nil {
			t.Fatal("receive on a missing channel succeeded")
		} else {
			wantCode(t, err, "channel_not_found")
		}
	})
}
