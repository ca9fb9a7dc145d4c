package ui

import (
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

// navCount returns the count the left pane shows on the entry linking to href ("" when the
// entry shows none) and whether the entry is there at all.
func navCount(body, href string) (string, bool) {
	i := strings.Index(body, `href="`+href+`"`)
	if i < 0 {
		return "", false
	}
	rest := body[i:]
	rest = rest[:strings.Index(rest, "</a>")]
	m := regexp.MustCompile(`class="count">(\d+)<`).FindStringSubmatch(rest)
	if m == nil {
		return "", true
	}
	return m[1], true
}

func mustCount(t *testing.T, body, href, want string) {
	t.Helper()
	got, ok := navCount(body, href)
	if !ok {
		t.Fatalf("no left pane entry %s", href)
	}
	if got != want {
		t.Fatalf("count of %s: %q, want %q", href, got, want)
	}
}

// rowIDs returns the conversation ids of the list's rows, in order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<li class="convrow[^"]*" id="conv-\d+" data-id="(\d+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func mustRows(t *testing.T, body string, want ...*store.Conversation) {
	t.Helper()
	got := rowIDs(body)
	var w []string
	for _, c := range want {
		w = append(w, itoa(c.ID))
	}
	if strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("rows %v, want %v", got, w)
	}
}

func (h *harness) update(t *testing.T, actor *store.User, c *store.Conversation, p inbox.Patch) {
	t.Helper()
	if _, err := h.Inbox.Update(t.Context(), actor, c.ID, p); err != nil {
		t.Fatal(err)
	}
}

// privateInbox creates an inbox only admins see, with a channel, and receives one conversation in it.
func (h *harness) privateInbox(t *testing.T, name string) (*store.Inbox, *store.Conversation) {
	t.Helper()
	in, err := h.WS.CreateInbox(t.Context(), nil, workspace.NewInbox{Name: name, Access: workspace.AccessSpecific})
	if err != nil {
		t.Fatal(err)
	}
	ch := &store.Channel{InboxID: in.ID, Kind: "email", Name: name + " mail", Authorized: true}
	if err := h.Store.InTx(t.Context(), func(tx *store.Tx) error { _, err := tx.InsertChannel(t.Context(), ch); return err }); err != nil {
		t.Fatal(err)
	}
	_, c, _, err := h.Inbox.Receive(t.Context(), inbox.Inbound{ChannelID: ch.ID, ThreadKey: "p-" + name, Direction: "inbound",
		ContactName: "Secret Sam", ContactIdentities: []store.Identity{{Kind: "email", Value: "sam@secret.test"}},
		Subject: "Private matter", Text: "hush"})
	if err != nil {
		t.Fatal(err)
	}
	return in, c
}

func TestInboxViewsAndCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		_, c1 := h.receive(t, "v1", "Grace Hopper", "first")
		_, c2 := h.receive(t, "v2", "Ada Lovelace", "second")
		_, c3 := h.receive(t, "v3", "Alan Turing", "third")
		_, c4 := h.receive(t, "v4", "Edsger Dijkstra", "fourth")
		team, err := h.WS.CreateTeam(ctx, h.owner, workspace.NewTeam{Name: "Billing", Members: []store.TeamMember{{UserID: h.agent.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		h.update(t, h.admin, c1, inbox.Patch{AssigneeID: &h.agent.ID, TeamID: &team.ID})
		until := time.Now().Add(2 * time.Hour).UnixMilli()
		h.update(t, h.admin, c2, inbox.Patch{SnoozedUntil: &until})
		closed := "closed"
		h.update(t, h.admin, c3, inbox.Patch{Status: &closed})
		_, private := h.privateInbox(t, "Legal")

		agent := h.signIn(t, h.agent)
		body := agent.get(t, "/inbox", 200)
		// Open: c1 and c4 (c2 is snoozed, c3 closed, the private one unseen).
		mustCount(t, body, "/inbox?view=open", "2")
		mustCount(t, body, "/inbox?view=unassigned", "1")
		mustCount(t, body, "/inbox?view=mine", "1")
		mustCount(t, body, "/inbox?view=snoozed", "1")
		mustCount(t, body, "/inbox?view=closed", "")
		mustCount(t, body, "/inbox?view=spam", "")
		mustCount(t, body, "/inbox?view=trash", "")
		mustCount(t, body, "/inbox?team="+itoa(team.ID)+"&amp;view=open", "1")
		mustCount(t, body, "/inbox?channel="+itoa(h.channel.ID)+"&amp;view=open", "2")
		mustCount(t, body, "/inbox?inbox="+itoa(h.support.ID)+"&amp;view=open", "2")
		mustContain(t, body, "Billing", "Support chat", `data-live="conversation.created conversation.updated conversation.removed"`)
		mustNotContain(t, body, "Legal", "Secret Sam")
		// The default view is All open, marked current, newest first.
		mustRows(t, body, c4, c1)
		if !strings.Contains(body, `href="/inbox?view=open" hx-get="/inbox?view=open" hx-target="#main" hx-swap="morph:innerHTML" hx-push-url="true" aria-current="page"`) {
			t.Fatal("All open is not marked current")
		}

		mustRows(t, agent.get(t, "/inbox?view=unassigned", 200), c4)
		mustRows(t, agent.get(t, "/inbox?view=mine", 200), c1)
		mustRows(t, agent.get(t, "/inbox?view=snoozed", 200), c2)
		mustRows(t, agent.get(t, "/inbox?view=closed", 200), c3)
		mustRows(t, agent.get(t, "/inbox?view=open&team="+itoa(team.ID), 200), c1)
		mustRows(t, agent.get(t, "/inbox?view=spam", 200))
		mustContain(t, agent.get(t, "/inbox?view=trash", 200), "The trash is empty")
		agent.get(t, "/inbox?view=nonsense", 400)

		// The admin sees the private inbox too; its count is theirs.
		body = h.signIn(t, h.admin).get(t, "/inbox", 200)
		mustCount(t, body, "/inbox?view=open", "3")
		mustContain(t, body, "Legal", "Secret Sam")

		// The outsider sees nothing: no rows, no counts, no channel, no inbox.
		outside := h.signIn(t, h.outside)
		body = outside.get(t, "/inbox", 200)
		mustRows(t, body)
		mustCount(t, body, "/inbox?view=open", "")
		mustCount(t, body, "/inbox?view=snoozed", "")
		mustNotContain(t, body, "Support chat", "Grace Hopper")
		if _, ok := navCount(body, "/inbox?team="+itoa(team.ID)+"&amp;view=open"); ok {
			t.Fatal("the outsider has a view of a team they are not in")
		}
		mustContain(t, body, "No open conversations")
		outside.get(t, "/inbox?view=open&inbox="+itoa(h.support.ID), 200)
		mustRows(t, outside.get(t, "/inbox?view=all&q=Grace", 200))
		_ = private

		// A live refresh of the counts asks for the left pane only, and gets no list.
		res := agent.htmx(t, "GET", "/inbox/"+itoa(c1.ID), "inbox-nav", nil)
		mustContain(t, res.Body, `id="inbox-nav"`, `class="count">2<`)
		mustNotContain(t, res.Body, "<html", `id="conversation-list"`, "convrow")
	})
}

func TestInboxListRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, c1 := h.receive(t, "r1", "Grace Hopper", "My order has not arrived")
		urgent, tags := "urgent", []string{"vip", "billing", "eu", "late"}
		h.update(t, h.admin, c1, inbox.Patch{AssigneeID: &h.admin.ID, Priority: &urgent, Tags: &tags})
		_, c2 := h.receive(t, "r2", "Ada Lovelace", "Hello")
		if err := h.Inbox.MarkRead(t.Context(), h.agent, c2.ID); err != nil {
			t.Fatal(err)
		}

		agent := h.signIn(t, h.agent)
		body := agent.get(t, "/inbox/"+itoa(c1.ID), 200)
		mustRows(t, body, c2, c1)
		row := body[strings.Index(body, `id="conv-`+itoa(c1.ID)+`"`):]
		row = row[:strings.Index(row, "</li>")]
		mustContain(t, row,
			`convrow--unread`[:0], // (the class sits on the li's opening tag, checked below)
			"Grace Hopper", "Question from Grace Hopper", "My order has not arrived",
			`<svg class="chicon"`, `title="Support chat"`,
			`<time class="convrow__time" datetime="`, `title="20`, // absolute time in a title
			">now<", "Unread", "prio--urgent", ">Urgent<",
			">billing<", ">eu<", ">late<", ">+1<", "Assigned to Adam Admin", `aria-current="true"`,
			`type="checkbox" name="id" value="`+itoa(c1.ID)+`" form="bulk"`)
		mustContain(t, body, `<li class="convrow convrow--unread convrow--current" id="conv-`+itoa(c1.ID)+`" data-id="`+itoa(c1.ID)+`"`,
			`<li class="convrow" id="conv-`+itoa(c2.ID)+`" data-id="`+itoa(c2.ID)+`"`)
		// The list container, the search box with its shortcut, the bulk form.
		mustContain(t, body, `id="conversation-list"`, `data-live="conversation.* message.created"`,
			`id="search" name="q"`, `data-shortcut="/"`, `<form id="bulk"`, `id="select-all"`, `id="filters"`)
		// The row opens the conversation in the right pane, keeping the list's state.
		mustContain(t, body, `hx-get="/inbox/`+itoa(c2.ID)+`" hx-target="#conversation" hx-push-url="true"`)
		mustContain(t, agent.get(t, "/inbox/"+itoa(c1.ID)+"?view=open&tag=vip", 200), `href="/inbox/`+itoa(c1.ID)+`?tag=vip&amp;view=open"`)
		// The list module is part of the app: j/k (parley:move), "e" and bulk selection live there.
		js := agent.get(t, h.UI.assets.path("js/list.js"), 200)
		mustContain(t, agent.get(t, h.UI.assets.path("js/app.js"), 200), `import "./list.js"`)
		mustContain(t, js, "parley:move", `dataset.shortcut = "e"`, "shiftKey")

		// htmx asking for the list gets only the list, with the open conversation marked.
		res := agent.htmx(t, "GET", "/inbox/"+itoa(c1.ID), "conversation-list", nil)
		mustContain(t, res.Body, `id="conversation-list"`, "convrow--current")
		mustNotContain(t, res.Body, "<html", `id="inbox-nav"`)
	})
}

func TestRelativeTime(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no time zone data")
	}
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, loc) // a Saturday
	en, sv := langs["en"], langs["sv"]
	for _, c := range []struct {
		at   time.Time
		l    *Lang
		want string
	}{
		{now.Add(-10 * time.Second), en, "now"},
		{now.Add(-5 * time.Minute), en, "5 min"},
		{now.Add(-3 * time.Hour), en, "3 h"},
		{now.Add(-3 * time.Hour), sv, "3 tim"},
		{now.Add(-20 * time.Hour), en, "yesterday"},
		{now.Add(-20 * time.Hour), sv, "i går"},
		{now.AddDate(0, 0, -3), en, "Wed"},
		{now.AddDate(0, 0, -10), en, "Nov 11"},
		{now.AddDate(0, 0, -10), sv, "11 nov"},
		{now.AddDate(-1, 0, 0), en, "Nov 21, 2025"},
		{now.AddDate(-1, 0, 0), langs["da"], "21. nov 2025"},
	} {
		if got := relativeTime(c.l, now, c.at, loc); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.l.Code, now.Sub(c.at), got, c.want)
		}
	}
}

func TestInboxLoadMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		var convs []*store.Conversation
		for i := range 52 {
			_, c := h.receive(t, "m"+itoa(int64(i)), "Customer "+itoa(int64(i)), "hi")
			convs = append(convs, c)
		}
		agent := h.signIn(t, h.agent)
		body := agent.get(t, "/inbox", 200)
		if n := len(rowIDs(body)); n != 50 {
			t.Fatalf("first page: %d rows", n)
		}
		m := regexp.MustCompile(`<li id="list-more" class="convlist__more">\s*<a class="btn btn--sm btn--ghost" href="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no load more")
		}
		next := strings.ReplaceAll(m[1], "&amp;", "&")
		res := agent.htmx(t, "GET", next, "list-more", nil)
		mustRows(t, res.Body, convs[1], convs[0])
		mustNotContain(t, res.Body, "<html", `id="conversation-list"`, `id="list-more"`)
	})
}

func TestInboxFiltersAndSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, c1 := h.receive(t, "f1", "Grace Hopper", "The invoice is wrong")
		_, c2 := h.receive(t, "f2", "Ada Lovelace", "Where is my parcel")
		_, c3 := h.receive(t, "f3", "Alan Turing", "Another invoice question")
		high, tags, closed := "high", []string{"vip"}, "closed"
		h.update(t, h.admin, c1, inbox.Patch{Priority: &high, Tags: &tags, AssigneeID: &h.agent.ID})
		h.update(t, h.admin, c3, inbox.Patch{Status: &closed})
		team, err := h.WS.CreateTeam(t.Context(), h.owner, workspace.NewTeam{Name: "Billing"})
		if err != nil {
			t.Fatal(err)
		}
		h.update(t, h.admin, c2, inbox.Patch{TeamID: &team.ID})

		agent := h.signIn(t, h.agent)
		mustRows(t, agent.get(t, "/inbox?priority=high", 200), c1)
		mustRows(t, agent.get(t, "/inbox?tag=vip", 200), c1)
		mustRows(t, agent.get(t, "/inbox?assignee=me", 200), c1)
		mustRows(t, agent.get(t, "/inbox?assignee=none", 200), c2)
		mustRows(t, agent.get(t, "/inbox?assignee="+itoa(h.agent.ID), 200), c1)
		mustRows(t, agent.get(t, "/inbox?team="+itoa(team.ID), 200), c2)
		mustRows(t, agent.get(t, "/inbox?channel="+itoa(h.channel.ID), 200), c2, c1)
		mustRows(t, agent.get(t, "/inbox?status=closed", 200), c3)
		mustRows(t, agent.get(t, "/inbox?status=any", 200), c3, c2, c1)
		mustRows(t, agent.get(t, "/inbox?inbox="+itoa(h.support.ID)+"&status=any&priority=high", 200), c1)
		today := time.Now().UTC().Format("2006-01-02")
		tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
		mustRows(t, agent.get(t, "/inbox?from="+today+"&to="+today, 200), c2, c1)
		body := agent.get(t, "/inbox?from="+tomorrow, 200)
		mustRows(t, body)
		mustContain(t, body, "No conversations match these filters", "Clear filters")
		// The filter bar shows what is set.
		body = agent.get(t, "/inbox?priority=high&tag=vip", 200)
		mustContain(t, body, `<option value="high" selected>`, `name="tag" value="vip"`, `<details class="filterbar__more" open>`)
		// Bad filters are a clear error, not a broken page.
		mustContain(t, agent.get(t, "/inbox?channel=abc", 400), "One of the filters is not valid")
		mustContain(t, agent.get(t, "/inbox?from=yesterday", 400), "Enter dates like 2026-01-31")
		agent.get(t, "/inbox?status=pending", 400)

		// Search within the view (open), and across every conversation from the empty state.
		mustRows(t, agent.get(t, "/inbox?q=invoice", 200), c1)
		mustRows(t, agent.get(t, "/inbox?view=all&q=invoice", 200), c3, c1)
		mustRows(t, agent.get(t, "/inbox?q=Lovelace", 200), c2)
		body = agent.get(t, "/inbox?q=zebra", 200)
		mustContain(t, body, "Nothing matches “zebra”", `href="/inbox?q=zebra&amp;view=all"`)

		// Search as you type: the filter form asks for the list; the address bar gets the clean query.
		res := agent.htmx(t, "GET", "/inbox?view=&q=invoice&status=&channel=&tag=", "conversation-list", nil)
		mustRows(t, res.Body, c1)
		mustNotContain(t, res.Body, "<html", `id="filters"`)
		if got := res.Header.Get("HX-Push-Url"); got != "/inbox?q=invoice" {
			t.Fatalf("HX-Push-Url %q", got)
		}
		// With a conversation open the address keeps it; a live refresh pushes nothing.
		res = agent.do(t, "GET", "/inbox/"+itoa(c1.ID)+"?q=invoice", nil, map[string][]string{
			"Hx-Request": {"true"}, "Hx-Target": {"conversation-list"}, "Hx-Current-Url": {h.URL + "/inbox/" + itoa(c1.ID)}})
		if got := res.Header.Get("HX-Push-Url"); got != "/inbox/"+itoa(c1.ID)+"?q=invoice" {
			t.Fatalf("HX-Push-Url with a conversation open: %q", got)
		}
		res = agent.do(t, "GET", "/inbox?q=invoice", nil, map[string][]string{
			"Hx-Request": {"true"}, "Hx-Target": {"conversation-list"}, "X-Parley-Live": {"1"}})
		if got := res.Header.Get("HX-Push-Url"); got != "" {
			t.Fatalf("a live refresh pushed %q", got)
		}
	})
}

func TestBulkActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		ctx := t.Context()
		_, c1 := h.receive(t, "b1", "Grace Hopper", "one")
		_, c2 := h.receive(t, "b2", "Ada Lovelace", "two")
		_, c3 := h.receive(t, "b3", "Alan Turing", "three")
		legal, private := h.privateInbox(t, "Legal")
		sales, err := h.WS.CreateInbox(ctx, nil, workspace.NewInbox{Name: "Sales", Access: workspace.AccessEveryone})
		if err != nil {
			t.Fatal(err)
		}
		agent := h.signIn(t, h.agent)
		bulk := func(action string, extra url.Values, convs ...*store.Conversation) response {
			t.Helper()
			form := url.Values{"action": {action}}
			for k, v := range extra {
				form[k] = v
			}
			for _, c := range convs {
				form.Add("id", itoa(c.ID))
			}
			return agent.do(t, "POST", "/conversations/bulk", form, map[string][]string{
				"Hx-Request": {"true"}, "Hx-Target": {"conversation-list"}, "Hx-Current-Url": {h.URL + "/inbox?view=open"}})
		}
		get := func(c *store.Conversation) *store.Conversation {
			t.Helper()
			got, err := h.Store.Conversation(ctx, c.ID, h.admin.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		// Close two the agent sees and one they do not: two succeed, one fails, nothing aborts.
		res := bulk("close", nil, c1, private, c2)
		if res.StatusCode != 200 {
			t.Fatalf("bulk close: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, `id="conversation-list"`, `hx-swap-oob="beforeend:#toasts"`,
			"2 conversations updated.", "1 could not be changed")
		mustRows(t, res.Body, c3) // the list the agent looks at, after the change
		if get(c1).Status != "closed" || get(c2).Status != "closed" || get(private).Status != "open" {
			t.Fatal("close applied wrongly")
		}
		res = bulk("reopen", nil, c1, c2)
		mustContain(t, res.Body, "2 conversations updated.")
		mustNotContain(t, res.Body, "could not")
		if get(c1).Status != "open" {
			t.Fatal("not reopened")
		}

		// Assign to a user, to me, and unassign.
		bulk("assign", url.Values{"assignee": {itoa(h.admin.ID)}}, c1, c2)
		if a := get(c1).AssigneeID; a == nil || *a != h.admin.ID {
			t.Fatalf("assignee %v", a)
		}
		bulk("assign", url.Values{"assignee": {"me"}}, c1)
		if a := get(c1).AssigneeID; a == nil || *a != h.agent.ID {
			t.Fatalf("assignee %v", a)
		}
		// The outsider cannot be assigned (no access): every row fails, the toast says so.
		res = bulk("assign", url.Values{"assignee": {itoa(h.outside.ID)}}, c1)
		mustContain(t, res.Body, "0 conversations updated.", "toast--error")
		bulk("assign", url.Values{"assignee": {"none"}}, c1, c2)
		if get(c1).AssigneeID != nil || get(c2).AssigneeID != nil {
			t.Fatal("not unassigned")
		}

		// Tag adds to the tags a conversation has.
		tags := []string{"existing"}
		h.update(t, h.admin, c1, inbox.Patch{Tags: &tags})
		bulk("tag", url.Values{"tag": {"vip"}}, c1, c2)
		if got := get(c1).Tags; strings.Join(got, ",") != "existing,vip" {
			t.Fatalf("tags %v", got)
		}
		if got := get(c2).Tags; strings.Join(got, ",") != "vip" {
			t.Fatalf("tags %v", got)
		}

		// Move to an inbox the agent sees; moving to one they do not see fails per row.
		res = bulk("move", url.Values{"inbox_id": {itoa(legal.ID)}}, c3)
		mustContain(t, res.Body, "0 conversations updated.", "1 could not be changed")
		bulk("move", url.Values{"inbox_id": {itoa(sales.ID)}}, c3)
		if get(c3).InboxID != sales.ID {
			t.Fatal("not moved")
		}

		// Spam.
		bulk("spam", nil, c2)
		if !get(c2).Spam {
			t.Fatal("not spam")
		}

		// Bad input is a clear error toast.
		res = bulk("close", nil)
		if res.StatusCode != 400 || !strings.Contains(res.Body, "Select at least one conversation first.") {
			t.Fatalf("no selection: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, bulk("explode", nil, c1).Body, "Choose an action from the bar.")
		mustContain(t, bulk("assign", nil, c1).Body, "Choose whom to assign the conversations to.")
		mustContain(t, bulk("tag", url.Values{"tag": {" "}}, c1).Body, "Type the tag to add.")

		// Without scripts the form posts and comes back to the list.
		r := agent.post(t, "/conversations/bulk", url.Values{"action": {"close"}, "id": {itoa(c1.ID)}, "back": {"/inbox?view=mine"}}, 303)
		if r.Header.Get("Location") != "/inbox?view=mine" {
			t.Fatalf("redirect to %q", r.Header.Get("Location"))
		}
	})
}

func TestSavedViews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		_, c1 := h.receive(t, "s1", "Grace Hopper", "one")
		tags := []string{"vip"}
		h.update(t, h.admin, c1, inbox.Patch{Tags: &tags})
		h.receive(t, "s2", "Ada Lovelace", "two")

		agent := h.signIn(t, h.agent)
		body := agent.get(t, "/inbox", 200)
		mustContain(t, body, `id="saved-views"`, "Save the current filters as a view")

		// Save the filter bar's state (htmx includes #filters: empty fields and unknown keys are dropped).
		res := agent.do(t, "POST", "/inbox/views", url.Values{"name": {"  VIP   customers "}, "view": {"open"}, "tag": {"vip"},
			"q": {""}, "status": {""}, "junk": {"x"}}, map[string][]string{"Hx-Request": {"true"}, "Hx-Target": {"saved-views"},
			"Hx-Current-Url": {h.URL + "/inbox?tag=vip&view=open"}})
		if res.StatusCode != 200 {
			t.Fatalf("save: %d %s", res.StatusCode, res.Body)
		}
		mustContain(t, res.Body, `id="saved-views"`, ">VIP customers<", `href="/inbox?tag=vip&amp;view=open"`, `aria-current="page"`,
			"Saved the view VIP customers.")
		views, err := h.Inbox.SavedViews(t.Context(), h.agent)
		if err != nil || len(views) != 1 || views[0].Query != "tag=vip&view=open" {
			t.Fatalf("saved %+v %v", views, err)
		}
		id := itoa(views[0].ID)
		mustRows(t, agent.get(t, "/inbox?tag=vip&view=open", 200), c1)

		// Personal: another user neither sees, renames nor deletes it.
		admin := h.signIn(t, h.admin)
		mustNotContain(t, admin.get(t, "/inbox", 200), "VIP customers")
		admin.post(t, "/inbox/views/"+id, url.Values{"name": {"Mine now"}}, 404)
		admin.post(t, "/inbox/views/"+id+"/delete", nil, 404)

		// Bad names are clear errors.
		res = agent.htmx(t, "POST", "/inbox/views", "saved-views", url.Values{"name": {"  "}})
		if res.StatusCode != 400 || !strings.Contains(res.Body, "Give the view a name of at most 80 characters.") {
			t.Fatalf("empty name: %d %s", res.StatusCode, res.Body)
		}
		agent.htmx(t, "POST", "/inbox/views", "saved-views", url.Values{"name": {"x"}, "view": {"bogus"}})

		// Rename and delete.
		res = agent.htmx(t, "POST", "/inbox/views/"+id, "saved-views", url.Values{"name": {"Very important"}})
		mustContain(t, res.Body, ">Very important<", "Renamed the view to Very important.")
		r := agent.post(t, "/inbox/views/"+id, url.Values{"name": {"VIP"}}, 303)
		if r.Header.Get("Location") != "/inbox?tag=vip&view=open" {
			t.Fatalf("rename redirect %q", r.Header.Get("Location"))
		}
		res = agent.htmx(t, "POST", "/inbox/views/"+id+"/delete", "saved-views", nil)
		mustContain(t, res.Body, "Deleted the view.", "Save the current filters as a view")
		agent.post(t, "/inbox/views/"+id+"/delete", nil, 404)
		if views, _ := h.Inbox.SavedViews(t.Context(), h.agent); len(views) != 0 {
			t.Fatalf("left %+v", views)
		}
	})
}
