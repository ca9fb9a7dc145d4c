package ui

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// The inbox: the left pane of views with live counts, the conversation list with its filters,
// search and bulk actions, and the open conversation (conversation.go). Each pane is a block
// the page can render alone, named like its element id (see render), and a request for one
// block loads only what that block shows: a live refresh of the counts never reads the list.

func (s *Server) inboxRoutes() []route {
	return []route{
		{pattern: "GET /inbox", handle: s.showInbox},
		{pattern: "GET /inbox/{id}", handle: s.showInbox},
		{pattern: "POST /conversations/bulk", handle: s.bulk},
		{pattern: "POST /inbox/views", handle: s.saveView},
		{pattern: "POST /inbox/views/{id}", handle: s.renameView},
		{pattern: "POST /inbox/views/{id}/delete", handle: s.deleteView},
	}
}

// inboxPage is the three panes: views on the left, the list in the middle, the open
// conversation (if any) on the right. Parts a request does not render stay nil.
type inboxPage struct {
	*Page
	View  string
	Query url.Values
	// Inboxes are the inboxes the user may see (left pane, filters, bulk move).
	Inboxes []*store.Inbox
	Nav     *inboxNav
	Saved   []savedViewItem
	List    *convList
	Filters *filterOptions
	// OpenID is the conversation open on the right (0 for none); Open is its pane when rendered.
	OpenID int64
	Open   *conversationPane
	// Toast is a one-off message rendered out of band with a fragment (bulk actions, views).
	Toast      string
	ToastError bool
}

// listKeys are the list's state (view, filters, search) carried on every link, so that opening
// a conversation keeps the list as it was, and saved in a saved view.
var listKeys = []string{"view", "q", "status", "channel", "assignee", "team", "tag", "priority", "inbox", "from", "to"}

// listQuery is the list's state of the request's URL.
func listQuery(r *http.Request) url.Values { return cleanListQuery(r.URL.Query()) }

// cleanListQuery keeps the list's keys with a non-empty value, trimmed.
func cleanListQuery(in url.Values) url.Values {
	q := url.Values{}
	for _, k := range listKeys {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// views are the standard views of the left pane, in order, and whether each shows a count.
var standardViews = []struct {
	Name  string
	Count bool
}{
	{"unassigned", true}, {"mine", true}, {"open", true}, {"snoozed", true},
	{"bots", true}, {"closed", false}, {"filtered", false}, {"spam", false}, {"trash", false},
}

// filterFor turns the list's state into the domain's list filter: the view sets the base, the
// filter bar narrows it (its status replaces the view's). Dates are whole days in loc.
func filterFor(view string, q url.Values, loc *time.Location) (inbox.Filter, error) {
	notSnoozed, snoozed := false, true
	f := inbox.Filter{Status: "open", Snoozed: &notSnoozed, Q: q.Get("q"), Tag: q.Get("tag"), Priority: q.Get("priority")}
	switch view {
	case "", "open":
	case "unassigned":
		f.AssigneeID = "none" // nobody: no person and no bot (a bot's conversation is in Bots)
	case "mine":
		f.AssigneeID = "me"
	case "snoozed":
		f.Snoozed = &snoozed
	case "closed":
		f.Status, f.Snoozed = "closed", nil
	case "all":
		f.Status, f.Snoozed = "", nil
	case "filtered":
		f.Status, f.Snoozed, f.Filtered = "", nil, true
	case "bots":
		// Chat conversations a bot still has (CHAT-9), until it hands off or an agent takes over.
		f.Snoozed, f.BotActive = nil, true
	case "spam":
		f.Status, f.Snoozed, f.Spam = "", nil, true
	case "trash":
		f.Status, f.Snoozed, f.Trashed = "", nil, true
	default:
		return f, problem.Invalidf("list_unknown_view", "unknown view %q", view)
	}
	if a := q.Get("assignee"); a != "" {
		f.AssigneeID = a // the filter bar's assignee wins over the view's: it is what was asked last
	}
	switch q.Get("status") {
	case "":
	case "open":
		f.Status = "open"
	case "closed":
		f.Status, f.Snoozed = "closed", nil
	case "any":
		f.Status, f.Snoozed = "", nil
	default:
		return f, problem.Field("list_invalid_filter", "status", "must be open, closed or any")
	}
	var err error
	for _, id := range []struct {
		key string
		dst **int64
	}{{"inbox", &f.InboxID}, {"channel", &f.ChannelID}, {"team", &f.TeamID}} {
		if *id.dst, err = queryID(q, id.key); err != nil {
			return f, err
		}
	}
	if f.ActiveFrom, err = queryDay(q, "from", loc, 0); err != nil {
		return f, err
	}
	if f.ActiveBefore, err = queryDay(q, "to", loc, 1); err != nil {
		return f, err
	}
	return f, nil
}

func queryID(q url.Values, key string) (*int64, error) {
	v := q.Get(key)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, problem.Field("list_invalid_filter", key, "must be a number")
	}
	return &id, nil
}

// queryDay reads a date (YYYY-MM-DD) as the start of that day plus addDays in loc, in unix ms.
func queryDay(q url.Values, key string, loc *time.Location, addDays int) (*int64, error) {
	v := q.Get(key)
	if v == "" {
		return nil, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return nil, problem.Field("list_invalid_date", key, "must be a date like 2026-01-31")
	}
	ms := d.AddDate(0, 0, addDays).UnixMilli()
	return &ms, nil
}

// inboxBlocks says which parts of the inbox a request renders: all of them for a page load,
// one for htmx asking for a block.
type inboxBlocks struct{ nav, saved, list, filters, pane bool }

func (s *Server) inboxBlocks(r *http.Request) inboxBlocks {
	block := ""
	if isHTMX(r) {
		if t := r.Header.Get("HX-Target"); t != "main" && s.views.pages["inbox"].Lookup(t) != nil {
			block = t
		}
	}
	switch block {
	case "inbox-nav":
		return inboxBlocks{nav: true}
	case "saved-views":
		return inboxBlocks{saved: true}
	case "conversation-list", "list-more":
		return inboxBlocks{list: true}
	case "conversation":
		return inboxBlocks{pane: true}
	}
	return inboxBlocks{nav: true, saved: true, list: true, filters: true, pane: true}
}

var openPath = regexp.MustCompile(`^/inbox/([0-9]+)$`)

func (s *Server) showInbox(w http.ResponseWriter, r *http.Request) error {
	q := listQuery(r)
	blocks := s.inboxBlocks(r)
	p, err := s.inboxPage(r, q, blocks, r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	if raw := r.PathValue("id"); raw != "" {
		p.OpenID, _ = strconv.ParseInt(raw, 10, 64)
		if blocks.pane {
			if p.Open, err = s.conversationPane(r, raw); err != nil {
				return err
			}
		}
	}
	if p.List != nil {
		p.List.markCurrent(p.OpenID)
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "conversation-list" && r.Header.Get("X-Parley-Live") == "" {
		// The filter bar and search ask for the list: the address bar shows the list's state
		// in its clean form (no empty fields), with the open conversation kept.
		path := "/inbox"
		if p.OpenID > 0 {
			path += "/" + strconv.FormatInt(p.OpenID, 10)
		}
		w.Header().Set("HX-Push-Url", withQuery(path, q))
	}
	return s.render(w, r, http.StatusOK, "inbox", p)
}

// inboxPage loads what blocks need for the list state q.
func (s *Server) inboxPage(r *http.Request, q url.Values, blocks inboxBlocks, cursor string) (*inboxPage, error) {
	ctx := r.Context()
	u := user(r)
	view := q.Get("view")
	p := &inboxPage{Page: s.page(r, "", "inbox"), View: view, Query: q}
	p.Title = p.T("nav.inbox")
	f, err := filterFor(view, q, p.Loc)
	if err != nil {
		return nil, err
	}
	var channels []*store.Channel
	if blocks.nav || blocks.list || blocks.filters {
		if channels, err = s.Inbox.VisibleChannels(ctx, u); err != nil {
			return nil, err
		}
	}
	if blocks.nav || blocks.filters {
		if p.Inboxes, _, err = s.Workspace.Inboxes(ctx, u, 0, 200); err != nil {
			return nil, err
		}
	}
	if blocks.nav {
		if p.Nav, err = s.inboxNav(r, p, channels); err != nil {
			return nil, err
		}
	}
	if blocks.saved {
		if err := s.loadSaved(r, p); err != nil {
			return nil, err
		}
	}
	if blocks.filters {
		if p.Filters, err = s.filterOptions(r, p, channels); err != nil {
			return nil, err
		}
	}
	if blocks.list {
		f.Cursor = cursor
		if p.List, err = s.convList(r, p, f, channels); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// withQuery is path with q, or path alone when q is empty.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Href is a link to the list with q changed by kv (key, value pairs; "" removes a key).
func (p *inboxPage) Href(path string, kv ...string) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return withQuery(path, q)
}

// Narrowed counts the filter bar's fields that narrow the list (for its "Filters (n)" marker).
// ("Filtered" is the view of automated mail.)
func (p *inboxPage) Narrowed() int {
	n := 0
	for _, k := range []string{"status", "channel", "assignee", "team", "tag", "priority", "inbox", "from", "to"} {
		if p.Query.Get(k) != "" {
			n++
		}
	}
	return n
}

// canonical is a list state as a comparable string: the default view is "open".
func canonical(q url.Values) string {
	c := cleanListQuery(q)
	c.Del("q")
	if c.Get("view") == "" {
		c.Set("view", "open")
	}
	return c.Encode()
}

// navItem is one entry of the left pane.
type navItem struct {
	Label    string
	Href     string
	Count    int64
	HasCount bool
	Current  bool
	Kind     string // channel kind, for the channel's icon
}

// inboxNav is the left pane's live part: the standard views, the user's teams, the channels
// and the inboxes, with their counts.
type inboxNav struct {
	Views, Teams, Channels, Inboxes []navItem
}

func (s *Server) inboxNav(r *http.Request, p *inboxPage, channels []*store.Channel) (*inboxNav, error) {
	ctx := r.Context()
	u := user(r)
	counts, err := s.Inbox.ViewCounts(ctx, u)
	if err != nil {
		return nil, err
	}
	teams, err := s.Inbox.MyTeams(ctx, u)
	if err != nil {
		return nil, err
	}
	current := canonical(p.Query)
	item := func(label string, q url.Values, count int64, hasCount bool) navItem {
		return navItem{Label: label, Href: withQuery("/inbox", q), Count: count, HasCount: hasCount, Current: canonical(q) == current}
	}
	n := &inboxNav{}
	for _, v := range standardViews {
		var c int64
		switch v.Name {
		case "unassigned":
			c = counts.Unassigned
		case "mine":
			c = counts.Mine
		case "open":
			c = counts.Open
		case "snoozed":
			c = counts.Snoozed
		case "bots":
			c = counts.Bots
		}
		n.Views = append(n.Views, item(p.T("view."+v.Name), url.Values{"view": {v.Name}}, c, v.Count))
	}
	for _, t := range teams {
		n.Teams = append(n.Teams, item(t.Name, url.Values{"view": {"open"}, "team": {itoa64(t.ID)}}, counts.ByTeam[t.ID], true))
	}
	for _, ch := range channels {
		it := item(ch.Name, url.Values{"view": {"open"}, "channel": {itoa64(ch.ID)}}, counts.ByChannel[ch.ID], true)
		it.Kind = ch.Kind
		n.Channels = append(n.Channels, it)
	}
	for _, in := range p.Inboxes {
		n.Inboxes = append(n.Inboxes, item(in.Name, url.Values{"view": {"open"}, "inbox": {itoa64(in.ID)}}, counts.ByInbox[in.ID], true))
	}
	return n, nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// savedViewItem is one of the user's saved views in the left pane.
type savedViewItem struct {
	ID      int64
	Name    string
	Href    string
	Current bool
}

func (s *Server) loadSaved(r *http.Request, p *inboxPage) error {
	views, err := s.Inbox.SavedViews(r.Context(), user(r))
	if err != nil {
		return err
	}
	current := canonical(p.Query)
	p.Saved = make([]savedViewItem, 0, len(views))
	for _, v := range views {
		q, _ := url.ParseQuery(v.Query) // stored by SaveView from a clean query; junk shows as the default view
		q = cleanListQuery(q)
		p.Saved = append(p.Saved, savedViewItem{ID: v.ID, Name: v.Name, Href: withQuery("/inbox", q),
			Current: canonical(q) == current && len(cleanListQuery(p.Query)) > 0})
	}
	return nil
}

// option is one choice of a select.
type option struct {
	Value, Label string
}

// filterOptions are the choices of the filter bar and the bulk actions.
type filterOptions struct {
	Channels []option
	Users    []option
	Teams    []option
	Inboxes  []option
}

func (s *Server) filterOptions(r *http.Request, p *inboxPage, channels []*store.Channel) (*filterOptions, error) {
	ctx := r.Context()
	fo := &filterOptions{}
	for _, ch := range channels {
		fo.Channels = append(fo.Channels, option{itoa64(ch.ID), ch.Name})
	}
	users, _, err := s.Workspace.Users(ctx, store.UserFilter{Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		fo.Users = append(fo.Users, option{itoa64(u.ID), u.Name})
	}
	teams, _, err := s.Workspace.Teams(ctx, 0, 200)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		fo.Teams = append(fo.Teams, option{itoa64(t.ID), t.Name})
	}
	for _, in := range p.Inboxes {
		fo.Inboxes = append(fo.Inboxes, option{itoa64(in.ID), in.Name})
	}
	return fo, nil
}

// convList is the middle pane's list: one page of rows and the link to the next.
type convList struct {
	Rows     []convRow
	NextHref string
	// Narrowed says the list is narrowed by filters or a search, for the empty state's wording.
	Narrowed bool
	Search   string
	// AllHref searches every conversation (open and closed) when the view found nothing.
	AllHref string
}

// convRow is one conversation in the list.
type convRow struct {
	C           store.Conversation
	Href        string
	Contact     string
	ChannelKind string
	ChannelName string
	Assignee    *store.User
	When        string // relative, in the user's language
	WhenTitle   string // absolute, in the user's time zone
	WhenISO     string
	Current     bool
	// Tags are the first few tags; MoreTags counts the rest.
	Tags     []string
	MoreTags int
}

// rowTags is how many tags a row shows before "+n".
const rowTags = 3

func (l *convList) markCurrent(id int64) {
	for i := range l.Rows {
		l.Rows[i].Current = l.Rows[i].C.ID == id
	}
}

func (s *Server) convList(r *http.Request, p *inboxPage, f inbox.Filter, channels []*store.Channel) (*convList, error) {
	ctx := r.Context()
	u := user(r)
	list, next, err := s.Inbox.Conversations(ctx, u, f)
	if err != nil {
		return nil, err
	}
	contacts, users, err := s.Inbox.ListPeople(ctx, u, list)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*store.Channel, len(channels))
	for _, ch := range channels {
		byID[ch.ID] = ch
	}
	l := &convList{Search: p.Query.Get("q"), Narrowed: p.Narrowed() > 0 || p.Query.Get("q") != ""}
	if l.Search != "" && p.View != "all" {
		l.AllHref = p.Href("/inbox", "view", "all", "status", "")
	}
	if next != "" {
		l.NextHref = p.Href("/inbox", "cursor", next)
	}
	now := time.Now()
	for _, c := range list {
		row := convRow{C: c, Href: p.Href("/inbox/" + itoa64(c.ID)), Contact: p.T("list.unknown_contact")}
		if c.ContactID != nil {
			if card, ok := contacts[*c.ContactID]; ok && card.Label() != "" {
				row.Contact = card.Label()
			}
		}
		if c.ChannelID != nil {
			if ch := byID[*c.ChannelID]; ch != nil {
				row.ChannelKind, row.ChannelName = ch.Kind, ch.Name
			}
		}
		if c.AssigneeID != nil {
			row.Assignee = users[*c.AssigneeID]
		}
		row.Tags = c.Tags
		if len(c.Tags) > rowTags {
			row.Tags, row.MoreTags = c.Tags[:rowTags], len(c.Tags)-rowTags
		}
		at := time.UnixMilli(c.LastActivityAt)
		row.When = relativeTime(p.Lang, now, at, p.Loc)
		row.WhenTitle = at.In(p.Loc).Format("2006-01-02 15:04 MST")
		row.WhenISO = at.UTC().Format(time.RFC3339)
		l.Rows = append(l.Rows, row)
	}
	return l, nil
}

// relativeTime says how long ago t was, the way a list does: "just now", "5 min", "3 h",
// "yesterday", a weekday within the week, else the date (with the year when not this year).
func relativeTime(l *Lang, now, t time.Time, loc *time.Location) string {
	d := now.Sub(t)
	if d < time.Minute {
		return l.T("time.now")
	}
	if d < time.Hour {
		return l.T("time.minutes", int(d/time.Minute))
	}
	now, t = now.In(loc), t.In(loc)
	ny, nm, nd := now.Date()
	ty, tm, td := t.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, loc)
	day := time.Date(ty, tm, td, 0, 0, 0, 0, loc)
	switch days := int(today.Sub(day).Hours()/24 + 0.5); {
	case days == 0:
		return l.T("time.hours", int(d/time.Hour))
	case days == 1:
		return l.T("time.yesterday")
	case days < 7:
		return l.T("time.weekday." + strconv.Itoa(int(t.Weekday())))
	}
	month := l.T("time.month." + strconv.Itoa(int(tm)))
	if ty == ny {
		return l.T("time.date", td, month)
	}
	return l.T("time.date_year", td, month, ty)
}

// bulkMax bounds one bulk action: a page of the list holds at most 200 rows.
const bulkMax = 200

// bulk applies one action to the selected conversations (SPEC CONV-13), each in its own
// update: a conversation the user may not change fails alone and the others go ahead.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return problem.Invalidf("bulk_invalid_form", "the form could not be read")
	}
	ctx := r.Context()
	u := user(r)
	raw := r.PostForm["id"]
	if len(raw) == 0 {
		return problem.Field("bulk_nothing_selected", "id", "select at least one conversation")
	}
	if len(raw) > bulkMax {
		return problem.Field("bulk_too_many", "id", "select at most 200 conversations")
	}
	action := r.PostFormValue("action")
	var patch inbox.Patch
	var tag string
	switch action {
	case "close", "reopen":
		st := "closed"
		if action == "reopen" {
			st = "open"
		}
		patch.Status = &st
	case "spam":
		yes := true
		patch.Spam = &yes
	case "assign":
		switch a := r.PostFormValue("assignee"); a {
		case "":
			return problem.Field("bulk_assignee_required", "assignee", "choose whom to assign to")
		case "none":
			patch.Unassign = true
		case "me":
			patch.AssigneeID = &u.ID
		default:
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id <= 0 {
				return problem.Field("bulk_assignee_required", "assignee", "choose whom to assign to")
			}
			patch.AssigneeID = &id
		}
	case "tag":
		if tag = strings.TrimSpace(r.PostFormValue("tag")); tag == "" {
			return problem.Field("bulk_tag_required", "tag", "type the tag to add")
		}
	case "move":
		id, err := strconv.ParseInt(r.PostFormValue("inbox_id"), 10, 64)
		if err != nil || id <= 0 {
			return problem.Field("bulk_inbox_required", "inbox_id", "choose the inbox to move to")
		}
		patch.InboxID = &id
	default:
		return problem.Field("bulk_unknown_action", "action", "is not a bulk action")
	}
	done, failed := 0, 0
	for _, v := range raw {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			failed++
			continue
		}
		p := patch
		if action == "tag" {
			c, err := s.Inbox.Conversation(ctx, u, id)
			if err != nil {
				failed++
				continue
			}
			tags := append(append([]string{}, c.Tags...), tag)
			p.Tags = &tags
		}
		if _, err := s.Inbox.Update(ctx, u, id, p); err != nil {
			s.Log.DebugContext(ctx, "bulk action failed", "action", action, "conversation", id, "err", err)
			failed++
			continue
		}
		done++
	}
	lang := s.lang(r, u)
	msg := lang.TN("bulk.done", done)
	if failed > 0 {
		msg += " " + lang.TN("bulk.failed", failed)
	}
	// The list to show after: the one the agent is looking at.
	q := url.Values{}
	path := ""
	if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && strings.HasPrefix(cur.Path, "/inbox") {
		q, path = cleanListQuery(cur.Query()), cur.Path
	} else if back, err := url.Parse(r.PostFormValue("back")); err == nil {
		q = cleanListQuery(back.Query())
	}
	if !isHTMX(r) {
		redirect(w, r, withQuery("/inbox", q))
		return nil
	}
	p, err := s.inboxPage(r, q, inboxBlocks{list: true}, "")
	if err != nil {
		return err
	}
	if m := openPath.FindStringSubmatch(path); m != nil {
		p.OpenID, _ = strconv.ParseInt(m[1], 10, 64)
		p.List.markCurrent(p.OpenID)
	}
	p.Toast, p.ToastError = msg, done == 0
	return s.renderBlock(w, http.StatusOK, "inbox", "bulk-result", p)
}

// savedViewsAnswer re-renders the saved views for the list the agent is looking at, with a
// toast, or sends a page without scripts to target.
func (s *Server) savedViewsAnswer(w http.ResponseWriter, r *http.Request, target, toast string) error {
	if !isHTMX(r) {
		redirect(w, r, target)
		return nil
	}
	q := url.Values{}
	if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil {
		q = cleanListQuery(cur.Query())
	}
	p, err := s.inboxPage(r, q, inboxBlocks{saved: true}, "")
	if err != nil {
		return err
	}
	p.Toast = toast
	return s.renderBlock(w, http.StatusOK, "inbox", "saved-views-result", p)
}

// saveView saves the filter bar's state (the form's fields, the list's keys) as a view.
func (s *Server) saveView(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return problem.Invalidf("bulk_invalid_form", "the form could not be read")
	}
	q := cleanListQuery(r.PostForm)
	if _, err := filterFor(q.Get("view"), q, time.UTC); err != nil {
		return err
	}
	v, err := s.Inbox.SaveView(r.Context(), user(r), r.PostFormValue("name"), q.Encode())
	if err != nil {
		return err
	}
	return s.savedViewsAnswer(w, r, withQuery("/inbox", q), s.lang(r, user(r)).T("saved.created", v.Name))
}

func (s *Server) renameView(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.Inbox.RenameView(r.Context(), user(r), id, r.FormValue("name"))
	if err != nil {
		return err
	}
	return s.savedViewsAnswer(w, r, "/inbox?"+v.Query, s.lang(r, user(r)).T("saved.renamed", v.Name))
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Inbox.DeleteView(r.Context(), user(r), id); err != nil {
		return err
	}
	return s.savedViewsAnswer(w, r, "/inbox", s.lang(r, user(r)).T("saved.deleted"))
}
