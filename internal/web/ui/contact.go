package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// The contact area: the sidebar beside an open conversation (CONTACT-3, CONV-12), the contacts
// list and a contact's own page. Both show the same blocks (see partials/contact-sidebar.html)
// and every field is edited in place: each small form posts one change, and the answer is the
// whole block again, with a field's error next to it when the change was refused.

func (s *Server) contactRoutes() []route {
	return []route{
		{pattern: "GET /contacts", handle: s.showContacts},
		{pattern: "GET /contacts/{id}", handle: s.showContact},
		{pattern: "GET /conversations/{id}/contact", handle: s.showContactSidebar},
		{pattern: "POST /contacts/{id}", handle: s.contactAction(editContact)},
		{pattern: "POST /contacts/{id}/emails", handle: s.contactAction(addIdentity("email"))},
		{pattern: "POST /contacts/{id}/emails/remove", handle: s.contactAction(removeIdentity("email"))},
		{pattern: "POST /contacts/{id}/phones", handle: s.contactAction(addIdentity("phone"))},
		{pattern: "POST /contacts/{id}/phones/remove", handle: s.contactAction(removeIdentity("phone"))},
		{pattern: "POST /contacts/{id}/properties", handle: s.contactAction(setProperty)},
		{pattern: "POST /contacts/{id}/properties/remove", handle: s.contactAction(removeProperty)},
		{pattern: "POST /contacts/{id}/notes", handle: s.contactAction(addNote)},
		{pattern: "POST /contacts/{id}/notes/{note}/delete", handle: s.contactAction(deleteNote)},
	}
}

// contactSidebar is one contact as the sidebar and the contact page show it.
type contactSidebar struct {
	Contact *store.Contact
	Emails  []string
	Phones  []string
	// Others are the contact's other identities (custom channels' delivery identifiers).
	Others []store.Identity
	Owner  *store.User
	// Users are the owner choices: active users, and the current owner even if deactivated.
	Users      []*store.User
	Properties []contactProperty
	// Conversations are the contact's conversations the reader may see, newest activity
	// first; in the sidebar without the open one (CurrentID).
	Conversations []contactConversation
	CurrentID     int64
	Notes         []contactNote
	// Visitor is the live chat visitor of the open conversation (visitor_context.go); nil
	// for other conversations and on the contact page.
	Visitor *visitorContext
	// Errors holds a refused change's message by form field ("name", "email", "prop:plan"…);
	// values holds what was typed there, so it is not lost.
	Errors map[string]string
	values map[string]string
	// Saved confirms the last change to screen readers.
	Saved string

	lang *Lang
	loc  *time.Location
	now  time.Time
}

// contactProperty is one custom property; Kind ("string", "number", "bool" or "json") keeps
// its JSON type when it is edited as text.
type contactProperty struct {
	Key, Value, Kind string
}

// contactConversation is one row of the contact's conversation history.
type contactConversation struct {
	store.Conversation
	Channel string
	Inbox   string
	now     time.Time
}

// State is what the history shows of a conversation: spam, filtered, trash, snoozed, open or
// closed.
func (c contactConversation) State() string {
	switch {
	case c.TrashedAt != nil:
		return "trash"
	case c.Spam:
		return "spam"
	case c.Filtered:
		return "filtered"
	case c.SnoozedUntil != nil && *c.SnoozedUntil > c.now.UnixMilli():
		return "snoozed"
	}
	return c.Status
}

// contactNote is a note with whether the reader may delete it.
type contactNote struct {
	store.ContactNote
	CanDelete bool
}

// Err returns the error shown next to a form field, or "".
func (cs *contactSidebar) Err(field string) string { return cs.Errors[field] }

// Val is what a field shows: the value typed when the field's change was refused, else def.
func (cs *contactSidebar) Val(field, input, def string) string {
	if _, refused := cs.Errors[field]; refused {
		return cs.values[input]
	}
	return def
}

// Display is the contact's name, or else how to reach them, for the avatar.
func (cs *contactSidebar) Display() string {
	switch {
	case cs.Contact != nil && cs.Contact.Name != "":
		return cs.Contact.Name
	case len(cs.Emails) > 0:
		return cs.Emails[0]
	case len(cs.Phones) > 0:
		return cs.Phones[0]
	}
	return "?"
}

// OwnerID is the selected owner's id, or 0.
func (cs *contactSidebar) OwnerID() int64 {
	if cs.Contact == nil || cs.Contact.OwnerID == nil {
		return 0
	}
	return *cs.Contact.OwnerID
}

// Ago says how long ago a unix-ms time was, briefly: "just now", "5 min ago", a date.
func (cs *contactSidebar) Ago(ms int64) string {
	d := cs.now.Sub(time.UnixMilli(ms))
	switch {
	case d < time.Minute:
		return cs.lang.T("common.just_now")
	case d < time.Hour:
		return cs.lang.TN("contact.ago.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return cs.lang.TN("contact.ago.hours", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return cs.lang.TN("contact.ago.days", int(d/(24*time.Hour)))
	}
	return time.UnixMilli(ms).In(cs.loc).Format(cs.lang.T("contact.date_layout"))
}

// When is a unix-ms time in full, in the reader's time zone (for a title).
func (cs *contactSidebar) When(ms int64) string {
	return time.UnixMilli(ms).In(cs.loc).Format(cs.lang.T("contact.date_layout") + " 15:04")
}

// ISO is a unix-ms time for a <time datetime>.
func (cs *contactSidebar) ISO(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// IdentityKind names an identity's kind for people.
func (cs *contactSidebar) IdentityKind(kind string) string {
	if strings.HasPrefix(kind, "custom:") {
		return cs.lang.T("contact.identity.custom")
	}
	return kind
}

// contactSidebar is the contact of the open conversation; a conversation without a contact
// gets an empty sidebar.
func (s *Server) contactSidebar(r *http.Request, c *store.Conversation) (*contactSidebar, error) {
	cs := &contactSidebar{lang: s.lang(r, user(r)), CurrentID: c.ID}
	if c.ContactID != nil {
		var err error
		if cs, err = s.loadContact(r, *c.ContactID, c.ID); err != nil {
			return nil, err
		}
	}
	var err error
	cs.Visitor, err = s.visitorContext(r.Context(), c, cs.lang, readerLocation(user(r)), time.Now())
	return cs, err
}

// loadContact reads everything the contact blocks show. currentID is the open conversation
// (0 on the contact page), left out of the history.
func (s *Server) loadContact(r *http.Request, id, currentID int64) (*contactSidebar, error) {
	ctx, u := r.Context(), user(r)
	c, convs, err := s.Inbox.Contact(ctx, u, id)
	if err != nil {
		return nil, err
	}
	notes, err := s.Inbox.ContactNotes(ctx, u, id)
	if err != nil {
		return nil, err
	}
	cs := &contactSidebar{Contact: c, CurrentID: currentID, lang: s.lang(r, u), loc: time.UTC, now: time.Now()}
	if loc, err := time.LoadLocation(u.TimeZone); err == nil && u.TimeZone != "" {
		cs.loc = loc
	}
	cs.Emails, cs.Phones = inbox.ContactEmails(c), inbox.ContactPhones(c)
	for _, ident := range c.Identities {
		if ident.Kind != "email" && ident.Kind != "phone" {
			cs.Others = append(cs.Others, ident)
		}
	}
	cs.Properties = properties(c.Properties)

	users, _, err := s.Workspace.Users(ctx, store.UserFilter{IncludeDeactivated: true, Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, v := range users {
		isOwner := c.OwnerID != nil && *c.OwnerID == v.ID
		if isOwner {
			cs.Owner = v
		}
		if v.DeactivatedAt == nil || isOwner {
			cs.Users = append(cs.Users, v)
		}
	}
	if c.OwnerID != nil && cs.Owner == nil { // beyond the first 500 users
		if cs.Owner, err = s.Workspace.User(ctx, *c.OwnerID); err != nil {
			return nil, err
		}
		cs.Users = append(cs.Users, cs.Owner)
	}

	for _, n := range notes {
		cs.Notes = append(cs.Notes, contactNote{ContactNote: n, CanDelete: n.AuthorID == u.ID || u.IsAdmin()})
	}

	convs = slices.DeleteFunc(convs, func(c store.Conversation) bool { return c.ID == currentID })
	if len(convs) > 0 {
		// Channel and inbox names for the history: two queries, whatever its length.
		channels, err := s.Inbox.Channels(ctx, u, nil)
		if err != nil {
			return nil, err
		}
		inboxes, _, err := s.Workspace.Inboxes(ctx, u, 0, 1000)
		if err != nil {
			return nil, err
		}
		chName := make(map[int64]string, len(channels))
		for _, ch := range channels {
			chName[ch.ID] = ch.Name
		}
		inName := make(map[int64]string, len(inboxes))
		for _, in := range inboxes {
			inName[in.ID] = in.Name
		}
		for _, conv := range convs {
			row := contactConversation{Conversation: conv, Inbox: inName[conv.InboxID], now: cs.now}
			if conv.ChannelID != nil {
				row.Channel = chName[*conv.ChannelID]
			}
			cs.Conversations = append(cs.Conversations, row)
		}
	}
	return cs, nil
}

// properties lists a contact's properties by key, each value as text.
func properties(raw json.RawMessage) []contactProperty {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	out := make([]contactProperty, 0, len(m))
	for k, v := range m {
		p := contactProperty{Key: k, Kind: "json", Value: string(v)}
		var str string
		switch {
		case json.Unmarshal(v, &str) == nil:
			p.Kind, p.Value = "string", str
		case string(v) == "true" || string(v) == "false":
			p.Kind = "bool"
		default:
			var f float64
			if json.Unmarshal(v, &f) == nil {
				p.Kind = "number"
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b contactProperty) int { return strings.Compare(strings.ToLower(a.Key), strings.ToLower(b.Key)) })
	return out
}

// propertyValue turns what an agent typed into JSON, keeping the property's type when the text
// still fits it (a number stays a number); anything else becomes text.
func propertyValue(kind, text string) json.RawMessage {
	t := strings.TrimSpace(text)
	switch kind {
	case "number":
		var f float64
		if json.Unmarshal([]byte(t), &f) == nil {
			return json.RawMessage(t)
		}
	case "bool":
		if t == "true" || t == "false" {
			return json.RawMessage(t)
		}
	case "json":
		if t != "" && json.Valid([]byte(t)) {
			return json.RawMessage(t)
		}
	}
	b, _ := json.Marshal(text)
	return b
}

// showContactSidebar renders the open conversation's contact alone, for live refreshes.
func (s *Server) showContactSidebar(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.renderSidebar(w, r, http.StatusOK, id, nil)
}

func (s *Server) renderSidebar(w http.ResponseWriter, r *http.Request, status int, conversationID int64, done func(*contactSidebar)) error {
	c, err := s.Inbox.Conversation(r.Context(), user(r), conversationID)
	if err != nil {
		return err
	}
	sb, err := s.contactSidebar(r, c)
	if err != nil {
		return err
	}
	if done != nil {
		done(sb)
	}
	pane := &conversationPane{Conversation: c, Sidebar: sb}
	return s.renderBlock(w, status, "contact", "contact-sidebar", map[string]any{"Page": s.page(r, "", "inbox"), "Pane": pane})
}

// contactPage is a contact's own page.
type contactPage struct {
	*Page
	C *contactSidebar
}

func (s *Server) showContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.renderContactPage(w, r, http.StatusOK, id, nil)
}

func (s *Server) renderContactPage(w http.ResponseWriter, r *http.Request, status int, id int64, done func(*contactSidebar)) error {
	cs, err := s.loadContact(r, id, 0)
	if err != nil {
		return err
	}
	if done != nil {
		done(cs)
	}
	p := &contactPage{Page: s.page(r, "", "contacts"), C: cs}
	p.Title = cs.Contact.Name
	if p.Title == "" {
		p.Title = p.T("contact.unnamed")
	}
	return s.render(w, r, status, "contact", p)
}

// contactChange is one inline edit. It returns the form field its input error belongs to.
type contactChange func(s *Server, r *http.Request, u *store.User, id int64) (field string, err error)

// contactAction runs a change and answers with the block it came from: the sidebar of the
// conversation named by the form's "conversation", or the contact page. A refused change is
// shown next to its field (422); anything else (not found, not allowed) is a plain error.
func (s *Server) contactAction(change contactChange) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return problem.Invalidf("invalid_form", "the form could not be read")
		}
		var convID int64
		if v := r.PostForm.Get("conversation"); v != "" {
			if convID, err = strconv.ParseInt(v, 10, 64); err != nil || convID <= 0 {
				return problem.Invalidf("invalid_form", "conversation must be a conversation id")
			}
		}
		lang := s.lang(r, user(r))
		field, err := change(s, r, user(r), id)
		status := http.StatusOK
		done := func(cs *contactSidebar) { cs.Saved = lang.T("contact.saved") }
		if err != nil {
			p, ok := problem.As(err)
			if !ok || (p.Kind != problem.Invalid && p.Kind != problem.Conflict) {
				return err
			}
			msg := fieldMessage(lang, p)
			values := map[string]string{}
			for k := range r.PostForm {
				values[k] = r.PostForm.Get(k)
			}
			status = http.StatusUnprocessableEntity
			done = func(cs *contactSidebar) { cs.Errors, cs.values = map[string]string{field: msg}, values }
		} else if !isHTMX(r) {
			if convID != 0 {
				redirect(w, r, "/inbox/"+strconv.FormatInt(convID, 10))
			} else {
				redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10))
			}
			return nil
		}
		if convID != 0 && isHTMX(r) {
			return s.renderSidebar(w, r, status, convID, done)
		}
		return s.renderContactPage(w, r, status, id, done)
	}
}

// fieldMessage is a refused change's message in the reader's language. The contact area keeps
// its input errors under contact.error.<code>, since codes such as invalid_email are shared
// with other areas (whose error.<code> may say something else); then error.<code>; then the
// domain's own words.
func fieldMessage(l *Lang, p *problem.Error) string {
	for _, key := range []string{"contact.error." + p.Code, "error." + p.Code} {
		if msg := l.T(key); msg != key {
			return msg
		}
	}
	return p.Detail
}

// editContact changes the name, company, owner or blocked flag, whichever the form holds.
func editContact(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
	var p inbox.ContactPatch
	field := "name"
	if _, ok := r.PostForm["name"]; ok {
		v := r.PostForm.Get("name")
		p.Name = &v
	}
	if _, ok := r.PostForm["company"]; ok {
		v := r.PostForm.Get("company")
		p.Company, field = &v, "company"
	}
	if _, ok := r.PostForm["owner_id"]; ok {
		field = "owner_id"
		if v := r.PostForm.Get("owner_id"); v == "" {
			p.ClearOwner = true
		} else {
			owner, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return field, problem.Field("owner_not_found", "owner_id", "is not an active user")
			}
			p.OwnerID = &owner
		}
	}
	if _, ok := r.PostForm["blocked"]; ok {
		v := r.PostForm.Get("blocked") == "true"
		p.Blocked = &v
	}
	_, err := s.Inbox.UpdateContact(r.Context(), u, id, p)
	if pe, ok := problem.As(err); ok {
		for f := range pe.Fields {
			if f == "name" || f == "company" || f == "owner_id" {
				field = f
			}
		}
	}
	return field, err
}

func addIdentity(kind string) contactChange {
	return func(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
		v := strings.TrimSpace(r.PostForm.Get(kind))
		if v == "" {
			return kind, problem.Field("empty_"+kind, kind, "must not be empty")
		}
		p := inbox.ContactPatch{AddEmails: []string{v}}
		if kind == "phone" {
			p = inbox.ContactPatch{AddPhones: []string{v}}
		}
		_, err := s.Inbox.UpdateContact(r.Context(), u, id, p)
		return kind, err
	}
}

func removeIdentity(kind string) contactChange {
	return func(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
		p := inbox.ContactPatch{RemoveEmails: []string{r.PostForm.Get(kind)}}
		if kind == "phone" {
			p = inbox.ContactPatch{RemovePhones: []string{r.PostForm.Get(kind)}}
		}
		_, err := s.Inbox.UpdateContact(r.Context(), u, id, p)
		return kind, err
	}
}

// maxPropertyKey bounds a property's name.
const maxPropertyKey = 100

// setProperty adds a property (the form's "new" is set; its key must be new) or changes one's
// value, keeping its type.
func setProperty(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
	key := strings.TrimSpace(r.PostForm.Get("key"))
	adding := r.PostForm.Get("new") != ""
	field := "prop:" + key
	if adding {
		field = "property"
	}
	if key == "" || utf8.RuneCountInString(key) > maxPropertyKey {
		return field, problem.Field("invalid_property_key", "key", "must be 1 to 100 characters")
	}
	kind := r.PostForm.Get("kind")
	if adding {
		c, _, err := s.Inbox.Contact(r.Context(), u, id)
		if err != nil {
			return field, err
		}
		if slices.ContainsFunc(properties(c.Properties), func(p contactProperty) bool { return p.Key == key }) {
			return field, problem.Field("property_exists", "key", "the contact already has this property")
		}
		kind = "string"
	}
	b, err := json.Marshal(map[string]json.RawMessage{key: propertyValue(kind, r.PostForm.Get("value"))})
	if err != nil {
		return field, err
	}
	_, err = s.Inbox.UpdateContact(r.Context(), u, id, inbox.ContactPatch{Properties: b})
	return field, err
}

func removeProperty(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
	key := r.PostForm.Get("key")
	b, err := json.Marshal(map[string]any{key: nil})
	if err != nil {
		return "", err
	}
	_, err = s.Inbox.UpdateContact(r.Context(), u, id, inbox.ContactPatch{Properties: b})
	return "prop:" + key, err
}

func addNote(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
	_, err := s.Inbox.AddContactNote(r.Context(), u, id, r.PostForm.Get("body"))
	return "note", err
}

func deleteNote(s *Server, r *http.Request, u *store.User, id int64) (string, error) {
	noteID, err := strconv.ParseInt(r.PathValue("note"), 10, 64)
	if err != nil || noteID <= 0 {
		return "", problem.NotFoundf("note_not_found", "no such note")
	}
	return "", s.Inbox.DeleteContactNote(r.Context(), u, id, noteID)
}

// contactsPage is the list of contacts, searchable and paged.
type contactsPage struct {
	*Page
	Q        string
	Cursor   string
	Next     string
	Contacts []contactRow
}

// contactRow is one contact of the list.
type contactRow struct {
	store.Contact
	Email, Phone string
}

// contactsPageSize is how many contacts a page of the list holds.
const contactsPageSize = 50

func (s *Server) showContacts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := &contactsPage{Page: s.page(r, "", "contacts"), Q: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor")}
	p.Title = p.T("nav.contacts")
	list, next, err := s.Inbox.Contacts(r.Context(), user(r), p.Q, contactsPageSize, p.Cursor)
	if err != nil {
		return err
	}
	p.Next = next
	for _, c := range list {
		row := contactRow{Contact: c}
		if e := inbox.ContactEmails(&c); len(e) > 0 {
			row.Email = e[0]
		}
		if ph := inbox.ContactPhones(&c); len(ph) > 0 {
			row.Phone = ph[0]
		}
		p.Contacts = append(p.Contacts, row)
	}
	return s.render(w, r, http.StatusOK, "contacts", p)
}

// NextHref links to the list's next page, keeping the search.
func (p *contactsPage) NextHref() string {
	v := url.Values{"cursor": {p.Next}}
	if p.Q != "" {
		v.Set("q", p.Q)
	}
	return "/contacts?" + v.Encode()
}

// FirstHref links to the list's first page, keeping the search.
func (p *contactsPage) FirstHref() string {
	if p.Q == "" {
		return "/contacts"
	}
	return "/contacts?" + url.Values{"q": {p.Q}}.Encode()
}
