package chat

import (
	"encoding/json"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// A run that ends outside a message's transaction (an agent taking over or replying, a visitor
// coming back to a closed chat) emits conversation.updated in the transaction that ends it, so
// that the inbox's left pane and lists move the conversation from Bots to Unassigned at once.
// Nothing is emitted when no run was active.
func TestEndingARunEmitsConversationUpdated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		svc := &Service{Store: s}
		agent := &store.User{Email: "ada@parley.example", Name: "Ada", Role: "admin"}
		var convs [3]int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, agent); err != nil {
				return err
			}
			in := &store.Inbox{Name: "Website", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			b := &store.Bot{Name: "Greeter", Definition: json.RawMessage(`{"schema":1,"version":1,"steps":[]}`)}
			if err := tx.InsertBot(ctx, b); err != nil {
				return err
			}
			for i := range convs {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				c := &store.Conversation{InboxID: in.ID, Number: n}
				if err := tx.InsertConversation(ctx, c); err != nil {
					return err
				}
				convs[i] = c.ID
				if err := tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: c.ID, BotID: b.ID, Version: 1, FlowID: 1,
					State: json.RawMessage(`{}`), Status: store.BotRunActive}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var seen int64
		updated := func() []int64 {
			t.Helper()
			if err := s.SequenceAllEvents(ctx); err != nil {
				t.Fatal(err)
			}
			evs, err := s.EventsAfter(ctx, seen, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, e := range evs {
				seen = e.Seq
				if e.Type == "conversation.updated" && e.ConversationID != nil {
					ids = append(ids, *e.ConversationID)
				}
			}
			return ids
		}
		updated()

		if err := svc.TakeOver(ctx, agent, convs[0]); err != nil {
			t.Fatal(err)
		}
		if got := updated(); len(got) != 1 || got[0] != convs[0] {
			t.Errorf("take over: conversation.updated for %v, want [%d]", got, convs[0])
		}
		if err := svc.endRun(ctx, convs[1], store.BotRunHandedOff, &agent.ID, "bot_taken_over", map[string]any{"reason": "replied"}); err != nil {
			t.Fatal(err)
		}
		if got := updated(); len(got) != 1 || got[0] != convs[1] {
			t.Errorf("end run: conversation.updated for %v, want [%d]", got, convs[1])
		}
		// Again: the run is no longer active, nothing changes hands, nothing is said.
		if err := svc.endRun(ctx, convs[1], store.BotRunEnded, nil, "bot_ended", map[string]any{}); err != nil {
			t.Fatal(err)
		}
		if got := updated(); len(got) != 0 {
			t.Errorf("ending an ended run emitted conversation.updated for %v", got)
		}
		if err := svc.TakeOver(ctx, agent, convs[1]); err == nil {
			t.Error("took over a conversation no bot has")
		}
		if got := updated(); len(got) != 0 {
			t.Errorf("a refused take-over emitted conversation.updated for %v", got)
		}
		if run, err := s.BotRun(ctx, convs[2]); err != nil || run.Status != store.BotRunActive {
			t.Errorf("the third run: %+v, %v", run, err)
		}
	})
}
