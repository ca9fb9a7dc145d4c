package ui

// Live chat settings (issue 6; SPEC CHAT-1…12). Settings → Chat lists the chat channels and
// creates them (inbox, name, the sites allowed to embed the widget). A channel's page has the
// embed snippet with a copy button, the widget's look, identity verification (the secret,
// revealed on request, and one line per server language computing the signature), a tester
// saying which chatflow a page URL shows, a link to a preview page that embeds the widget, and
// the channel's chatflows: enable or disable, delete, and edit.
//
// The chatflow editor is one plain form whose field names are the flow's JSON paths
// ("targeting.groups[0].rules[1].value"), so the field paths chatflow.Validate reports land next
// to the fields that caused them. The server builds the flow from the form; buttons that add or
// remove a targeting rule, group, shift or holiday post the form with an "_action" and get it
// back changed and unsaved, which is all a browser without scripts needs. chat-settings.js does
// the same in the page without the round trip.

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/workspace"
)

func (s *Server) chatSettingsRoutes() []route {
	show := func(b builder) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error { return s.showSettings(w, r, "chat", b) }
	}
	return []route{
		{pattern: "GET /settings/chat", admin: true, handle: show(s.chatList)},
		{pattern: "POST /settings/chat", admin: true, handle: s.createChatChannel},
		{pattern: "GET /settings/chat/{id}", admin: true, handle: show(s.chatChannelPage)},
		{pattern: "POST /settings/chat/{id}", admin: true, handle: s.updateChatChannel},
		{pattern: "GET /settings/chat/{id}/secret", admin: true, handle: s.revealChatSecret},
		{pattern: "GET /settings/chat/{id}/test-page", admin: true, handle: s.testChatPage},
		{pattern: "GET /settings/chat/{id}/preview", admin: true, handle: s.chatPreview},
		{pattern: "GET /settings/chat/{id}/flows/new", admin: true, handle: show(s.chatflowEditor)},
		{pattern: "POST /settings/chat/{id}/flows", admin: true, handle: s.saveChatflow},
		{pattern: "GET /settings/chat/{id}/flows/{flow}", admin: true, handle: show(s.chatflowEditor)},
		{pattern: "POST /settings/chat/{id}/flows/{flow}", admin: true, handle: s.saveChatflow},
		{pattern: "POST /settings/chat/{id}/flows/{flow}/enabled", admin: true, handle: s.toggleChatflow},
		{pattern: "POST /settings/chat/{id}/flows/{flow}/delete", admin: true, handle: s.deleteChatflow},
	}
}

// errChatOff answers the chat pages of a server without live chat (the list page says why).
var errChatOff = problem.NotFoundf("chat_unavailable", "live chat is not configured on this server")

func (s *Server) chat() (*chat.Service, error) {
	if s.Chat == nil {
		return nil, errChatOff
	}
	return s.Chat, nil
}

// chatWithID is the chat service and the path's {id} (a channel's or a bot's), which every
// page and action about one channel or bot starts from.
func (s *Server) chatWithID(r *http.Request) (*chat.Service, int64, error) {
	c, err := s.chat()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathInt(r, "id")
	return c, id, err
}

// chatflowPath is chatWithID and the path's {flow}: a channel's chatflow.
func (s *Server) chatflowPath(r *http.Request) (*chat.Service, int64, int64, error) {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return nil, 0, 0, err
	}
	flowID, err := pathInt(r, "flow")
	return c, id, flowID, err
}

// Form names in formState.
const (
	chatNewForm     = "chat-new"
	chatChannelForm = "chat-channel"
	chatflowForm    = "chatflow"
)

// --- the list ---------------------------------------------------------------------------------

type chatListPage struct {
	*settingsPage
	Off     bool
	Rows    []chatChannelRow
	Inboxes []*store.Inbox
}

type chatChannelRow struct {
	Channel   *store.Channel
	InboxName string
	Origins   []string
	Flows     int
	Enabled   int
}

func (s *Server) chatList(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &chatListPage{settingsPage: sp, Off: s.Chat == nil}
	if d.Off {
		return "settings-chat", d, nil
	}
	ctx := r.Context()
	var err error
	if d.Inboxes, err = s.allInboxes(ctx, user(r)); err != nil {
		return "", nil, err
	}
	names := map[int64]string{}
	for _, in := range d.Inboxes {
		names[in.ID] = in.Name
	}
	channels, err := s.Store.ChannelsOfKind(ctx, chat.Kind)
	if err != nil {
		return "", nil, err
	}
	for _, ch := range channels {
		v, err := s.Chat.Channel(ctx, ch.ID)
		if err != nil {
			return "", nil, err
		}
		flows, err := s.Chat.Chatflows(ctx, ch.ID)
		if err != nil {
			return "", nil, err
		}
		row := chatChannelRow{Channel: ch, InboxName: names[ch.InboxID], Origins: v.Settings.AllowedOrigins, Flows: len(flows)}
		for _, f := range flows {
			if f.Enabled {
				row.Enabled++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return "settings-chat", d, nil
}

// formLines reads a one-per-line textarea (the allowed origins, the holidays): its lines
// trimmed, blank lines skipped.
func formLines(v string) []string {
	out := []string{}
	for _, line := range strings.Split(v, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (s *Server) createChatChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := s.chat()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	name, origins := f.Get("name"), formLines(f.Get("allowed_origins"))
	inboxID, _ := strconv.ParseInt(f.Get("inbox_id"), 10, 64)
	v, err := c.CreateChannel(r.Context(), user(r), chat.ChannelInput{InboxID: inboxID, Name: &name, AllowedOrigins: &origins})
	if err != nil {
		return s.chatInvalid(w, r, err, chatNewForm, origins, s.chatList)
	}
	redirect(w, r, "/settings/chat/"+settingsID(v.Channel.ID)+"?flash=chat.flash.created")
	return nil
}

// --- a channel's page -------------------------------------------------------------------------

type chatChannelData struct {
	*settingsPage
	View  *chat.View
	Inbox *store.Inbox
	Flows []chatflowRow
	// Origins is the allowed origins as the form shows them, one per line.
	Origins string
	// Secret is the identity secret, set only once the admin asked to see it.
	Secret string
	// OwnOrigin is this installation's origin, which the preview page runs on.
	OwnOrigin string
	// Test is the outcome of "which chatflow shows on this page?", nil before a test.
	Test *chatPageTest
}

type chatflowRow struct {
	Flow      chatflow.Flow
	Targeting string
}

// chatPageTest is which flow a page shows.
type chatPageTest struct {
	*Page
	ChannelID int64
	URL       string
	Known     bool
	Mobile    bool
	// Tested is set once a URL was tried.
	Tested bool
	// Flow is the winner, nil when no flow shows.
	Flow *chatflow.Flow
}

// Positions are the launcher's places, for the appearance form.
func (d *chatChannelData) Positions() []string { return chat.Positions }

func (s *Server) chatChannelPage(r *http.Request, sp *settingsPage) (string, any, error) {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	d := &chatChannelData{settingsPage: sp}
	if d.View, err = c.Channel(ctx, id); err != nil {
		return "", nil, err
	}
	if d.Inbox, err = s.Workspace.Inbox(ctx, user(r), d.View.Channel.InboxID); err != nil {
		return "", nil, err
	}
	flows, err := c.Chatflows(ctx, id)
	if err != nil {
		return "", nil, err
	}
	// Shown in the order the widget considers them: a lower priority number wins.
	sort.SliceStable(flows, func(i, j int) bool {
		if flows[i].Priority != flows[j].Priority {
			return flows[i].Priority < flows[j].Priority
		}
		return flows[i].ID < flows[j].ID
	})
	for _, f := range flows {
		d.Flows = append(d.Flows, chatflowRow{Flow: f, Targeting: targetingSummary(sp.Page, &f.Targeting)})
	}
	d.Origins = strings.Join(d.View.Settings.AllowedOrigins, "\n")
	d.OwnOrigin = ownOrigin(s.BaseURL)
	d.Test = &chatPageTest{Page: sp.Page, ChannelID: id}
	d.Title = sp.T("settings.title") + " · " + d.View.Channel.Name
	return "settings-chat-channel", d, nil
}

// ownOrigin is scheme://host[:port] of the installation's public URL.
func ownOrigin(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// targetingSummary words a flow's targeting for the list: "Page URL starts with /pricing and
// Visitor is known · or …; not when …", or "Every page".
func targetingSummary(pg *Page, t *chatflow.Targeting) string {
	group := func(g chatflow.Group) string {
		parts := make([]string, 0, len(g.Rules))
		for _, r := range g.Rules {
			s := pg.T("chat.field."+r.Field) + " "
			if r.Field == chatflow.FieldQueryParam {
				s = pg.T("chat.field.query_param_named", r.Name) + " "
			}
			s += pg.T("chat.op." + r.Operator)
			if r.Value != "" {
				s += " " + r.Value
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "+pg.T("chat.and")+" ")
	}
	list := func(gs []chatflow.Group) string {
		parts := make([]string, 0, len(gs))
		for _, g := range gs {
			parts = append(parts, group(g))
		}
		return strings.Join(parts, " · "+pg.T("chat.or")+" ")
	}
	out := pg.T("chat.targeting.every_page")
	if len(t.Groups) > 0 {
		out = list(t.Groups)
	}
	if len(t.Exclusions) > 0 {
		out += "; " + pg.T("chat.targeting.except") + " " + list(t.Exclusions)
	}
	return out
}

func (s *Server) updateChatChannel(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	name, origins := f.Get("name"), formLines(f.Get("allowed_origins"))
	look := chat.Appearance{AccentColor: strings.TrimSpace(f.Get("accent_color")), Position: f.Get("position")}
	in := chat.ChannelInput{Name: &name, AllowedOrigins: &origins, Appearance: &look}
	if _, err := c.UpdateChannel(r.Context(), user(r), id, in); err != nil {
		return s.chatInvalid(w, r, err, chatChannelForm, origins, s.chatChannelPage)
	}
	return s.settingsDone(w, r, "chat", "/settings/chat/"+settingsID(id), "chat.flash.saved", s.chatChannelPage)
}

// chatInvalid shows a channel form again with what was typed and the service's complaint next
// to its field (422). An origin's problem names the origin: the service counts origins, not
// the textarea's lines.
func (s *Server) chatInvalid(w http.ResponseWriter, r *http.Request, err error, form string, origins []string, b builder) error {
	p, ok := fixable(err)
	if !ok {
		return err
	}
	sp := s.newSettingsPage(r, "chat")
	sp.Form = formState{Name: form, Values: r.PostForm, Errors: map[string]string{}}
	chatFormErrors(sp, p, "allowed_origins", "chat.error.origin", origins)
	return s.showBuilt(w, r, http.StatusUnprocessableEntity, sp, b)
}

// chatFormErrors words p's complaints on sp's form: each field's next to it, and one about
// an item of the list field (list[3]) next to the list, worded with itemKey and the item as
// typed, since the service counts items, not the textarea's lines. A problem naming no field
// is the form's.
func chatFormErrors(sp *settingsPage, p *problem.Error, list, itemKey string, items []string) {
	for field, detail := range p.Fields {
		if i, ok := index(field, list); ok && i < len(items) {
			sp.Form.Errors[list] = sp.T(itemKey, items[i])
			continue
		}
		sp.Form.Errors[field] = chatMessage(sp.Page, field, p.Code, detail)
	}
	if len(p.Fields) == 0 {
		sp.Form.Error = chatMessage(sp.Page, "", p.Code, p.Detail)
	}
}

// index reads "name[3]" as 3.
func index(field, name string) (int, bool) {
	rest, ok := strings.CutPrefix(field, name+"[")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	return n, err == nil && strings.HasSuffix(rest, "]")
}

// chatDetails are the chatflow and channel messages that come up most, worded in every
// language; any other is shown in the service's (English) words.
var chatDetails = map[string]string{
	"must not be empty": "chat.msg.not_empty",
	"is required":       "chat.msg.not_empty",
	"must be an IANA time zone like Europe/Stockholm":                             "chat.msg.time_zone",
	"must be a time HH:MM from 00:00 to 23:59":                                    "chat.msg.time",
	"must be a time HH:MM from 00:01 to 24:00":                                    "chat.msg.time",
	"must not overlap the day's other intervals":                                  "chat.msg.overlap",
	"must not overlap the previous day's interval that runs past midnight":        "chat.msg.overlap",
	"must not start and end at the same time (00:00–24:00 is the whole day)":      "chat.msg.same_time",
	"must have at least one interval in the week":                                 "chat.msg.no_hours",
	"must be a date YYYY-MM-DD":                                                   "chat.msg.date",
	"must be a full URL like https://example.com/pricing or a path like /pricing": "chat.msg.url_value",
	"must not contain a fragment (#…)":                                            "chat.msg.fragment",
	"must not be empty when the behaviour is prompt":                              "chat.msg.prompt_needs_welcome",
	"must not be empty when consent is asked":                                     "chat.msg.consent_needs_text",
	"must be a full http or https URL":                                            "chat.msg.http_url",
	"must not be empty for a custom response time":                                "chat.msg.not_empty",
	"must have at least one rule":                                                 "chat.msg.one_rule",
	"must be a percentage from 1 to 100":                                          "chat.msg.percent",
	"must be from 1 to 3600 seconds":                                              "chat.msg.seconds",
	"must be from 0 (first) to 1000000":                                           "chat.msg.priority",
	"must be from 0 (off) to 43200 minutes":                                       "chat.msg.auto_close",
	"must be the chat channel's inbox":                                            "chat.msg.inbox",
	"must be a colour like #2563eb":                                               "chat.msg.colour",
	"must not be empty for a custom heading":                                      "chat.msg.not_empty",
	"a bot chatflow must name its bot":                                            "chat.msg.pick_bot",
	"must name a bot":                                                             "chat.msg.pick_bot",
	"a bot chatflow's must be one of business_hours, always":                      "chat.msg.bot_mode",
}

// chatMessage words a problem in the page's language: chat.error.<code>, a known detail, or
// error.<code>, else the service's own words.
func chatMessage(pg *Page, field, code, detail string) string {
	if key := "chat.error." + code; pg.T(key) != key {
		return pg.T(key)
	}
	if key, ok := chatDetails[detail]; ok {
		return pg.T(key)
	}
	if field == "" {
		if key := "error." + code; pg.T(key) != key {
			return pg.T(key)
		}
	}
	return detail
}

// revealChatSecret shows the identity secret: htmx swaps it in, a plain link gets the page with
// it shown. It is not in the page until asked for.
func (s *Server) revealChatSecret(w http.ResponseWriter, r *http.Request) error {
	sp := s.newSettingsPage(r, "chat")
	_, data, err := s.chatChannelPage(r, sp)
	if err != nil {
		return err
	}
	d := data.(*chatChannelData)
	d.Secret = d.View.Chat.IdentitySecret
	if isHTMX(r) {
		return s.renderBlock(w, http.StatusOK, "settings-chat-channel", "chat-secret", d)
	}
	return s.render(w, r, http.StatusOK, "settings-chat-channel", d)
}

// testChatPage answers "which chatflow shows on this page?" with the flow the widget would
// pick (chatflow.Pick, the session's own choice) for the URL and visitor described.
func (s *Server) testChatPage(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	t := &chatPageTest{Page: s.page(r, "", "settings"), ChannelID: id, URL: strings.TrimSpace(q.Get("url")),
		Known: q.Get("known") == "on", Mobile: q.Get("mobile") == "on", Tested: true}
	flows, err := c.Chatflows(r.Context(), id)
	if err != nil {
		return err
	}
	t.Flow = chatflow.Pick(flows, chatflow.Page{URL: t.URL, Known: t.Known, Mobile: t.Mobile})
	if isHTMX(r) {
		return s.renderBlock(w, http.StatusOK, "settings-chat-channel", "chat-test-result", t)
	}
	sp := s.newSettingsPage(r, "chat")
	_, data, err := s.chatChannelPage(r, sp)
	if err != nil {
		return err
	}
	t.Page = sp.Page
	data.(*chatChannelData).Test = t
	return s.render(w, r, http.StatusOK, "settings-chat-channel", data)
}

// chatPreviewPage is a plain page that embeds the channel's widget, as a customer's site would.
type chatPreviewPage struct {
	*Page
	View    *chat.View
	Back    string
	Origin  string
	Snippet template.HTML
}

// chatPreview serves the preview page. It is on Parley's own origin, which the chat service
// allows for every channel so the preview works before any site is listed.
func (s *Server) chatPreview(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	v, err := c.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	p := &chatPreviewPage{Page: s.page(r, "", "settings"), View: v, Back: "/settings/chat/" + settingsID(id),
		Origin: ownOrigin(s.BaseURL),
		// The snippet is the service's own markup: a script tag with Parley's URL and the public id.
		Snippet: template.HTML(v.EmbedSnippet)}
	p.Title = p.T("chat.preview.title", v.Channel.Name)
	return s.renderBlock(w, http.StatusOK, "settings-chat-preview", "preview", p)
}

// --- chatflows: enable, delete ----------------------------------------------------------------

// findChatflow returns one of a channel's flows.
func findChatflow(ctx context.Context, c *chat.Service, channelID, flowID int64) (*chatflow.Flow, error) {
	flows, err := c.Chatflows(ctx, channelID)
	if err != nil {
		return nil, err
	}
	for i := range flows {
		if flows[i].ID == flowID {
			return &flows[i], nil
		}
	}
	return nil, problem.NotFoundf(chat.CodeChatflowNotFound, "no chatflow %d on channel %d", flowID, channelID)
}

func (s *Server) toggleChatflow(w http.ResponseWriter, r *http.Request) error {
	c, id, flowID, err := s.chatflowPath(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f, err := findChatflow(r.Context(), c, id, flowID)
	if err != nil {
		return err
	}
	f.Enabled = r.PostForm.Get("enabled") == "on"
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if _, err := c.UpdateChatflow(r.Context(), user(r), id, flowID, raw); err != nil {
		return err
	}
	flash := "chat.flash.flow_disabled"
	if f.Enabled {
		flash = "chat.flash.flow_enabled"
	}
	return s.settingsDone(w, r, "chat", "/settings/chat/"+settingsID(id), flash, s.chatChannelPage)
}

func (s *Server) deleteChatflow(w http.ResponseWriter, r *http.Request) error {
	c, id, flowID, err := s.chatflowPath(r)
	if err != nil {
		return err
	}
	if err := c.DeleteChatflow(r.Context(), user(r), id, flowID); err != nil {
		return err
	}
	return s.settingsDone(w, r, "chat", "/settings/chat/"+settingsID(id), "chat.flash.flow_deleted", s.chatChannelPage)
}

// --- the chatflow editor ----------------------------------------------------------------------

// chatflowEditorData is the editor of a new flow (FlowID 0) or a stored one.
type chatflowEditorData struct {
	*settingsPage
	View   *chat.View
	Inbox  *store.Inbox
	FlowID int64
	Flow   *chatflow.Flow
	// Raw keeps what was typed in fields the flow cannot hold as typed (a number that is not
	// one, the holidays' lines), so a refused form shows it again.
	Raw       map[string]string
	Users     []*store.User
	Teams     []*workspace.Team
	Bots      []chatBotOption
	TimeZones []string
}

// chatBotOption is a bot a bot flow can run, with its versions, newest first.
type chatBotOption struct {
	ID       int64
	Name     string
	Versions []int64
}

// The editor's choices, for its selects.
func (d *chatflowEditorData) Types() []string             { return chatflow.Types }
func (d *chatflowEditorData) Languages() []LanguageOption { return LanguageOptions() }
func (d *chatflowEditorData) Behaviours() []string        { return chatflow.Behaviours }
func (d *chatflowEditorData) Triggers() []string          { return chatflow.Triggers }
func (d *chatflowEditorData) Modes() []string             { return chatflow.Modes }
func (d *chatflowEditorData) ResponseTimes() []string     { return chatflow.ResponseTimes }
func (d *chatflowEditorData) ConsentModes() []string      { return chatflow.ConsentModes }
func (d *chatflowEditorData) AssignTargets() []string     { return chatflow.AssignTargets }
func (d *chatflowEditorData) Strategies() []string        { return chatflow.Strategies }
func (d *chatflowEditorData) HeadingModes() []string      { return chatflow.HeadingModes }
func (d *chatflowEditorData) Fields() []string            { return chatflow.Fields }
func (d *chatflowEditorData) Days() []string              { return chatflow.Days }

// Ops are the operators a rule's field takes (all of them for an unknown field).
func (d *chatflowEditorData) Ops(field string) []string {
	switch field {
	case chatflow.FieldQueryParam:
		return chatflow.QueryOps
	case chatflow.FieldVisitor:
		return chatflow.VisitorOps
	case chatflow.FieldPageURL, chatflow.FieldReferrer:
		return chatflow.URLOps
	}
	return slices.Concat(chatflow.URLOps, chatflow.QueryOps[1:], chatflow.VisitorOps)
}

// OpsJSON maps each field to its operators for chat-settings.js, which rebuilds the operator
// select when the field changes.
func (d *chatflowEditorData) OpsJSON() string {
	m := map[string][]opt{}
	for _, f := range chatflow.Fields {
		for _, op := range d.Ops(f) {
			m[f] = append(m[f], opt{op, d.T("chat.op." + op)})
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type opt struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Path is the action of the editor's form.
func (d *chatflowEditorData) Path() string {
	p := "/settings/chat/" + settingsID(d.View.Channel.ID) + "/flows"
	if d.FlowID != 0 {
		p += "/" + settingsID(d.FlowID)
	}
	return p
}

// Num is a number field's value: as typed when it was refused, else n.
func (d *chatflowEditorData) Num(field string, n int) string {
	if v, ok := d.Raw[field]; ok {
		return v
	}
	return strconv.Itoa(n)
}

// Hours is the flow's business hours, or an empty schedule to fill in.
func (d *chatflowEditorData) Hours() *chatflow.BusinessHours {
	if d.Flow.Availability.BusinessHours != nil {
		return d.Flow.Availability.BusinessHours
	}
	return &chatflow.BusinessHours{}
}

// Intervals are a day's shifts as the form shows them: at least one row, blank for a day off.
func (d *chatflowEditorData) Intervals(day string) []chatflow.Interval {
	list := d.Hours().Days[day]
	if len(list) == 0 {
		return []chatflow.Interval{{}}
	}
	return list
}

// Holidays is the holidays field: one date per line, as typed when refused.
func (d *chatflowEditorData) Holidays() string {
	if v, ok := d.Raw["holidays"]; ok {
		return v
	}
	return strings.Join(d.Hours().Holidays, "\n")
}

// ZoneChoices are the time zones offered: the common ones plus the flow's own.
func (d *chatflowEditorData) ZoneChoices() []string {
	tz := d.Hours().TimeZone
	if tz == "" || slices.Contains(timeZones, tz) {
		return timeZones
	}
	return append([]string{tz}, timeZones...)
}

// Zone is the time zone the schedule shows: the flow's, else the admin's own.
func (d *chatflowEditorData) Zone() string {
	if tz := d.Hours().TimeZone; tz != "" {
		return tz
	}
	if d.User != nil && d.User.TimeZone != "" {
		return d.User.TimeZone
	}
	return "UTC"
}

// HeadingMode is the heading's mode, "none" without a heading.
func (d *chatflowEditorData) HeadingMode() string {
	if d.Flow.Heading == nil {
		return "none"
	}
	return d.Flow.Heading.Mode
}

// HeadingOf is the heading, or an empty one to fill in.
func (d *chatflowEditorData) HeadingOf() *chatflow.Heading {
	if d.Flow.Heading != nil {
		return d.Flow.Heading
	}
	return &chatflow.Heading{}
}

// BotChoice is the bot select's value for the flow's bot ("id:version"), "" for none.
func (d *chatflowEditorData) BotChoice() string {
	if d.Flow.Bot == nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", d.Flow.Bot.ID, d.Flow.Bot.Version)
}

// Has says whether id is in ids (for checkbox lists drawn from the flow itself).
func (d *chatflowEditorData) Has(ids []int64, id int64) bool { return slices.Contains(ids, id) }

// loadChatflowEditor fills the editor's data for the channel in the path: the stored flow or
// flow when given (a form being shown again).
func (s *Server) loadChatflowEditor(r *http.Request, sp *settingsPage, flow *chatflow.Flow) (*chatflowEditorData, error) {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	d := &chatflowEditorData{settingsPage: sp, Flow: flow, Raw: map[string]string{}, TimeZones: timeZones}
	if d.View, err = c.Channel(ctx, id); err != nil {
		return nil, err
	}
	if d.Inbox, err = s.Workspace.Inbox(ctx, user(r), d.View.Channel.InboxID); err != nil {
		return nil, err
	}
	if r.PathValue("flow") != "" {
		if d.FlowID, err = pathInt(r, "flow"); err != nil {
			return nil, err
		}
		if d.Flow == nil {
			if d.Flow, err = findChatflow(ctx, c, id, d.FlowID); err != nil {
				return nil, err
			}
		}
	}
	if d.Flow == nil {
		d.Flow = newChatflow(d.View.Channel.InboxID, sp.Lang.Code, user(r))
	}
	if d.Users, err = s.allUsers(ctx, false); err != nil {
		return nil, err
	}
	if d.Teams, err = s.allTeams(ctx); err != nil {
		return nil, err
	}
	if d.Bots, err = s.chatBots(ctx); err != nil {
		return nil, err
	}
	name := d.Flow.Name
	if name == "" {
		name = sp.T("chat.flow.new")
	}
	d.Title = sp.T("settings.title") + " · " + name
	return d, nil
}

// newChatflow is the flow a new editor starts from: chatflow.New's defaults in the admin's
// language, with weekday business hours in the admin's time zone filled in for when the mode
// is switched to business hours.
func newChatflow(inboxID int64, lang string, u *store.User) *chatflow.Flow {
	f := chatflow.New()
	f.InboxID = inboxID
	if slices.Contains(chatflow.Languages, lang) {
		f.Language = lang
	}
	tz := "UTC"
	if u != nil && u.TimeZone != "" {
		tz = u.TimeZone
	}
	days := map[string][]chatflow.Interval{}
	for _, d := range chatflow.Days[:5] {
		days[d] = []chatflow.Interval{{Start: "09:00", End: "17:00"}}
	}
	f.Availability.BusinessHours = &chatflow.BusinessHours{TimeZone: tz, Days: days, Holidays: []string{}}
	return f
}

func (s *Server) chatflowEditor(r *http.Request, sp *settingsPage) (string, any, error) {
	d, err := s.loadChatflowEditor(r, sp, nil)
	if err != nil {
		return "", nil, err
	}
	return "settings-chatflow", d, nil
}

// rulePath matches a targeting rule's field names: "targeting.groups[0].rules[1].value".
var rulePath = regexp.MustCompile(`^targeting\.(groups|exclusions)\[(\d{1,3})\]\.rules\[(\d{1,3})\]\.(field|operator|name|value)$`)

// flowForm is a chatflow read from the editor's form, with the problems reading it found
// (numbers that are not numbers) and what was typed in those fields.
type flowForm struct {
	flow   *chatflow.Flow
	errors map[string]string
	raw    map[string]string
	// holidays are the holiday lines as typed, to name a bad one.
	holidays []string
}

// chatflowFromForm builds a flow from the editor's fields. Fields that only mean something
// for one choice (the bot of a bot flow, the trigger's value, a custom response text, a custom
// heading's name) are read only for it, so hidden leftovers cannot make the form fail.
func chatflowFromForm(pg *Page, f url.Values, inboxID int64) *flowForm {
	ff := &flowForm{flow: chatflow.New(), errors: map[string]string{}, raw: map[string]string{}}
	fl := ff.flow
	num := func(field string, into *int, required bool) {
		v := strings.TrimSpace(f.Get(field))
		if v == "" && !required {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			ff.errors[field] = pg.T("chat.msg.number")
			ff.raw[field] = v
			return
		}
		*into = n
	}
	on := func(k string) bool { return f.Get(k) == "on" }
	fl.Name = f.Get("name")
	fl.Type = f.Get("type")
	fl.Enabled = on("enabled")
	fl.Language = f.Get("language")
	fl.InboxID = inboxID
	num("priority", &fl.Priority, true)
	if fl.Type == chatflow.TypeBot {
		// The bot select's values are "id:version"; nothing chosen is a bot flow without its
		// bot, which Validate names.
		fl.Bot = &chatflow.BotRef{}
		id, version, _ := strings.Cut(f.Get("bot"), ":")
		fl.Bot.ID, _ = strconv.ParseInt(id, 10, 64)
		fl.Bot.Version, _ = strconv.Atoi(version)
	}

	// Targeting: rows by index; indexes may have gaps after rows were removed in the page.
	type key struct {
		list string
		g, r int
	}
	rules := map[key]*chatflow.Rule{}
	for name := range f {
		m := rulePath.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		g, _ := strconv.Atoi(m[2])
		r, _ := strconv.Atoi(m[3])
		k := key{m[1], g, r}
		if rules[k] == nil {
			rules[k] = &chatflow.Rule{}
		}
		v := f.Get(name)
		switch m[4] {
		case "field":
			rules[k].Field = v
		case "operator":
			rules[k].Operator = v
		case "name":
			rules[k].Name = v
		case "value":
			rules[k].Value = v
		}
	}
	keys := make([]key, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.list != b.list {
			return a.list < b.list
		}
		if a.g != b.g {
			return a.g < b.g
		}
		return a.r < b.r
	})
	lastG := map[string]int{"groups": -1, "exclusions": -1}
	for _, k := range keys {
		r := rules[k]
		// Inputs that mean nothing for the rule's field are not sent to the domain.
		if r.Field != chatflow.FieldQueryParam {
			r.Name = ""
		}
		if r.Field == chatflow.FieldVisitor || (r.Field == chatflow.FieldQueryParam && r.Operator == chatflow.OpExists) {
			r.Value = ""
		}
		list := &fl.Targeting.Groups
		if k.list == "exclusions" {
			list = &fl.Targeting.Exclusions
		}
		if lastG[k.list] != k.g || len(*list) == 0 {
			*list = append(*list, chatflow.Group{})
			lastG[k.list] = k.g
		}
		g := &(*list)[len(*list)-1]
		g.Rules = append(g.Rules, *r)
	}

	fl.Display.WelcomeMessage = f.Get("display.welcome_message")
	fl.Display.Behaviour = f.Get("display.behaviour")
	fl.Display.Trigger.Kind = f.Get("display.trigger.kind")
	if k := fl.Display.Trigger.Kind; k == chatflow.TriggerAfterSeconds || k == chatflow.TriggerAfterScrollPercent {
		num("display.trigger.value", &fl.Display.Trigger.Value, true)
	}
	fl.Display.HideOnMobile = on("display.hide_on_mobile")

	fl.Availability.Mode = f.Get("availability.mode")
	const bh = "availability.business_hours"
	hours := &chatflow.BusinessHours{TimeZone: strings.TrimSpace(f.Get(bh + ".time_zone")),
		Days: map[string][]chatflow.Interval{}, Holidays: []string{}}
	shifts := 0
	for _, day := range chatflow.Days {
		for _, sh := range formShifts(f[bh+".days."+day+".start"], f[bh+".days."+day+".end"]) {
			hours.Days[day] = append(hours.Days[day], chatflow.Interval{Start: sh.start, End: sh.end})
			shifts++
		}
	}
	ff.raw["holidays"] = f.Get(bh + ".holidays")
	hours.Holidays = formLines(ff.raw["holidays"])
	ff.holidays = hours.Holidays
	// A schedule is kept when business hours are chosen or one was filled in; an untouched
	// empty one under another mode is none.
	if fl.Availability.Mode == chatflow.ModeBusinessHours || shifts > 0 || len(hours.Holidays) > 0 {
		fl.Availability.BusinessHours = hours
	}

	fl.ResponseTime.Kind = f.Get("response_time.kind")
	if fl.ResponseTime.Kind == chatflow.ResponseCustom {
		fl.ResponseTime.Text = f.Get("response_time.text")
	}
	fl.Away = chatflow.Away{Message: f.Get("away.message"), ShowBackAt: on("away.show_back_at"),
		CollectEmail: on("away.collect_email"), HideLauncher: on("away.hide_launcher")}
	num("auto_close_minutes", &fl.AutoCloseMinutes, true)
	fl.Consent.Mode = f.Get("consent.mode")
	if fl.Consent.Mode != chatflow.ConsentNone {
		fl.Consent.Text = f.Get("consent.text")
		fl.Consent.PrivacyURL = f.Get("consent.privacy_url")
	}
	fl.HandOff = chatflow.HandOff{AssignTo: f.Get("hand_off.assign_to"), UserIDs: formIDList(f["hand_off.user_ids"]),
		TeamIDs: formIDList(f["hand_off.team_ids"]), OnlyAvailable: on("hand_off.only_available"),
		Strategy: f.Get("hand_off.strategy")}
	if mode := f.Get("heading.mode"); mode != "" && mode != "none" {
		h := &chatflow.Heading{Mode: mode, UserIDs: []int64{}, TeamIDs: []int64{}}
		if mode == chatflow.HeadingCustom {
			h.Name, h.AvatarURL = f.Get("heading.name"), f.Get("heading.avatar_url")
		} else {
			h.UserIDs, h.TeamIDs = formIDList(f["heading.user_ids"]), formIDList(f["heading.team_ids"])
		}
		fl.Heading = h
	}
	return ff
}

// formIDList reads checkbox ids; anything not a positive number is dropped (the boxes only
// offer ids).
func formIDList(vs []string) []int64 {
	out := []int64{}
	for _, v := range vs {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}

// applyEditorAction changes the form's flow as a button without scripts asked: add or remove
// a targeting rule or group, a shift, and reports whether there was one.
func applyEditorAction(fl *chatflow.Flow, action string) bool {
	parts := strings.Split(action, ":")
	list := func(name string) *[]chatflow.Group {
		if name == "exclusions" {
			return &fl.Targeting.Exclusions
		}
		return &fl.Targeting.Groups
	}
	at := func(i int) int {
		if i >= len(parts) {
			return -1
		}
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return -1
		}
		return n
	}
	newRule := chatflow.Rule{Field: chatflow.FieldPageURL, Operator: chatflow.OpContains}
	switch parts[0] {
	case "add_group":
		if len(parts) < 2 {
			return false
		}
		l := list(parts[1])
		*l = append(*l, chatflow.Group{Rules: []chatflow.Rule{newRule}})
	case "add_rule":
		l, g := list(parts[min(1, len(parts)-1)]), at(2)
		if g < 0 || g >= len(*l) {
			return false
		}
		(*l)[g].Rules = append((*l)[g].Rules, newRule)
	case "remove_rule":
		l, g, r := list(parts[min(1, len(parts)-1)]), at(2), at(3)
		if g < 0 || g >= len(*l) || r < 0 || r >= len((*l)[g].Rules) {
			return false
		}
		(*l)[g].Rules = slices.Delete((*l)[g].Rules, r, r+1)
		if len((*l)[g].Rules) == 0 {
			// A group without rules would match every page: it goes with its last rule.
			*l = slices.Delete(*l, g, g+1)
		}
	case "add_shift":
		if len(parts) < 2 || !slices.Contains(chatflow.Days, parts[1]) {
			return false
		}
		if fl.Availability.BusinessHours == nil {
			fl.Availability.BusinessHours = &chatflow.BusinessHours{Days: map[string][]chatflow.Interval{}}
		}
		b := fl.Availability.BusinessHours
		if len(b.Days[parts[1]]) == 0 {
			// The form shows a blank row for a day off: keep it as the first of two.
			b.Days[parts[1]] = append(b.Days[parts[1]], chatflow.Interval{})
		}
		b.Days[parts[1]] = append(b.Days[parts[1]], chatflow.Interval{})
	default:
		return false
	}
	return true
}

// saveChatflow creates or updates a flow from the editor, or applies one of its no-script
// buttons and shows the form again unsaved.
func (s *Server) saveChatflow(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	v, err := c.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	sp := s.newSettingsPage(r, "chat")
	ff := chatflowFromForm(sp.Page, r.PostForm, v.Channel.InboxID)
	if action := r.PostForm.Get("_action"); action != "" {
		applyEditorAction(ff.flow, action)
		// A changed form is shown again, not saved: the admin saves when it is done.
		sp.Form = formState{Name: chatflowForm, Values: r.PostForm, Errors: map[string]string{}}
		return s.showChatflowForm(w, r, sp, ff, http.StatusOK)
	}
	var flowID int64
	if r.PathValue("flow") != "" {
		if flowID, err = pathInt(r, "flow"); err != nil {
			return err
		}
		ff.flow.ID = flowID
	}
	verr := ff.flow.Validate()
	if len(ff.errors) == 0 && verr == nil {
		raw, err := json.Marshal(ff.flow)
		if err != nil {
			return err
		}
		if flowID == 0 {
			_, err = c.CreateChatflow(r.Context(), user(r), id, raw)
		} else {
			_, err = c.UpdateChatflow(r.Context(), user(r), id, flowID, raw)
		}
		if err == nil {
			flash := "chat.flash.flow_saved"
			if flowID == 0 {
				flash = "chat.flash.flow_created"
			}
			return s.settingsDone(w, r, "chat", "/settings/chat/"+settingsID(id), flash, s.chatChannelPage)
		}
		verr = err
	}
	sp.Form = formState{Name: chatflowForm, Values: r.PostForm, Errors: map[string]string{}}
	if verr != nil {
		p, ok := problem.As(verr)
		if !ok || (p.Kind != problem.Invalid && p.Kind != problem.Conflict) {
			return verr
		}
		chatFormErrors(sp, p, "availability.business_hours.holidays", "chat.msg.holiday", ff.holidays)
	}
	for field, msg := range ff.errors {
		sp.Form.Errors[field] = msg
	}
	if sp.Form.Error == "" {
		sp.Form.Error = sp.TN("chat.flow.problems", len(sp.Form.Errors))
	}
	return s.showChatflowForm(w, r, sp, ff, http.StatusUnprocessableEntity)
}

func (s *Server) showChatflowForm(w http.ResponseWriter, r *http.Request, sp *settingsPage, ff *flowForm, status int) error {
	d, err := s.loadChatflowEditor(r, sp, ff.flow)
	if err != nil {
		return err
	}
	for k, v := range ff.raw {
		d.Raw[k] = v
	}
	if ff.flow.Availability.BusinessHours == nil {
		// Nothing filled in: offer the default schedule again.
		d.Flow.Availability.BusinessHours = newChatflow(0, "", user(r)).Availability.BusinessHours
	}
	return s.render(w, r, status, "settings-chatflow", d)
}

// maxBotVersions bounds the versions the bot select offers per bot: a flow moves to a recent one.
const maxBotVersions = 20

// chatBots lists the bots a bot flow can run with their versions, newest first.
func (s *Server) chatBots(ctx context.Context) ([]chatBotOption, error) {
	bots, err := s.Chat.ListBots(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]chatBotOption, 0, len(bots))
	for _, b := range bots {
		o := chatBotOption{ID: b.ID, Name: b.Name}
		for v := b.Version; v >= 1 && len(o.Versions) < maxBotVersions; v-- {
			o.Versions = append(o.Versions, v)
		}
		out = append(out, o)
	}
	return out, nil
}

// FieldErr is the message of a field of the editor's form, or of any of its sub-fields.
func (d *chatflowEditorData) FieldErr(field string) string { return d.Err(chatflowForm, field) }

// ErrExact is the message of exactly field, not its sub-fields (a list's own problem).
func (d *chatflowEditorData) ErrExact(field string) string {
	if d.Form.Name != chatflowForm {
		return ""
	}
	return d.Form.Errors[field]
}

// EID is an element id for a field's error message.
func (d *chatflowEditorData) EID(field string) string {
	return "err-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, field)
}

// Rule is the field-name prefix of a targeting rule: "targeting.groups[0].rules[1]".
func (d *chatflowEditorData) Rule(list string, g, r int) string {
	return fmt.Sprintf("targeting.%s[%d].rules[%d]", list, g, r)
}
