package ui

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// The Bots view has a count like the other views, and a conversation a bot has is in Bots, not
// in Unassigned (list or count), while All open and search keep it (CONV-8). Taking it over
// moves it to Mine, and the left pane's live refresh shows the new counts.
func TestBotsViewCountsAndUnassigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.withChat(t)
		ctx := t.Context()
		var botID int64
		err := s.InTx(ctx, func(tx *store.Tx) error {
			b := &store.Bot{Name: "Greeter", Definition: json.RawMessage(`{"schema":1,"version":1,"steps":[]}`)}
			err := tx.InsertBot(ctx, b)
			botID = b.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, withBot := h.receive(t, "v1", "Visitor One", "Hello pineapple")
		_, people := h.receive(t, "v2", "Visitor Two", "Anyone there?")
		_, finished := h.receive(t, "v3", "Visitor Three", "Thanks")
		for c, status := range map[*store.Conversation]string{withBot: store.BotRunActive, finished: store.BotRunEnded} {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: c.ID, BotID: botID, Version: 1, FlowID: 1,
					State: json.RawMessage(`{}`), Status: status})
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		ag := h.signIn(t, h.agent)
		body := ag.get(t, "/inbox", 200)
		mustCount(t, body, "/inbox?view=unassigned", "2")
		mustCount(t, body, "/inbox?view=bots", "1")
		mustCount(t, body, "/inbox?view=open", "3")
		mustCount(t, body, "/inbox?view=mine", "")
		mustRows(t, ag.get(t, "/inbox?view=unassigned", 200), finished, people)
		mustRows(t, ag.get(t, "/inbox?view=bots", 200), withBot)
		mustRows(t, ag.get(t, "/inbox?view=open", 200), finished, people, withBot)
		mustRows(t, ag.get(t, "/inbox?view=open&q=pineapple", 200), withBot)
		mustRows(t, ag.get(t, "/inbox?view=unassigned&q=pineapple", 200))
		// The filter bar's "unassigned" means the same as the view.
		mustRows(t, ag.get(t, "/inbox?view=open&assignee=none", 200), finished, people)

		res := ag.htmx(t, "POST", "/conversations/"+itoa(withBot.ID)+"/bot/takeover?view=bots", "conversation", url.Values{})
		if res.StatusCode != 200 {
			t.Fatalf("take over: %d %s", res.StatusCode, res.Body)
		}
		nav := ag.htmx(t, "GET", "/inbox?view=bots", "inbox-nav", nil)
		if nav.StatusCode != 200 {
			t.Fatalf("nav block: %d", nav.StatusCode)
		}
		mustCount(t, nav.Body, "/inbox?view=bots", "")
		mustCount(t, nav.Body, "/inbox?view=unassigned", "2")
		mustCount(t, nav.Body, "/inbox?view=mine", "1")
		mustRows(t, ag.get(t, "/inbox?view=bots", 200))
		mustRows(t, ag.get(t, "/inbox?view=mine", 200), withBot)

		// The bot having nothing shows no count; a new active run shows in Bots, out of Unassigned.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: people.ID, BotID: botID, Version: 1, FlowID: 1,
				State: json.RawMessage(`{}`), Status: store.BotRunActive})
		})
		if err != nil {
			t.Fatal(err)
		}
		nav = ag.htmx(t, "GET", "/inbox", "inbox-nav", nil)
		mustCount(t, nav.Body, "/inbox?view=bots", "1")
		mustCount(t, nav.Body, "/inbox?view=unassigned", "1")
		// Nobody outside the inbox counts its bot conversations.
		mustCount(t, h.signIn(t, h.outside).get(t, "/inbox", 200), "/inbox?view=bots", "")
	})
}
