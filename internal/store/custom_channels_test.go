package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestCustomChannelsAndAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := &store.Inbox{Name: "Support", Access: "everyone"}
		var channels []*store.CustomChannel
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			for _, name := range []string{"Telegram", "Signal", "Line"} {
				c := &store.CustomChannel{Name: name, Capabilities: json.RawMessage(`{"deliveryIdentifierTypes":["CHANNEL_SPECIFIC_OPAQUE_ID"]}`)}
				if err := tx.InsertCustomChannel(ctx, c); err != nil {
					return err
				}
				channels = append(channels, c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tg := channels[0]
		if tg.ID == 0 || len(tg.Secret) < 40 || tg.Secret == channels[1].Secret {
			t.Fatalf("secrets must be random and long: %q %q", tg.Secret, channels[1].Secret)
		}
		got, err := s.CustomChannel(ctx, tg.ID)
		if err != nil || got.Name != "Telegram" || got.Secret != tg.Secret || got.ArchivedAt != nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		var caps map[string]any
		if err := json.Unmarshal(got.Capabilities, &caps); err != nil || caps["deliveryIdentifierTypes"] == nil {
			t.Fatalf("capabilities %s: %v", got.Capabilities, err)
		}
		if _, err := s.CustomChannel(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing channel: %v", err)
		}

		// Update and archive through a read-modify-write in one transaction.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			c, err := tx.CustomChannel(ctx, channels[1].ID)
			if err != nil {
				return err
			}
			c.WebhookURL = "https://hooks.example.com"
			at := store.Now()
			c.ArchivedAt = &at
			return tx.UpdateCustomChannel(ctx, c)
		})
		if err != nil {
			t.Fatal(err)
		}
		page, more, err := s.CustomChannels(ctx, store.CustomChannelFilter{Limit: 1})
		if err != nil || len(page) != 1 || !more || page[0].ID != tg.ID {
			t.Fatalf("page 1: %v %v %v", page, more, err)
		}
		page, more, err = s.CustomChannels(ctx, store.CustomChannelFilter{AfterID: tg.ID, Limit: 5})
		if err != nil || len(page) != 1 || more || page[0].Name != "Line" {
			t.Fatalf("page 2 skips the archived channel: %v %v %v", page, more, err)
		}
		all, _, err := s.CustomChannels(ctx, store.CustomChannelFilter{IncludeArchived: true})
		if err != nil || len(all) != 3 || all[1].WebhookURL != "https://hooks.example.com" || all[1].ArchivedAt == nil {
			t.Fatalf("with archived: %v %v", all, err)
		}

		// Channel accounts are channels of kind custom.
		var accounts []*store.Channel
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for i, addr := range []string{"bot-a", "bot-b", "bot-c"} {
				owner := tg.ID
				if i == 2 {
					owner = channels[2].ID
				}
				a := &store.Channel{InboxID: in.ID, Kind: "custom", Name: addr, CustomChannelID: &owner,
					AddressType: "CHANNEL_SPECIFIC_OPAQUE_ID", Address: addr, Authorized: true}
				if _, err := tx.InsertChannel(ctx, a); err != nil {
					return err
				}
				accounts = append(accounts, a)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Channel(ctx, accounts[0].ID)
		if err != nil || a.Kind != "custom" || a.Status != "active" || !a.Authorized || a.CustomChannelID == nil ||
			*a.CustomChannelID != tg.ID || string(a.Settings) != "{}" || a.Address != "bot-a" {
			t.Fatalf("account %+v %v", a, err)
		}
		byInbox, err := s.ChannelsByInbox(ctx, in.ID)
		if err != nil || len(byInbox) != 3 {
			t.Fatalf("by inbox: %v %v", byInbox, err)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			b, err := tx.Channel(ctx, accounts[1].ID)
			if err != nil {
				return err
			}
			b.Authorized = false
			at := store.Now()
			b.ArchivedAt = &at
			b.Name = "Bot B"
			return tx.UpdateChannelAccount(ctx, b)
		})
		if err != nil {
			t.Fatal(err)
		}
		no, yes := false, true
		for _, tc := range []struct {
			f    store.ChannelAccountFilter
			want []int64
		}{
			{store.ChannelAccountFilter{CustomChannelID: tg.ID}, []int64{accounts[0].ID, accounts[1].ID}},
			{store.ChannelAccountFilter{CustomChannelID: tg.ID, Archived: &no}, []int64{accounts[0].ID}},
			{store.ChannelAccountFilter{CustomChannelID: tg.ID, Archived: &yes}, []int64{accounts[1].ID}},
			{store.ChannelAccountFilter{CustomChannelID: tg.ID, AddressType: "CHANNEL_SPECIFIC_OPAQUE_ID", Address: "bot-b"}, []int64{accounts[1].ID}},
			{store.ChannelAccountFilter{CustomChannelID: tg.ID, Address: "bot-c"}, nil},
			{store.ChannelAccountFilter{CustomChannelID: channels[2].ID}, []int64{accounts[2].ID}},
			{store.ChannelAccountFilter{CustomChannelID: tg.ID, AfterID: accounts[0].ID}, []int64{accounts[1].ID}},
		} {
			list, _, err := s.ChannelAccounts(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range list {
				ids = append(ids, a.ID)
			}
			if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
				t.Errorf("filter %+v: %v, want %v", tc.f, ids, tc.want)
			}
		}
		b, err := s.Channel(ctx, accounts[1].ID)
		if err != nil || b.Authorized || b.ArchivedAt == nil || b.Name != "Bot B" {
			t.Fatalf("updated account %+v %v", b, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.CustomMessageByIdempotencyKey(ctx, tg.ID, "nope")
			return err
		}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown idempotency key: %v", err)
		}
	})
}
