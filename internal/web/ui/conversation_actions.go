package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// The conversation's header: what the conversation is (subject, contact, inbox and channel,
// status, assignee, team, priority, tags, snooze) and what can be done to it. Every action is a
// plain form post that works without scripts; htmx posts get back the header, or the whole
// pane for actions after which the conversation leaves the list the agent is looking at.
// Other browsers follow through the conversation.updated event (data-live on the header).

func (s *Server) conversationActionRoutes() []route {
	return []route{
		{pattern: "GET /conversations/{id}/header", handle: s.showHeader},
		{pattern: "POST /conversations/{id}/assign", handle: s.conversationAction(assignPatch)},
		{pattern: "POST /conversations/{id}/status", handle: s.conversationAction(statusPatch)},
		{pattern: "POST /conversations/{id}/snooze", handle: s.conversationAction(snoozePatch)},
		{pattern: "POST /conversations/{id}/move", handle: s.conversationAction(movePatch)},
		{pattern: "POST /conversations/{id}/priority", handle: s.conversationAction(priorityPatch)},
		{pattern: "POST /conversations/{id}/tags", handle: s.conversationAction(tagsPatch)},
		{pattern: "POST /conversations/{id}/spam", handle: s.conversationAction(spamPatch)},
		{pattern: "POST /conversations/{id}/filtered", handle: s.conversationAction(filteredPatch)},
		{pattern: "POST /conversations/{id}/trash", handle: s.conversationAction(trashPatch)},
		{pattern: "POST /conversations/{id}/block", handle: s.blockSender},
	}
}

// priorityLevels are the conversation priorities, lowest first, as the menu lists them.
var priorityLevels = []string{"none", "low", "medium", "high", "urgent"}

// conversationHeader is what the conversation's header shows besides the conversation itself.
type conversationHeader struct {
	Contact *store.Contact // nil for a conversation without a contact
	Inbox   *store.Inbox
	Channel *store.Channel // nil for a conversation without a channel
	// Assignee is the assigned user when they can still see the inbox; AssigneeName covers one
	// who cannot (deactivated, or access changed since).
	Assignee     *assignee
	AssigneeName string
	Team         *store.Team
	// People are the active users who can see the inbox, for the assign menu and for naming
	// who is viewing or typing; PeopleJSON maps their ids to names for presence.js.
	People     []assignee
	PeopleJSON string
	Teams      []*store.Team
	// MoveTo are the other inboxes the user may move the conversation to.
	MoveTo []*store.Inbox
	// TagSuggestions are tags in use in the inbox's recent conversations.
	TagSuggestions []string
	// SnoozedUntil is the snooze's end in the user's time zone ("" when not snoozed).
	SnoozedUntil string
	Snoozes      []snoozePreset
	// CustomMin is the earliest custom snooze the picker offers, in the user's time zone.
	CustomMin  string
	Priorities []string
	// Query is the list's state ("?view=mine…" or ""), kept on every action's URL so that a
	// page without scripts comes back to the same list.
	Query string
	// Bot is the bot that still has a chat conversation (bots_takeover.go); nil otherwise.
	Bot *activeBot
}

// assignee is one person in the assign menu.
type assignee struct {
	store.Assignable
	// Away is routing's view: away by choice or outside working hours (AwayReason says which).
	Away       bool
	AwayReason string
	AtCapacity bool
	Me         bool
}

// IsAssigned reports whether the user id is the conversation's assignee, for the menu's marker.
func (h *conversationHeader) IsAssigned(id int64) bool {
	return h.Assignee != nil && h.Assignee.ID == id
}

func (s *Server) conversationHeader(r *http.Request, c *store.Conversation) (*conversationHeader, error) {
	ctx := r.Context()
	u := user(r)
	loc := userLocation(u)
	now := time.Now()
	h := &conversationHeader{Priorities: priorityLevels, Snoozes: snoozePresets(now, loc),
		CustomMin: now.In(loc).Add(time.Minute).Format(datetimeLocal)}
	if q := listQuery(r).Encode(); q != "" {
		h.Query = "?" + q
	}
	if c.ContactID != nil {
		contact, err := s.Store.Contact(ctx, *c.ContactID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		h.Contact = contact
	}
	if c.ChannelID != nil {
		ch, err := s.Store.Channel(ctx, *c.ChannelID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		h.Channel = ch
	}
	bot, err := s.activeBot(ctx, c, h.Channel)
	if err != nil {
		return nil, err
	}
	h.Bot = bot
	inboxes, _, err := s.Workspace.Inboxes(ctx, u, 0, 500)
	if err != nil {
		return nil, err
	}
	for _, in := range inboxes {
		if in.ID == c.InboxID {
			h.Inbox = in
		} else {
			h.MoveTo = append(h.MoveTo, in)
		}
	}
	if h.Inbox == nil {
		if h.Inbox, err = s.Store.Inbox(ctx, c.InboxID); err != nil {
			return nil, err
		}
	}
	people, err := s.Store.Assignables(ctx, c.InboxID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(people))
	for _, p := range people {
		a := assigneeOf(p, now)
		a.Me = p.ID == u.ID
		h.People = append(h.People, a)
		names[strconv.FormatInt(p.ID, 10)] = p.Name
	}
	raw, _ := json.Marshal(names) // a map of strings always marshals
	h.PeopleJSON = string(raw)
	if c.AssigneeID != nil {
		if i := slices.IndexFunc(h.People, func(a assignee) bool { return a.ID == *c.AssigneeID }); i >= 0 {
			h.Assignee = &h.People[i]
		} else if au, err := s.Store.User(ctx, *c.AssigneeID); err == nil {
			h.AssigneeName = au.Name
		}
	}
	if h.Teams, _, err = s.Store.Teams(ctx, 0, 200); err != nil {
		return nil, err
	}
	if c.TeamID != nil {
		for _, t := range h.Teams {
			if t.ID == *c.TeamID {
				h.Team = t
			}
		}
		if h.Team == nil {
			if h.Team, err = s.Store.Team(ctx, *c.TeamID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	if h.TagSuggestions, err = s.Store.RecentInboxTags(ctx, c.InboxID); err != nil {
		return nil, err
	}
	if c.SnoozedUntil != nil {
		h.SnoozedUntil = time.UnixMilli(*c.SnoozedUntil).In(loc).Format("2006-01-02 15:04")
	}
	return h, nil
}

// assigneeOf works out what the assign menu says of a person: whether routing would count
// them as available now (their status and working hours, as inbox.Availability does) and
// whether they are at their capacity.
func assigneeOf(p store.Assignable, now time.Time) assignee {
	a := assignee{Assignable: p}
	switch {
	case p.Status != inbox.StatusAvailable:
		a.Away, a.AwayReason = true, routing.SkipAway
	case p.WorkingHours != nil:
		if w, err := routing.ParseWorkingHours(p.WorkingHours); err == nil && !w.Inside(now) {
			a.Away, a.AwayReason = true, routing.SkipOutsideWorkingHours
		}
	}
	a.AtCapacity = p.CapacityTotal != nil && p.OpenTotal >= *p.CapacityTotal
	return a
}

// userLocation is the user's time zone, UTC when unset or unknown.
func userLocation(u *store.User) *time.Location {
	if u != nil && u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// datetimeLocal is the format of an <input type="datetime-local"> value.
const datetimeLocal = "2006-01-02T15:04"

// snoozePreset is one of the snooze menu's choices and the time it stands for.
type snoozePreset struct {
	Key string // hour | tomorrow | monday
	At  time.Time
}

// Label is the preset's time as the menu shows it beside its name.
func (p snoozePreset) Label() string {
	if p.Key == "hour" {
		return p.At.Format("15:04")
	}
	return p.At.Format("2006-01-02 15:04")
}

// snoozePresets are the snooze menu's choices at now for someone in loc: in an hour, tomorrow
// at 09:00 and next Monday at 09:00 on their clock (a Monday's "next Monday" is a week away).
// time.Date normalizes day overflow and daylight saving gaps.
func snoozePresets(now time.Time, loc *time.Location) []snoozePreset {
	local := now.In(loc)
	y, m, d := local.Date()
	toMonday := (8 - int(local.Weekday())) % 7
	if toMonday == 0 {
		toMonday = 7
	}
	return []snoozePreset{
		{Key: "hour", At: now.Add(time.Hour).In(loc)},
		{Key: "tomorrow", At: time.Date(y, m, d+1, 9, 0, 0, 0, loc)},
		{Key: "monday", At: time.Date(y, m, d+toMonday, 9, 0, 0, 0, loc)},
	}
}

// headerData is what the conversation-header template takes.
func (s *Server) headerData(r *http.Request, pane *conversationPane) map[string]any {
	return map[string]any{"Page": s.page(r, "", "inbox"), "Pane": pane}
}

// showHeader renders the header alone, for live updates.
func (s *Server) showHeader(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.renderHeader(w, r, id)
}

func (s *Server) renderHeader(w http.ResponseWriter, r *http.Request, id int64) error {
	c, err := s.Inbox.Conversation(r.Context(), user(r), id)
	if err != nil {
		return err
	}
	pane := &conversationPane{Conversation: c}
	if pane.Header, err = s.conversationHeader(r, c); err != nil {
		return err
	}
	return s.renderBlock(w, http.StatusOK, "inbox", "conversation-header", s.headerData(r, pane))
}

// afterAction answers a finished action: a page without scripts goes back to the conversation;
// htmx gets the block it targeted, the whole pane ("conversation") or the header.
func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, id int64) error {
	if !isHTMX(r) {
		target := "/inbox/" + strconv.FormatInt(id, 10)
		if q := listQuery(r).Encode(); q != "" {
			target += "?" + q
		}
		redirect(w, r, target)
		return nil
	}
	if r.Header.Get("HX-Target") != "conversation" {
		return s.renderHeader(w, r, id)
	}
	q := listQuery(r)
	p := &inboxPage{Page: s.page(r, "", "inbox"), View: q.Get("view"), Query: q}
	var err error
	if p.Open, err = s.conversationPane(r, strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	return s.renderBlock(w, http.StatusOK, "inbox", "conversation", p)
}

// patchBuilder turns an action's form into a change of the conversation c.
type patchBuilder func(r *http.Request, c *store.Conversation) (inbox.Patch, error)

// conversationAction reads the conversation (so that one the user cannot see is not found
// whatever the form says), builds the patch and applies it.
func (s *Server) conversationAction(build patchBuilder) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		u := user(r)
		c, err := s.Inbox.Conversation(r.Context(), u, id)
		if err != nil {
			return err
		}
		p, err := build(r, c)
		if err != nil {
			return err
		}
		if _, err := s.Inbox.Update(r.Context(), u, id, p); err != nil {
			return actionError(err)
		}
		return s.afterAction(w, r, id)
	}
}

// actionErrors renames the domain's refusals to this area's codes, whose messages
// (error.action_*) say what to do in the header's words.
var actionErrors = map[string]string{
	"inbox_not_found":       "action_move_denied",
	"assignee_not_member":   "action_assignee_not_member",
	"team_not_found":        "action_team_not_found",
	"invalid_snoozed_until": "action_snooze_time",
	"invalid_tag":           "action_invalid_tag",
	"invalid_priority":      "action_invalid_input",
	"invalid_status":        "action_invalid_input",
}

func actionError(err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	if code, ok := actionErrors[p.Code]; ok {
		return &problem.Error{Kind: p.Kind, Code: code, Detail: p.Detail, Fields: p.Fields}
	}
	return err
}

func invalidAction(code, field, msg string) error { return problem.Field(code, field, msg) }

// formID reads a positive id from a form field.
func formID(r *http.Request, field string) (int64, error) {
	id, err := strconv.ParseInt(r.FormValue(field), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidAction("action_invalid_input", field, "must be an id")
	}
	return id, nil
}

// assignPatch: assignee = a user id, "me" or "none"; team = a team id or "none". The menu
// sends one of the two.
func assignPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	var p inbox.Patch
	switch v := r.FormValue("assignee"); v {
	case "":
	case "none":
		p.Unassign = true
	case "me":
		p.AssigneeID = &user(r).ID
	default:
		id, err := formID(r, "assignee")
		if err != nil {
			return p, err
		}
		p.AssigneeID = &id
	}
	switch v := r.FormValue("team"); v {
	case "":
	case "none":
		p.ClearTeam = true
	default:
		id, err := formID(r, "team")
		if err != nil {
			return p, err
		}
		p.TeamID = &id
	}
	if p.AssigneeID == nil && !p.Unassign && p.TeamID == nil && !p.ClearTeam {
		return p, invalidAction("action_invalid_input", "assignee", "choose a person or a team")
	}
	return p, nil
}

func statusPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	status := r.FormValue("status")
	if status != "open" && status != "closed" {
		return inbox.Patch{}, invalidAction("action_invalid_input", "status", "must be open or closed")
	}
	return inbox.Patch{Status: &status}, nil
}

// snoozePatch: preset = hour | tomorrow | monday, computed now on the user's clock, or
// preset = custom with until = a datetime-local value in their time zone; unsnooze ends it.
func snoozePatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	if r.FormValue("unsnooze") != "" {
		return inbox.Patch{Unsnooze: true}, nil
	}
	loc := userLocation(user(r))
	var at time.Time
	switch preset := r.FormValue("preset"); preset {
	case "custom", "":
		v := strings.TrimSpace(r.FormValue("until"))
		t, err := time.ParseInLocation(datetimeLocal, v, loc)
		if err != nil {
			t, err = time.ParseInLocation(datetimeLocal+":05", v, loc)
		}
		if err != nil {
			return inbox.Patch{}, invalidAction("action_snooze_time", "until", "must be a date and time")
		}
		at = t
	default:
		for _, p := range snoozePresets(time.Now(), loc) {
			if p.Key == preset {
				at = p.At
			}
		}
		if at.IsZero() {
			return inbox.Patch{}, invalidAction("action_invalid_input", "preset", "unknown snooze preset")
		}
	}
	ms := at.UnixMilli()
	return inbox.Patch{SnoozedUntil: &ms}, nil
}

func movePatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	id, err := formID(r, "inbox")
	if err != nil {
		return inbox.Patch{}, err
	}
	return inbox.Patch{InboxID: &id}, nil
}

func priorityPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	v := r.FormValue("priority")
	if !slices.Contains(priorityLevels, v) {
		return inbox.Patch{}, invalidAction("action_invalid_input", "priority", "unknown priority")
	}
	return inbox.Patch{Priority: &v}, nil
}

// tagsPatch adds (add = one tag, or several separated by commas) or removes (remove) tags. The
// domain replaces the whole set, so the set is read fresh with the conversation just before.
func tagsPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	tags := slices.Clone(c.Tags)
	if rm := r.FormValue("remove"); rm != "" {
		tags = slices.DeleteFunc(tags, func(t string) bool { return t == rm })
	} else {
		added := false
		for _, t := range strings.Split(r.FormValue("add"), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags, added = append(tags, t), true
			}
		}
		if !added {
			return inbox.Patch{}, invalidAction("action_invalid_tag", "add", "type a tag")
		}
	}
	return inbox.Patch{Tags: &tags}, nil
}

// formBool reads a "true"/"false" form field.
func formBool(r *http.Request, field string) (bool, error) {
	v, err := strconv.ParseBool(r.FormValue(field))
	if err != nil {
		return false, invalidAction("action_invalid_input", field, "must be true or false")
	}
	return v, nil
}

func spamPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	v, err := formBool(r, "spam")
	return inbox.Patch{Spam: &v}, err
}

// filteredPatch files the conversation under Filtered (true) or moves it to the inbox (false).
func filteredPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	v, err := formBool(r, "filtered")
	return inbox.Patch{Filtered: &v}, err
}

func trashPatch(r *http.Request, c *store.Conversation) (inbox.Patch, error) {
	v, err := formBool(r, "trashed")
	return inbox.Patch{Trashed: &v}, err
}

// blockSender blocks (or unblocks) the conversation's contact: their future messages go to
// spam. It changes the contact, not the conversation, which the agent may mark spam too.
func (s *Server) blockSender(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u := user(r)
	c, err := s.Inbox.Conversation(r.Context(), u, id)
	if err != nil {
		return err
	}
	if c.ContactID == nil {
		return invalidAction("action_no_contact", "blocked", "the conversation has no contact")
	}
	blocked, err := formBool(r, "blocked")
	if err != nil {
		return err
	}
	if _, err := s.Inbox.UpdateContact(r.Context(), u, *c.ContactID, inbox.ContactPatch{Blocked: &blocked}); err != nil {
		return actionError(err)
	}
	return s.afterAction(w, r, id)
}
