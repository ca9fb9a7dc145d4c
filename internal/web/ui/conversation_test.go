package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// timelineOf cuts ol#timeline out of a page or fragment.
func timelineOf(t *testing.T, body string) string {
	t.Helper()
	start := strings.Index(body, `<ol id="timeline"`)
	if start < 0 {
		t.Fatalf("no timeline in:\n%s", body)
	}
	end := strings.Index(body[start:], "</ol>")
	return body[start : start+end+len("</ol>")]
}

// addEvent writes a timeline event as the domain would, for events that take a whole setup
// (routing) to happen for real.
func (h *harness) addEvent(t *testing.T, convID int64, typ string, actor *int64, data map[string]any) {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Store.InTx(t.Context(), func(tx *store.Tx) error {
		return tx.InsertConversationEvent(t.Context(), &store.ConversationEvent{ConversationID: convID, Type: typ, ActorID: actor, Data: raw})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		m1, conv, _, err := h.Inbox.Receive(ctx, inbox.Inbound{
			ChannelID: h.channel.ID, ThreadKey: "t1", Direction: "inbound", ContactName: "Carla Customer",
			ContactIdentities: []store.Identity{{Kind: "email", Value: "carla@customer.test"}},
			Subject:           "Broken invoice", Text: "Hello <there>",
			HTML:        `<p>Hello <b>bold</b> world</p><script>alert(1)</script>`,
			Attachments: json.RawMessage(`[{"name":"photo.png","url":"https://files.example/photo.png","content_type":"image/png","size":2048},{"name":"invoice.pdf","url":"https://files.example/invoice.pdf","content_type":"application/pdf","size":1200000}]`),
		})
		if err != nil {
			t.Fatal(err)
		}
		id := conv.ID
		reply, err := h.Inbox.Reply(ctx, h.agent, id, inbox.ReplyInput{Text: "We are on it"})
		if err != nil {
			t.Fatal(err)
		}
		failed, err := h.Inbox.Reply(ctx, h.agent, id, inbox.ReplyInput{Text: "Second try"})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetMessageStatus(ctx, failed.ID, "failed", "mailbox full"); err != nil {
				return err
			}
			return tx.SetMessageStatus(ctx, reply.ID, "delivered", "")
		})
		if err != nil {
			t.Fatal(err)
		}
		h.receive(t, "t1", "Carla Customer", "Plain <text> & more\nsecond line")
		if _, err := h.Inbox.Comment(ctx, h.admin, id, inbox.CommentInput{Body: "@" + h.agent.Email + " please check <b>this</b>"}); err != nil {
			t.Fatal(err)
		}
		h.addEvent(t, id, "assigned", nil, map[string]any{"assignee_id": h.admin.ID, "previous_assignee_id": h.agent.ID,
			"reason": "routing", "strategy": "round_robin", "eligible": []int64{h.admin.ID},
			"skipped": []map[string]any{{"user_id": h.agent.ID, "reason": "at_capacity", "limit": "total"}}})
		h.addEvent(t, id, "routing_waiting", nil, map[string]any{"reason": "everyone_at_capacity", "eligible": []int64{},
			"skipped": []map[string]any{{"user_id": h.agent.ID, "reason": "away"}}})
		prio := "high"
		if _, err := h.Inbox.Update(ctx, h.admin, id, inbox.Patch{Priority: &prio, Tags: &[]string{"billing"}}); err != nil {
			t.Fatal(err)
		}
		if c, _ := h.Inbox.Conversation(ctx, h.agent, id); !c.Unread {
			t.Fatal("the new message should leave the conversation unread for the agent")
		}

		ag := h.signIn(t, h.agent)
		page := ag.get(t, "/inbox/"+itoa(id), 200)
		tl := timelineOf(t, page)
		mustContain(t, tl,
			`data-live="message.* comment.* conversation.updated"`, `data-live-conversation="`+itoa(id)+`"`,
			`data-live-url="/conversations/`+itoa(id)+`/timeline"`,
			// Messages: the customer's HTML, sanitized; plain text escaped; ours with their status.
			`id="tl-m`+itoa(m1.ID)+`"`, `data-kind="message" data-direction="inbound"`, "Carla Customer",
			"<b>bold</b>", "Plain &lt;text&gt; &amp; more\nsecond line",
			`data-direction="outbound" data-status="delivered"`, "We are on it", "Delivered",
			`data-status="failed"`, "Not delivered: mailbox full", "Ana Agent",
			// Attachments: an image thumbnail and a file link.
			`<img class="tl__thumb" src="https://files.example/photo.png"`, "invoice.pdf", "1.1 MB",
			// The comment, with its mention highlighted and its text escaped.
			`data-kind="comment"`, "Internal comment", "Adam Admin",
			`<span class="mention" title="`+h.agent.Email+`">@Ana Agent</span> please check &lt;b&gt;this&lt;/b&gt;`,
			// Events with their explanations.
			`data-kind="event" data-type="created"`, "Conversation started",
			"Assigned to Ana Agent, who replied",
			"Routing assigned this to Adam Admin", "By round robin", "1 eligible", "Skipped: Ana Agent (at capacity)", "Previously Ana Agent",
			"Waiting for a teammate", "everyone is at capacity", "Skipped: Ana Agent (away)",
			"Adam Admin set the priority to high", "Adam Admin changed the tags", "Added: billing")
		mustNotContain(t, tl, "<script>", "alert(1)", "timeline.")
		// Oldest first, so the newest is at the bottom where the pane opens.
		if strings.Index(tl, "Hello <b>bold</b>") > strings.Index(tl, "We are on it") {
			t.Fatal("timeline is not in time order")
		}
		if c, _ := h.Inbox.Conversation(ctx, h.agent, id); c.Unread {
			t.Fatal("opening the conversation marks it read")
		}

		// The live fragment is the timeline alone.
		frag := ag.htmx(t, "GET", "/conversations/"+itoa(id)+"/timeline", "timeline", nil)
		if frag.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(frag.Body), `<ol id="timeline"`) {
			t.Fatalf("timeline fragment: %d\n%s", frag.StatusCode, frag.Body)
		}
		mustNotContain(t, frag.Body, `id="composer"`, "<html")

		// Swedish, in the user's time zone.
		if _, err := h.WS.UpdateUser(ctx, h.owner, h.agent.ID, workspacePatchLocale("sv", "Asia/Tokyo")); err != nil {
			t.Fatal(err)
		}
		sv := ag.get(t, "/conversations/"+itoa(id)+"/timeline", 200)
		mustContain(t, sv, "Konversationen startade", "Inte levererat: mailbox full", "Intern kommentar", "Enligt tur och ordning")
		created := time.UnixMilli(conv.CreatedAt).In(mustLoc(t, "Asia/Tokyo")).Format(time.RFC3339)
		mustContain(t, sv, `datetime="`+strings.ReplaceAll(created, "+", "&#43;")+`"`)

		// Someone who cannot see the inbox gets nothing.
		out := h.signIn(t, h.outside)
		out.get(t, "/conversations/"+itoa(id)+"/timeline", 404)
		out.get(t, "/inbox/"+itoa(id), 404)
	})
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	return loc
}

func TestComposerSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Carla Customer", "Help")
		id := conv.ID
		ag := h.signIn(t, h.agent)
		page := ag.get(t, "/inbox/"+itoa(id), 200)
		mustContain(t, page, `<form id="composer"`, `hx-post="/conversations/`+itoa(id)+`/send"`, `hx-target="#timeline"`,
			`id="tab-reply"`, `data-shortcut="r"`, `id="tab-comment"`, `data-shortcut="c"`, `name="text"`, `id="composer-text"`,
			`id="composer-send"`, `name="mode" value="reply"`, `class="dropzone" data-attachments data-upload-url="/attachments"`,
			`id="composer-attachments"`, `id="composer-error"`, `href="/snippets"`, "Type / at the start of a line")
		// The composer is outside the live timeline, so live updates never touch the draft.
		if strings.Index(page, `<form id="composer"`) < strings.Index(page, "</ol>") {
			t.Fatal("the composer must come after (outside) the timeline")
		}
		mustNotContain(t, timelineOf(t, page), `id="composer`)

		// A reply by htmx: the new timeline, and an empty composer out of band.
		res := ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline", url.Values{"mode": {"reply"}, "text": {"Thanks, we will look"}})
		if res.StatusCode != 200 {
			t.Fatalf("reply: %d\n%s", res.StatusCode, res.Body)
		}
		mustContain(t, timelineOf(t, res.Body), "Thanks, we will look", `data-direction="outbound"`)
		mustContain(t, res.Body, `<form id="composer"`, `hx-swap-oob="true"`, `name="mode" value="reply"`)
		if !regexp.MustCompile(`<textarea id="composer-text"[^>]*></textarea>`).MatchString(res.Body) {
			t.Fatalf("the composer's text is not cleared:\n%s", res.Body)
		}

		// A comment: the composer stays on the Comment tab.
		res = ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline",
			url.Values{"mode": {"comment"}, "text": {"@" + h.admin.Email + " can you approve?"}})
		if res.StatusCode != 200 {
			t.Fatalf("comment: %d\n%s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, `data-kind="comment"`, `@Adam Admin</span> can you approve?`, `name="mode" value="comment"`,
			`id="tab-comment" class="composer__tab" data-mode="comment" data-shortcut="c"`+"\n            "+`aria-selected="true"`)
		items, err := h.Inbox.Timeline(t.Context(), h.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		var mentioned bool
		for _, it := range items {
			if it.Comment != nil && strings.Contains(string(it.Comment.Mentions), itoa(h.admin.ID)) {
				mentioned = true
			}
		}
		if !mentioned {
			t.Fatal("the @email mention was not resolved")
		}

		// Without scripts: a plain post and a redirect back.
		res = ag.post(t, "/conversations/"+itoa(id)+"/reply", url.Values{"text": {"No script reply"}}, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/inbox/"+itoa(id) {
			t.Fatalf("redirect to %q", loc)
		}

		// A refusal lands in the composer and leaves the form (and its text) alone.
		res = ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline", url.Values{"mode": {"reply"}, "text": {"   "}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.Header.Get("HX-Retarget") != "#composer-error" {
			t.Fatalf("empty reply: %d %v\n%s", res.StatusCode, res.Header, res.Body)
		}
		mustContain(t, res.Body, "Write something before sending.")
		mustNotContain(t, res.Body, `id="composer"`, `id="timeline"`)
		res = ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline", url.Values{"mode": {"shout"}, "text": {"x"}})
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad mode: %d", res.StatusCode)
		}
		res = ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline",
			url.Values{"mode": {"reply"}, "text": {"with a file"}, "attachment": {"17"}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.Header.Get("HX-Retarget") != "#composer-error" {
			t.Fatalf("unknown attachment: %d\n%s", res.StatusCode, res.Body)
		}

		// A channel that cannot send: Reply is disabled with the reason, Comment is the tab.
		delete(h.Inbox.Senders, testKind)
		page = ag.get(t, "/inbox/"+itoa(id), 200)
		mustContain(t, page, `id="composer-blocked"`, "This conversation&#39;s channel cannot send replies.",
			`aria-disabled="true"`, `name="mode" value="comment"`)
		res = ag.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline", url.Values{"mode": {"reply"}, "text": {"Try anyway"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("reply on a channel that cannot send: %d", res.StatusCode)
		}
		mustContain(t, res.Body, "cannot send replies")

		// Outsiders can neither send nor look up people.
		out := h.signIn(t, h.outside)
		if res := out.htmx(t, "POST", "/conversations/"+itoa(id)+"/send", "timeline", url.Values{"mode": {"comment"}, "text": {"hi"}}); res.StatusCode != 404 {
			t.Fatalf("outsider comment: %d", res.StatusCode)
		}
		out.get(t, "/conversations/"+itoa(id)+"/mentions?q=a", 404)
		out.get(t, "/conversations/"+itoa(id)+"/snippets", 404)
	})
}

func TestMentionAutocomplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Carla Customer", "Help")
		ag := h.signIn(t, h.agent)
		menu := ag.get(t, "/conversations/"+itoa(conv.ID)+"/mentions?q=", 200)
		// The owner and admin see every inbox; the agent is a member; the outsider is not.
		mustContain(t, menu, `data-insert="@`+h.owner.Email+`"`, `data-insert="@`+h.admin.Email+`"`, `data-insert="@`+h.agent.Email+`"`, `role="option"`)
		mustNotContain(t, menu, h.outside.Email, "<html")
		menu = ag.get(t, "/conversations/"+itoa(conv.ID)+"/mentions?q=adam", 200)
		mustContain(t, menu, "Adam Admin")
		mustNotContain(t, menu, "Ana Agent", "Olivia Owner")
		menu = ag.get(t, "/conversations/"+itoa(conv.ID)+"/mentions?q=zzz", 200)
		mustContain(t, menu, "Nobody matches.")
	})
}

func TestSnippetsPageAndComposer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, conv := h.receive(t, "t1", "Carla Customer", "Help")
		id := conv.ID
		ag := h.signIn(t, h.agent)
		ad := h.signIn(t, h.admin)

		page := ag.get(t, "/snippets", 200)
		mustContain(t, page, "Snippets", "You have no personal snippets yet.", "{{contact.first_name}}", `name="shortcut"`)
		mustNotContain(t, page, `name="scope"`) // agents cannot share

		res := ag.post(t, "/snippets", url.Values{"shortcut": {"/Thanks"}, "title": {"Thank you"}, "body": {"Thanks {{contact.first_name}}! — {{agent.name}}"}}, http.StatusSeeOther)
		if res.Header.Get("Location") != "/snippets?flash=snippets.created" {
			t.Fatalf("redirect: %q", res.Header.Get("Location"))
		}
		page = ag.get(t, "/snippets?flash=snippets.created", 200)
		mustContain(t, page, "Snippet created.", "/thanks", "Thank you", "Personal")

		// Refusals show the form again with what was typed.
		res = ag.post(t, "/snippets", url.Values{"shortcut": {"thanks"}, "title": {"Again"}, "body": {"Kept body text"}}, http.StatusUnprocessableEntity)
		mustContain(t, res.Body, "That shortcut is already taken.", `value="Again"`, "Kept body text", `aria-invalid="true"`)
		res = ag.post(t, "/snippets", url.Values{"shortcut": {"team"}, "body": {"For all"}, "scope": {"shared"}}, http.StatusUnprocessableEntity)
		mustContain(t, res.Body, "Only owners and admins may do this.", "For all")

		// Admins share; agents use shared snippets but cannot change them.
		ad.post(t, "/snippets", url.Values{"shortcut": {"hello"}, "title": {"Greeting"}, "body": {"Hello {{contact.name}}"}, "scope": {"shared"}}, http.StatusSeeOther)
		list, err := h.Inbox.Snippets(t.Context(), h.agent, "", 0)
		if err != nil || len(list) != 2 {
			t.Fatalf("agent's snippets: %+v %v", list, err)
		}
		var mine, shared store.Snippet
		for _, sn := range list {
			if sn.Shared() {
				shared = sn
			} else {
				mine = sn
			}
		}
		page = ag.get(t, "/snippets", 200)
		mustContain(t, page, `id="snippet-`+itoa(shared.ID)+`"`, "Greeting", `action="/snippets/`+itoa(mine.ID)+`"`)
		mustNotContain(t, page, `action="/snippets/`+itoa(shared.ID)+`"`)
		ag.post(t, "/snippets/"+itoa(shared.ID)+"/delete", url.Values{}, http.StatusForbidden)
		ag.post(t, "/snippets/"+itoa(shared.ID), url.Values{"shortcut": {"x"}, "body": {"y"}}, http.StatusUnprocessableEntity)
		if page := ad.get(t, "/snippets", 200); strings.Contains(page, "/thanks") {
			t.Fatal("an admin sees someone's personal snippet")
		}
		ad.post(t, "/snippets/"+itoa(mine.ID)+"/delete", url.Values{}, http.StatusNotFound)

		// Edit and delete one's own.
		ag.post(t, "/snippets/"+itoa(mine.ID), url.Values{"shortcut": {"ty"}, "title": {"Thanks"}, "body": {"Thanks {{contact.first_name}}! — {{agent.name}} (#{{conversation.number}})"}}, http.StatusSeeOther)
		res = ag.post(t, "/snippets/"+itoa(mine.ID), url.Values{"shortcut": {"bad shortcut"}, "body": {"Still here"}}, http.StatusUnprocessableEntity)
		mustContain(t, res.Body, "A shortcut is 1–32", "Still here", "<details class=\"snippet__edit\" open>")

		// In the composer: "/" lists them, picking one fills in its tokens.
		menu := ag.get(t, "/conversations/"+itoa(id)+"/snippets?q=ty", 200)
		mustContain(t, menu, "/ty", `data-snippet-url="/conversations/`+itoa(id)+`/snippets/`+itoa(mine.ID)+`"`)
		mustNotContain(t, menu, "/hello")
		menu = ag.get(t, "/conversations/"+itoa(id)+"/snippets", 200)
		mustContain(t, menu, "/ty", "/hello", "Shared")
		text := ag.get(t, "/conversations/"+itoa(id)+"/snippets/"+itoa(mine.ID), 200)
		if want := "Thanks Carla! — Ana Agent (#" + itoa(conv.Number) + ")"; text != want {
			t.Fatalf("expanded %q, want %q", text, want)
		}
		if text := ag.get(t, "/conversations/"+itoa(id)+"/snippets/"+itoa(shared.ID), 200); text != "Hello Carla Customer" {
			t.Fatalf("shared expanded %q", text)
		}
		ad.get(t, "/conversations/"+itoa(id)+"/snippets/"+itoa(mine.ID), 404)

		ag.post(t, "/snippets/"+itoa(mine.ID)+"/delete", url.Values{}, http.StatusSeeOther)
		mustContain(t, ag.get(t, "/snippets?flash=snippets.deleted", 200), "Snippet deleted.", "You have no personal snippets yet.")
	})
}

// TestTimelineEventTexts: every event type the domain writes reads as a sentence in every
// language, with no key showing through.
func TestTimelineEventTexts(t *testing.T) {
	one := int64(1)
	people := &inbox.TimelinePeople{
		Users:   map[int64]*store.User{1: {ID: 1, Name: "Ana"}, 2: {ID: 2, Name: "Bo"}},
		Teams:   map[int64]*store.Team{3: {ID: 3, Name: "Billing"}},
		Inboxes: map[int64]string{4: "Support", 5: "Sales"},
	}
	events := []struct {
		typ   string
		actor *int64
		data  string
	}{
		{"created", nil, `{"channel_id": 1, "direction": "inbound"}`},
		{"created", nil, `{"channel_id": 1, "direction": "outbound"}`},
		{"assigned", &one, `{"assignee_id": 2, "reason": "manual", "previous_assignee_id": 1}`},
		{"assigned", &one, `{"assignee_id": 1, "reason": "manual"}`},
		{"assigned", &one, `{"assignee_id": 1, "reason": "replied"}`},
		{"assigned", nil, `{"assignee_id": 2, "reason": "routing", "strategy": "balanced", "eligible": [2], "skipped": [{"user_id": 1, "reason": "outside_working_hours"}]}`},
		{"assigned", nil, `{"assignee_id": 2, "reason": "routing", "strategy": "contact_owner", "eligible": [2], "skipped": [{"user_id": 1, "reason": "not_inbox_member"}, {"user_id": 9, "reason": "deactivated"}]}`},
		{"assigned", nil, `{"assignee_id": 2, "reason": "routing", "strategy": "previous_assignee", "fallback": true, "eligible": [1, 2], "skipped": [{"user_id": 1, "reason": "role"}]}`},
		{"unassigned", &one, `{"previous_assignee_id": 2, "reason": "manual"}`},
		{"unassigned", &one, `{"previous_assignee_id": 2, "reason": "no access to the new inbox"}`},
		{"unassigned", nil, `{"previous_assignee_id": 2, "reason": "routing"}`},
		{"team_assigned", &one, `{"team_id": 3}`},
		{"team_unassigned", &one, `{"previous_team_id": 3}`},
		{"closed", &one, `{}`},
		{"reopened", &one, `{"reason": "manual"}`},
		{"reopened", nil, `{"reason": "new inbound message"}`},
		{"snoozed", &one, `{"snoozed_until": "2030-01-02T09:00:00Z"}`},
		{"unsnoozed", &one, `{"reason": "manual"}`},
		{"unsnoozed", nil, `{"reason": "new inbound message"}`},
		{"unsnoozed", nil, `{}`},
		{"priority_changed", &one, `{"priority": "urgent", "previous_priority": "none"}`},
		{"priority_changed", &one, `{"priority": "low", "previous_priority": "medium"}`},
		{"tags_changed", &one, `{"tags": ["a"], "added": ["a"], "removed": ["b"]}`},
		{"marked_spam", &one, `{"reason": "manual"}`},
		{"marked_spam", nil, `{"reason": "blocked contact"}`},
		{"marked_not_spam", &one, `{"reason": "manual"}`},
		{"trashed", &one, `{}`},
		{"restored", &one, `{}`},
		{"moved", &one, `{"from_inbox_id": 4, "to_inbox_id": 5}`},
		{"routing_waiting", nil, `{"reason": "nobody_eligible", "eligible": [], "skipped": [{"user_id": 1, "reason": "away"}]}`},
		{"routing_waiting", nil, `{"reason": "everyone_at_capacity", "eligible": [], "skipped": [{"user_id": 1, "reason": "at_capacity"}]}`},
		{"something_new", &one, `{}`},
	}
	for _, code := range Languages {
		pg := &Page{Lang: langs[code], Loc: time.UTC}
		b := timelineBuilder{pg: pg, people: people, now: time.Now()}
		for _, ev := range events {
			e := b.entry(inbox.TimelineItem{Kind: "event", CreatedAt: store.Now(),
				Event: &store.ConversationEvent{ID: 1, Type: ev.typ, ActorID: ev.actor, Data: json.RawMessage(ev.data)}})
			if e.Text == "" || strings.Contains(e.Text+e.Detail, "timeline.") || strings.Contains(e.Text+e.Detail, "%!") {
				t.Errorf("%s %s %s: %q / %q", code, ev.typ, ev.data, e.Text, e.Detail)
			}
		}
		for _, status := range []string{"queued", "sent", "delivered", "read", "failed"} {
			if got := pg.T("timeline.status." + status); strings.HasPrefix(got, "timeline.") {
				t.Errorf("%s: no word for status %s", code, status)
			}
		}
	}
}

func TestHighlightMentions(t *testing.T) {
	marks := []mention{{Text: "@ana@example.com", Name: "@Ana", Title: "ana@example.com"}, {Text: "@Sales team", Name: "@Sales team", Title: "Team"}}
	for in, want := range map[string]string{
		"hi @ANA@example.com.":                `hi <span class="mention" title="ana@example.com">@Ana</span>.`,
		"@ana@example.com.au is someone else": "@ana@example.com.au is someone else",
		"<b>@Sales team</b> & co":             `&lt;b&gt;<span class="mention" title="Team">@Sales team</span>&lt;/b&gt; &amp; co`,
		"no mention @ all @":                  "no mention @ all @",
	} {
		if got := string(highlightMentions(in, marks)); got != want {
			t.Errorf("%q:\n got %s\nwant %s", in, got, want)
		}
	}
}

func workspacePatchLocale(locale, tz string) workspace.UserPatch {
	return workspace.UserPatch{Locale: &locale, TimeZone: &tz}
}
