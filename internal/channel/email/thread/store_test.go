package thread_test

import (
	"context"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/email/thread"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

var _ thread.Lookup = (*store.Store)(nil)

// TestResolveWithStore runs a conversation's mail through the real seen-Message-ID table on
// both engines: an inbound mail, our reply with its Message-ID, and the customer's answer
// threading by each rule.
func TestResolveWithStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr, err := thread.New([]byte("a-test-installation-secret"))
		if err != nil {
			t.Fatal(err)
		}
		var ch store.Channel
		var conv *store.Conversation
		err = s.InTx(ctx, func(tx *store.Tx) error {
			in := &store.Inbox{Name: "Support", Access: "everyone"}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return err
			}
			ch = store.Channel{InboxID: in.ID, Kind: "email", Name: "support@acme.example", Authorized: true}
			if _, err := tx.InsertChannel(ctx, &ch); err != nil {
				return err
			}
			ada := &store.Contact{Name: "Ada"}
			if err := tx.InsertContact(ctx, ada); err != nil {
				return err
			}
			if _, err := tx.AddContactIdentity(ctx, ada.ID, store.Identity{Kind: "email", Value: "ada@customer.example"}); err != nil {
				return err
			}
			n, err := tx.NextConversationNumber(ctx)
			if err != nil {
				return err
			}
			conv = &store.Conversation{Number: n, InboxID: in.ID, ChannelID: &ch.ID, ContactID: &ada.ID}
			return tx.InsertConversation(ctx, conv)
		})
		if err != nil {
			t.Fatal(err)
		}

		// Ada's first mail is new; it is recorded with her Message-ID.
		first := thread.Incoming{ChannelID: ch.ID, From: "ada@customer.example", Recipients: []string{"support@acme.example"}, Subject: "Invoice"}
		if d, err := tr.Resolve(ctx, first, s); err != nil || d.Rule != thread.RuleNew {
			t.Fatalf("first mail: %+v %v", d, err)
		}
		ourID := tr.MessageID(conv.ID, 1, "acme.example")
		irt, refs := thread.ReplyIDs("<first@customer.example>", "", "")
		err = s.InTx(ctx, func(tx *store.Tx) error {
			for _, m := range []store.EmailMessageID{
				{ChannelID: ch.ID, MessageID: "first@customer.example", ConversationID: conv.ID, Direction: "inbound", Sender: "ada@customer.example"},
				{ChannelID: ch.ID, MessageID: ourID, ConversationID: conv.ID, Direction: "outbound"},
			} {
				if _, err := tx.RecordEmailMessageID(ctx, &m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if irt != "first@customer.example" || len(refs) != 1 {
			t.Fatalf("reply ids = %q %q", irt, refs)
		}

		for _, tc := range []struct {
			name string
			in   thread.Incoming
			rule thread.Rule
		}{
			{"plus address", thread.Incoming{Recipients: []string{tr.ReplyAddress("support@acme.example", conv.ID)}}, thread.RuleReplyAddress},
			{"in-reply-to our id", thread.Incoming{InReplyTo: "<" + ourID + ">"}, thread.RuleInReplyTo},
			{"references to her first mail", thread.Incoming{InReplyTo: "<lost@x>", References: "<first@customer.example> <lost@x>"}, thread.RuleReferences},
			{"subject token from Ada", thread.Incoming{From: "Ada@Customer.example", Subject: "Re: " + thread.WithSubjectToken("Invoice", conv.Number)}, thread.RuleSubjectToken},
			{"marker", thread.Incoming{HTML: "<blockquote>" + tr.Marker(conv.ID) + "</blockquote>"}, thread.RuleHiddenMarker},
		} {
			tc.in.ChannelID = ch.ID
			d, err := tr.Resolve(ctx, tc.in, s)
			if err != nil || d.Rule != tc.rule || d.ConversationID != conv.ID {
				t.Errorf("%s: %+v %v", tc.name, d, err)
			}
		}
		// Mallory guesses the number: not a participant, so a new conversation.
		d, err := tr.Resolve(ctx, thread.Incoming{ChannelID: ch.ID, From: "mallory@evil.example", Subject: thread.SubjectToken(conv.Number)}, s)
		if err != nil || d.Rule != thread.RuleNew || len(d.Ignored) != 1 {
			t.Fatalf("forged subject token: %+v %v", d, err)
		}
	})
}
