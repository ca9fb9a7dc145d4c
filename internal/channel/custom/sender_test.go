package custom_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestSenderOutcomes checks how webhook answers are classified and what is sent.
func TestSenderOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var answer atomic.Int64
		var last atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			last.Store(body)
			code := int(answer.Load())
			if code == http.StatusFound {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(code)
		}))
		defer srv.Close()

		svc := &custom.Service{Store: s, Inbox: &inbox.Service{Store: s}}
		admin := &store.User{Email: "admin@example.com", Name: "Jane Agent", Role: "admin"}
		in := &store.Inbox{Name: "Support", Access: "everyone"}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, admin); err != nil {
				return err
			}
			return tx.CreateInbox(ctx, in)
		}); err != nil {
			t.Fatal(err)
		}
		webhook := srv.URL + "/hook"
		name := "Telegram"
		c, err := svc.CreateChannel(ctx, admin, custom.ChannelInput{Name: &name, WebhookURL: &webhook,
			Capabilities: json.RawMessage(`{"deliveryIdentifierTypes":["CHANNEL_SPECIFIC_OPAQUE_ID"]}`)})
		if err != nil {
			t.Fatal(err)
		}
		accountName := "Acme"
		account, err := svc.CreateAccount(ctx, admin, c.ID, custom.AccountInput{InboxID: in.ID, Name: &accountName,
			DeliveryIdentifier: &custom.DeliveryIdentifier{Type: custom.OpaqueID, Value: "acme"}})
		if err != nil {
			t.Fatal(err)
		}
		text := "Hi"
		pub, created, err := svc.Publish(ctx, c.ID, &custom.PublishRequest{
			ChannelAccountID: custom.FlexID(strconv.FormatInt(account.ID, 10)), MessageDirection: "INCOMING",
			IntegrationThreadID: "thread-1", Text: &text, Timestamp: time.Now().UTC().Format(time.RFC3339),
			Senders:     []custom.Participant{{Name: "Ada", DeliveryIdentifier: &custom.DeliveryIdentifier{Type: custom.OpaqueID, Value: "ada"}}},
			Recipients:  []custom.Participant{{DeliveryIdentifier: &custom.DeliveryIdentifier{Type: custom.OpaqueID, Value: "acme"}}},
			Attachments: &[]json.RawMessage{},
		})
		if err != nil || !created {
			t.Fatalf("publish: %v %v", created, err)
		}
		convID, _ := strconv.ParseInt(pub.ConversationsThreadID, 10, 64)
		reply := &store.Message{ConversationID: convID, ChannelID: &account.ID, Direction: "outbound", AuthorID: &admin.ID,
			Text: "Which plan?", HTML: "<p>Which plan?</p>", Status: "queued"}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.InsertMessage(ctx, reply) }); err != nil {
			t.Fatal(err)
		}
		conv := &store.Conversation{ID: convID, ThreadKey: "t:thread-1"}
		out := &channel.Outbound{Message: reply, Conversation: conv, Channel: account, Author: admin}
		sender := custom.NewSender(s, nil, "")

		for _, tc := range []struct {
			code      int
			permanent bool
		}{
			{200, false}, {204, false}, {408, false}, {429, false}, {500, false}, {503, false},
			{302, true}, {400, true}, {401, true}, {404, true}, {410, true},
		} {
			answer.Store(int64(tc.code))
			id, err := sender.Send(ctx, out)
			switch {
			case tc.code < 300:
				if err != nil || id != strconv.FormatInt(reply.ID, 10) {
					t.Errorf("%d: %q %v", tc.code, id, err)
				}
			case err == nil:
				t.Errorf("%d: no error", tc.code)
			case channel.IsPermanent(err) != tc.permanent:
				t.Errorf("%d: permanent=%v, want %v (%v)", tc.code, channel.IsPermanent(err), tc.permanent, err)
			}
		}
		var ev custom.OutgoingEvent
		if err := json.Unmarshal(last.Load().([]byte), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "OUTGOING_CHANNEL_MESSAGE_CREATED" || ev.PortalID != "1" || len(ev.ChannelIntegrationThreadIDs) != 1 ||
			ev.ChannelIntegrationThreadIDs[0] != "thread-1" || ev.Message.Text != "Which plan?" || ev.Message.RichText != "" ||
			ev.Message.Senders[0].Name != "Jane Agent" || ev.Message.Recipients[0].DeliveryIdentifier.Value != "ada" {
			// richText is dropped: the channel declared no rich text.
			t.Fatalf("event %+v", ev)
		}

		// A target that does not answer at all is a transient failure.
		srv.Close()
		if _, err := sender.Send(ctx, out); err == nil || channel.IsPermanent(err) {
			t.Fatalf("network error: %v", err)
		}
		// No webhook URL: nothing could ever deliver it.
		empty := ""
		if _, err := svc.UpdateChannel(ctx, admin, c.ID, custom.ChannelInput{WebhookURL: &empty}); err != nil {
			t.Fatal(err)
		}
		if _, err := sender.Send(ctx, out); !channel.IsPermanent(err) || err.Error() != "channel has no webhook URL" {
			t.Fatalf("no webhook: %v", err)
		}
	})
}
