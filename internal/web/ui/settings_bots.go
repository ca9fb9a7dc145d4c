package ui

// Bots (issue 6 item 3; SPEC CHAT-9). Settings → Bots lists the chat bots with their current
// version; "New bot" creates one from a small starter (a greeting, an email question, a
// hand-off) and opens the editor. The editor posts the whole definition as JSON: static/js/
// bot-editor.js builds it from a list of step cards and shows a preview of the widget, and
// without scripts the JSON textarea is the editor. Every save goes through the chat Service,
// which validates the definition and stores it as the bot's next version; its errors name JSON
// paths ("steps[2].ask_question.prompt"), which the editor shows at the step and field they
// name. Older versions can be opened, looked at and saved again as the newest.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/chat/bot"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) botRoutes() []route {
	return append(s.takeoverRoutes(), []route{
		{pattern: "GET /settings/bots", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "bots", s.botList)
		}},
		{pattern: "POST /settings/bots", admin: true, handle: s.createBot},
		{pattern: "GET /settings/bots/{id}", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "bots", s.botEditor)
		}},
		{pattern: "POST /settings/bots/{id}", admin: true, handle: s.saveBot},
		{pattern: "POST /settings/bots/{id}/delete", admin: true, handle: s.deleteBot},
	}...)
}

// s.chat() (settings_chat.go) answers not found on a server without live chat.

// Form names in formState.
const (
	botNewForm    = "bot-new"
	botDeleteForm = "bot-delete"
	botEditForm   = "bot-edit"
)

// --- the list ---------------------------------------------------------------------------------

type botListPage struct {
	*settingsPage
	Off  bool
	Bots []*chat.BotView
}

func (s *Server) botList(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &botListPage{settingsPage: sp, Off: s.Chat == nil}
	if d.Off {
		return "settings-bots", d, nil
	}
	var err error
	d.Bots, err = s.Chat.ListBots(r.Context())
	return "settings-bots", d, err
}

// starterBot is what a new bot begins with: enough to show what a bot is made of, in the
// admin's language (the words can be changed like any other).
func starterBot(p *Page) json.RawMessage {
	def := bot.Definition{Schema: bot.Schema, Version: 1, Steps: []bot.Action{
		{ID: "welcome", Type: bot.ActSendMessage, Next: "ask_email",
			SendMessage: &bot.Message{Text: p.T("bots.starter.greeting")}},
		{ID: "ask_email", Type: bot.ActAskQuestion, Next: "handoff",
			AskQuestion: &bot.Question{Kind: bot.EmailAnswer, Prompt: p.T("bots.starter.ask_email"),
				SaveTo: &bot.Target{Property: "email"}}},
		{ID: "handoff", Type: bot.ActHandoff, Handoff: &bot.Handoff{}},
	}}
	b, err := json.Marshal(def)
	if err != nil {
		panic("ui: marshal starter bot: " + err.Error())
	}
	return b
}

func (s *Server) createBot(w http.ResponseWriter, r *http.Request) error {
	c, err := s.chat()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	v, err := c.CreateBot(r.Context(), user(r), chat.BotInput{Name: &name, Definition: starterBot(s.page(r, "", "settings"))})
	if err != nil {
		return s.settingsInvalid(w, r, err, "bots", botNewForm, s.botList)
	}
	redirect(w, r, "/settings/bots/"+settingsID(v.ID)+"?flash=bots.flash.created")
	return nil
}

func (s *Server) deleteBot(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	if err := c.DeleteBot(r.Context(), user(r), id); err != nil {
		return s.settingsInvalid(w, r, err, "bots", botDeleteForm, s.botList)
	}
	return s.settingsDone(w, r, "bots", "/settings/bots", "bots.flash.deleted", s.botList)
}

// --- the editor ---------------------------------------------------------------------------------

type botEditorPage struct {
	*settingsPage
	Bot *chat.BotView
	// Current is the bot's current version; Bot.Version is the one shown (older when
	// ?version= asks for it).
	Current  int64
	Versions []botVersionRow
	// Name and Definition fill the form: as posted after a refused save, else as stored.
	Name       string
	Definition string
	// Errors are the refused save's complaints about the definition, by JSON path, in the
	// validator's order; Warnings are the shown version's (steps nothing reaches).
	Errors   []botFieldError
	Warnings []bot.Warning
	// The editor script's data: its strings, the errors and warnings, and the people and teams
	// a hand-off or an availability branch may name.
	EditorStrings, ErrorsJSON, WarningsJSON, UsersJSON, TeamsJSON, DefaultErrorsJSON string
}

type botVersionRow struct {
	store.BotVersionInfo
	By      string
	Current bool
	Shown   bool
}

type botFieldError struct{ Field, Message string }

// Anchor is the id of what the error is about: its step's card (bot-editor.js numbers them as
// the posted definition did), or the definition's field.
func (e botFieldError) Anchor() string {
	if rest, ok := strings.CutPrefix(e.Field, "steps["); ok {
		if n, _, ok := strings.Cut(rest, "]"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return "bot-step-" + n
			}
		}
	}
	return "bot-definition"
}

// NextVersion is the number the next save gets.
func (d *botEditorPage) NextVersion() int64 { return d.Current + 1 }

// Old says the editor shows a version other than the current one.
func (d *botEditorPage) Old() bool { return d.Bot.Version != d.Current }

// editorStringPrefixes are the locale keys bot-editor.js shows.
var editorStringPrefixes = []string{"bots.js.", "bots.type.", "bots.kind.", "bots.source.", "bots.op.", "bots.priority.",
	"bots.preview."}

// prefixed returns the page language's strings whose keys start with one of prefixes (English
// for any the language lacks).
func (l *Lang) prefixed(prefixes ...string) map[string]string {
	out := map[string]string{}
	base := l
	if l.fallback != nil {
		base = l.fallback
	}
	for k := range base.strings {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = l.T(k)
				break
			}
		}
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("ui: marshal editor data: " + err.Error())
	}
	return string(b)
}

func (s *Server) botEditor(r *http.Request, sp *settingsPage) (string, any, error) {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	cur, err := c.Bot(ctx, id)
	if err != nil {
		return "", nil, err
	}
	d := &botEditorPage{settingsPage: sp, Bot: cur, Current: cur.Version}
	if raw := r.URL.Query().Get("version"); raw != "" {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v <= 0 {
			return "", nil, problem.NotFoundf(chat.CodeBotVersionNotFound, "no such version")
		}
		if v != cur.Version {
			if d.Bot, err = c.BotVersion(ctx, id, v); err != nil {
				return "", nil, err
			}
		}
	}
	versions, err := c.BotVersions(ctx, id)
	if err != nil {
		return "", nil, err
	}
	users, err := s.allUsers(ctx, false)
	if err != nil {
		return "", nil, err
	}
	people := indexUsers(users)
	for _, v := range versions {
		row := botVersionRow{BotVersionInfo: v, Current: v.Version == cur.Version, Shown: v.Version == d.Bot.Version}
		if v.CreatedBy != nil {
			row.By = people.Name(*v.CreatedBy)
		}
		d.Versions = append(d.Versions, row)
	}
	teams, err := s.allTeams(ctx)
	if err != nil {
		return "", nil, err
	}

	d.Name, d.Warnings = d.Bot.Name, d.Bot.Warnings
	def, err := json.Marshal(d.Bot.Definition)
	if err != nil {
		return "", nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, def, "", "  "); err != nil {
		return "", nil, err
	}
	d.Definition = pretty.String()
	if sp.Form.Name == botEditForm && sp.Form.Values != nil {
		d.Name, d.Definition = sp.Form.Values.Get("name"), sp.Form.Values.Get("definition")
		d.Warnings = nil // they were the stored version's, not what was posted
	}
	errs := map[string]string{}
	if sp.Form.Name == botEditForm {
		for _, f := range sortedErrorFields(sp.Form.Errors) {
			if f == "name" {
				continue
			}
			d.Errors = append(d.Errors, botFieldError{f, sp.Form.Errors[f]})
			errs[f] = sp.Form.Errors[f]
		}
	}

	type named struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	us := make([]named, 0, len(users))
	for _, u := range users {
		us = append(us, named{u.ID, u.Name})
	}
	ts := make([]named, 0, len(teams))
	for _, t := range teams {
		ts = append(ts, named{t.ID, t.Name})
	}
	defaults := map[string]string{}
	for _, k := range []bot.AnswerKind{bot.TextAnswer, bot.EmailAnswer, bot.PhoneAnswer, bot.NumberAnswer, bot.DateAnswer, bot.ChoiceAnswer} {
		defaults[string(k)] = bot.DefaultErrorMessage(k, sp.Lang.Code)
	}
	warnings := d.Warnings
	if warnings == nil {
		warnings = []bot.Warning{}
	}
	d.EditorStrings = mustJSON(sp.Lang.prefixed(editorStringPrefixes...))
	d.ErrorsJSON, d.WarningsJSON = mustJSON(errs), mustJSON(warnings)
	d.UsersJSON, d.TeamsJSON, d.DefaultErrorsJSON = mustJSON(us), mustJSON(ts), mustJSON(defaults)
	d.Title = sp.T("settings.title") + " · " + d.Bot.Name
	return "settings-bots-editor", d, nil
}

// sortedErrorFields orders a refused save's fields as the editor reads them: by step, then
// by path, so "steps[2]" comes before "steps[10]".
func sortedErrorFields(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	stepOf := func(k string) int {
		rest, ok := strings.CutPrefix(k, "steps[")
		if !ok {
			return -1
		}
		n, _, _ := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		if err != nil {
			return -1
		}
		return i
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(stepOf(a), stepOf(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

func (s *Server) saveBot(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.chatWithID(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	name := f.Get("name")
	in := chat.BotInput{Name: &name, Definition: json.RawMessage(strings.TrimSpace(f.Get("definition")))}
	if len(in.Definition) == 0 {
		in.Definition = nil
		err = problem.Field("missing_field", "definition", "is required")
	}
	if b := f.Get("base_version"); b != "" && err == nil {
		if in.BaseVersion, err = strconv.ParseInt(b, 10, 64); err != nil {
			err = problem.Invalidf("invalid_form", "the form could not be read")
		}
	}
	if err == nil {
		if _, err = c.SaveBot(r.Context(), user(r), id, in); err == nil {
			redirect(w, r, "/settings/bots/"+settingsID(id)+"?flash=bots.flash.saved")
			return nil
		}
	}
	return s.botInvalid(w, r, err)
}

// botInvalid shows the editor again with what was posted and the service's complaints. The
// definition's messages come from the validator as they are, one per JSON path; a problem
// naming no field (a save that clashed with another) is the form's.
func (s *Server) botInvalid(w http.ResponseWriter, r *http.Request, err error) error {
	p, ok := problem.As(err)
	if !ok || (p.Kind != problem.Invalid && p.Kind != problem.Conflict) {
		return err
	}
	sp := s.newSettingsPage(r, "bots")
	sp.Form = formState{Name: botEditForm, Values: r.PostForm, Errors: map[string]string{}}
	for f, m := range p.Fields {
		sp.Form.Errors[f] = m
	}
	if len(p.Fields) == 0 {
		msg := sp.T("error." + p.Code)
		if msg == "error."+p.Code {
			msg = p.Detail
		}
		sp.Form.Error = msg
	}
	return s.showBuilt(w, r, http.StatusUnprocessableEntity, sp, s.botEditor)
}
