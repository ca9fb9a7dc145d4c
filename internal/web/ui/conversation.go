package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// The conversation workspace's timeline and composer. The timeline (ol#timeline) is a live
// element of its own, refreshed from /conversations/{id}/timeline, and the composer sits
// outside it, so a message arriving while an agent types never touches what they typed.
// Snippets (canned replies) have their page in snippets.go.

func (s *Server) conversationRoutes() []route {
	return append([]route{
		{pattern: "GET /conversations/{id}/timeline", handle: s.showTimeline},
		{pattern: "POST /conversations/{id}/send", handle: s.send},
		{pattern: "POST /conversations/{id}/reply", handle: s.reply},
		{pattern: "POST /conversations/{id}/comment", handle: s.comment},
		{pattern: "GET /conversations/{id}/mentions", handle: s.mentionMenu},
		{pattern: "GET /conversations/{id}/snippets", handle: s.snippetMenu},
		{pattern: "GET /conversations/{id}/snippets/{snippet}", handle: s.expandSnippet},
	}, s.snippetRoutes()...)
}

// conversationPane is the right pane: one conversation with its timeline, its header (see
// conversation_actions.go) and its contact (see contact.go).
type conversationPane struct {
	Conversation *store.Conversation
	Timeline     []inbox.TimelineItem
	// Entries is the timeline as the page shows it: names, times and explanations resolved.
	Entries  []timelineEntry
	Composer *composer
	Header   *conversationHeader
	Sidebar  *contactSidebar
	// Email renders the messages of an email conversation (email_messages.go); nil otherwise.
	Email *emailTimeline
}

// composer is the reply/comment form under the timeline.
type composer struct {
	ConversationID int64
	// Mode is the open tab: reply or comment.
	Mode string
	// ReplyBlocked explains, in the user's language, why no reply can be sent on this
	// conversation; empty when one can.
	ReplyBlocked string
	// OOB marks a composer rendered after a send, swapped in place of the old one.
	OOB bool
	// Email adds recipients, forwarding and the signature on email conversations.
	Email *composerEmail
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFoundf("not_found", "no such page")
	}
	return id, nil
}

func (s *Server) conversationPane(r *http.Request, rawID string) (*conversationPane, error) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil, problem.NotFoundf("conversation_not_found", "no such conversation")
	}
	c, err := s.Inbox.Conversation(r.Context(), user(r), id)
	if err != nil {
		return nil, err
	}
	pg := s.page(r, "", "inbox")
	pane, err := s.timelinePane(r, pg, c)
	if err != nil {
		return nil, err
	}
	if pane.Composer, err = s.composerFor(r, pg, c, ""); err != nil {
		return nil, err
	}
	if pane.Header, err = s.conversationHeader(r, c); err != nil {
		return nil, err
	}
	if pane.Sidebar, err = s.contactSidebar(r, c); err != nil {
		return nil, err
	}
	return pane, nil
}

// timelinePane reads the conversation's timeline with everyone it names and marks the
// conversation read: whoever has it open has seen what it shows.
func (s *Server) timelinePane(r *http.Request, pg *Page, c *store.Conversation) (*conversationPane, error) {
	u := user(r)
	tl, err := s.Inbox.Timeline(r.Context(), u, c.ID)
	if err != nil {
		return nil, err
	}
	people, err := s.Inbox.TimelinePeople(r.Context(), u, c.ID, tl)
	if err != nil {
		return nil, err
	}
	// Only when unread: marking read announces conversation.read, and a live element that
	// refreshes on it must not start a loop.
	if c.Unread {
		if err := s.Inbox.MarkRead(r.Context(), u, c.ID); err != nil {
			return nil, err
		}
		c.Unread = false
	}
	pane := &conversationPane{Conversation: c, Timeline: tl, Entries: make([]timelineEntry, 0, len(tl))}
	if pane.Email, err = s.emailTimelineFor(r, c); err != nil {
		return nil, err
	}
	b := timelineBuilder{pg: pg, people: people, now: time.Now().In(pg.Loc), email: pane.Email}
	for _, it := range tl {
		pane.Entries = append(pane.Entries, b.entry(it))
	}
	return pane, nil
}

// composerFor builds the composer; mode "" picks reply when a reply can be sent.
func (s *Server) composerFor(r *http.Request, pg *Page, c *store.Conversation, mode string) (*composer, error) {
	cp := &composer{ConversationID: c.ID, Mode: mode}
	if err := s.Inbox.ReplyProblem(r.Context(), user(r), c.ID); err != nil {
		msg, ok := problemMessage(pg, err)
		if !ok {
			return nil, err
		}
		cp.ReplyBlocked = msg
	}
	if cp.Mode != "comment" && (cp.Mode != "reply" || cp.ReplyBlocked != "") {
		cp.Mode = "reply"
		if cp.ReplyBlocked != "" {
			cp.Mode = "comment"
		}
	}
	var err error
	if cp.Email, err = s.composerEmailFor(r, pg, c); err != nil {
		return nil, err
	}
	return cp, nil
}

// problemMessage is a problem error's message in the page's language ("error.<code>" when the
// locales have it, else its detail); ok is false for errors that are not problems.
func problemMessage(pg *Page, err error) (msg string, ok bool) {
	p, ok := problem.As(err)
	if !ok {
		return "", false
	}
	msg = pg.T("error." + p.Code)
	if msg == "error."+p.Code {
		msg = p.Detail
	}
	return msg, true
}

// paneData is what the timeline and composer templates get, like the header and sidebar.
func paneData(pg *Page, pane *conversationPane) map[string]any {
	return map[string]any{"Page": pg, "Pane": pane}
}

// showTimeline renders ol#timeline alone: what its live updates fetch.
func (s *Server) showTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Inbox.Conversation(r.Context(), user(r), id)
	if err != nil {
		return err
	}
	pg := s.page(r, "", "inbox")
	pane, err := s.timelinePane(r, pg, c)
	if err != nil {
		return err
	}
	return s.renderBlock(w, http.StatusOK, "snippets", "timeline", paneData(pg, pane))
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) error { return s.sendAs(w, r, "reply") }
func (s *Server) comment(w http.ResponseWriter, r *http.Request) error {
	return s.sendAs(w, r, "comment")
}

// send posts the composer: a reply to the customer or a comment, as its mode field says.
func (s *Server) send(w http.ResponseWriter, r *http.Request) error {
	return s.sendAs(w, r, r.FormValue("mode"))
}

// sendAs sends the composer's text. htmx gets the new timeline and, out of band, an empty
// composer; a refusal (empty text, a channel that cannot send) is shown inside the composer,
// leaving the text and attachments as they were. A browser without scripts is redirected.
func (s *Server) sendAs(w http.ResponseWriter, r *http.Request, mode string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalidf("invalid_form", "the form could not be read")
	}
	u := user(r)
	text := r.PostForm.Get("text")
	switch mode {
	case "reply":
		in := inbox.ReplyInput{Text: text}
		recipientsFromForm(r, &in)
		if ids := r.PostForm["attachment"]; len(ids) > 0 {
			if in.Attachments, err = s.attachmentsJSON(r, ids); err != nil {
				return s.composerError(w, r, err)
			}
		}
		_, err = s.Inbox.Reply(r.Context(), u, id, in)
	case "comment":
		in := inbox.CommentInput{Body: text}
		for _, v := range r.PostForm["mention_team"] {
			name, raw, _ := strings.Cut(v, ":")
			// A team stays mentioned only while its @name is still in the text.
			if tid, perr := strconv.ParseInt(raw, 10, 64); perr == nil && strings.Contains(text, "@"+name) {
				in.MentionTeamIDs = append(in.MentionTeamIDs, tid)
			}
		}
		_, err = s.Inbox.Comment(r.Context(), u, id, in)
	default:
		return problem.Field("invalid_mode", "mode", "must be reply or comment")
	}
	if err != nil {
		return s.composerError(w, r, err)
	}
	if !isHTMX(r) {
		redirect(w, r, "/inbox/"+strconv.FormatInt(id, 10))
		return nil
	}
	c, err := s.Inbox.Conversation(r.Context(), u, id)
	if err != nil {
		return err
	}
	pg := s.page(r, "", "inbox")
	pane, err := s.timelinePane(r, pg, c)
	if err != nil {
		return err
	}
	if pane.Composer, err = s.composerFor(r, pg, c, mode); err != nil {
		return err
	}
	pane.Composer.OOB = true
	return s.renderBlock(w, http.StatusOK, "snippets", "composer-sent", paneData(pg, pane))
}

// composerError shows a refusal inside the composer (#composer-error) for htmx, leaving the
// form untouched; anything else goes the usual way.
func (s *Server) composerError(w http.ResponseWriter, r *http.Request, err error) error {
	pg := s.page(r, "", "inbox")
	msg, ok := problemMessage(pg, err)
	if !ok || !isHTMX(r) {
		return err
	}
	p, _ := problem.As(err)
	if p.Kind == problem.NotFound {
		return err
	}
	w.Header().Set("HX-Retarget", "#composer-error")
	w.Header().Set("HX-Reswap", "innerHTML")
	return s.renderBlock(w, http.StatusUnprocessableEntity, "snippets", "composer-error", map[string]any{"Page": pg, "Message": msg})
}

// mentionMenu answers the comment box's @ autocomplete: users who can open the conversation
// and teams, matching q.
func (s *Server) mentionMenu(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	users, teams, err := s.Inbox.MentionCandidates(r.Context(), user(r), id, r.URL.Query().Get("q"), 8)
	if err != nil {
		return err
	}
	return s.renderBlock(w, http.StatusOK, "snippets", "mention-menu",
		map[string]any{"Page": s.page(r, "", "inbox"), "Users": users, "Teams": teams})
}

// snippetMenu answers the composer's "/" picker: the user's snippets matching q.
func (s *Server) snippetMenu(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Inbox.Conversation(r.Context(), user(r), id); err != nil {
		return err
	}
	list, err := s.Inbox.Snippets(r.Context(), user(r), r.URL.Query().Get("q"), 8)
	if err != nil {
		return err
	}
	return s.renderBlock(w, http.StatusOK, "snippets", "snippet-menu",
		map[string]any{"Page": s.page(r, "", "inbox"), "ConversationID": id, "Snippets": list})
}

// expandSnippet returns a snippet's text with its tokens filled in for the conversation, as
// plain text for the composer to insert.
func (s *Server) expandSnippet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sid, err := strconv.ParseInt(r.PathValue("snippet"), 10, 64)
	if err != nil {
		return problem.NotFoundf("snippet_not_found", "no such snippet")
	}
	text, err := s.Inbox.ExpandSnippet(r.Context(), user(r), sid, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write([]byte(text))
	return err
}

// timelineEntry is one timeline item as the page shows it.
type timelineEntry struct {
	Kind string // message | comment | event
	// Key is unique in the timeline ("m12", "c3", "e40"): the element's id for morphing.
	Key   string
	Time  string // short, in the user's time zone
	Stamp string // full date and time, for the tooltip
	ISO   string // for <time datetime>

	// Messages and comments.
	Author    string
	AvatarURL string
	Body      template.HTML
	// HTML is set when Body is the message's own HTML rather than escaped plain text.
	HTML bool
	// Messages.
	Direction   string // inbound | outbound
	Status      string // queued | sent | delivered | read | failed; "" for inbound
	StatusLabel string
	Problem     string // the delivery failure, shown under the message
	Attachments []attachmentView
	// Email is set for the messages of an email conversation (email_messages.go).
	Email *emailEntry
	// Events: a one-line sentence and, for routing and some others, why.
	Type   string
	Text   string
	Detail string
}

// attachmentView is one file of a message.
type attachmentView struct {
	Name, URL, Size string
	Image           bool
}

// timelineBuilder turns timeline items into entries with the names and words of one page.
type timelineBuilder struct {
	pg     *Page
	people *inbox.TimelinePeople
	now    time.Time
	email  *emailTimeline // nil unless the conversation is email
}

func (b *timelineBuilder) entry(it inbox.TimelineItem) timelineEntry {
	e := timelineEntry{Kind: it.Kind}
	b.stamp(&e, it.CreatedAt)
	switch {
	case it.Message != nil:
		b.message(&e, it.Message)
	case it.Comment != nil:
		b.comment(&e, it.Comment)
	case it.Event != nil:
		b.event(&e, it.Event)
	}
	return e
}

func (b *timelineBuilder) stamp(e *timelineEntry, ms int64) {
	t := time.UnixMilli(ms).In(b.pg.Loc)
	e.ISO = t.Format(time.RFC3339)
	e.Stamp = t.Format("2006-01-02 15:04 MST")
	e.Time = b.when(t)
}

// when is a short time: the clock today, "yesterday" and the clock, else the date.
func (b *timelineBuilder) when(t time.Time) string {
	y, m, d := t.Date()
	ny, nm, nd := b.now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return t.Format("15:04")
	case b.now.AddDate(0, 0, -1).Format("2006-01-02") == t.Format("2006-01-02"):
		return b.pg.T("timeline.yesterday", t.Format("15:04"))
	}
	return t.Format("2006-01-02 15:04")
}

func (b *timelineBuilder) user(id *int64) *store.User {
	if id == nil {
		return nil
	}
	return b.people.Users[*id]
}

// userName names a user id; nil is Parley itself (routing, automatic changes).
func (b *timelineBuilder) userName(id *int64) string {
	if id == nil {
		return b.pg.T("timeline.system")
	}
	if u := b.people.Users[*id]; u != nil {
		return u.Name
	}
	return b.pg.T("timeline.unknown_user")
}

func (b *timelineBuilder) userNameOf(id int64) string {
	if id == 0 {
		return b.pg.T("timeline.nobody")
	}
	return b.userName(&id)
}

func (b *timelineBuilder) message(e *timelineEntry, m *store.Message) {
	e.Key = "m" + strconv.FormatInt(m.ID, 10)
	e.Direction = m.Direction
	var sender struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(m.Sender, &sender) // an unreadable sender only costs the fallback name
	switch {
	case m.Direction == "inbound":
		switch {
		case b.people.Contact != nil && b.people.Contact.Name != "":
			e.Author = b.people.Contact.Name
		case sender.Name != "":
			e.Author = sender.Name
		default:
			e.Author = b.pg.T("timeline.customer")
		}
	case b.user(m.AuthorID) != nil:
		u := b.user(m.AuthorID)
		e.Author, e.AvatarURL = u.Name, u.AvatarURL
	case sender.Name != "":
		e.Author = sender.Name
	default:
		e.Author = b.pg.T("timeline.business")
	}
	if m.HTML != "" {
		// Message HTML is sanitized when it is stored (inbox.sanitizeHTML, SEC-2), so no script
		// or style survives; its ids are only moved out of the page's way (messageHTML).
		e.Body, e.HTML = messageHTML(m.ID, m.HTML), true
	} else {
		e.Body = template.HTML(template.HTMLEscapeString(m.Text))
	}
	if m.Direction == "outbound" {
		e.Status = m.Status
		e.StatusLabel = b.pg.T("timeline.status." + m.Status)
		switch {
		case m.Status == "failed":
			reason := m.FailureReason
			if reason == "" {
				reason = b.pg.T("timeline.no_reason")
			}
			e.Problem = b.pg.T("timeline.failed", reason)
		case m.Status == "queued" && m.FailureReason != "":
			e.Problem = b.pg.T("timeline.retrying", m.FailureReason)
		}
	}
	e.Attachments = b.attachments(m.Attachments)
	if b.email != nil {
		b.email.message(b, e, m)
	}
}

// attachments reads a message's attachments: [{"id", "name", "url", "content_type", "size"}].
// Our own files link to their download path (see fileLink), others to their URL.
func (b *timelineBuilder) attachments(raw json.RawMessage) []attachmentView {
	if len(raw) == 0 {
		return nil
	}
	var list []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	}
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	out := make([]attachmentView, 0, len(list))
	for _, a := range list {
		if a.Name == "" && a.URL == "" {
			continue
		}
		name := a.Name
		if name == "" {
			name = a.URL[strings.LastIndex(a.URL, "/")+1:]
		}
		link := fileLink(a.ID, a.Name, a.URL)
		if own := a.ID != "" && link == files.PathOf(a.ID, a.Name); !own && !webLink(link) {
			link = "" // shown by name only: a channel's URL is linked only if it is a web address
		}
		v := attachmentView{Name: name, URL: link, Image: strings.HasPrefix(strings.ToLower(a.ContentType), "image/") && link != ""}
		if a.Size > 0 {
			v.Size = localSize(b.pg, a.Size)
		}
		out = append(out, v)
	}
	return out
}

// messageHTML is a message's sanitized HTML with every id (the sanitizer keeps them) and every
// link to one prefixed with "msg<id>-": customer HTML must not pose as an element of the page
// that htmx swaps or the scripts look up by id (the composer, #toasts), and a message's own
// table of contents keeps working. The sanitizer writes every attribute as name="value" with
// quotes escaped inside values, so ` id="` only ever starts an id attribute (or ends a value,
// where the change is harmless).
func messageHTML(id int64, html string) template.HTML {
	prefix := "msg" + strconv.FormatInt(id, 10) + "-"
	return template.HTML(strings.NewReplacer(` id="`, ` id="`+prefix, ` href="#`, ` href="#`+prefix).Replace(html))
}

// webLink reports whether a link from a channel may be followed: an http(s) address.
// html/template would defuse javascript: itself, but a link to a page of ours ("/profile/…")
// or any other scheme is no attachment either.
func webLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func (b *timelineBuilder) comment(e *timelineEntry, c *store.Comment) {
	e.Key = "c" + strconv.FormatInt(c.ID, 10)
	if u := b.people.Users[c.AuthorID]; u != nil {
		e.Author, e.AvatarURL = u.Name, u.AvatarURL
	} else {
		e.Author = b.pg.T("timeline.unknown_user")
	}
	var m struct {
		UserIDs []int64 `json:"user_ids"`
		TeamIDs []int64 `json:"team_ids"`
	}
	_ = json.Unmarshal(c.Mentions, &m) // no mentions to highlight if unreadable
	var marks []mention
	for _, id := range m.UserIDs {
		if u := b.people.Users[id]; u != nil {
			marks = append(marks, mention{Text: "@" + u.Email, Name: "@" + u.Name, Title: u.Email})
		}
	}
	for _, id := range m.TeamIDs {
		if t := b.people.Teams[id]; t != nil {
			marks = append(marks, mention{Text: "@" + t.Name, Name: "@" + t.Name, Title: b.pg.T("timeline.team")})
		}
	}
	e.Body = highlightMentions(c.Body, marks)
}

// mention is a mention in a comment's text: Text as written, shown as Name.
type mention struct{ Text, Name, Title string }

// highlightMentions escapes a comment's text and marks its mentions, so "@ana@example.com"
// reads "@Ana Lind" in a highlight. Matching ignores case, as the domain's resolving does.
func highlightMentions(body string, marks []mention) template.HTML {
	var sb strings.Builder
	plain := 0 // start of the text not yet written
	for i := 0; i < len(body); i++ {
		if body[i] != '@' {
			continue
		}
		for _, m := range marks {
			end := i + len(m.Text)
			if end > len(body) || !strings.EqualFold(body[i:end], m.Text) || continuesWord(body[end:]) {
				continue
			}
			sb.WriteString(template.HTMLEscapeString(body[plain:i]))
			fmt.Fprintf(&sb, `<span class="mention" title="%s">%s</span>`,
				template.HTMLEscapeString(m.Title), template.HTMLEscapeString(m.Name))
			plain, i = end, end-1
			break
		}
	}
	sb.WriteString(template.HTMLEscapeString(body[plain:]))
	return template.HTML(sb.String())
}

// continuesWord reports whether rest carries on the name or address just matched
// ("@ana@example.com.au" is not "@ana@example.com"); a full stop ending a sentence does not.
func continuesWord(rest string) bool {
	if rest == "" {
		return false
	}
	isWord := func(c byte) bool {
		return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	if isWord(rest[0]) {
		return true
	}
	return rest[0] == '.' && len(rest) > 1 && isWord(rest[1])
}

func (b *timelineBuilder) event(e *timelineEntry, ev *store.ConversationEvent) {
	e.Key = "e" + strconv.FormatInt(ev.ID, 10)
	e.Type = ev.Type
	var d inbox.EventData
	_ = json.Unmarshal(ev.Data, &d) // an unreadable explanation leaves the plain sentence
	T := b.pg.T
	actor := b.userName(ev.ActorID)
	switch ev.Type {
	case "created":
		e.Text = T("timeline.event.created")
		if d.Direction == "outbound" {
			e.Text = T("timeline.event.created_outbound")
		}
	case "assigned":
		assignee := b.userNameOf(d.AssigneeID)
		switch {
		case d.Reason == "routing":
			e.Text = T("timeline.event.assigned_routing", assignee)
			e.Detail = b.routingDetail(d)
		case d.Reason == "replied":
			e.Text = T("timeline.event.assigned_replied", assignee)
		case ev.ActorID != nil && *ev.ActorID == d.AssigneeID:
			e.Text = T("timeline.event.assigned_self", actor)
		default:
			e.Text = T("timeline.event.assigned", actor, assignee)
		}
		if d.PreviousAssigneeID != 0 && d.PreviousAssigneeID != d.AssigneeID {
			e.Detail = joinDetail(e.Detail, T("timeline.event.previously", b.userNameOf(d.PreviousAssigneeID)))
		}
	case "unassigned":
		prev := b.userNameOf(d.PreviousAssigneeID)
		switch d.Reason {
		case "routing":
			e.Text = T("timeline.event.unassigned_routing", prev)
			e.Detail = b.routingDetail(d)
		case "no access to the new inbox":
			e.Text = T("timeline.event.unassigned_no_access", prev)
		default:
			e.Text = T("timeline.event.unassigned", actor, prev)
		}
	case "team_assigned":
		e.Text = T("timeline.event.team_assigned", actor, b.teamName(d.TeamID))
	case "team_unassigned":
		e.Text = T("timeline.event.team_unassigned", actor, b.teamName(d.PreviousTeamID))
	case "closed":
		e.Text = T("timeline.event.closed", actor)
	case "reopened":
		if d.Reason == "new inbound message" {
			e.Text = T("timeline.event.reopened_inbound")
		} else {
			e.Text = T("timeline.event.reopened", actor)
		}
	case "snoozed":
		until := d.SnoozedUntil
		if t, err := time.Parse(time.RFC3339, d.SnoozedUntil); err == nil {
			until = b.when(t.In(b.pg.Loc))
		}
		e.Text = T("timeline.event.snoozed", actor, until)
	case "unsnoozed":
		switch {
		case d.Reason == "new inbound message":
			e.Text = T("timeline.event.unsnoozed_inbound")
		case ev.ActorID == nil:
			e.Text = T("timeline.event.unsnoozed_time")
		default:
			e.Text = T("timeline.event.unsnoozed", actor)
		}
	case "priority_changed":
		e.Text = T("timeline.event.priority", actor, T("timeline.priority."+orNone(d.Priority)))
		if d.PreviousPriority != "" {
			e.Detail = T("timeline.event.priority_was", T("timeline.priority."+orNone(d.PreviousPriority)))
		}
	case "tags_changed":
		e.Text = T("timeline.event.tags", actor)
		if len(d.Added) > 0 {
			e.Detail = T("timeline.event.tags_added", strings.Join(d.Added, ", "))
		}
		if len(d.Removed) > 0 {
			e.Detail = joinDetail(e.Detail, T("timeline.event.tags_removed", strings.Join(d.Removed, ", ")))
		}
	case "marked_spam":
		if d.Reason == "blocked contact" {
			e.Text = T("timeline.event.spam_blocked")
		} else {
			e.Text = T("timeline.event.spam", actor)
		}
	case "marked_not_spam":
		e.Text = T("timeline.event.not_spam", actor)
	case "filtered":
		// Receiving files automated mail (EMAIL-8) with the rule that matched; an agent files by hand.
		if ev.ActorID == nil {
			e.Text = T("timeline.event.filtered_auto")
			if slices.Contains(filterRules, d.Rule) {
				e.Detail = T("timeline.filter_rule." + d.Rule)
			}
		} else {
			e.Text = T("timeline.event.filtered", actor)
		}
	case "unfiltered":
		e.Text = T("timeline.event.unfiltered", actor)
	case "trashed":
		e.Text = T("timeline.event.trashed", actor)
	case "restored":
		e.Text = T("timeline.event.restored", actor)
	case "moved":
		e.Text = T("timeline.event.moved", actor, b.inboxName(d.FromInboxID), b.inboxName(d.ToInboxID))
	case "routing_waiting":
		e.Text = T("timeline.event.routing_waiting")
		e.Detail = b.routingDetail(d)
	case "bot_started", "bot_handed_off", "bot_ended", "bot_taken_over", "ticket_created":
		b.botEvent(e, ev, actor)
	default:
		e.Text = T("timeline.event.other", actor, strings.ReplaceAll(ev.Type, "_", " "))
	}
}

// botEvent words the events of a chat bot's run (CHAT-9, written by channel/chat's bot runtime):
// which bot started, handed over or ended and why, an agent taking over, and a ticket the bot filed.
func (b *timelineBuilder) botEvent(e *timelineEntry, ev *store.ConversationEvent, actor string) {
	var d struct {
		BotName string `json:"bot_name"`
		Reason  string `json:"reason"`
		Name    string `json:"name"`
		Source  string `json:"source"`
	}
	_ = json.Unmarshal(ev.Data, &d) // an unreadable explanation leaves the plain sentence
	T := b.pg.T
	bot := d.BotName
	if bot == "" {
		bot = T("timeline.bot.unnamed")
	}
	switch ev.Type {
	case "bot_started":
		e.Text = T("timeline.event.bot_started", bot)
	case "bot_handed_off":
		e.Text = T("timeline.event.bot_handed_off", bot)
	case "bot_ended":
		switch d.Reason {
		case "closed":
			e.Text = T("timeline.event.bot_ended_closed")
		case "no_valid_answer":
			e.Text = T("timeline.event.bot_ended_no_answer", bot)
		default:
			e.Text = T("timeline.event.bot_ended", bot)
			// A definition that changed under the run, a loop cut short or a broken step: the
			// admin who edits bots wants to know.
			if slices.Contains(botEndReasons, d.Reason) {
				e.Detail = T("timeline.bot.reason." + d.Reason)
			}
		}
	case "bot_taken_over":
		if d.Reason == "replied" {
			e.Text = T("timeline.event.bot_taken_over_replied", actor)
		} else {
			e.Text = T("timeline.event.bot_taken_over", actor)
		}
	case "ticket_created":
		name := d.Name
		if name == "" {
			name = T("timeline.bot.unnamed_ticket")
		}
		if d.Source == "bot" || ev.ActorID == nil {
			e.Text = T("timeline.event.ticket_created_bot", name)
		} else {
			e.Text = T("timeline.event.ticket_created", actor, name)
		}
	}
}

// botEndReasons are the reasons of a bot's end that the timeline explains
// (timeline.bot.reason.<reason>); completing its steps needs no explanation.
var botEndReasons = []string{"definition_changed", "step_limit", "broken_definition"}

// filterRules are the Filtered view's rules a "filtered" event may name, each explained by
// timeline.filter_rule.<rule>.
var filterRules = []string{"auto_reply", "bounce", "bulk", "role_sender"}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " · " + b
}

func (b *timelineBuilder) teamName(id int64) string {
	if t := b.people.Teams[id]; t != nil {
		return t.Name
	}
	return b.pg.T("timeline.unknown_team")
}

func (b *timelineBuilder) inboxName(id int64) string {
	if n, ok := b.people.Inboxes[id]; ok {
		return n
	}
	return b.pg.T("timeline.unknown_inbox")
}

// routingDetail explains a routing decision: how the assignee was picked, how many could have
// had it, and who was skipped and why (ROUTE-6).
func (b *timelineBuilder) routingDetail(d inbox.EventData) string {
	T := b.pg.T
	var parts []string
	if d.Strategy != "" {
		parts = append(parts, T("timeline.routing.by", T("timeline.routing.strategy."+d.Strategy)))
	}
	switch d.Reason {
	case "everyone_at_capacity", "nobody_eligible":
		parts = append(parts, T("timeline.routing.reason."+d.Reason))
	}
	if d.Fallback {
		parts = append(parts, T("timeline.routing.fallback"))
	}
	if d.Strategy != "" {
		parts = append(parts, b.pg.TN("timeline.routing.eligible", len(d.Eligible)))
	}
	if len(d.Skipped) > 0 {
		var names []string
		for _, sk := range d.Skipped {
			names = append(names, T("timeline.routing.skipped_one", b.userNameOf(sk.UserID), T("timeline.routing.skip."+sk.Reason)))
		}
		parts = append(parts, T("timeline.routing.skipped", strings.Join(names, ", ")))
	}
	return strings.Join(parts, " · ")
}
