package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestBotsVersionsRunsAndTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var admin *store.User
		in := &store.Inbox{Name: "Web", Access: "everyone"}
		other := &store.Inbox{Name: "Elsewhere", Access: "everyone"}
		b := &store.Bot{Name: "Greeter", Definition: json.RawMessage(`{"schema":1,"steps":[{"id":"a"}]}`)}
		convs := make([]*store.Conversation, 4)
		contact := &store.Contact{Name: "Ada"}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			admin = &store.User{Email: "bot-admin@example.com", Name: "Admin", Role: "admin", Locale: "en", TimeZone: "UTC"}
			if err := tx.CreateUser(ctx, admin); err != nil {
				return err
			}
			for _, i := range []*store.Inbox{in, other} {
				if err := tx.CreateInbox(ctx, i); err != nil {
					return err
				}
			}
			if err := tx.InsertContact(ctx, contact); err != nil {
				return err
			}
			b.VersionCreatedBy = &admin.ID
			if err := tx.InsertBot(ctx, b); err != nil {
				return err
			}
			for i := range convs {
				inbox := in.ID
				if i == 3 {
					inbox = other.ID
				}
				c := &store.Conversation{Number: int64(100 + i), InboxID: inbox, ThreadKey: "visitor:x",
					LastActivityAt: int64(1000 + i), ContactID: &contact.ID}
				if i == 2 {
					c.Status = "closed"
				}
				if err := tx.InsertConversation(ctx, c); err != nil {
					return err
				}
				convs[i] = c
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.ID == 0 || b.Version != 1 || len(b.WebhookSecret) < 40 {
			t.Fatalf("inserted bot: %+v", b)
		}

		// Saving writes new versions; the old ones stay readable.
		var v2, v3 int64
		err = s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if v2, err = tx.SaveBotVersion(ctx, b.ID, json.RawMessage(`{"schema":1,"steps":[{"id":"b"}]}`), nil); err != nil {
				return err
			}
			if v3, err = tx.SaveBotVersion(ctx, b.ID, json.RawMessage(`{"schema":1,"steps":[{"id":"c"}]}`), &admin.ID); err != nil {
				return err
			}
			return tx.RenameBot(ctx, b.ID, "Front desk")
		})
		if err != nil || v2 != 2 || v3 != 3 {
			t.Fatalf("save versions: %d %d %v", v2, v3, err)
		}
		got, err := s.Bot(ctx, b.ID)
		if err != nil || got.Version != 3 || got.Name != "Front desk" || !jsonEq(got.Definition, `{"schema":1,"steps":[{"id":"c"}]}`) ||
			got.VersionCreatedBy == nil || *got.VersionCreatedBy != admin.ID {
			t.Fatalf("current bot: %+v %v", got, err)
		}
		old, err := s.BotVersion(ctx, b.ID, 1)
		if err != nil || old.Version != 1 || !jsonEq(old.Definition, `{"schema":1,"steps":[{"id":"a"}]}`) {
			t.Fatalf("version 1: %+v %v", old, err)
		}
		if v, err := s.BotVersion(ctx, b.ID, 2); err != nil || v.VersionCreatedBy != nil {
			t.Fatalf("version 2 by nobody: %+v %v", v, err)
		}
		if _, err := s.BotVersion(ctx, b.ID, 4); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing version: %v", err)
		}
		versions, err := s.BotVersions(ctx, b.ID)
		if err != nil || len(versions) != 3 || versions[0].Version != 3 || versions[2].Version != 1 {
			t.Fatalf("versions: %+v %v", versions, err)
		}
		list, err := s.Bots(ctx)
		if err != nil || len(list) != 1 || list[0].ID != b.ID || list[0].Version != 3 {
			t.Fatalf("bots: %+v %v", list, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SaveBotVersion(ctx, b.ID+100, json.RawMessage(`{}`), nil)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("save unknown bot: %v", err)
		}

		// Runs: the Bots view lists open conversations whose run is active, in the given inboxes.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for i, c := range convs {
				r := &store.BotRun{ConversationID: c.ID, BotID: b.ID, Version: 3, FlowID: 7,
					State: json.RawMessage(`{"version":3,"step":"q","awaiting":"answer","language":"en"}`), Status: store.BotRunActive}
				if i == 1 {
					r.Status = store.BotRunEnded
				}
				if err := tx.UpsertBotRun(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		view, err := s.BotConversations(ctx, nil, 10)
		if err != nil || len(view) != 2 || view[0].Conversation.ID != convs[3].ID || view[1].Conversation.ID != convs[0].ID ||
			view[1].BotName != "Front desk" || view[1].Run.FlowID != 7 || view[1].Run.Status != store.BotRunActive {
			t.Fatalf("bots view: %+v %v", view, err)
		}
		if view, err = s.BotConversations(ctx, []int64{in.ID}, 10); err != nil || len(view) != 1 || view[0].Conversation.ID != convs[0].ID {
			t.Fatalf("bots view of one inbox: %+v %v", view, err)
		}
		if view, err = s.BotConversations(ctx, []int64{}, 10); err != nil || len(view) != 0 {
			t.Fatalf("bots view of no inbox: %+v %v", view, err)
		}

		// The run is replaced on a new start, and moves status only from the expected one.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.BotRun(ctx, convs[0].ID)
			if err != nil {
				return err
			}
			r.State = json.RawMessage(`{"version":3,"step":"end","ended":true,"language":"en"}`)
			r.Status = store.BotRunEnded
			if err := tx.UpsertBotRun(ctx, r); err != nil {
				return err
			}
			if active, err := tx.BotActive(ctx, convs[0].ID); err != nil || active {
				t.Errorf("ended run active: %v %v", active, err)
			}
			if ok, err := tx.SetBotRunStatus(ctx, convs[3].ID, store.BotRunActive, store.BotRunHandedOff); err != nil || !ok {
				t.Errorf("hand off: %v %v", ok, err)
			}
			if ok, err := tx.SetBotRunStatus(ctx, convs[3].ID, store.BotRunActive, store.BotRunHandedOff); err != nil || ok {
				t.Errorf("second hand off: %v %v", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		run, err := s.BotRun(ctx, convs[0].ID)
		if err != nil || run.Status != store.BotRunEnded || !jsonEq(run.State, `{"version":3,"step":"end","ended":true,"language":"en"}`) {
			t.Fatalf("run: %+v %v", run, err)
		}
		if _, err := s.BotRun(ctx, convs[0].ID+1000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no run: %v", err)
		}
		if view, err = s.BotConversations(ctx, nil, 10); err != nil || len(view) != 0 {
			t.Fatalf("bots view after hand-off: %+v %v", view, err)
		}

		// Tickets link to their conversation.
		tk := &store.Ticket{Name: "Refund", Description: "Order 12", Priority: "high", ContactID: &contact.ID,
			Source: "bot", ConversationID: &convs[0].ID}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertTicket(ctx, tk) }); err != nil || tk.ID == 0 {
			t.Fatalf("insert ticket: %+v %v", tk, err)
		}
		tickets, err := s.ConversationTickets(ctx, convs[0].ID)
		if err != nil || len(tickets) != 1 || tickets[0].Name != "Refund" || tickets[0].Priority != "high" ||
			tickets[0].Source != "bot" || tickets[0].ContactID == nil || *tickets[0].ContactID != contact.ID {
			t.Fatalf("tickets: %+v %v", tickets, err)
		}

		// Deleting a bot takes its versions and runs with it.
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteBot(ctx, b.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Bot(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted bot: %v", err)
		}
		if _, err := s.BotRun(ctx, convs[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("run of deleted bot: %v", err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteBot(ctx, b.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// jsonEq compares JSON ignoring formatting: PostgreSQL's jsonb does not keep it.
func jsonEq(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
