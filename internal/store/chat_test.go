package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestChatChannelsFlowsAndVisitors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := &store.Inbox{Name: "Sales", Access: "specific"}
		ch := &store.Channel{Kind: "chat", Name: "Website"}
		other := &store.Channel{Kind: "chat", Name: "Docs site"}
		cc := &store.ChatChannel{}
		var agent, away, outsider *store.User
		team := &store.Team{Name: "Night shift"}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			ch.InboxID, other.InboxID = in.ID, in.ID
			for _, c := range []*store.Channel{ch, other} {
				if _, err := tx.InsertChannel(ctx, c); err != nil {
					return err
				}
			}
			cc.ChannelID = ch.ID
			if err := tx.InsertChatChannel(ctx, cc); err != nil {
				return err
			}
			for i, p := range []**store.User{&agent, &away, &outsider} {
				u := &store.User{Email: fmt.Sprintf("chat-agent%d@example.com", i),
					Name: "Agent", Role: "agent", Locale: "en", TimeZone: "UTC"}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				*p = u
			}
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: team.ID, UserID: away.ID, IsPrimary: true}); err != nil {
				return err
			}
			if err := tx.SetAvailabilityStatus(ctx, away.ID, "away", nil, store.Now()); err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(cc.PublicID) < 20 || len(cc.IdentitySecret) < 40 {
			t.Fatalf("public id and secret must be random and long: %+v", cc)
		}
		got, err := s.ChatChannelByPublicID(ctx, cc.PublicID)
		if err != nil || got.ChannelID != ch.ID || got.IdentitySecret != cc.IdentitySecret {
			t.Fatalf("by public id: %+v %v", got, err)
		}
		if _, err := s.ChatChannelByPublicID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown public id: %v", err)
		}
		if got, err := s.ChatChannel(ctx, ch.ID); err != nil || got.PublicID != cc.PublicID {
			t.Fatalf("by channel: %+v %v", got, err)
		}
		// A second chat channel with the same public id is refused.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertChatChannel(ctx, &store.ChatChannel{ChannelID: other.ID, PublicID: cc.PublicID})
		})
		if !store.IsConflict(err) {
			t.Fatalf("duplicate public id: %v", err)
		}

		// Chatflows: insert, update, list, delete, scoped to their channel.
		f1 := &store.Chatflow{ChannelID: ch.ID, Flow: json.RawMessage(`{"name":"One"}`)}
		f2 := &store.Chatflow{ChannelID: ch.ID, Flow: json.RawMessage(`{"name":"Two"}`)}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for _, f := range []*store.Chatflow{f1, f2} {
				if err := tx.InsertChatflow(ctx, f); err != nil {
					return err
				}
			}
			f1.Flow = json.RawMessage(`{"name":"One, renamed"}`)
			return tx.UpdateChatflow(ctx, f1)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.UpdateChatflow(ctx, &store.Chatflow{ID: f1.ID, ChannelID: other.ID, Flow: json.RawMessage(`{}`)})
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another channel's flow must not be found: %v", err)
		}
		flows, err := s.Chatflows(ctx, ch.ID)
		if err != nil || len(flows) != 2 || flows[0].ID != f1.ID {
			t.Fatalf("flows: %+v %v", flows, err)
		}
		var named struct{ Name string }
		if err := json.Unmarshal(flows[0].Flow, &named); err != nil || named.Name != "One, renamed" {
			t.Fatalf("flow JSON: %s %v", flows[0].Flow, err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteChatflow(ctx, ch.ID, f2.ID) }); err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteChatflow(ctx, ch.ID, f2.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if flows, _ := s.Chatflows(ctx, ch.ID); len(flows) != 1 {
			t.Fatalf("after delete: %+v", flows)
		}

		// Visitors: found by token hash on their own channel only.
		v := &store.ChatVisitor{ChannelID: ch.ID, TokenHash: "abc123", PageURL: "https://www.example.com/pricing", Language: "sv"}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertChatVisitor(ctx, v) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ChatVisitorByToken(ctx, ch.ID, "abc123"); err != nil || got.ID != v.ID || got.PageURL != v.PageURL || got.ContactID != nil {
			t.Fatalf("by token: %+v %v", got, err)
		}
		if _, err := s.ChatVisitorByToken(ctx, other.ID, "abc123"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another channel's visitor: %v", err)
		}
		v.Email, v.Name, v.LastSeenAt = "ada@example.com", "Ada", store.Now()+1
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateChatVisitor(ctx, v) }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ChatVisitor(ctx, v.ID); err != nil || got.Email != "ada@example.com" || got.LastSeenAt != v.LastSeenAt {
			t.Fatalf("updated: %+v %v", got, err)
		}
		if v.ThreadKey() == "" {
			t.Fatal("empty thread key")
		}

		// The visitor's conversation and the messages after a point.
		var conv *store.Conversation
		var msgs []*store.Message
		err = s.InTx(ctx, func(tx *store.Tx) error {
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			conv = &store.Conversation{Number: n, InboxID: in.ID, ChannelID: &ch.ID, ThreadKey: v.ThreadKey(),
				Status: "open", Priority: "none", CreatedAt: store.Now(), LastActivityAt: store.Now()}
			if err := tx.InsertConversation(ctx, conv); err != nil {
				return err
			}
			for _, text := range []string{"Hi", "Anyone?", "Hello!"} {
				m := &store.Message{ConversationID: conv.ID, ChannelID: &ch.ID, Direction: "inbound", Text: text,
					Status: "received", CreatedAt: store.Now()}
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
				msgs = append(msgs, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.ChatConversation(ctx, ch.ID, v.ThreadKey()); err != nil || got.ID != conv.ID {
			t.Fatalf("chat conversation: %+v %v", got, err)
		}
		if _, err := s.ChatConversation(ctx, other.ID, v.ThreadKey()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other channel's conversation: %v", err)
		}
		after, err := s.ChatMessagesAfter(ctx, conv.ID, msgs[0].ID, 10)
		if err != nil || len(after) != 2 || after[0].Text != "Anyone?" || after[1].Text != "Hello!" {
			t.Fatalf("after: %+v %v", after, err)
		}
		if after, _ := s.ChatMessagesAfter(ctx, conv.ID, msgs[0].ID, 1); len(after) != 1 {
			t.Fatalf("limit: %+v", after)
		}

		// Agents: the named users and the team's primary members, with status and membership.
		agents, err := s.ChatAgents(ctx, in.ID, []int64{agent.ID}, []int64{team.ID})
		if err != nil || len(agents) != 2 || agents[0].UserID != agent.ID || agents[1].UserID != away.ID {
			t.Fatalf("agents: %+v %v", agents, err)
		}
		if agents[0].Status != "available" || agents[1].Status != "away" || agents[0].InboxMember {
			t.Fatalf("agents' status and membership: %+v", agents)
		}
		all, err := s.ChatAgents(ctx, in.ID, nil, nil)
		if err != nil || len(all) != 3 {
			t.Fatalf("everyone: %+v %v", all, err)
		}
	})
}
