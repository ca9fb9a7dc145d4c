package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestEmailMessageIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var mail, other store.Channel
		var c1, c2 *store.Conversation
		var msg store.Message
		err := s.InTx(ctx, func(tx *store.Tx) error {
			in := &store.Inbox{Name: "Support", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			mail = store.Channel{InboxID: in.ID, Kind: "email", Name: "support@example.com", Authorized: true}
			other = store.Channel{InboxID: in.ID, Kind: "email", Name: "sales@example.com", Authorized: true}
			for _, ch := range []*store.Channel{&mail, &other} {
				if _, err := tx.InsertChannel(ctx, ch); err != nil {
					return err
				}
			}
			ada := &store.Contact{Name: "Ada"}
			if err := tx.InsertContact(ctx, ada); err != nil {
				return err
			}
			if _, err := tx.AddContactIdentity(ctx, ada.ID, store.Identity{Kind: "email", Value: "ada@example.org"}); err != nil {
				return err
			}
			for _, cp := range []**store.Conversation{&c1, &c2} {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				*cp = &store.Conversation{Number: n, InboxID: in.ID, ChannelID: &mail.ID, ContactID: &ada.ID}
				if err := tx.InsertConversation(ctx, *cp); err != nil {
					return err
				}
			}
			msg = store.Message{ConversationID: c1.ID, ChannelID: &mail.ID, Direction: "inbound", Text: "hi", Status: "received"}
			return tx.InsertMessage(ctx, &msg)
		})
		if err != nil {
			t.Fatal(err)
		}

		record := func(m store.EmailMessageID) bool {
			t.Helper()
			var rec bool
			if err := s.InTx(ctx, func(tx *store.Tx) (err error) {
				rec, err = tx.RecordEmailMessageID(ctx, &m)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return rec
		}
		if !record(store.EmailMessageID{ChannelID: mail.ID, MessageID: "root@mail.example.org", ConversationID: c1.ID, MessageRowID: msg.ID, Direction: "inbound", Sender: " Bea@Example.ORG "}) {
			t.Fatal("first record not stored")
		}
		// Idempotent: the same id again, even claimed by another conversation, changes nothing.
		if record(store.EmailMessageID{ChannelID: mail.ID, MessageID: "root@mail.example.org", ConversationID: c2.ID, Direction: "inbound"}) {
			t.Fatal("second record of the same id stored")
		}
		record(store.EmailMessageID{ChannelID: mail.ID, MessageID: "parley.c1.m2@parley.example", ConversationID: c1.ID, Direction: "outbound"})
		record(store.EmailMessageID{ChannelID: mail.ID, MessageID: "other@x", ConversationID: c2.ID, Direction: "inbound"})
		// The same id on another channel is another record.
		if !record(store.EmailMessageID{ChannelID: other.ID, MessageID: "root@mail.example.org", ConversationID: c2.ID, Direction: "outbound"}) {
			t.Fatal("same id on another channel not stored")
		}

		got, err := s.EmailConversationsByMessageIDs(ctx, mail.ID, []string{"unknown@x", "root@mail.example.org", "other@x", "parley.c1.m2@parley.example"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"root@mail.example.org": c1.ID, "other@x": c2.ID, "parley.c1.m2@parley.example": c1.ID}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("lookup = %v, want %v", got, want)
		}
		if got, err := s.EmailConversationsByMessageIDs(ctx, other.ID, []string{"root@mail.example.org", "other@x"}); err != nil || len(got) != 1 || got["root@mail.example.org"] != c2.ID {
			t.Fatalf("other channel lookup = %v %v", got, err)
		}
		if got, err := s.EmailConversationsByMessageIDs(ctx, mail.ID, nil); err != nil || len(got) != 0 {
			t.Fatalf("empty lookup = %v %v", got, err)
		}
		// More ids than one IN list holds.
		many := make([]string, 1200)
		for i := range many {
			many[i] = fmt.Sprintf("id%d@x", i)
		}
		many[1100] = "other@x"
		if got, err := s.EmailConversationsByMessageIDs(ctx, mail.ID, many); err != nil || len(got) != 1 || got["other@x"] != c2.ID {
			t.Fatalf("chunked lookup = %v %v", got, err)
		}

		list, err := s.EmailMessageIDs(ctx, c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].MessageID != "root@mail.example.org" || list[0].MessageRowID != msg.ID || list[0].Sender != "bea@example.org" || list[1].MessageRowID != 0 || list[1].Direction != "outbound" {
			t.Fatalf("conversation ids = %+v", list)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetEmailMessageRow(ctx, mail.ID, "parley.c1.m2@parley.example", msg.ID); err != nil {
				return err
			}
			if err := tx.SetEmailMessageRow(ctx, mail.ID, "nope@x", msg.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("set row of unknown id: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if list, _ := s.EmailMessageIDs(ctx, c1.ID); list[1].MessageRowID != msg.ID {
			t.Fatalf("row not set: %+v", list[1])
		}

		// Participants: the contact's email identity, and inbound senders recorded in it.
		for _, tc := range []struct {
			conv int64
			addr string
			want bool
		}{
			{c1.ID, "ada@example.org", true},
			{c1.ID, "ADA@example.org", true},
			{c1.ID, "bea@example.org", true},
			{c2.ID, "bea@example.org", false},
			{c2.ID, "ada@example.org", true},
			{c1.ID, "mallory@example.net", false},
			{c1.ID, "", false},
			{99999, "ada@example.org", false},
		} {
			if got, err := s.EmailParticipant(ctx, tc.conv, tc.addr); err != nil || got != tc.want {
				t.Errorf("participant(%d, %q) = %v %v, want %v", tc.conv, tc.addr, got, err, tc.want)
			}
		}

		if id, ok, err := s.EmailConversationByNumber(ctx, c2.Number); err != nil || !ok || id != c2.ID {
			t.Fatalf("by number = %d %v %v", id, ok, err)
		}
		if _, ok, err := s.EmailConversationByNumber(ctx, 1); err != nil || ok {
			t.Fatalf("unknown number = %v %v", ok, err)
		}
		if ok, err := s.EmailConversationExists(ctx, c1.ID); err != nil || !ok {
			t.Fatalf("exists = %v %v", ok, err)
		}
		if ok, err := s.EmailConversationExists(ctx, 99999); err != nil || ok {
			t.Fatalf("missing exists = %v %v", ok, err)
		}
	})
}
