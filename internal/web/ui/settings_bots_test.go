package ui

import (
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// withChat gives the harness's web app live chat, as serve.go does.
func (h *harness) withChat(t *testing.T) *chat.Service {
	t.Helper()
	svc := &chat.Service{Store: h.Store, Inbox: h.Inbox, Log: h.UI.Log, BaseURL: h.UI.BaseURL}
	h.UI.Chat = svc
	return svc
}

var botIDPath = regexp.MustCompile(`^/settings/bots/(\d+)\?flash=bots\.flash\.created$`)

// createBotUI creates a bot through the settings form and returns its id.
func createBotUI(t *testing.T, c *client, name string) string {
	t.Helper()
	res := c.post(t, "/settings/bots", url.Values{"name": {name}}, 303)
	m := botIDPath.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create bot went to %q", res.Header.Get("Location"))
	}
	return m[1]
}

// A bot with a question and a branch on its answer, as bot-editor.js would post it.
const branchingBot = `{"schema":1,"version":1,"steps":[
 {"id":"ask_topic","type":"ask_question","next":"route","ask_question":{"kind":"choice","prompt":"What is it about?",
   "choices":[{"label":"Sales","value":"sales"},{"label":"Support","value":"support"}]}},
 {"id":"route","type":"branch","next":"support_desk","branch":{"cases":[
   {"conditions":[{"source":"answer","name":"ask_topic","operator":"equals","value":"sales"}],"next":"sales_team"}]}},
 {"id":"sales_team","type":"handoff","handoff":{}},
 {"id":"support_desk","type":"end","end":{"message":"Our support pages have the answer."}}]}`

// Settings → Bots: the list, creating a bot from the starter, the editor, a refused save with
// its errors at their paths, saving new versions, looking at an old one, and deleting.
func TestBotSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ad := h.signIn(t, h.admin)

		// Without live chat the section says so, and the editor does not exist.
		mustContain(t, ad.get(t, "/settings/bots", 200), "Live chat is not set up on this server")
		ad.get(t, "/settings/bots/1", 404)

		h.withChat(t)
		body := ad.get(t, "/settings/bots", 200)
		mustContain(t, body, `href="/settings/bots" aria-current="page"`, "No bots yet", `id="bot-new-name"`)
		h.signIn(t, h.agent).get(t, "/settings/bots", 403)

		// A name is required; the form says so beside the field.
		res := ad.post(t, "/settings/bots", url.Values{"name": {"  "}}, 422)
		mustContain(t, res.Body, `id="bot-new-name-error"`, "Give the bot a name")

		id := createBotUI(t, ad, "Lead qualifier")
		ed := html.UnescapeString(ad.get(t, "/settings/bots/"+id+"?flash=bots.flash.created", 200))
		mustContain(t, ed, "Bot created.", "version 1 of 1", `name="definition"`, `"id": "welcome"`, `"id": "ask_email"`,
			`"property": "email"`, `data-bot-editor`, `"bots.js.add_step":"Add a step"`, `"bots.type.branch":"If/then branch"`,
			`name="base_version" value="1"`, `"email":"That doesn't look like an email address.`)
		mustContain(t, ad.get(t, "/settings/bots", 200), "Lead qualifier", `href="/settings/bots/`+id+`"`)

		// A definition the service refuses: each problem is listed by its JSON path, handed
		// to the editor script, and what was posted is shown again rather than the stored bot.
		broken := strings.Replace(branchingBot, `"next":"sales_team"`, `"next":"nowhere"`, 1)
		broken = strings.Replace(broken, `"prompt":"What is it about?"`, `"prompt":""`, 1)
		res = ad.post(t, "/settings/bots/"+id, url.Values{"name": {"Lead qualifier"}, "definition": {broken}, "base_version": {"1"}}, 422)
		page := html.UnescapeString(res.Body)
		mustContain(t, page, "The bot was not saved", `<a href="#bot-step-0"><code>steps[0].ask_question.prompt</code></a>: is required`,
			`<code>steps[1].branch.cases[0].next</code></a>: no step has the id "nowhere"`, `"next":"nowhere"`)
		errs := dataAttr(t, res.Body, "data-errors")
		var got map[string]string
		if err := json.Unmarshal([]byte(errs), &got); err != nil {
			t.Fatalf("data-errors %q: %v", errs, err)
		}
		if got["steps[1].branch.cases[0].next"] == "" || got["steps[0].ask_question.prompt"] == "" || len(got) != 2 {
			t.Fatalf("data-errors = %v", got)
		}
		mustNotContain(t, page, `"id": "welcome"`)
		// Not JSON at all: the same, with the decoder's complaint.
		res = ad.post(t, "/settings/bots/"+id, url.Values{"name": {"Lead qualifier"}, "definition": {"{"}, "base_version": {"1"}}, 422)
		mustContain(t, res.Body, "not valid JSON")

		// A good save is version 2, with a new name; the history lists both.
		res = ad.post(t, "/settings/bots/"+id, url.Values{"name": {"Router"}, "definition": {branchingBot}, "base_version": {"1"}}, 303)
		if loc := res.Header.Get("Location"); loc != "/settings/bots/"+id+"?flash=bots.flash.saved" {
			t.Fatalf("saved: went to %q", loc)
		}
		ed = html.UnescapeString(ad.get(t, "/settings/bots/"+id, 200))
		mustContain(t, ed, "<h2 id=\"settings-heading\">Router</h2>", "version 2 of 2", `"id": "route"`, `"version": 2`,
			`href="/settings/bots/`+id+`?version=1">Version 1</a>`, `>Version 2</a>`, "by Adam Admin")
		mustNotContain(t, ed, `id="bot-old-version"`)

		// The old version opens as it was, ready to be saved as the newest.
		old := html.UnescapeString(ad.get(t, "/settings/bots/"+id+"?version=1", 200))
		mustContain(t, old, `id="bot-old-version"`, "You are looking at version 1. Saving it makes it version 3", `"id": "welcome"`,
			`name="base_version" value="2"`)
		ad.get(t, "/settings/bots/"+id+"?version=9", 404)
		ad.get(t, "/settings/bots/"+id+"?version=x", 404)

		// Someone else saved in between: the form says so and keeps what was typed.
		res = ad.post(t, "/settings/bots/"+id, url.Values{"name": {"Router"}, "definition": {branchingBot}, "base_version": {"1"}}, 422)
		mustContain(t, res.Body, "Someone saved this bot since you opened it")

		// Agents cannot save or delete.
		ag := h.signIn(t, h.agent)
		ag.post(t, "/settings/bots/"+id, url.Values{"name": {"x"}, "definition": {branchingBot}}, 403)
		ag.post(t, "/settings/bots/"+id+"/delete", nil, 403)

		res = ad.htmx(t, "POST", "/settings/bots/"+id+"/delete", "settings-main", url.Values{})
		if res.StatusCode != 200 {
			t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, "Bot deleted.", "No bots yet")
		ad.get(t, "/settings/bots/"+id, 404)
	})
}

// dataAttr returns the unescaped value of the first attribute name in body.
func dataAttr(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%s", name, body)
	}
	return html.UnescapeString(m[1])
}

// The Bots view lists the chat conversations a bot still has; "Take over" in the header ends
// the bot's run and assigns the conversation to the agent, who then has it in Mine.
func TestBotsViewAndTakeOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.withChat(t)
		ctx := t.Context()
		ad := h.signIn(t, h.admin)
		botID := createBotUI(t, ad, "Greeter")
		b, err := s.Bots(ctx)
		if err != nil || len(b) != 1 || itoa(b[0].ID) != botID {
			t.Fatalf("bots %v, %v", b, err)
		}
		var chatChannel *store.Channel
		err = s.InTx(ctx, func(tx *store.Tx) error {
			chatChannel = &store.Channel{InboxID: h.support.ID, Kind: chat.Kind, Name: "Website chat", Authorized: true}
			_, err := tx.InsertChannel(ctx, chatChannel)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		h.channel = chatChannel
		_, withBot := h.receive(t, "v1", "Visitor One", "Hello?")
		_, people := h.receive(t, "v2", "Visitor Two", "Anyone there?")
		_, finished := h.receive(t, "v3", "Visitor Three", "Thanks")
		run := func(c *store.Conversation, status string) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.UpsertBotRun(ctx, &store.BotRun{ConversationID: c.ID, BotID: b[0].ID, Version: 1, FlowID: 1,
					State: json.RawMessage(`{"version":1,"language":"en"}`), Status: status})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		run(withBot, store.BotRunActive)
		run(finished, store.BotRunEnded)

		ag := h.signIn(t, h.agent)
		body := ag.get(t, "/inbox", 200)
		mustContain(t, body, `href="/inbox?view=bots"`, ">Bots<")
		snoozed, bots, closed := strings.Index(body, `href="/inbox?view=snoozed"`), strings.Index(body, `href="/inbox?view=bots"`), strings.Index(body, `href="/inbox?view=closed"`)
		if !(snoozed < bots && bots < closed) {
			t.Errorf("left pane order: snoozed %d, bots %d, closed %d", snoozed, bots, closed)
		}
		mustRows(t, ag.get(t, "/inbox?view=bots", 200), withBot)
		mustRows(t, ag.get(t, "/inbox?view=bots&q=Hello", 200), withBot)
		mustRows(t, ag.get(t, "/inbox?view=bots&q=Anyone", 200))
		// Nobody outside the inbox sees its bot conversations.
		mustRows(t, h.signIn(t, h.outside).get(t, "/inbox?view=bots", 200))

		page := ag.get(t, "/inbox/"+itoa(withBot.ID)+"?view=bots", 200)
		mustContain(t, page, `id="takeover-button"`, "Bot: Greeter", `action="/conversations/`+itoa(withBot.ID)+`/bot/takeover?view=bots"`)
		mustNotContain(t, ag.get(t, "/inbox/"+itoa(people.ID), 200), `id="takeover-button"`)
		mustNotContain(t, ag.get(t, "/inbox/"+itoa(finished.ID), 200), `id="takeover-button"`)

		// Someone who cannot see the conversation cannot take it over.
		out := h.signIn(t, h.outside)
		if res := out.htmx(t, "POST", "/conversations/"+itoa(withBot.ID)+"/bot/takeover", "conversation", url.Values{}); res.StatusCode != 404 {
			t.Fatalf("outsider take over: %d", res.StatusCode)
		}

		res := ag.htmx(t, "POST", "/conversations/"+itoa(withBot.ID)+"/bot/takeover?view=bots", "conversation", url.Values{})
		if res.StatusCode != 200 {
			t.Fatalf("take over: %d %s", res.StatusCode, res.Body)
		}
		mustNotContain(t, res.Body, `id="takeover-button"`, "Bot: Greeter")
		mustContain(t, res.Body, "Ana Agent")
		r, err := s.BotRun(ctx, withBot.ID)
		if err != nil || r.Status != store.BotRunHandedOff {
			t.Fatalf("run after take over: %+v, %v", r, err)
		}
		c, err := s.Conversation(ctx, withBot.ID, h.agent.ID)
		if err != nil || c.AssigneeID == nil || *c.AssigneeID != h.agent.ID {
			t.Fatalf("assignee after take over: %+v, %v", c, err)
		}
		empty := ag.get(t, "/inbox?view=bots", 200)
		mustRows(t, empty)
		mustContain(t, empty, "No bot conversations")
		mustRows(t, ag.get(t, "/inbox?view=mine", 200), withBot)

		// Taking over again: the bot is gone, and the toast says so.
		res = ag.htmx(t, "POST", "/conversations/"+itoa(withBot.ID)+"/bot/takeover", "conversation", url.Values{})
		if res.StatusCode != 409 {
			t.Fatalf("second take over: %d", res.StatusCode)
		}
		mustContain(t, res.Body, "The bot no longer has this conversation.")
		// Without scripts the form posts and comes back to the conversation.
		run(people, store.BotRunActive)
		res = ag.post(t, "/conversations/"+itoa(people.ID)+"/bot/takeover?view=bots", url.Values{}, 303)
		if loc := res.Header.Get("Location"); loc != "/inbox/"+itoa(people.ID)+"?view=bots" {
			t.Fatalf("plain take over went to %q", loc)
		}
	})
}
