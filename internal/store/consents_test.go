package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// Migration 00017: a visitor's flow and collected email, consents, idle chats and a rule's
// own routing selection.
func TestChatAwayAndConsents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		in := &store.Inbox{Name: "Web", Access: "everyone"}
		ch := &store.Channel{Kind: "chat", Name: "Website"}
		v := &store.ChatVisitor{TokenHash: "hash-1"}
		contact := &store.Contact{Name: "Ada", Properties: json.RawMessage("{}")}
		flow := &store.Chatflow{Flow: json.RawMessage(`{"name":"Everywhere"}`)}
		team := &store.Team{Name: "Sales"}
		var u1, u2 *store.User
		var convs []*store.Conversation
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			ch.InboxID = in.ID
			if _, err := tx.InsertChannel(ctx, ch); err != nil {
				return err
			}
			flow.ChannelID, v.ChannelID = ch.ID, ch.ID
			if err := tx.InsertChatflow(ctx, flow); err != nil {
				return err
			}
			if err := tx.InsertChatVisitor(ctx, v); err != nil {
				return err
			}
			if err := tx.InsertContact(ctx, contact); err != nil {
				return err
			}
			for i, p := range []**store.User{&u1, &u2} {
				u := &store.User{Email: []string{"u1@example.com", "u2@example.com"}[i], Name: "U", Role: "agent", Locale: "en", TimeZone: "UTC"}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				*p = u
			}
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: team.ID, UserID: u2.ID, IsPrimary: true}); err != nil {
				return err
			}
			for i, at := range []int64{1000, 2000, 3000} {
				n, err := tx.NextConversationNumber(ctx)
				if err != nil {
					return err
				}
				c := &store.Conversation{Number: n, InboxID: in.ID, ChannelID: &ch.ID, ThreadKey: "visitor:" + string(rune('1'+i)),
					Status: "open", Priority: "none", CreatedAt: at, LastActivityAt: at}
				if err := tx.InsertConversation(ctx, c); err != nil {
					return err
				}
				convs = append(convs, c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		a, err := s.ChatVisitorAway(ctx, v.ID)
		if err != nil || a.FlowID != nil || a.CollectedEmail != "" || a.CollectedEmailAt != nil {
			t.Fatalf("a new visitor %+v %v", a, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetChatVisitorFlow(ctx, v.ID, &flow.ID); err != nil {
				return err
			}
			if err := tx.SetChatVisitorCollectedEmail(ctx, v.ID, "ada@example.com", 42); err != nil {
				return err
			}
			if err := tx.SetChatVisitorContact(ctx, v.ID, contact.ID); err != nil {
				return err
			}
			if err := tx.SetChatVisitorFlow(ctx, v.ID+1000, nil); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("flow of a missing visitor: %v", err)
			}
			got, err := tx.Chatflow(ctx, flow.ID)
			if err != nil || got.ChannelID != ch.ID || !json.Valid(got.Flow) {
				t.Errorf("chatflow %+v %v", got, err)
			}
			if _, err := tx.Chatflow(ctx, flow.ID+1000); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing chatflow: %v", err)
			}
			ids, err := tx.RoutingSelectionOf(ctx, []int64{u1.ID, u2.ID}, []int64{team.ID})
			if err != nil || !slices.Equal(ids, []int64{u1.ID, u2.ID}) {
				t.Errorf("selection %v %v", ids, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		a, _ = s.ChatVisitorAway(ctx, v.ID)
		if a.FlowID == nil || *a.FlowID != flow.ID || a.CollectedEmail != "ada@example.com" || a.CollectedEmailAt == nil || *a.CollectedEmailAt != 42 {
			t.Fatalf("after setting %+v", a)
		}
		if got, _ := s.ChatVisitor(ctx, v.ID); got.ContactID == nil || *got.ContactID != contact.ID || got.Email != "" {
			t.Fatalf("visitor %+v", got)
		}

		// Consent before the first message has no contact; linking gives it the contact.
		explicit := &store.Consent{VisitorID: &v.ID, ChannelID: &ch.ID, FlowID: flow.ID, Mode: store.ConsentExplicit,
			Text: "We keep chats.", PrivacyURL: "https://example.com/p", GivenAt: 10}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertConsent(ctx, explicit); err != nil {
				return err
			}
			return tx.InsertConsent(ctx, &store.Consent{VisitorID: &v.ID, FlowID: flow.ID, Mode: "bogus", Text: "x"})
		})
		if err == nil {
			t.Fatal("a consent of an unknown mode was stored")
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertConsent(ctx, explicit) }); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.ContactConsents(ctx, contact.ID); len(list) != 0 {
			t.Fatalf("unlinked consents listed: %+v", list)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.LinkVisitorConsents(ctx, v.ID, contact.ID) }); err != nil {
			t.Fatal(err)
		}
		list, err := s.ContactConsents(ctx, contact.ID)
		if err != nil || len(list) != 1 || list[0].Text != "We keep chats." || list[0].PrivacyURL != "https://example.com/p" ||
			list[0].Mode != store.ConsentExplicit || list[0].GivenAt != 10 || *list[0].ContactID != contact.ID {
			t.Fatalf("contact consents %+v %v", list, err)
		}
		if c, err := s.VisitorConsent(ctx, v.ID, flow.ID, "We keep chats."); err != nil || c.ID != explicit.ID {
			t.Fatalf("visitor consent %+v %v", c, err)
		}
		if _, err := s.VisitorConsent(ctx, v.ID, flow.ID, "Another wording."); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("consent to another wording: %v", err)
		}

		// Idle chats: oldest first, paged, only those idle before the time.
		page, err := s.ChatIdleConversations(ctx, ch.ID, 2500, -1, 0, 1)
		if err != nil || len(page) != 1 || page[0].ConversationID != convs[0].ID {
			t.Fatalf("first page %+v %v", page, err)
		}
		page, err = s.ChatIdleConversations(ctx, ch.ID, 2500, page[0].LastActivityAt, page[0].ConversationID, 10)
		if err != nil || len(page) != 1 || page[0].ConversationID != convs[1].ID || page[0].ThreadKey != "visitor:2" {
			t.Fatalf("second page %+v %v", page, err)
		}
		ids, err := s.ChatChannelIDs(ctx)
		if err != nil || !slices.Equal(ids, []int64{ch.ID}) {
			t.Fatalf("chat channels %v %v", ids, err)
		}
		if w, err := s.ConversationWaiting(ctx, convs[0].ID); err != nil || w {
			t.Fatalf("waiting %v %v", w, err)
		}
	})
}
