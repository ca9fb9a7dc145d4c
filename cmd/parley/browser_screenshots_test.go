package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestScreenshots seeds a workspace that looks like a team's and captures the app's main screens.
// It runs with the other browser tests (so the screens at least render without a console error);
// the PNGs go to a temporary directory, or to PARLEY_SCREENSHOTS when set:
//
//	PARLEY_SCREENSHOTS=$PWD/docs/screenshots go test -run TestScreenshots ./cmd/parley/
func TestScreenshots(t *testing.T) {
	chromiumPath(t)
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, sqliteOnly(t))
	w := seedWorkspace(t, a)

	save := func(b *browser, name string) {
		t.Helper()
		// Let transitions and the live socket settle, so the picture is the steady page.
		if b.has(`body[data-user-id]:not([data-user-id=""])`) {
			b.waitLive()
		}
		b.waitJS("fonts and images", `document.fonts.status === "loaded" && [...document.images].every((i) => i.complete)`)
		if err := os.WriteFile(filepath.Join(dir, name), b.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	signedOut := a.newBrowser("visitor")
	signedOut.open("/login")
	signedOut.waitVisible(`form[action="/login"]`)
	save(signedOut, "sign-in.png")

	b := a.newBrowser("owner")
	b.viewport(1440, 900)
	b.signIn(a.owner)
	b.open(fmt.Sprintf("/inbox/%d", w.open))
	b.waitVisible(`ol#timeline`)
	b.fill(`#composer-text`, "Hi Ada! The school discount is 40% on every plan. Shall I apply it to your next invoice?")
	b.blurAll()
	save(b, "inbox.png")

	b.setDark(true)
	save(b, "inbox-dark.png")
	b.setDark(false)

	b.open(fmt.Sprintf("/inbox/%d", w.failed))
	b.waitVisible(`ol#timeline`)
	b.click(`#tab-comment`)
	b.fill(`#composer-text`, "@Ben could you check the SMS gateway? Two replies bounced today.")
	b.blurAll()
	save(b, "conversation.png")

	b.viewport(1680, 1000)
	b.open(fmt.Sprintf("/inbox/%d", w.open))
	b.waitVisible(`#contact-sidebar`)
	save(b, "contact-sidebar.png")

	b.viewport(1440, 900)
	b.open("/settings")
	save(b, "settings.png")
	b.open("/settings/channels")
	save(b, "settings-channels.png")

	b.viewport(390, 844)
	b.open("/inbox")
	b.waitVisible(`#conversation-list`)
	save(b, "phone-list.png")
	// Reported, not asserted: the layout is the pages' (base.css); a page wider than the phone
	// scrolls sideways.
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Logf("phone: the inbox is %dpx wide on a 390px screen", w)
	}
	b.open(fmt.Sprintf("/inbox/%d", w.open))
	b.waitVisible(`ol#timeline`)
	save(b, "phone-conversation.png")

	sv := a.newBrowser("sven")
	sv.viewport(1440, 900)
	sv.signIn(w.swede)
	sv.open(fmt.Sprintf("/inbox/%d", w.open))
	sv.waitJS("Swedish", `document.documentElement.lang === "sv"`)
	sv.waitVisible(`ol#timeline`)
	save(sv, "inbox-sv.png")
	t.Logf("screenshots in %s", dir)
}

// seeded is what seedWorkspace made that the screenshots open.
type seeded struct {
	open, failed int64
	swede        appUser
}

// seedWorkspace fills the app with a small team's day: several contacts on two channels, some
// assigned, priorities, tags, internal comments and a reply the channel failed to deliver.
func seedWorkspace(t *testing.T, a *app) seeded {
	t.Helper()
	ana := a.createUser("Ana Andersson", "ana@example.com", "agent")
	ben := a.createUser("Ben Okafor", "ben@example.com", "agent")
	swede := a.createUser("Sven Lindqvist", "sven@example.com", "admin")
	mustCall(t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/users/%d", swede.ID)), a.token, map[string]any{"locale": "sv", "job_title": "Supportchef"}, nil)
	var team struct{ ID int64 }
	mustCall(t, "POST", a.srv.url("/api/v1/teams"), a.token, map[string]any{"name": "Billing",
		"members": []map[string]any{{"user_id": ana.ID, "is_primary": true}, {"user_id": ben.ID, "is_primary": true}}}, &team)
	chatChannel, chatAccount := a.connectChannel("Shop chat", a.inboxID, "shop-chat")
	chat := func(thread, who, text string) int64 {
		return a.publishOn(chatChannel, chatAccount, "shop-chat", thread, who, text)
	}

	ada := a.publish("ada", "Ada Lovelace", "Hi! We are a school of 40 pupils — is there a discount for schools?")
	a.publish("ada", "Ada Lovelace", "We are on the Team plan today, billed yearly.")
	comment(t, a, ada, "Schools get 40% off, see the pricing wiki. I'll take this one.")
	a.patch(ada, map[string]any{"assignee_id": a.owner.ID, "priority": "high", "tags": []string{"pricing", "education"}})

	grace := chat("grace", "Grace Hopper", "The export to CSV has been spinning for ten minutes.")
	a.patch(grace, map[string]any{"assignee_id": ana.ID, "priority": "urgent", "tags": []string{"bug"}})

	alan := a.publish("alan", "Alan Turing", "Can I change the card you charge every month?")
	a.patch(alan, map[string]any{"assignee_id": ben.ID, "team_id": team.ID, "tags": []string{"billing"}})

	failed := a.publish("katherine", "Katherine Johnson", "My order #4411 arrived damaged, what now?")
	reply := struct{ ID int64 }{}
	mustCall(t, "POST", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d/messages", failed)), a.token,
		map[string]any{"text": "So sorry, Katherine! A replacement is on its way today."}, &reply)
	mustCall(t, "PATCH", a.srv.url(fmt.Sprintf("/api/v1/custom-channels/%s/messages/%d", a.channelID, reply.ID)), a.token,
		map[string]any{"statusType": "FAILED", "errorMessage": "Recipient number is not reachable (carrier code 30003)"}, nil)
	a.patch(failed, map[string]any{"assignee_id": ana.ID, "priority": "medium", "tags": []string{"orders"}})

	chat("margaret", "Margaret Hamilton", "Does the Pro plan include SSO?")
	a.publish("linus", "Linus Svensson", "Hej! Do you ship to Sweden?")
	closed := chat("edsger", "Edsger Dijkstra", "Thanks, all sorted!")
	a.patch(closed, map[string]any{"status": "closed"})
	chat("barbara", "Barbara Liskov", "Is there an API for bulk-importing contacts?")
	return seeded{open: ada, failed: failed, swede: swede}
}

func comment(t *testing.T, a *app, conversationID int64, body string) {
	t.Helper()
	mustCall(t, "POST", a.srv.url(fmt.Sprintf("/api/v1/conversations/%d/comments", conversationID)), a.token, map[string]any{"body": body}, nil)
}
