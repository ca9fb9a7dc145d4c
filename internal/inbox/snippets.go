package inbox

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Snippets are canned replies (SPEC NOTIFY-3). A shared snippet is everyone's and only owners
// and admins change it; a personal one is its owner's alone: nobody else sees it, admins
// included, so a private draft stays private. Changes to shared snippets are audited, since
// they change what every agent sends.

// Audit actions written by this file.
const (
	ActionSnippetCreated = "snippet.created"
	ActionSnippetUpdated = "snippet.updated"
	ActionSnippetDeleted = "snippet.deleted"
)

// SnippetInput is a new snippet or the new content of one. Shared applies when creating: a
// snippet keeps its scope for life.
type SnippetInput struct {
	Shortcut string
	Title    string
	Body     string
	Shared   bool
}

// Snippet limits keep the picker readable and a snippet a reply, not a document.
const (
	maxShortcut     = 32
	maxSnippetTitle = 200
	maxSnippetBody  = 32 << 10
)

// shortcutPattern is what a shortcut may be once lower-cased: letters and digits, then also
// "-" and "_", so it can be typed after "/" without spaces.
var shortcutPattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_-]*$`)

// normalizeSnippet trims and checks a snippet's fields. A leading "/" on the shortcut is
// dropped: agents type it that way in the composer.
func normalizeSnippet(in SnippetInput) (SnippetInput, error) {
	in.Shortcut = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(cleanText(in.Shortcut)), "/"))
	in.Title = strings.Join(strings.Fields(cleanText(in.Title)), " ")
	in.Body = strings.TrimSpace(cleanText(in.Body))
	switch {
	case in.Shortcut == "":
		return in, problem.Field("invalid_snippet_shortcut", "shortcut", "must not be empty")
	case utf8.RuneCountInString(in.Shortcut) > maxShortcut || !shortcutPattern.MatchString(in.Shortcut):
		return in, problem.Field("invalid_snippet_shortcut", "shortcut",
			"must be at most 32 letters, digits, - or _, starting with a letter or digit")
	case utf8.RuneCountInString(in.Title) > maxSnippetTitle:
		return in, problem.Field("snippet_title_too_long", "title", "must be at most 200 characters")
	case in.Body == "":
		return in, problem.Field("empty_snippet", "body", "must not be empty")
	case len(in.Body) > maxSnippetBody:
		return in, problem.Field("snippet_too_long", "body", "is longer than 32768 bytes")
	}
	return in, nil
}

// CanManageSnippet reports whether the actor may change or delete the snippet: its owner for
// a personal one, owners and admins for a shared one.
func CanManageSnippet(actor *store.User, sn *store.Snippet) bool {
	if actor == nil {
		return false
	}
	if sn.Shared() {
		return actor.IsAdmin()
	}
	return *sn.OwnerUserID == actor.ID
}

func snippetNotFound(id int64) error {
	return problem.NotFoundf("snippet_not_found", "no snippet %d", id)
}

func snippetShortcutTaken(shortcut string) error {
	return problem.Field("snippet_shortcut_taken", "shortcut", "/"+shortcut+" is already a snippet's shortcut")
}

// visibleSnippet reports whether the actor sees the snippet: shared ones and their own.
func visibleSnippet(actor *store.User, sn *store.Snippet) bool {
	return sn.Shared() || *sn.OwnerUserID == actor.ID
}

// Snippets lists the snippets the actor may use, shared and personal, by shortcut. query (may
// be empty) matches the start of the shortcut or any part of the title; limit 0 means all.
func (s *Service) Snippets(ctx context.Context, actor *store.User, query string, limit int) ([]store.Snippet, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	query = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "/"))
	list, err := s.Store.Snippets(ctx, store.SnippetFilter{UserID: actor.ID, Query: query, Limit: limit})
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []store.Snippet{}
	}
	return list, nil
}

// Snippet returns one snippet the actor may use.
func (s *Service) Snippet(ctx context.Context, actor *store.User, id int64) (*store.Snippet, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	sn, err := s.Store.Snippet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, snippetNotFound(id)
	} else if err != nil {
		return nil, err
	}
	if !visibleSnippet(actor, sn) {
		return nil, snippetNotFound(id)
	}
	return sn, nil
}

// CreateSnippet adds a personal snippet, or with in.Shared a shared one (owners and admins).
func (s *Service) CreateSnippet(ctx context.Context, actor *store.User, in SnippetInput) (*store.Snippet, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	if in.Shared && !actor.IsAdmin() {
		return nil, problem.Forbiddenf("admin_only", "only owners and admins may create shared snippets")
	}
	in, err := normalizeSnippet(in)
	if err != nil {
		return nil, err
	}
	sn := &store.Snippet{Shortcut: in.Shortcut, Title: in.Title, Body: in.Body}
	if !in.Shared {
		sn.OwnerUserID = &actor.ID
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSnippet(ctx, sn); err != nil {
			if store.IsConflict(err) {
				return snippetShortcutTaken(sn.Shortcut)
			}
			return err
		}
		if sn.Shared() {
			return auditChange(ctx, tx, actor, ActionSnippetCreated, "snippet", sn.ID, map[string]any{"shortcut": sn.Shortcut})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sn, nil
}

// UpdateSnippet replaces a snippet's shortcut, title and body; in.Shared is ignored.
func (s *Service) UpdateSnippet(ctx context.Context, actor *store.User, id int64, in SnippetInput) (*store.Snippet, error) {
	if err := requireActor(actor); err != nil {
		return nil, err
	}
	in, err := normalizeSnippet(in)
	if err != nil {
		return nil, err
	}
	var sn *store.Snippet
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if sn, err = s.manageableSnippet(ctx, tx, actor, id); err != nil {
			return err
		}
		before := sn.Shortcut
		sn.Shortcut, sn.Title, sn.Body = in.Shortcut, in.Title, in.Body
		if err := tx.UpdateSnippet(ctx, sn); err != nil {
			if store.IsConflict(err) {
				return snippetShortcutTaken(sn.Shortcut)
			}
			return err
		}
		if sn.Shared() {
			return auditChange(ctx, tx, actor, ActionSnippetUpdated, "snippet", sn.ID,
				map[string]any{"shortcut": sn.Shortcut, "previous_shortcut": before})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sn, nil
}

// DeleteSnippet removes a snippet the actor may manage.
func (s *Service) DeleteSnippet(ctx context.Context, actor *store.User, id int64) error {
	if err := requireActor(actor); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		sn, err := s.manageableSnippet(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteSnippet(ctx, id); err != nil {
			return err
		}
		if sn.Shared() {
			return auditChange(ctx, tx, actor, ActionSnippetDeleted, "snippet", sn.ID, map[string]any{"shortcut": sn.Shortcut})
		}
		return nil
	})
}

// manageableSnippet reads a snippet for a change: someone else's personal snippet is not found
// (it is not theirs to know about), a shared one is forbidden to agents.
func (s *Service) manageableSnippet(ctx context.Context, tx *store.Tx, actor *store.User, id int64) (*store.Snippet, error) {
	sn, err := tx.Snippet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, snippetNotFound(id)
	} else if err != nil {
		return nil, err
	}
	if !visibleSnippet(actor, sn) {
		return nil, snippetNotFound(id)
	}
	if !CanManageSnippet(actor, sn) {
		return nil, problem.Forbiddenf("admin_only", "only owners and admins may change shared snippets")
	}
	return sn, nil
}

// SnippetTokens are the values a snippet's tokens stand for in one conversation.
type SnippetTokens struct {
	ContactName         string
	ContactFirstName    string
	ContactEmail        string
	AgentName           string
	AgentFirstName      string
	AgentEmail          string
	ConversationNumber  string
	ConversationSubject string
}

// SnippetTokenNames are the tokens a snippet body may hold, as {{name}}.
var SnippetTokenNames = []string{"contact.name", "contact.first_name", "contact.email", "agent.name",
	"agent.first_name", "agent.email", "conversation.number", "conversation.subject"}

var tokenPattern = regexp.MustCompile(`\{\{\s*([a-z_.]+)\s*\}\}`)

// ExpandTokens fills in a snippet body's tokens. An unknown token is left as written, so a
// typo shows in the composer instead of vanishing.
func ExpandTokens(body string, t SnippetTokens) string {
	return tokenPattern.ReplaceAllStringFunc(body, func(m string) string {
		name := tokenPattern.FindStringSubmatch(m)[1]
		switch name {
		case "contact.name":
			return t.ContactName
		case "contact.first_name":
			return t.ContactFirstName
		case "contact.email":
			return t.ContactEmail
		case "agent.name":
			return t.AgentName
		case "agent.first_name":
			return t.AgentFirstName
		case "agent.email":
			return t.AgentEmail
		case "conversation.number":
			return t.ConversationNumber
		case "conversation.subject":
			return t.ConversationSubject
		}
		return m
	})
}

// firstName is the first word of a name.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// ExpandSnippet returns the snippet's body with its tokens filled in for the conversation and
// the actor writing in it.
func (s *Service) ExpandSnippet(ctx context.Context, actor *store.User, snippetID, conversationID int64) (string, error) {
	conv, err := s.visibleConversation(ctx, actor, conversationID)
	if err != nil {
		return "", err
	}
	sn, err := s.Snippet(ctx, actor, snippetID)
	if err != nil {
		return "", err
	}
	t := SnippetTokens{
		AgentName: actor.Name, AgentFirstName: firstName(actor.Name), AgentEmail: actor.Email,
		ConversationNumber: strconv.FormatInt(conv.Number, 10), ConversationSubject: conv.Subject,
	}
	if conv.ContactID != nil {
		c, err := s.Store.Contact(ctx, *conv.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		if c != nil {
			t.ContactName, t.ContactFirstName = c.Name, firstName(c.Name)
			if emails := ContactEmails(c); len(emails) > 0 {
				t.ContactEmail = emails[0]
			}
		}
	}
	return ExpandTokens(sn.Body, t), nil
}
