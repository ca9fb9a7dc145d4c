package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Issue 6's end-to-end chats, on every engine: a visitor on a customer's site talks to a bot that
// hands them to an agent in the inbox, and a visitor who finds the team away leaves an address
// that the agent's reply then goes to.

// chatSite is a customer's site on its own origin serving sitePage with the chat snippet, and
// the chat channel whose widget it embeds.
type chatSite struct {
	*httptest.Server
	channelID int64
}

func newChatSite(t *testing.T, a *app) *chatSite {
	t.Helper()
	var snippet string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, sitePage, r.URL.Path, "Gear for the mountains", snippet)
	}))
	t.Cleanup(srv.Close)
	var ch struct {
		ID   int64
		Chat struct {
			PublicID string `json:"public_id"`
		}
	}
	mustCall(t, "POST", a.srv.url("/api/v1/channels"), a.token, map[string]any{"kind": "chat", "inbox_id": a.inboxID,
		"name": "Website", "allowed_origins": []string{srv.URL}}, &ch)
	snippet = `<script src="` + a.srv.url("/widget/"+ch.Chat.PublicID+".js") + `" async></script>`
	return &chatSite{Server: srv, channelID: ch.ID}
}

// visit opens a page of the site in b and waits for the widget's launcher.
func (s *chatSite) visit(b *browser, path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(s.URL+path))
	b.waitJS("widget loaded", `window.Parley && window.Parley.loaded === true`)
	b.waitWidget("launcher", `function () { return this.querySelector(".launch").getBoundingClientRect().width >= 40; }`)
}

// conversations lists the ids of the chat channel's conversations.
func (s *chatSite) conversations(a *app) []int64 {
	a.t.Helper()
	var list struct{ Data []struct{ ID int64 } }
	mustCall(a.t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations?channel_id=%d", s.channelID)), a.token, nil, &list)
	var ids []int64
	for _, c := range list.Data {
		ids = append(ids, c.ID)
	}
	return ids
}

// widgetMessages is a shadow-root function returning the chat's bubbles in order: their text
// (without who said it), whether the visitor's, and their state.
const widgetMessages = `function () { return [...this.querySelectorAll(".log .msg")].map((li) => {
	const c = li.cloneNode(true); c.querySelectorAll(".who,.vh,.note,.qr").forEach((e) => e.remove());
	return {text: c.textContent, me: li.classList.contains("me"), id: li.getAttribute("data-id") || "",
		preview: li.classList.contains("bp"), marked: li.__mark === true}; }); }`

type bubbleState struct {
	Text    string
	Me      bool
	ID      string
	Preview bool
	Marked  bool
}

func bubbles(t *testing.T, b *browser) []bubbleState {
	t.Helper()
	out, err := widgetJS[[]bubbleState](b, widgetMessages)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserChatBotHandOff (CHAT-9, CHAT-4): a bot flow greets a visitor before they write, asks
// for an email address, refuses a bad one, takes a good one, branches on a quick reply and hands
// the chat to the available agent, who sees it assigned in her browser and answers; the visitor
// sees the answer.
func TestBrowserChatBotHandOff(t *testing.T) {
	chromiumPath(t)
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			a := startApp(t, e)
			ana := a.createUser("Ana Andersson", "ana@example.com", "agent")
			site := newChatSite(t, a)
			var bot struct{ ID, Version int64 }
			mustCall(t, "POST", a.srv.url("/api/v1/bots"), a.token, map[string]any{"name": "Triage", "definition": json.RawMessage(`{
				"schema": 1, "version": 1, "steps": [
				{"id": "email", "type": "ask_question", "next": "topic",
				 "ask_question": {"kind": "email", "prompt": "Hi! Which email address can we reach you at?",
				   "error_message": "That does not look like an email address. Try again?", "save_to": {"property": "email"}}},
				{"id": "topic", "type": "ask_question", "next": "route",
				 "ask_question": {"kind": "choice", "prompt": "What is it about?",
				   "choices": [{"label": "Buying gear", "value": "sales"}, {"label": "An order", "value": "support"}]}},
				{"id": "route", "type": "branch", "next": "help",
				 "branch": {"cases": [{"conditions": [{"source": "answer", "name": "topic", "operator": "equals", "value": "sales"}], "next": "sales"}]}},
				{"id": "sales", "type": "send_message", "next": "handoff", "send_message": {"text": "Connecting you with our sales team."}},
				{"id": "handoff", "type": "handoff", "handoff": {}},
				{"id": "help", "type": "end", "end": {"message": "Our order help is at acme.example/orders."}}]}`)}, &bot)
			mustCall(t, "POST", a.srv.url(fmt.Sprintf("/api/v1/channels/%d/chatflows", site.channelID)), a.token, map[string]any{
				"name": "Triage bot", "enabled": true, "inbox_id": a.inboxID, "type": "bot",
				"bot": map[string]any{"id": bot.ID, "version": bot.Version}, "availability": map[string]any{"mode": "always"},
				"hand_off": map[string]any{"assign_to": "users_and_teams", "user_ids": []int64{ana.ID}, "only_available": true,
					"strategy": "round_robin"}}, nil)

			agent := a.newBrowser("ana")
			agent.signIn(ana)
			agent.open("/inbox?view=mine")
			agent.waitLive()
			agent.mark()

			v := a.newBrowser("visitor")
			site.visit(v, "/pricing")
			// The bot greets the visitor before they write, and nothing is stored for it yet.
			v.waitWidget("the bot's opening", `function () { const p = this.querySelector(".msg.bp");
				return p && p.textContent.includes("Which email address") && !this.querySelector("input.field").hidden &&
				this.querySelector("input.field").type === "email"; }`)
			if ids := site.conversations(a); len(ids) != 0 {
				t.Fatalf("the bot's opening stored conversations %v", ids)
			}
			if _, err := widgetJS[bool](v, `function () { this.querySelector(".msg.bp").__mark = true; return true; }`); err != nil {
				t.Fatal(err)
			}
			v.clickWidget(".launch")
			v.waitWidget("focus in the email field", `function () { return this.activeElement === this.querySelector("input.field"); }`)

			// An address the browser takes but the bot does not: the bot asks again.
			v.key("ada@localhost\r")
			v.waitWidget("the bot asks again", widgetText(".msg:not(.me)[data-id]", "does not look like an email"))
			got := bubbles(t, v)
			want := []string{"Hi! Which email address can we reach you at?", "ada@localhost", "That does not look like an email address. Try again?"}
			if len(got) != len(want) {
				t.Fatalf("bubbles %+v, want %q", got, want)
			}
			for i, b := range got {
				if b.Text != want[i] || b.ID == "" || b.Preview || b.Me != (i == 1) {
					t.Fatalf("bubble %d: %+v, want %q", i, b, want[i])
				}
			}
			// The stored opening took over the preview's bubble instead of replacing it.
			if !got[0].Marked {
				t.Fatal("the opening's bubble was replaced when it was stored")
			}
			ids := site.conversations(a)
			if len(ids) != 1 {
				t.Fatalf("conversations %v", ids)
			}
			conv := ids[0]

			v.waitWidget("email field again, emptied", `function () { const f = this.querySelector("input.field");
				return !f.hidden && f.type === "email" && f.value === "" && this.activeElement === f; }`)
			v.key("ada@example.com\r")
			v.waitWidget("the choices", `function () { const q = this.querySelector(".qr[role=group]");
				return q && [...q.querySelectorAll("button")].map((b) => b.textContent).join("|") === "Buying gear|An order"; }`)
			v.waitWidget("the message box back for a choice", `function () { return this.querySelector("input.field").hidden && !this.querySelector("textarea").hidden; }`)
			v.clickWidget(".qr[role=group] button:first-child")
			v.waitWidget("the choice as the visitor's answer", widgetText(".msg.me[data-id]", "Buying gear"))
			v.waitWidget("the sales branch", widgetText(".msg:not(.me)[data-id]", "Connecting you with our sales team."))
			if other, err := widgetJS[bool](v, widgetText(".msg", "acme.example/orders")); err != nil || other {
				t.Fatalf("the bot took the other branch (%v)", err)
			}

			// Ana, available, gets the chat: her Mine list shows it without a reload.
			agent.waitVisible(rowSel(conv))
			agent.assertNotReloaded()
			agent.click(rowSel(conv) + " a")
			agent.waitText(`#conversation-header .convhead__meta`, "Ana Andersson")
			agent.waitText(`ol#timeline li.tl[data-kind=message]`, "ada@example.com")
			agent.waitText(`ol#timeline li.tl[data-kind=event]`, "The bot Triage started the chat")
			agent.waitText(`ol#timeline li.tl[data-kind=event]`, "The bot Triage handed the chat to the team")
			var c struct {
				AssigneeID *int64 `json:"assignee_id"`
			}
			mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d", conv)), a.token, nil, &c)
			if c.AssigneeID == nil || *c.AssigneeID != ana.ID {
				t.Fatalf("assignee %v, want Ana (%d)", c.AssigneeID, ana.ID)
			}

			agent.waitVisible(`#composer`)
			if agent.has(`#tab-reply`) {
				agent.click(`#tab-reply`)
			}
			agent.fill(`#composer-text`, "Hi Ada, Ana from sales here. Which tent are you looking at?")
			agent.ctrlEnter()
			v.waitWidget("Ana's answer in the widget", widgetText(".msg:not(.me)[data-id]", "Ana from sales here"))
			v.waitWidget("Ana's name on it", widgetText(".msg:not(.me) .who", "Ana"))
			n := 0
			for _, b := range bubbles(t, v) {
				if strings.Contains(b.Text, "Which email address") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("the opening shows %d times", n)
			}
		})
	}
}

// TestBrowserChatAway (CHAT-5, CHAT-6): with the only agent away, the visitor sees the flow's
// away message and leaves an email address and a message; once they are gone, the reply an agent
// writes in the inbox is queued to go to that address by email.
func TestBrowserChatAway(t *testing.T) {
	chromiumPath(t)
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			a := startApp(t, e)
			ana := a.createUser("Ana Andersson", "ana@example.com", "agent")
			mustCall(t, "PUT", a.srv.url(fmt.Sprintf("/api/v1/users/%d/availability", ana.ID)), a.token, map[string]any{"status": "away"}, nil)
			site := newChatSite(t, a)
			mustCall(t, "POST", a.srv.url(fmt.Sprintf("/api/v1/channels/%d/chatflows", site.channelID)), a.token, map[string]any{
				"name": "Live chat", "enabled": true, "inbox_id": a.inboxID,
				"hand_off": map[string]any{"assign_to": "users_and_teams", "user_ids": []int64{ana.ID}, "only_available": true,
					"strategy": "round_robin"},
				"away": map[string]any{"message": "Nobody is in right now. Leave your address and we will write back.", "collect_email": true}}, nil)

			v := a.newBrowser("visitor")
			site.visit(v, "/returns")
			v.clickWidget(".launch")
			v.waitWidget("the away message", widgetText(".box:not([hidden])", "Nobody is in right now."))
			v.waitWidget("the email form", `function () { return this.querySelector("input[type=email]").getBoundingClientRect().width > 0; }`)
			if _, err := widgetJS[bool](v, `function () { this.querySelector("input[type=email]").focus(); return true; }`); err != nil {
				t.Fatal(err)
			}
			v.key("grace@example.com\r")
			v.waitWidget("address kept", widgetText(".box p:not([hidden])", "We'll reply to grace@example.com too."))
			if _, err := widgetJS[bool](v, `function () { this.querySelector("textarea").focus(); return true; }`); err != nil {
				t.Fatal(err)
			}
			v.key("Can I return a tent after 30 days?\r")
			v.waitWidget("message stored", `function () { return [...this.querySelectorAll(".msg.me[data-id]:not(.pending)")].some((e) => e.textContent.includes("return a tent")); }`)
			ids := site.conversations(a)
			if len(ids) != 1 {
				t.Fatalf("conversations %v", ids)
			}
			conv := ids[0]
			var c struct {
				AssigneeID *int64 `json:"assignee_id"`
			}
			mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d", conv)), a.token, nil, &c)
			if c.AssigneeID != nil {
				t.Fatalf("the chat went to user %d while everyone is away", *c.AssigneeID)
			}
			// The visitor closes the tab (a page left for another may stay alive in the
			// back-forward cache, socket and all).
			v.do("close the tab", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.Close, cdp.Empty{})
				return err
			}))

			owner := a.newBrowser("owner")
			owner.signIn(a.owner)
			owner.open(fmt.Sprintf("/inbox/%d", conv))
			owner.waitText(`ol#timeline li.tl[data-kind=message]`, "return a tent")
			owner.waitVisible(`#composer`)
			if owner.has(`#tab-reply`) {
				owner.click(`#tab-reply`)
			}
			owner.fill(`#composer-text`, "Yes, within 60 days. Send it back with the order number.")
			owner.ctrlEnter()
			owner.waitText(`ol#timeline li.tl[data-kind=message]`, "within 60 days")

			// The reply is the chat's, and waits as a job to go by email.
			var timeline struct {
				Data []struct {
					Message *struct {
						ID        int64
						Text      string
						Direction string
					}
				}
			}
			var reply int64
			deadline := time.Now().Add(waitLong)
			type job struct {
				State   string
				RunAt   string `json:"run_at"`
				Payload struct {
					MessageID int64 `json:"message_id"`
				}
			}
			var jobs struct{ Data []job }
			for {
				mustCall(t, "GET", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d/timeline", conv)), a.token, nil, &timeline)
				for _, it := range timeline.Data {
					if it.Message != nil && it.Message.Direction == "outbound" && strings.Contains(it.Message.Text, "within 60 days") {
						reply = it.Message.ID
					}
				}
				mustCall(t, "GET", a.srv.url("/api/v1/jobs?kind=chat.email_reply"), a.token, nil, &jobs)
				if reply != 0 && len(jobs.Data) > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if reply == 0 || len(jobs.Data) != 1 {
				t.Fatalf("reply %d, email reply jobs %+v", reply, jobs.Data)
			}
			j := jobs.Data[0]
			at, err := time.Parse(time.RFC3339Nano, j.RunAt)
			if j.Payload.MessageID != reply || j.State != "queued" || err != nil || time.Until(at) < 30*time.Second {
				t.Fatalf("email reply job %+v (run at %v, %v): want message %d queued to wait for the visitor", j, at, err, reply)
			}
		})
	}
}
