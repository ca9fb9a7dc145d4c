package inbox_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// claim takes the next deliver job as a job runner would (counting the attempt).
func (f *fixture) claim() *store.Job {
	f.t.Helper()
	j, err := f.s.ClaimJob(f.ctx, "test-node", []string{inbox.DeliverJob}, time.Minute)
	if err != nil {
		f.t.Fatalf("claim deliver job: %v", err)
	}
	return j
}

// finish records a Deliver outcome on the claimed job as the job runner does.
func (f *fixture) finish(j *store.Job, err error) {
	f.t.Helper()
	var ferr error
	switch {
	case err == nil:
		ferr = f.s.CompleteJob(f.ctx, j.ID, "test-node")
	case channel.IsPermanent(err):
		ferr = f.s.FailJob(f.ctx, j.ID, "test-node", err.Error())
	default:
		ferr = f.s.RetryJobLater(f.ctx, j.ID, "test-node", store.Now(), err.Error())
	}
	if ferr != nil {
		f.t.Fatal(ferr)
	}
}

// deliverNext claims the next deliver job, runs it and records the outcome.
func (f *fixture) deliverNext() error {
	f.t.Helper()
	j := f.claim()
	err := f.svc.Deliver(f.ctx, j)
	f.finish(j, err)
	return err
}

func (f *fixture) message(id int64) *store.Message {
	f.t.Helper()
	m, err := f.svc.Message(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func TestReplyQueuesDeliveryAndAssigns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")
		m, err := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "Hello Ada", HTML: `<p>Hello <img src=x onerror=alert(1)>Ada</p>`})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != "queued" || m.Direction != "outbound" || *m.AuthorID != f.agent.ID || strings.Contains(m.HTML, "onerror") {
			t.Fatalf("reply = %+v", m)
		}
		jobs, err := s.Jobs(f.ctx, "queued", inbox.DeliverJob, 0, 10)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("deliver jobs = %d, %v", len(jobs), err)
		}
		var payload map[string]int64
		if err := json.Unmarshal(jobs[0].Payload, &payload); err != nil || payload["message_id"] != m.ID {
			t.Fatalf("payload = %s", jobs[0].Payload)
		}
		if jobs[0].OrderingKey != "conversation:"+itoa(c.ID) {
			t.Fatalf("ordering key = %q", jobs[0].OrderingKey)
		}
		got := f.conversation(f.agent, c.ID)
		if got.AssigneeID == nil || *got.AssigneeID != f.agent.ID || got.LastOutboundAt == nil || got.Unread {
			t.Fatalf("conversation after reply = %+v", got)
		}
		if typ, data := f.lastEvent(c.ID); typ != "assigned" || data["reason"] != "replied" || data["assignee_id"] != float64(f.agent.ID) {
			t.Fatalf("last event = %s %v", typ, data)
		}
		// A second reply by someone else does not take the conversation over.
		if _, err := f.svc.Reply(f.ctx, f.admin, c.ID, inbox.ReplyInput{Text: "Also"}); err != nil {
			t.Fatal(err)
		}
		if got := f.conversation(f.agent, c.ID); *got.AssigneeID != f.agent.ID {
			t.Fatal("second replier took the conversation")
		}
		// HTML alone is enough; its text is derived.
		m3, err := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{HTML: "<p>Only</p><p>html</p>"})
		if err != nil || m3.Text != "Only html" {
			t.Fatalf("html-only reply: %+v %v", m3, err)
		}
	})
}

func TestReplyRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")
		_, err := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "  "})
		wantCode(t, err, "empty_message")
		_, err = f.svc.Reply(f.ctx, f.outsider, c.ID, inbox.ReplyInput{Text: "hi"})
		wantCode(t, err, "conversation_not_found")
		_, err = f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "hi", Attachments: json.RawMessage(`{"a":1}`)})
		wantCode(t, err, "invalid_attachments")

		f.sender.check = problem.Conflictf("attachments_not_supported", "no attachments here")
		_, err = f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "hi"})
		wantCode(t, err, "attachments_not_supported")
		f.sender.check = errors.New("outgoing messages are off")
		_, err = f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "hi"})
		wantCode(t, err, "channel_cannot_send")
		f.sender.check = nil

		delete(f.svc.Senders, testKind)
		_, err = f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "hi"})
		wantCode(t, err, "channel_cannot_send")
		msgs, _ := s.Messages(f.ctx, c.ID)
		if len(msgs) != 1 {
			t.Fatalf("refused replies were stored: %d messages", len(msgs))
		}
	})
}

func TestDeliver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t", "hi")

		// Success: sent with the provider's id, handed the right context.
		m, err := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "one"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.deliverNext(); err != nil {
			t.Fatal(err)
		}
		got := f.message(m.ID)
		if got.Status != "sent" || got.ExternalID == nil || !strings.HasPrefix(*got.ExternalID, "ext-") {
			t.Fatalf("delivered = %+v", got)
		}
		out := f.sender.sent[0]
		if out.Contact == nil || out.Contact.ID != *c.ContactID || out.Author == nil || out.Author.ID != f.agent.ID ||
			out.Channel.ID != f.chSup.ID || out.Conversation.ID != c.ID || out.Message.Text != "one" {
			t.Fatalf("outbound = %+v", out)
		}
		// Running the same job again (at-least-once) does not send twice.
		job := &store.Job{ID: 1, Payload: json.RawMessage(`{"message_id":` + itoa(m.ID) + `}`), Attempts: 2, MaxAttempts: 12}
		if err := f.svc.Deliver(f.ctx, job); err != nil || f.sender.calls() != 1 {
			t.Fatalf("redelivery: err=%v calls=%d", err, f.sender.calls())
		}

		// A transient failure keeps the message queued with the reason, then succeeds.
		m2, _ := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "two"})
		f.sender.next = []error{errTransient}
		if err := f.deliverNext(); err == nil || channel.IsPermanent(err) {
			t.Fatalf("transient failure returned %v", err)
		}
		if got := f.message(m2.ID); got.Status != "queued" || !strings.Contains(got.FailureReason, "retrying: provider timed out") {
			t.Fatalf("after transient failure = %+v", got)
		}
		if err := f.deliverNext(); err != nil {
			t.Fatal(err)
		}
		if got := f.message(m2.ID); got.Status != "sent" || got.FailureReason != "" {
			t.Fatalf("after retry = %+v", got)
		}

		// A permanent failure fails the message and stops the job.
		m3, _ := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "three"})
		f.sender.next = []error{channel.Permanent(errors.New("recipient unknown"))}
		if err := f.deliverNext(); !channel.IsPermanent(err) {
			t.Fatalf("permanent failure returned %v", err)
		}
		if got := f.message(m3.ID); got.Status != "failed" || got.FailureReason != "recipient unknown" {
			t.Fatalf("after permanent failure = %+v", got)
		}

		// The last attempt's transient failure is final too.
		m4, _ := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "four"})
		f.sender.next = []error{errTransient}
		j := f.claim()
		j.Attempts = j.MaxAttempts
		err = f.svc.Deliver(f.ctx, j)
		f.finish(j, err)
		if !channel.IsPermanent(err) {
			t.Fatalf("last attempt returned %v", err)
		}
		if got := f.message(m4.ID); got.Status != "failed" || got.FailureReason != "provider timed out" {
			t.Fatalf("after last attempt = %+v", got)
		}

		// A channel kind without a Sender fails permanently.
		m5, _ := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "five"})
		delete(f.svc.Senders, testKind)
		if err := f.deliverNext(); !channel.IsPermanent(err) {
			t.Fatalf("no sender returned %v", err)
		}
		if got := f.message(m5.ID); got.Status != "failed" {
			t.Fatalf("no sender = %+v", got)
		}
		if n := f.sender.calls(); n != 5 {
			t.Fatalf("sender called %d times, want 5", n)
		}
	})
}

func TestUpdateMessageStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		in, c := f.receive("t", "hi")
		m, _ := f.svc.Reply(f.ctx, f.agent, c.ID, inbox.ReplyInput{Text: "one"})
		steps := []struct{ status, reason, want, wantReason string }{
			{"delivered", "", "delivered", ""},
			{"sent", "", "delivered", ""}, // late report: ignored
			{"read", "", "read", ""},
			{"failed", "bounced", "failed", "bounced"},
			{"sent", "", "sent", ""}, // the integration retried it
		}
		for _, st := range steps {
			if err := f.svc.UpdateMessageStatus(f.ctx, m.ID, st.status, st.reason); err != nil {
				t.Fatal(err)
			}
			if got := f.message(m.ID); got.Status != st.want || got.FailureReason != st.wantReason {
				t.Fatalf("after %s: %s %q, want %s", st.status, got.Status, got.FailureReason, st.want)
			}
		}
		wantCode(t, f.svc.UpdateMessageStatus(f.ctx, m.ID, "lost", ""), "invalid_status")
		wantCode(t, f.svc.UpdateMessageStatus(f.ctx, 99999, "sent", ""), "message_not_found")
		wantCode(t, f.svc.UpdateMessageStatus(f.ctx, in.ID, "read", ""), "message_not_outbound")
		// Deliver does not resend a message the integration already reported.
		if err := f.deliverNext(); err != nil || f.sender.calls() != 0 {
			t.Fatalf("deliver after status report: %v, %d calls", err, f.sender.calls())
		}
		// The idempotency lookup finds inbound messages by key.
		_, c2 := f.receive("t", "keyed", func(in *inbox.Inbound) { in.IdempotencyKey = "key-9" })
		got, err := s.MessageByIdempotencyKey(f.ctx, f.chSup.ID, "key-9")
		if err != nil || got.ConversationID != c2.ID || got.Text != "keyed" {
			t.Fatalf("by key: %+v %v", got, err)
		}
		if _, err := s.MessageByIdempotencyKey(f.ctx, f.chSup.ID, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
	})
}
