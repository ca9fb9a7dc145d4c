package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestSlackSettingsThreadsAndMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var in, other store.Inbox
		var conv store.Conversation
		var msgs [3]store.Message
		agent := &store.User{Email: "ada@example.com", Name: "Ada", Role: "agent", Locale: "en", TimeZone: "UTC"}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			in, other = store.Inbox{Name: "Website", Access: "everyone"}, store.Inbox{Name: "Sales", Access: "everyone"}
			for _, i := range []*store.Inbox{&in, &other} {
				if err := tx.CreateInbox(ctx, i); err != nil {
					return err
				}
			}
			if err := tx.CreateUser(ctx, agent); err != nil {
				return err
			}
			ch := &store.Channel{InboxID: in.ID, Kind: "chat", Name: "Chat", Authorized: true}
			if _, err := tx.InsertChannel(ctx, ch); err != nil {
				return err
			}
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			conv = store.Conversation{Number: n, InboxID: in.ID, ChannelID: &ch.ID, ThreadKey: "visitor:1"}
			if err := tx.InsertConversation(ctx, &conv); err != nil {
				return err
			}
			for i, text := range []string{"hello", "Thanks!", "Thanks!"} {
				msgs[i] = store.Message{ConversationID: conv.ID, ChannelID: &ch.ID, Direction: "outbound", AuthorID: &agent.ID,
					Text: text, Status: "queued", CreatedAt: store.Now(), UpdatedAt: store.Now()}
				if i == 0 {
					msgs[i].Direction, msgs[i].AuthorID, msgs[i].Status = "inbound", nil, "received"
				}
				if err := tx.InsertMessage(ctx, &msgs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// Settings: none, then saved, then replaced; the token's identity only for that token.
		if _, err := s.SlackSettings(ctx, in.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no settings: %v", err)
		}
		c := &store.SlackSettings{InboxID: in.ID, BotToken: "xoxb-1", SigningSecret: "abc", ChannelID: "C1"}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.SaveSlackSettings(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SlackSettings(ctx, in.ID); err != nil || got.Enabled || got.Ready() || got.BotToken != "xoxb-1" {
			t.Fatalf("saved: %+v %v", got, err)
		}
		if all, err := s.AllSlackSettings(ctx); err != nil || len(all) != 1 {
			t.Fatalf("all with a secret: %d %v", len(all), err)
		}
		if on, err := s.EnabledSlackSettings(ctx); err != nil || len(on) != 0 {
			t.Fatalf("enabled while off: %d %v", len(on), err)
		}
		c.Enabled = true
		second := &store.SlackSettings{InboxID: other.ID, Enabled: true, BotToken: "xoxb-2", SigningSecret: "abc", ChannelID: "C1"}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SaveSlackSettings(ctx, c); err != nil {
				return err
			}
			return tx.SaveSlackSettings(ctx, second)
		}); err != nil {
			t.Fatal(err)
		}
		if list, err := s.SlackSettingsByChannel(ctx, "C1"); err != nil || len(list) != 2 || !list[0].Ready() {
			t.Fatalf("by channel: %+v %v", list, err)
		}
		if list, err := s.SlackSettingsByChannel(ctx, "C2"); err != nil || len(list) != 0 {
			t.Fatalf("other channel: %+v %v", list, err)
		}
		if err := s.SetSlackIdentity(ctx, in.ID, "xoxb-old", "T9", "U9"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSlackIdentity(ctx, in.ID, "xoxb-1", "T1", "UBOT"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.SlackSettings(ctx, in.ID); got.TeamID != "T1" || got.BotUserID != "UBOT" {
			t.Fatalf("identity: %+v", got)
		}

		// Threads, found both ways; a new parent replaces the old one.
		th := &store.SlackThread{ConversationID: conv.ID, InboxID: in.ID, ChannelID: "C1", TS: "1.1"}
		if err := s.SaveSlackThread(ctx, th); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SlackThreadByTS(ctx, "C1", "1.1"); err != nil || got.ConversationID != conv.ID {
			t.Fatalf("by ts: %+v %v", got, err)
		}
		if err := s.SaveSlackThread(ctx, &store.SlackThread{ConversationID: conv.ID, InboxID: in.ID, ChannelID: "C2", TS: "2.2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SlackThreadByTS(ctx, "C1", "1.1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old parent: %v", err)
		}
		if got, err := s.SlackThread(ctx, conv.ID); err != nil || got.TS != "2.2" {
			t.Fatalf("thread: %+v %v", got, err)
		}

		// Message links: the first one stays.
		if err := s.InsertSlackMessage(ctx, &store.SlackMessage{MessageID: msgs[0].ID, ConversationID: conv.ID, TS: "2.3", Origin: store.SlackFromParley}); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertSlackMessage(ctx, &store.SlackMessage{MessageID: msgs[0].ID, ConversationID: conv.ID, TS: "9.9", Origin: store.SlackFromParley}); err != nil {
			t.Fatal(err)
		}
		if m, err := s.SlackMessage(ctx, msgs[0].ID); err != nil || m.TS != "2.3" {
			t.Fatalf("link: %+v %v", m, err)
		}
		if _, err := s.SlackMessage(ctx, msgs[1].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unlinked: %v", err)
		}

		// Events: recorded once; pending while replying; an earlier attempt's reply is found.
		record := func(id string) bool {
			var ok bool
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = tx.InsertSlackEvent(ctx, &store.SlackEvent{InboxID: in.ID, EventID: id, ConversationID: conv.ID})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !record("Ev1") || record("Ev1") {
			t.Fatal("an event must be recorded exactly once")
		}
		since := msgs[1].CreatedAt - 1
		if p, err := s.SlackReplyPending(ctx, conv.ID, agent.ID, since); err != nil || p {
			t.Fatalf("pending before replying: %v %v", p, err)
		}
		if err := s.MarkSlackEventReplying(ctx, in.ID, "Ev1", agent.ID, since); err != nil {
			t.Fatal(err)
		}
		if p, err := s.SlackReplyPending(ctx, conv.ID, agent.ID, since); err != nil || !p {
			t.Fatalf("pending while replying: %v %v", p, err)
		}
		if p, _ := s.SlackReplyPending(ctx, conv.ID, agent.ID, since+60_000); p {
			t.Fatal("a reply started long ago is no longer waited for")
		}
		replies, err := s.UnlinkedSlackReplies(ctx, conv.ID, agent.ID, since)
		if err != nil || len(replies) != 2 || replies[0].ID != msgs[1].ID {
			t.Fatalf("unlinked replies: %d %v", len(replies), err)
		}
		if err := s.FinishSlackEvent(ctx, in.ID, "Ev1", &store.SlackMessage{MessageID: msgs[1].ID, ConversationID: conv.ID,
			TS: "3.3", Origin: store.SlackFromSlack}); err != nil {
			t.Fatal(err)
		}
		ev, err := s.SlackEvent(ctx, in.ID, "Ev1")
		if err != nil || ev.DoneAt == nil || ev.MessageID == nil || *ev.MessageID != msgs[1].ID || ev.UserID == nil {
			t.Fatalf("event: %+v %v", ev, err)
		}
		if p, _ := s.SlackReplyPending(ctx, conv.ID, agent.ID, since); p {
			t.Fatal("pending after done")
		}
		if m, err := s.SlackMessage(ctx, msgs[1].ID); err != nil || m.Origin != store.SlackFromSlack {
			t.Fatalf("reply link: %+v %v", m, err)
		}
		if replies, _ := s.UnlinkedSlackReplies(ctx, conv.ID, agent.ID, since); len(replies) != 1 || replies[0].ID != msgs[2].ID {
			t.Fatalf("unlinked after linking: %+v", replies)
		}
		if err := s.MarkSlackEventReplying(ctx, in.ID, "Ev1", agent.ID, since); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a done event cannot be replied to again: %v", err)
		}
		if err := s.FinishSlackEvent(ctx, in.ID, "Ev404", nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown event: %v", err)
		}
		if n, err := s.DeleteSlackEventsBefore(ctx, store.Now()+1); err != nil || n != 1 {
			t.Fatalf("forget: %d %v", n, err)
		}
		if !record("Ev1") {
			t.Fatal("a forgotten event is new again")
		}

		// The mirror's cursor: a compare-and-set.
		cur, err := s.SlackMirrorCursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AdvanceSlackMirrorCursor(ctx, cur, cur+5) }); err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.AdvanceSlackMirrorCursor(ctx, cur, cur+7) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale cursor: %v", err)
		}
		if got, _ := s.SlackMirrorCursor(ctx); got != cur+5 {
			t.Fatalf("cursor %d, want %d", got, cur+5)
		}
	})
}
