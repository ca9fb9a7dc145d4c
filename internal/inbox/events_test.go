package inbox_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// logged is one event of the realtime event log, as a test sees it.
type logged struct {
	typ   string
	inbox int64
	user  int64
	data  map[string]any
}

func (l logged) String() string { return fmt.Sprintf("%s@%d", l.typ, l.inbox) }

// since returns the event log after seq *last and moves *last on.
func (f *fixture) since(last *int64) []logged {
	f.t.Helper()
	// On PostgreSQL events are numbered a moment after commit, by each node's sequencer.
	if err := f.s.SequenceAllEvents(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	evs, err := f.s.EventsAfter(f.ctx, *last, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []logged
	for _, e := range evs {
		if e.Seq != *last+1 {
			f.t.Fatalf("seq %d after %d: the log has a hole", e.Seq, *last)
		}
		*last = e.Seq
		l := logged{typ: e.Type}
		if e.InboxID != nil {
			l.inbox = *e.InboxID
		}
		if e.UserID != nil {
			l.user = *e.UserID
		}
		if err := json.Unmarshal(e.Data, &l.data); err != nil {
			f.t.Fatalf("event %s data %s: %v", e.Type, e.Data, err)
		}
		out = append(out, l)
	}
	return out
}

func types(ls []logged) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.typ)
	}
	return strings.Join(s, " ")
}

// TestEventLogCoversEveryChange: every operation a client may see writes its realtime events in
// its own transaction, with the object's public JSON as it was committed, to its inbox; and an
// operation that changes nothing (a duplicate, a refused change) writes none.
func TestEventLogCoversEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		var last int64

		_, conv := f.receive("t1", "Hello")
		evs := f.since(&last)
		if types(evs) != "conversation.created message.created" {
			t.Fatalf("a new conversation wrote %q", types(evs))
		}
		if evs[0].inbox != f.support.ID || evs[0].data["preview"] != "Hello" || evs[0].data["id"] != float64(conv.ID) {
			t.Errorf("conversation.created carries %v in inbox %d: want the final state (preview set by the same transaction)", evs[0].data, evs[0].inbox)
		}
		if _, ok := evs[0].data["unread"]; ok {
			t.Error("events must not carry the per-user unread marker")
		}
		if evs[1].data["text"] != "Hello" || evs[1].data["conversation_id"] != float64(conv.ID) {
			t.Errorf("message.created carries %v", evs[1].data)
		}

		f.receive("t1", "Again")
		if got := types(f.since(&last)); got != "message.created conversation.updated" {
			t.Errorf("a message on an existing conversation wrote %q", got)
		}
		// A provider's retry is no change.
		if _, _, dup, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSup.ID, ThreadKey: "t1", IdempotencyKey: "k1", Text: "x"}); err != nil || dup {
			t.Fatal(err, dup)
		}
		f.since(&last)
		if _, _, dup, err := f.svc.Receive(f.ctx, inbox.Inbound{ChannelID: f.chSup.ID, ThreadKey: "t1", IdempotencyKey: "k1", Text: "x"}); err != nil || !dup {
			t.Fatal(err, dup)
		}
		if got := f.since(&last); len(got) != 0 {
			t.Errorf("a duplicate wrote %v", got)
		}

		msg, err := f.svc.Reply(f.ctx, f.agent, conv.ID, inbox.ReplyInput{Text: "On it"})
		if err != nil {
			t.Fatal(err)
		}
		evs = f.since(&last)
		if types(evs) != "message.created conversation.updated conversation.read" {
			t.Fatalf("a reply wrote %q", types(evs))
		}
		if evs[0].data["status"] != "queued" || evs[1].data["assignee_id"] != float64(f.agent.ID) {
			t.Errorf("reply events carry %v and %v", evs[0].data, evs[1].data)
		}
		if evs[2].user != f.agent.ID {
			t.Errorf("conversation.read goes to user %d, want only the replier %d", evs[2].user, f.agent.ID)
		}

		job := &store.Job{ID: 1, Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, msg.ID)), Attempts: 1, MaxAttempts: 5}
		if err := f.svc.Deliver(f.ctx, job); err != nil {
			t.Fatal(err)
		}
		evs = f.since(&last)
		if types(evs) != "message.updated" || evs[0].data["status"] != "sent" || evs[0].data["external_id"] == nil {
			t.Fatalf("a delivery wrote %v", evs)
		}
		if err := f.svc.UpdateMessageStatus(f.ctx, msg.ID, "read", ""); err != nil {
			t.Fatal(err)
		}
		if evs = f.since(&last); types(evs) != "message.updated" || evs[0].data["status"] != "read" {
			t.Errorf("a read receipt wrote %v", evs)
		}
		if err := f.svc.UpdateMessageStatus(f.ctx, msg.ID, "sent", ""); err != nil { // late, ignored
			t.Fatal(err)
		}
		if evs = f.since(&last); len(evs) != 0 {
			t.Errorf("an ignored late status wrote %v", evs)
		}

		if _, err := f.svc.Comment(f.ctx, f.agent, conv.ID, inbox.CommentInput{Body: "internal"}); err != nil {
			t.Fatal(err)
		}
		if evs = f.since(&last); types(evs) != "comment.created" || evs[0].data["body"] != "internal" || evs[0].inbox != f.support.ID {
			t.Errorf("a comment wrote %v", evs)
		}
		if err := f.svc.MarkRead(f.ctx, f.admin, conv.ID); err != nil {
			t.Fatal(err)
		}
		if evs = f.since(&last); types(evs) != "conversation.read" || evs[0].user != f.admin.ID {
			t.Errorf("mark read wrote %v", evs)
		}

		// Every field of a patch is one conversation.updated with the final state.
		f.update(f.agent, conv.ID, inbox.Patch{Status: ptr("closed"), Priority: ptr("high"), Tags: &[]string{"vip", "billing"}})
		evs = f.since(&last)
		if types(evs) != "conversation.updated" || evs[0].data["status"] != "closed" || evs[0].data["priority"] != "high" ||
			fmt.Sprint(evs[0].data["tags"]) != "[billing vip]" {
			t.Fatalf("an update wrote %v", evs)
		}
		if _, err := f.svc.Update(f.ctx, f.agent, conv.ID, inbox.Patch{Priority: ptr("bogus")}); err == nil {
			t.Fatal("a bad priority was accepted")
		}
		f.update(f.agent, conv.ID, inbox.Patch{Status: ptr("closed")}) // no change
		if evs = f.since(&last); len(evs) != 0 {
			t.Errorf("refused or empty changes wrote %v", evs)
		}

		// A move tells the old inbox the conversation left (with nothing else about it) and the
		// new one what it is now.
		f.update(f.admin, conv.ID, inbox.Patch{InboxID: &f.sales.ID})
		evs = f.since(&last)
		if types(evs) != "conversation.removed conversation.updated" {
			t.Fatalf("a move wrote %q", types(evs))
		}
		if evs[0].inbox != f.support.ID || len(evs[0].data) != 3 || evs[0].data["reason"] != "moved" {
			t.Errorf("conversation.removed: %v in inbox %d", evs[0].data, evs[0].inbox)
		}
		if evs[1].inbox != f.sales.ID || evs[1].data["assignee_id"] != nil {
			t.Errorf("conversation.updated after the move: %v in inbox %d (the agent cannot see sales: unassigned)", evs[1].data, evs[1].inbox)
		}
	})
}

// TestEventsRollBackWithTheirTransaction: a transaction that fails writes no events and leaves
// no hole in the seq.
func TestEventsRollBackWithTheirTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		var last int64
		_, conv := f.receive("t1", "Hello")
		f.since(&last)
		err := s.InTx(f.ctx, func(tx *store.Tx) error {
			tx.Emit("conversation.updated", "", func(e *store.Event) error { return nil })
			return fmt.Errorf("changed my mind")
		})
		if err == nil {
			t.Fatal("no error")
		}
		if evs := f.since(&last); len(evs) != 0 {
			t.Fatalf("a rolled back transaction wrote %v", evs)
		}
		if _, err := f.svc.Comment(f.ctx, f.agent, conv.ID, inbox.CommentInput{Body: "after"}); err != nil {
			t.Fatal(err)
		}
		if evs := f.since(&last); types(evs) != "comment.created" { // since() fails on a hole
			t.Fatalf("got %v", evs)
		}
		if last != 3 {
			t.Errorf("seq %d, want 3: 2 for the first message, 1 for the comment", last)
		}
	})
}
