package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestAdminSettingsReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ann, bob *store.User
		var chA, chB *store.CustomChannel
		var accA, accB store.Channel
		var msgA, msgB store.Message
		err := s.InTx(ctx, func(tx *store.Tx) error {
			ann = &store.User{Email: "ann@example.com", Name: "Ann", Role: "admin", Locale: "en", TimeZone: "UTC"}
			bob = &store.User{Email: "bob@example.com", Name: "Bob", Role: "agent", Locale: "en", TimeZone: "UTC"}
			for _, u := range []*store.User{ann, bob} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			if err := tx.SetAvailabilityStatus(ctx, bob.ID, "away", &ann.ID, 1000); err != nil {
				return err
			}
			for i, name := range []string{"one", "two", "three"} {
				uid := ann.ID
				if i == 2 {
					uid = bob.ID
				}
				if err := tx.CreateAPIToken(ctx, &store.APIToken{UserID: uid, Name: name, Prefix: "pt_" + name}, "hash-"+name); err != nil {
					return err
				}
			}
			in := &store.Inbox{Name: "Support", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			caps := json.RawMessage(`{"deliveryIdentifierTypes":["CHANNEL_SPECIFIC_OPAQUE_ID"]}`)
			chA, chB = &store.CustomChannel{Name: "A", Capabilities: caps}, &store.CustomChannel{Name: "B", Capabilities: caps}
			for _, c := range []*store.CustomChannel{chA, chB} {
				if err := tx.InsertCustomChannel(ctx, c); err != nil {
					return err
				}
			}
			accA = store.Channel{InboxID: in.ID, Kind: "custom", Name: "a", CustomChannelID: &chA.ID, Authorized: true}
			accB = store.Channel{InboxID: in.ID, Kind: "custom", Name: "b", CustomChannelID: &chB.ID, Authorized: true}
			for _, a := range []*store.Channel{&accA, &accB} {
				if _, err := tx.InsertChannel(ctx, a); err != nil {
					return err
				}
			}
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			conv := &store.Conversation{Number: n, InboxID: in.ID, ChannelID: &accA.ID}
			if err := tx.InsertConversation(ctx, conv); err != nil {
				return err
			}
			msgA = store.Message{ConversationID: conv.ID, ChannelID: &accA.ID, Direction: "outbound", Text: "hi", Status: "queued"}
			msgB = store.Message{ConversationID: conv.ID, ChannelID: &accB.ID, Direction: "outbound", Text: "ho", Status: "queued"}
			for _, m := range []*store.Message{&msgA, &msgB} {
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		av, err := s.Availabilities(ctx, []int64{ann.ID, bob.ID})
		if err != nil {
			t.Fatal(err)
		}
		if av[ann.ID].Status != "available" || av[bob.ID].Status != "away" || *av[bob.ID].SetBy != ann.ID {
			t.Fatalf("availabilities: ann %+v bob %+v", av[ann.ID], av[bob.ID])
		}

		tokens, err := s.AllAPITokens(ctx, 2)
		if err != nil || len(tokens) != 2 || tokens[0].Name != "three" || tokens[0].UserID != bob.ID {
			t.Fatalf("all tokens, newest first, limited: %+v %v", tokens, err)
		}

		var ids []int64
		for _, j := range []store.NewJob{
			{Kind: "message.deliver", Payload: map[string]int64{"message_id": msgA.ID}},
			{Kind: "message.deliver", Payload: map[string]int64{"message_id": msgB.ID}},
			{Kind: "custom.account_event", Payload: map[string]any{"type": "CHANNEL_ACCOUNT_CREATED", "channel_id": chA.ID, "account_id": accA.ID}},
			{Kind: "custom.account_event", Payload: map[string]any{"type": "CHANNEL_ACCOUNT_CREATED", "channel_id": chB.ID, "account_id": accB.ID}},
			{Kind: "other", Payload: map[string]int64{"message_id": msgA.ID, "channel_id": chA.ID}},
		} {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				id, err := tx.EnqueueJob(ctx, j)
				ids = append(ids, id)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		jobs, err := s.CustomChannelJobs(ctx, chA.ID, "message.deliver", "custom.account_event", 0, 10)
		if err != nil || len(jobs) != 2 || jobs[0].ID != ids[2] || jobs[1].ID != ids[0] {
			t.Fatalf("channel A's jobs: %+v %v", jobs, err)
		}
		page, err := s.CustomChannelJobs(ctx, chA.ID, "message.deliver", "custom.account_event", ids[2], 10)
		if err != nil || len(page) != 1 || page[0].ID != ids[0] {
			t.Fatalf("next page: %+v %v", page, err)
		}
		jobs, err = s.CustomChannelJobs(ctx, chB.ID, "message.deliver", "custom.account_event", 0, 1)
		if err != nil || len(jobs) != 1 || jobs[0].ID != ids[3] {
			t.Fatalf("channel B's newest job: %+v %v", jobs, err)
		}
	})
}
