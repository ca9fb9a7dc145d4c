package ui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// TestVisitorContextSidebar: a live chat conversation's sidebar shows its visitor — current
// page, this visit's earlier pages (not an earlier visit's), referrer, browser, language in the
// reader's language, local time and the contact's consents — and refreshes the section alone;
// other conversations show no visitor, and people who cannot see the conversation get nothing.
func TestVisitorContextSidebar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		chat := &store.Channel{InboxID: h.support.ID, Kind: "chat", Name: "Website chat", Authorized: true}
		v := &store.ChatVisitor{TokenHash: "hash", PageURL: "https://shop.test/pricing", Referrer: "https://search.test/?q=shop",
			Language: "sv-SE", CreatedAt: 1000}
		now := time.Now().UnixMilli()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.InsertChannel(ctx, chat); err != nil {
				return err
			}
			v.ChannelID = chat.ID
			if err := tx.InsertChatVisitor(ctx, v); err != nil {
				return err
			}
			if err := tx.SetChatVisitorBrowser(ctx, v.ID, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Asia/Tokyo"); err != nil {
				return err
			}
			for _, p := range []struct {
				url, title string
				at         int64
			}{
				{"https://shop.test/old-visit", "Old visit", now - 3*time.Hour.Milliseconds()},
				{"https://shop.test/", "Shop home", now - 10*time.Minute.Milliseconds()},
				{"https://shop.test/products", "", now - 5*time.Minute.Milliseconds()},
				{"https://shop.test/pricing", "Pricing <b>now</b>", now - time.Minute.Milliseconds()},
			} {
				if err := tx.RecordChatPage(ctx, v.ID, p.url, p.title, p.at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_, conv, _, err := h.Inbox.Receive(ctx, inbox.Inbound{ChannelID: chat.ID, ThreadKey: v.ThreadKey(), Direction: "inbound",
			ContactIdentities: []store.Identity{{Kind: "chat_visitor", Value: fmt.Sprint(v.ID)}}, Text: "Hi, a question about pricing"})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertConsent(ctx, &store.Consent{ContactID: conv.ContactID, VisitorID: &v.ID, ChannelID: &chat.ID, FlowID: 1,
				Mode: "explicit", Text: "We store this chat to answer you.", PrivacyURL: "https://shop.test/privacy", GivenAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}

		agent := h.signIn(t, h.agent)
		page := agent.get(t, "/inbox/"+itoa(conv.ID), http.StatusOK)
		mustContain(t, page, `id="visitor-context"`, `hx-get="/conversations/`+itoa(conv.ID)+`/visitor"`,
			`href="https://shop.test/pricing"`, "Pricing &lt;b&gt;now&lt;/b&gt;",
			`href="https://shop.test/products"`, "shop.test/products", "Shop home",
			"https://search.test/?q=shop", "Safari 18 · macOS", "Swedish (Sweden)", "(Asia/Tokyo)",
			"Agreed", "We store this chat to answer you.", `href="https://shop.test/privacy"`)
		mustNotContain(t, page, "Old visit")
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		if clock := time.Now().In(tokyo).Format("15:04"); !strings.Contains(page, clock+" (Asia/Tokyo)") {
			// The minute may have turned between rendering and now.
			if prev := time.Now().Add(-time.Minute).In(tokyo).Format("15:04"); !strings.Contains(page, prev+" (Asia/Tokyo)") {
				t.Errorf("local time %s (Asia/Tokyo) not shown", clock)
			}
		}

		block := agent.get(t, "/conversations/"+itoa(conv.ID)+"/visitor", http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(block), `<section class="contact__section visitor" id="visitor-context"`) {
			t.Fatalf("the refresh is not the section alone:\n%s", block)
		}
		mustContain(t, block, "Current page", "Earlier this visit", "Safari 18 · macOS")

		// Another channel's conversation has no visitor, even with a visitor-like thread key.
		_, other := h.receive(t, v.ThreadKey(), "Bea Customer", "Not a chat")
		page = agent.get(t, "/inbox/"+itoa(other.ID), http.StatusOK)
		mustNotContain(t, page, `id="visitor-context"`)
		agent.get(t, "/conversations/"+itoa(other.ID)+"/visitor", http.StatusNoContent)

		// Someone outside the inbox sees nothing.
		h.signIn(t, h.outside).get(t, "/conversations/"+itoa(conv.ID)+"/visitor", http.StatusNotFound)
	})
}
