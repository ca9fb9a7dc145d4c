package main

import (
	"fmt"
	"testing"
	"time"
)

// The web app in a real browser against the real binary (see browser_helpers_test.go). The pages'
// markup contract these tests rely on: list rows li.convrow[data-id] in #conversation-list, the
// search field #search, the timeline ol#timeline of li.tl[data-kind], the composer form #composer
// with tabs #tab-reply/#tab-comment, text #composer-text and #composer-send, the header
// #conversation-header with #assign-button and #close-button, presence #presence, and the quiet
// connection indicator #connection.

// sqliteOnly is the SQLite engine alone: most browser scenarios test the pages, not the database,
// and run once; TestBrowserLive runs on every engine.
func sqliteOnly(t *testing.T) engineEnv {
	return engineEnv{name: "sqlite", env: []string{"PARLEY_DATA_DIR=" + t.TempDir()}}
}

func rowSel(id int64) string { return fmt.Sprintf(`#conversation-list li.convrow[data-id="%d"]`, id) }

func TestBrowserSignIn(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	b := a.newBrowser("agent")

	// Signed out, the app sends the browser to the sign-in page.
	b.open("/inbox")
	b.waitVisible(`form[action="/login"] input[name=email]`)

	// A wrong password keeps the browser on the form with an error it can read (answered 422,
	// which the browser notes in its console).
	b.allow(`status of 422 .*/login`)
	b.fill(`input[name=email]`, a.owner.Email)
	b.fill(`input[name=password]`, "not-the-password")
	b.click(`form[action="/login"] button[type=submit]`)
	b.waitVisible(`form[action="/login"] [role=alert]`)
	if b.has(`body[data-user-id]:not([data-user-id=""])`) {
		t.Fatal("signed in with a wrong password")
	}

	b.signIn(a.owner)
	b.waitVisible(`#conversation-list`)

	// Signing out ends the session: the app is behind the sign-in page again.
	b.click(`form[action="/logout"] button[type=submit]`)
	b.waitVisible(`form[action="/login"] input[name=email]`)
	b.open("/inbox")
	b.waitVisible(`form[action="/login"] input[name=email]`)
}

// TestBrowserLive is issue 4's "done when": two agents in two browsers work one conversation
// end to end, and each sees every change of the other and of the customer live, without a
// reload. It runs on every engine.
func TestBrowserLive(t *testing.T) {
	chromiumPath(t)
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			a := startApp(t, e)
			ana := a.createUser("Ana Andersson", "ana@example.com", "agent")
			first := a.publish("t-1", "Ada Lovelace", "Hi, I need help with pricing")

			owner := a.newBrowser("owner")
			agent := a.newBrowser("ana")
			owner.signIn(a.owner)
			agent.signIn(ana)
			for _, b := range []*browser{owner, agent} {
				b.waitVisible(rowSel(first))
				b.mark()
			}

			// Both open the conversation from the list.
			for _, b := range []*browser{owner, agent} {
				b.click(rowSel(first) + " a")
				b.waitText(`ol#timeline li.tl[data-kind=message]`, "Hi, I need help with pricing")
			}

			t.Run("new conversation appears in every list", func(t *testing.T) {
				a, owner, agent := a.on(t), owner.on(t), agent.on(t)
				second := a.publish("t-2", "Grace Hopper", "Is there a discount for schools?")
				start := time.Now()
				for _, b := range []*browser{owner, agent} {
					b.waitVisible(rowSel(second))
					b.waitText(rowSel(second), "Is there a discount for schools?")
				}
				t.Logf("new conversation in both lists after %s", time.Since(start).Round(time.Millisecond))
			})

			t.Run("customer message appears in the open conversation", func(t *testing.T) {
				a, owner, agent := a.on(t), owner.on(t), agent.on(t)
				a.publish("t-1", "Ada Lovelace", "We are on the Team plan.")
				start := time.Now()
				for _, b := range []*browser{owner, agent} {
					b.waitText(`ol#timeline li.tl[data-kind=message]`, "We are on the Team plan.")
					b.waitText(rowSel(first), "We are on the Team plan.")
				}
				t.Logf("message in both timelines after %s", time.Since(start).Round(time.Millisecond))
			})

			t.Run("presence", func(t *testing.T) {
				owner, agent := owner.on(t), agent.on(t)
				owner.waitText(`#presence`, "Ana")
				agent.waitText(`#presence`, "Olivia")
			})

			t.Run("reply with ctrl+enter", func(t *testing.T) {
				owner, agent := owner.on(t), agent.on(t)
				owner.waitVisible(`#composer`)
				if owner.has(`#tab-reply`) {
					owner.click(`#tab-reply`)
				}
				owner.fill(`#composer-text`, "Hi Ada! Which plan are you on?")
				owner.ctrlEnter()
				for _, b := range []*browser{owner, agent} {
					b.waitText(`ol#timeline li.tl[data-kind=message]`, "Hi Ada! Which plan are you on?")
				}
				// The composer is empty again for the next reply.
				owner.waitJS("composer cleared", `document.getElementById("composer-text").value === ""`)
			})

			t.Run("comment with ctrl+enter", func(t *testing.T) {
				owner, agent := owner.on(t), agent.on(t)
				agent.click(`#tab-comment`)
				agent.fill(`#composer-text`, "Ada is a school, see the discount page.")
				agent.ctrlEnter()
				for _, b := range []*browser{owner, agent} {
					b.waitText(`ol#timeline li.tl[data-kind=comment]`, "Ada is a school, see the discount page.")
				}
				// A comment never goes to the customer as a message.
				if agent.has(`ol#timeline li.tl[data-kind=message] .never-matches`) {
					t.Fatal("unreachable")
				}
				if evalJS[bool](agent, textExpr(`ol#timeline li.tl[data-kind=message]`, "Ada is a school")) {
					t.Fatal("the comment shows as a message")
				}
			})

			t.Run("assign in one browser, the other sees it", func(t *testing.T) {
				owner, agent := owner.on(t), agent.on(t)
				owner.click(`#assign-button`)
				owner.clickText(`#assign-menu`, "Ana Andersson")
				// The header's facts (not the menu, which lists everyone) name the assignee.
				// The one who assigned sees it first; the other browser through the live update.
				owner.waitText(`#conversation-header .convhead__meta`, "Ana Andersson")
				agent.waitText(`#conversation-header .convhead__meta`, "Ana Andersson")
			})

			t.Run("close and reopen", func(t *testing.T) {
				a, owner, agent := a.on(t), owner.on(t), agent.on(t)
				before := evalJS[string](owner, `document.getElementById("close-button").textContent.trim()`)
				agent.click(`#close-button`)
				changed := fmt.Sprintf(`document.getElementById("close-button") && document.getElementById("close-button").textContent.trim() !== %s`, jsq(before))
				owner.waitJS("close button shows reopen", changed)
				agent.waitJS("close button shows reopen", changed)
				if got := a.conversationStatus(first); got != "closed" {
					t.Fatalf("after close: status %q", got)
				}
				owner.click(`#close-button`)
				same := fmt.Sprintf(`document.getElementById("close-button").textContent.trim() === %s`, jsq(before))
				owner.waitJS("close button shows close", same)
				agent.waitJS("close button shows close", same)
				if got := a.conversationStatus(first); got != "open" {
					t.Fatalf("after reopen: status %q", got)
				}
			})

			for _, b := range []*browser{owner, agent} {
				b.assertNotReloaded()
			}
		})
	}
}

func TestBrowserSearch(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	pricing := a.publish("s-1", "Ada Lovelace", "Question about invoices and pricing")
	refund := a.publish("s-2", "Grace Hopper", "I would like a refund for my order")
	other := a.publish("s-3", "Alan Turing", "The app crashes on start")
	b := a.newBrowser("owner")
	b.signIn(a.owner)
	for _, id := range []int64{pricing, refund, other} {
		b.waitVisible(rowSel(id))
	}
	b.fill(`#search`, "refund")
	b.key("\r")
	b.waitHidden(rowSel(pricing))
	b.waitHidden(rowSel(other))
	b.waitVisible(rowSel(refund))
	// The search survives in the address, so it can be shared and reloaded.
	if !evalJS[bool](b, `new URLSearchParams(location.search).get("q") === "refund"`) {
		t.Errorf("search not in the address: %s", evalJS[string](b, `location.href`))
	}
	b.fill(`#search`, "")
	b.key("\r")
	for _, id := range []int64{pricing, refund, other} {
		b.waitVisible(rowSel(id))
	}
}

func TestBrowserLanguage(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	sven := a.createUser("Sven Svensson", "sven@example.com", "agent")
	b := a.newBrowser("sven")
	b.signIn(sven)
	b.waitJS("English first", `document.documentElement.lang === "en"`)

	t.Run("profile", func(t *testing.T) {
		b := b.on(t)
		b.open("/profile")
		b.waitVisible(`select[name=locale]`)
		b.do("choose Swedish", setSelect(`select[name=locale]`, "sv"))
		b.click(`#profile-form button[type=submit], form[action="/profile"] button[type=submit]`)
		b.waitJS("Swedish after saving", `document.documentElement.lang === "sv"`)
		b.open("/inbox")
		b.waitJS("Swedish inbox", `document.documentElement.lang === "sv"`)
		b.waitText(`header nav a[href="/inbox"]`, "Inkorg")
		b.waitText(`form[action="/logout"] button`, "Logga ut")
	})

	t.Run("api", func(t *testing.T) {
		a, b := a.on(t), b.on(t)
		// The language is the user's, wherever it is set: back to English through the API.
		mustCall(t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/users/%d", sven.ID)), a.token, map[string]any{"locale": "en"}, nil)
		b.open("/inbox")
		b.waitJS("English again", `document.documentElement.lang === "en"`)
		mustCall(t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/users/%d", sven.ID)), a.token, map[string]any{"locale": "sv"}, nil)
		b.open("/inbox")
		b.waitJS("Swedish", `document.documentElement.lang === "sv"`)
		b.waitText(`header nav a[href="/inbox"]`, "Inkorg")
	})
}

// TestBrowserReconnect loses the realtime connection (the server restarts on the same database)
// and checks the page says so quietly, catches up with what happened meanwhile on its own, and
// never reloads. Then the session ends while the socket is down: the page stops reconnecting
// and the next navigation goes to the sign-in page.
func TestBrowserReconnect(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	first := a.publish("r-1", "Ada Lovelace", "Hello from before the outage")
	b := a.newBrowser("owner")
	b.signIn(a.owner)
	b.click(rowSel(first) + " a")
	b.waitText(`ol#timeline`, "Hello from before the outage")
	b.waitLive()
	b.mark()
	if b.has(`#connection:not([hidden])`) {
		t.Fatal("connection indicator shown while connected")
	}

	// While the server is down and the socket is blocked, the browser reports failed connections.
	b.allow(`WebSocket connection to .*/api/v1/realtime.* failed`)
	b.allow(`net::ERR_(CONNECTION_REFUSED|BLOCKED_BY_CLIENT|CONNECTION_RESET|EMPTY_RESPONSE|SOCKET_NOT_CONNECTED)`)
	b.allow(`Failed to load resource: net::ERR_CONNECTION_REFUSED`)
	// A live refresh that was on its way when the server died fails; htmx logs it.
	b.allow(`^error: htmx:(afterRequest|sendError), `)

	b.blockRealtime(true)
	a.srv.kill()
	b.waitVisible(`#connection`)
	a.srv.start()

	// Customers write while the page cannot reconnect.
	a.publish("r-1", "Ada Lovelace", "Written during the outage")
	second := a.publish("r-2", "Grace Hopper", "A new conversation during the outage")
	if evalJS[bool](b, textExpr(`ol#timeline`, "Written during the outage")) {
		t.Fatal("the message showed while the socket was blocked: this test does not test resume")
	}

	b.blockRealtime(false)
	start := time.Now()
	b.waitJSFor("caught up", `document.body.dataset.live === "connected"`, 25*time.Second)
	b.waitText(`ol#timeline li.tl[data-kind=message]`, "Written during the outage")
	b.waitVisible(rowSel(second))
	b.waitHidden(`#connection`)
	t.Logf("caught up %s after the network came back", time.Since(start).Round(time.Millisecond))
	b.assertNotReloaded()

	t.Run("signed out while disconnected", func(t *testing.T) {
		a, b := a.on(t), b.on(t)
		// The session ends elsewhere (signed out on the server), then the connection drops.
		// live.js asks /api/v1/me why it cannot reconnect; the browser logs the 401 answer.
		b.allow(`status of 401 .*/api/v1/me`)
		// The catch-up's refreshes are done and the socket is cut first, so no live refresh can
		// learn of the sign-out (and navigate to the sign-in page) while the server is down: what
		// is tested is the reconnect.
		b.waitSettled()
		b.blockRealtime(true)
		b.await(`fetch("/logout", {method: "POST", redirect: "manual"})`)
		a.srv.kill()
		a.srv.start()
		b.blockRealtime(false)
		b.waitJSFor("gave up reconnecting", `document.body.dataset.live === "signed-out"`, 25*time.Second)
		b.waitHidden(`#connection`)
		b.assertNotReloaded()
		// The next navigation lands on the sign-in page.
		b.click(rowSel(second) + " a")
		b.waitVisible(`form[action="/login"] input[name=email]`)
	})
}

func TestBrowserShortcuts(t *testing.T) {
	chromiumPath(t)
	a := startApp(t, sqliteOnly(t))
	var ids []int64
	for i, who := range []string{"Ada Lovelace", "Grace Hopper", "Alan Turing"} {
		ids = append(ids, a.publish(fmt.Sprintf("k-%d", i), who, "Message from "+who))
	}
	b := a.newBrowser("owner")
	b.signIn(a.owner)
	for _, id := range ids {
		b.waitVisible(rowSel(id))
	}
	b.blurAll()

	t.Run("? opens help", func(t *testing.T) {
		b := b.on(t)
		b.key("?")
		b.waitJS("help open", `document.getElementById("shortcuts").open`)
		b.key(kbEscape)
		b.waitJS("help closed", `!document.getElementById("shortcuts").open`)
	})

	t.Run("/ focuses search", func(t *testing.T) {
		b := b.on(t)
		b.key("/")
		b.waitJS("search focused", `document.activeElement && document.activeElement.id === "search"`)
		if v := evalJS[string](b, `document.getElementById("search").value`); v != "" {
			t.Fatalf("typing / went into the search field: %q", v)
		}
		b.key(kbEscape)
		b.waitJS("search left", `document.activeElement.id !== "search"`)
	})

	t.Run("j and k move the selection", func(t *testing.T) {
		b := b.on(t)
		rows := evalJS[[]string](b, `[...document.querySelectorAll("#conversation-list li.convrow")].map((r) => r.dataset.id)`)
		if len(rows) < 3 {
			t.Fatalf("rows: %v", rows)
		}
		b.key("j")
		b.waitJS("first row selected", selectedRowIs(rows[0]))
		b.key("j")
		b.waitJS("second row selected", selectedRowIs(rows[1]))
		b.key("k")
		b.waitJS("first row selected again", selectedRowIs(rows[0]))
		b.key("j")
		b.waitJS("second row selected", selectedRowIs(rows[1]))

		// e (or Enter) opens the selected conversation.
		b.key("e")
		b.waitJS("selected conversation open", fmt.Sprintf(`document.querySelector(%s) !== null`, jsq(`#conversation-list li.convrow[data-id="`+rows[1]+`"].convrow--current, #conversation[data-conversation-id="`+rows[1]+`"], #conversation [data-conversation-id="`+rows[1]+`"]`)))
		b.waitVisible(`ol#timeline`)
	})

	t.Run("r focuses the reply", func(t *testing.T) {
		b := b.on(t)
		b.blurAll()
		b.key("r")
		b.waitJS("composer focused", `document.activeElement && document.activeElement.id === "composer-text"`)
		if v := evalJS[string](b, `document.getElementById("composer-text").value`); v != "" {
			t.Fatalf("typing r went into the composer: %q", v)
		}
		b.key(kbEscape)
	})

	t.Run("c focuses a comment", func(t *testing.T) {
		b := b.on(t)
		b.blurAll()
		b.key("c")
		b.waitJS("composer focused", `document.activeElement && document.activeElement.id === "composer-text"`)
		b.waitJS("comment tab selected", `document.getElementById("tab-comment").getAttribute("aria-selected") === "true"`)
		b.key(kbEscape)
	})

	t.Run("x closes", func(t *testing.T) {
		b := b.on(t)
		b.blurAll()
		before := evalJS[string](b, `document.getElementById("close-button").textContent.trim()`)
		b.key("x")
		b.waitJS("closed", fmt.Sprintf(`document.getElementById("close-button").textContent.trim() !== %s`, jsq(before)))
	})

	t.Run("a opens the assign menu", func(t *testing.T) {
		b := b.on(t)
		b.blurAll()
		b.key("a")
		b.waitJS("assign menu open", `(() => { const m = document.getElementById("assign-menu");
			return !!m && m.matches(":popover-open"); })()`)
	})
}

// selectedRowIs is true when the list's selected row (focused, or marked selected) has id.
func selectedRowIs(id string) string {
	return fmt.Sprintf(`(() => {
		const f = document.activeElement && document.activeElement.closest && document.activeElement.closest("li.convrow");
		const s = f || document.querySelector("#conversation-list li.convrow[aria-selected=true], #conversation-list li.convrow.convrow--selected");
		return !!s && s.dataset.id === %s; })()`, jsq(id))
}

const kbEscape = "\u001b"
