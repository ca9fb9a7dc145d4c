package ui

import (
	"context"
	"net/url"
	"testing"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// noMail is a chat Mailer that sends nothing: the transcript is only queued here.
type noMail struct{}

func (noMail) Send(context.Context, *channel.Outbound) (string, error) { return "", nil }
func (noMail) SendNotice(context.Context, *store.Channel, string, string, string, string) error {
	return nil
}

// A chat's header offers "Send transcript"; sending queues the transcript job, to the address
// typed or the visitor's, and an agent outside the inbox cannot.
func TestSendTranscript(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		svc := withChat(t, h)
		svc.Email = noMail{}
		v := h.chatChannel(t, svc)
		visitor := &store.ChatVisitor{ChannelID: v.Channel.ID, TokenHash: "t-" + itoa(h.seq.Add(1))}
		if err := s.InTx(t.Context(), func(tx *store.Tx) error { return tx.InsertChatVisitor(t.Context(), visitor) }); err != nil {
			t.Fatal(err)
		}
		_, conv, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{ChannelID: v.Channel.ID, ThreadKey: visitor.ThreadKey(),
			Text: "Hello from the site", ContactIdentities: []store.Identity{{Kind: "chat_visitor", Value: itoa(visitor.ID)}}})
		if err != nil {
			t.Fatal(err)
		}
		ag := h.signIn(t, h.agent)
		header := ag.get(t, "/conversations/"+itoa(conv.ID)+"/header", 200)
		mustContain(t, header, `id="transcript-button"`, `id="transcript-dialog"`, "Send transcript", `name="to"`)
		// Other channels' conversations have no transcript action.
		_, other := h.receive(t, "t-other", "Grace Hopper", "Hi")
		mustNotContain(t, ag.get(t, "/conversations/"+itoa(other.ID)+"/header", 200), `id="transcript-button"`)

		// The visitor left no address: one must be typed.
		ag.post(t, "/conversations/"+itoa(conv.ID)+"/transcript", url.Values{"to": {""}}, 400)
		ag.post(t, "/conversations/"+itoa(conv.ID)+"/transcript", url.Values{"to": {"grace@example.com"}}, 303)
		jobs, err := s.Jobs(t.Context(), "", chat.TranscriptJob, 0, 10)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("transcript jobs %v %v", jobs, err)
		}
		h.signIn(t, h.outside).post(t, "/conversations/"+itoa(conv.ID)+"/transcript", url.Values{"to": {"x@example.com"}}, 404)
		if jobs, _ := s.Jobs(t.Context(), "", chat.TranscriptJob, 0, 10); len(jobs) != 1 {
			t.Fatalf("an outsider queued a transcript: %d jobs", len(jobs))
		}
	})
}
