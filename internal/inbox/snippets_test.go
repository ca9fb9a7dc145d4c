package inbox_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

// code returns err's problem code, or "" when it is no problem.
func code(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	return ""
}

func TestSnippetsScopesAndPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := f.ctx

		// Agents keep personal snippets; only admins create shared ones.
		mine, err := f.svc.CreateSnippet(ctx, f.agent, inbox.SnippetInput{Shortcut: " /Thanks ", Title: "Thank  you", Body: "Thanks, {{contact.first_name}}!\n"})
		if err != nil {
			t.Fatal(err)
		}
		if mine.Shortcut != "thanks" || mine.Title != "Thank you" || mine.Body != "Thanks, {{contact.first_name}}!" || mine.OwnerUserID == nil || *mine.OwnerUserID != f.agent.ID {
			t.Fatalf("normalized personal snippet: %+v", mine)
		}
		if _, err := f.svc.CreateSnippet(ctx, f.agent, inbox.SnippetInput{Shortcut: "hello", Body: "Hi", Shared: true}); code(err) != "admin_only" {
			t.Fatalf("agent creating a shared snippet: %v", err)
		}
		shared, err := f.svc.CreateSnippet(ctx, f.admin, inbox.SnippetInput{Shortcut: "thanks", Title: "Shared thanks", Body: "Thank you from {{agent.name}}", Shared: true})
		if err != nil {
			t.Fatalf("a shared snippet may reuse a personal shortcut: %v", err)
		}
		if !shared.Shared() {
			t.Fatalf("shared: %+v", shared)
		}
		if entries, _, err := s.AuditLog(ctx, store.AuditFilter{Action: inbox.ActionSnippetCreated}); err != nil || len(entries) != 1 {
			t.Fatalf("shared snippet creation audited once (personal ones not): %d %v", len(entries), err)
		}

		// Shortcuts are unique per scope.
		if _, err := f.svc.CreateSnippet(ctx, f.agent, inbox.SnippetInput{Shortcut: "THANKS", Body: "again"}); code(err) != "snippet_shortcut_taken" {
			t.Fatalf("duplicate personal shortcut: %v", err)
		}
		if _, err := f.svc.CreateSnippet(ctx, f.admin, inbox.SnippetInput{Shortcut: "thanks", Body: "again", Shared: true}); code(err) != "snippet_shortcut_taken" {
			t.Fatalf("duplicate shared shortcut: %v", err)
		}
		if _, err := f.svc.CreateSnippet(ctx, f.seller, inbox.SnippetInput{Shortcut: "thanks", Body: "mine too"}); err != nil {
			t.Fatalf("another user's personal shortcut is free: %v", err)
		}
		for _, bad := range []inbox.SnippetInput{
			{Shortcut: "", Body: "x"}, {Shortcut: "two words", Body: "x"}, {Shortcut: "-dash", Body: "x"},
			{Shortcut: "ok", Body: "  "}, {Shortcut: "abcdefghijklmnopqrstuvwxyz0123456789", Body: "x"},
		} {
			if _, err := f.svc.CreateSnippet(ctx, f.agent, bad); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		if sn, err := f.svc.CreateSnippet(ctx, f.agent, inbox.SnippetInput{Shortcut: "hälsning_1", Body: "Hej"}); err != nil || sn.Shortcut != "hälsning_1" {
			t.Fatalf("letters beyond ASCII: %+v %v", sn, err)
		}

		// Each user sees the shared snippets and their own.
		list, err := f.svc.Snippets(ctx, f.agent, "", 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("agent's snippets: %+v %v", list, err)
		}
		if list[1].ID != mine.ID || list[2].ID != shared.ID {
			t.Fatalf("personal before shared on the same shortcut: %+v", list)
		}
		list, _ = f.svc.Snippets(ctx, f.admin, "", 0)
		if len(list) != 1 || list[0].ID != shared.ID {
			t.Fatalf("admins do not see others' personal snippets: %+v", list)
		}
		list, _ = f.svc.Snippets(ctx, f.agent, "/th", 0)
		if len(list) != 2 {
			t.Fatalf("query by shortcut prefix: %+v", list)
		}
		list, _ = f.svc.Snippets(ctx, f.agent, "shared", 0)
		if len(list) != 1 || list[0].ID != shared.ID {
			t.Fatalf("query by title: %+v", list)
		}
		list, _ = f.svc.Snippets(ctx, f.agent, "50%_", 0)
		if len(list) != 0 {
			t.Fatalf("LIKE wildcards match literally: %+v", list)
		}
		if _, err := f.svc.Snippet(ctx, f.seller, mine.ID); code(err) != "snippet_not_found" {
			t.Fatalf("someone else's personal snippet: %v", err)
		}

		// Changing: the owner their own, admins the shared ones.
		if _, err := f.svc.UpdateSnippet(ctx, f.agent, shared.ID, inbox.SnippetInput{Shortcut: "x", Body: "y"}); code(err) != "admin_only" {
			t.Fatalf("agent editing a shared snippet: %v", err)
		}
		if _, err := f.svc.UpdateSnippet(ctx, f.admin, mine.ID, inbox.SnippetInput{Shortcut: "x", Body: "y"}); code(err) != "snippet_not_found" {
			t.Fatalf("admin editing a personal snippet: %v", err)
		}
		up, err := f.svc.UpdateSnippet(ctx, f.agent, mine.ID, inbox.SnippetInput{Shortcut: "ty", Title: "Short thanks", Body: "Ty!", Shared: true})
		if err != nil || up.Shortcut != "ty" || up.Body != "Ty!" || up.Shared() {
			t.Fatalf("update keeps scope: %+v %v", up, err)
		}
		if _, err := f.svc.UpdateSnippet(ctx, f.agent, mine.ID, inbox.SnippetInput{Shortcut: "hälsning_1", Body: "x"}); code(err) != "snippet_shortcut_taken" {
			t.Fatalf("update onto a taken shortcut: %v", err)
		}
		if _, err := f.svc.UpdateSnippet(ctx, f.admin, shared.ID, inbox.SnippetInput{Shortcut: "thanks", Title: "Shared thanks", Body: "Thank you!"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteSnippet(ctx, f.agent, shared.ID); code(err) != "admin_only" {
			t.Fatalf("agent deleting a shared snippet: %v", err)
		}
		if err := f.svc.DeleteSnippet(ctx, f.seller, mine.ID); code(err) != "snippet_not_found" {
			t.Fatalf("deleting someone else's snippet: %v", err)
		}
		if err := f.svc.DeleteSnippet(ctx, f.agent, mine.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteSnippet(ctx, f.admin, shared.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Snippet(ctx, f.agent, shared.ID); code(err) != "snippet_not_found" {
			t.Fatalf("deleted: %v", err)
		}
		if entries, _, _ := s.AuditLog(ctx, store.AuditFilter{Action: inbox.ActionSnippetDeleted}); len(entries) != 1 {
			t.Fatalf("shared deletion audited: %d", len(entries))
		}
		if _, err := f.svc.Snippets(ctx, nil, "", 0); err == nil {
			t.Fatal("no actor")
		}
	})
}

func TestExpandSnippet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t1", "Where is my order?", func(in *inbox.Inbound) { in.Subject = "Order 42" })
		sn, err := f.svc.CreateSnippet(f.ctx, f.agent, inbox.SnippetInput{Shortcut: "hi",
			Body: "Hi {{contact.first_name}} ({{ contact.name }}, {{contact.email}}), {{agent.first_name}} here about #{{conversation.number}} “{{conversation.subject}}” — {{agent.name}} <{{agent.email}}> {{unknown.token}}"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ExpandSnippet(f.ctx, f.agent, sn.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := "Hi Ada (Ada Lovelace, ada@example.com), agent here about #" + strconv.FormatInt(c.Number, 10) +
			" “Order 42” — agent <agent@example.com> {{unknown.token}}"
		if got != want {
			t.Fatalf("expanded:\n got %q\nwant %q", got, want)
		}
		// The conversation must be the actor's to see, and the snippet theirs to use.
		if _, err := f.svc.ExpandSnippet(f.ctx, f.outsider, sn.ID, c.ID); code(err) != "conversation_not_found" {
			t.Fatalf("outsider: %v", err)
		}
		if _, err := f.svc.ExpandSnippet(f.ctx, f.admin, sn.ID, c.ID); code(err) != "snippet_not_found" {
			t.Fatalf("someone else's personal snippet: %v", err)
		}
		if _, err := f.svc.ExpandSnippet(f.ctx, f.agent, sn.ID+1000, c.ID); code(err) != "snippet_not_found" {
			t.Fatalf("missing snippet: %v", err)
		}
		if got := inbox.ExpandTokens("{{contact.first_name}}", inbox.SnippetTokens{}); got != "" {
			t.Fatalf("a missing value expands to nothing: %q", got)
		}
	})
}

func TestTimelinePeopleAndMentions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t1", "Hello")
		f.update(f.admin, c.ID, inbox.Patch{AssigneeID: &f.agent.ID, TeamID: &f.team.ID})
		f.update(f.admin, c.ID, inbox.Patch{InboxID: &f.sales.ID})
		f.update(f.admin, c.ID, inbox.Patch{InboxID: &f.support.ID})
		if _, err := f.svc.Comment(f.ctx, f.admin, c.ID, inbox.CommentInput{Body: "@seller@example.com look", MentionTeamIDs: []int64{f.team.ID}}); err != nil {
			t.Fatal(err)
		}
		items, err := f.svc.Timeline(f.ctx, f.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.TimelinePeople(f.ctx, f.admin, c.ID, items)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*store.User{f.admin, f.agent, f.seller} {
			if p.Users[u.ID] == nil {
				t.Errorf("users lack %s: %v", u.Email, p.Users)
			}
		}
		if p.Teams[f.team.ID] == nil || p.Inboxes[f.sales.ID] != "Sales" || p.Inboxes[f.support.ID] != "Support" {
			t.Fatalf("teams %v inboxes %v", p.Teams, p.Inboxes)
		}
		if p.Contact == nil || p.Contact.Name != "Ada Lovelace" {
			t.Fatalf("contact: %+v", p.Contact)
		}
		if _, err := f.svc.TimelinePeople(f.ctx, f.outsider, c.ID, items); code(err) != "conversation_not_found" {
			t.Fatalf("outsider: %v", err)
		}

		// Mentions offer the users who can open the conversation: the support inbox's agent
		// and the admin, not the seller (sales only) or the outsider.
		users, teams, err := f.svc.MentionCandidates(f.ctx, f.agent, c.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		if len(users) != 2 || users[0].ID != f.admin.ID || users[1].ID != f.agent.ID {
			t.Fatalf("mentionable: %v", emails)
		}
		if len(teams) != 1 || teams[0].ID != f.team.ID {
			t.Fatalf("teams: %v", teams)
		}
		users, teams, _ = f.svc.MentionCandidates(f.ctx, f.agent, c.ID, "@ADM", 0)
		if len(users) != 1 || users[0].ID != f.admin.ID || len(teams) != 0 {
			t.Fatalf("query: %v %v", users, teams)
		}
		if _, _, err := f.svc.MentionCandidates(f.ctx, f.outsider, c.ID, "", 0); code(err) != "conversation_not_found" {
			t.Fatalf("outsider: %v", err)
		}
	})
}

func TestReplyProblem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		_, c := f.receive("t1", "Hello")
		if err := f.svc.ReplyProblem(f.ctx, f.agent, c.ID); err != nil {
			t.Fatalf("a test channel takes replies: %v", err)
		}
		f.sender.check = problem.Conflictf("outgoing_messages_not_allowed", "no")
		if err := f.svc.ReplyProblem(f.ctx, f.agent, c.ID); code(err) != "outgoing_messages_not_allowed" {
			t.Fatalf("checker's problem: %v", err)
		}
		f.sender.check = errors.New("plain")
		if err := f.svc.ReplyProblem(f.ctx, f.agent, c.ID); code(err) != "channel_cannot_send" {
			t.Fatalf("plain error: %v", err)
		}
		f.sender.check = nil
		delete(f.svc.Senders, testKind)
		if err := f.svc.ReplyProblem(f.ctx, f.agent, c.ID); code(err) != "channel_cannot_send" {
			t.Fatalf("no sender: %v", err)
		}
		if err := f.svc.ReplyProblem(f.ctx, f.outsider, c.ID); code(err) != "conversation_not_found" {
			t.Fatalf("outsider: %v", err)
		}
	})
}
