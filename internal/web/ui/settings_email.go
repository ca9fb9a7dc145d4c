package ui

// Team email (issue 5 item 7; SPEC EMAIL-1, EMAIL-2, EMAIL-9). Settings → Email lists every
// inbox with its own receiving address and the team addresses connected to it. "Connect team
// email" opens the setup screen: the receiving address to forward to, step-by-step forwarding
// instructions for Gmail and Microsoft 365, and the channel's form (identity, signature with a
// server-rendered preview, Filtered rules, optional IMAP mailbox with a connection test, optional
// own SMTP relay). After saving, the channel's page shows whether mail arrives: the Gmail
// forwarding confirmation (code and link), a test mail's round trip (polled with htmx while it is
// under way), the IMAP fetcher's last success and error, quarantined senders and the raw-MIME
// webhook. Every change goes through email.Service, which also checks that the user is an admin.

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/channel/email/imapsync"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) emailSettingsRoutes() []route {
	return []route{
		{pattern: "GET /settings/email", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "email", s.emailList)
		}},
		{pattern: "GET /settings/email/new", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "email", s.emailChannelPage)
		}},
		{pattern: "POST /settings/email", admin: true, handle: s.createEmailChannel},
		{pattern: "POST /settings/email/preview", admin: true, handle: s.emailPreview},
		{pattern: "POST /settings/email/imap-test", admin: true, handle: s.testIMAP},
		{pattern: "GET /settings/email/{id}", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "email", s.emailChannelPage)
		}},
		{pattern: "POST /settings/email/{id}", admin: true, handle: s.updateEmailChannel},
		{pattern: "GET /settings/email/{id}/status", admin: true, handle: s.emailStatus},
		{pattern: "POST /settings/email/{id}/test", admin: true, handle: s.sendTestEmail},
		{pattern: "POST /settings/email/{id}/imap-test", admin: true, handle: s.testIMAP},
		{pattern: "GET /settings/email/{id}/secret", admin: true, handle: s.revealWebhookSecret},
	}
}

// errEmailOff answers the email pages of a server without email: they do not exist there (the
// list page says why instead).
var errEmailOff = problem.NotFoundf("email_unavailable", "email channels are not configured on this server")

func (s *Server) email() (*email.Service, error) {
	if s.Email == nil {
		return nil, errEmailOff
	}
	return s.Email, nil
}

// emailWithID is the email service and the channel id in the path.
func (s *Server) emailWithID(r *http.Request) (*email.Service, int64, error) {
	e, err := s.email()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathInt(r, "id")
	return e, id, err
}

// emailForm is the name of the channel form in formState (one per page).
const emailForm = "email-channel"

// --- the list ---------------------------------------------------------------------------------

type emailListPage struct {
	*settingsPage
	// Off is set when this server has no email service: the page says so instead of a list.
	Off  bool
	Rows []emailInboxRow
}

// emailInboxRow is an inbox with its receiving address and its connected team addresses.
type emailInboxRow struct {
	Inbox     *store.Inbox
	Receiving string
	Channels  []emailChannelRow
}

type emailChannelRow struct {
	Channel *store.Channel
	IMAP    bool
	// Working is set once mail came through: the test mail arrived or a confirmation did.
	Working bool
}

func (s *Server) emailList(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &emailListPage{settingsPage: sp, Off: s.Email == nil}
	if d.Off {
		return "settings-email", d, nil
	}
	ctx := r.Context()
	inboxes, err := s.allInboxes(ctx, user(r))
	if err != nil {
		return "", nil, err
	}
	channels, err := s.Store.ChannelsOfKind(ctx, email.Kind)
	if err != nil {
		return "", nil, err
	}
	byInbox := map[int64][]emailChannelRow{}
	for _, ch := range channels {
		row := emailChannelRow{Channel: ch}
		if st, err := email.ChannelSettings(ch); err == nil {
			row.IMAP = st.IMAP != nil
		}
		if st, err := email.ChannelState(ch); err == nil {
			row.Working = st.Test != nil && st.Test.ReceivedAt > 0
		}
		byInbox[ch.InboxID] = append(byInbox[ch.InboxID], row)
	}
	for _, in := range inboxes {
		d.Rows = append(d.Rows, emailInboxRow{Inbox: in, Receiving: s.Email.ReceivingAddress(in), Channels: byInbox[in.ID]})
	}
	return "settings-email", d, nil
}

// --- the setup screen and the channel page ----------------------------------------------------

// emailChannelData is the setup screen (View nil) and a connected channel's page.
type emailChannelData struct {
	*settingsPage
	Inbox     *store.Inbox
	Receiving string
	// View is the connected channel; nil on the setup screen.
	View *email.View
	// Settings fill the form: the stored ones, or the defaults of a new channel.
	Settings email.Settings
	IMAP     email.IMAPSettings
	SMTP     email.SMTPSettings
	// HasIMAP and HasSMTP say whether the stored channel fetches over IMAP and has its own relay;
	// HasDKIM whether it signs its mail.
	HasIMAP, HasSMTP, HasDKIM bool
	DKIMSelector              string
	Preview                   emailPreview
	Status                    *emailStatusView
	WebhookURL                string
	// Secret is the webhook secret, set only once the admin asked to see it.
	Secret string
	// IMAPResult is a connection test's outcome, for a browser without scripts.
	IMAPResult *imapResult
	// Tokens are the signature's tokens, listed under the signature field.
	Tokens []string
}

// signatureTokens are SPEC EMAIL-2's tokens, in the order the form lists them.
var signatureTokens = []string{"{{agent.first_name}}", "{{agent.last_name}}", "{{agent.full_name}}",
	"{{agent.email}}", "{{agent.job_title}}", "{{company.name}}", "{{inbox.name}}"}

// FormAction is where the channel form posts.
func (d *emailChannelData) FormAction() string {
	if d.View == nil {
		return "/settings/email"
	}
	return "/settings/email/" + settingsID(d.View.Channel.ID)
}

// Port is a port for a form field: empty for 0, which the domain fills with the default.
func (d *emailChannelData) Port(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

func (s *Server) emailChannelPage(r *http.Request, sp *settingsPage) (string, any, error) {
	e, err := s.email()
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	d := &emailChannelData{settingsPage: sp, Settings: email.DefaultSettings(), Tokens: signatureTokens}
	var inboxID int64
	if r.PathValue("id") != "" {
		id, err := pathInt(r, "id")
		if err != nil {
			return "", nil, err
		}
		if d.View, err = e.Channel(ctx, id); err != nil {
			return "", nil, err
		}
		d.Settings, inboxID = d.View.Settings, d.View.Channel.InboxID
		d.WebhookURL = strings.TrimRight(s.BaseURL, "/") + "/api/v1/channels/" + settingsID(id) + "/inbound-email"
	} else {
		// The setup screen is for one inbox: ?inbox= on the link, inbox_id when the form posted.
		raw := r.URL.Query().Get("inbox")
		if raw == "" && r.PostForm != nil {
			raw = r.PostForm.Get("inbox_id")
		}
		if inboxID, err = strconv.ParseInt(raw, 10, 64); err != nil || inboxID <= 0 {
			return "", nil, problem.NotFoundf("inbox_not_found", "choose an inbox to connect team email to")
		}
	}
	if d.Inbox, err = s.Workspace.Inbox(ctx, user(r), inboxID); err != nil {
		return "", nil, err
	}
	d.Receiving = e.ReceivingAddress(d.Inbox)
	d.HasIMAP, d.HasSMTP, d.HasDKIM = d.Settings.IMAP != nil, d.Settings.SMTP != nil, d.Settings.DKIM != nil
	if d.Settings.DKIM != nil {
		d.DKIMSelector = d.Settings.DKIM.Selector
	}
	if d.Settings.IMAP != nil {
		d.IMAP = *d.Settings.IMAP
	} else {
		d.IMAP = email.IMAPSettings{Security: imapsync.SecurityTLS, Mailbox: imapsync.DefaultMailbox}
	}
	if d.Settings.SMTP != nil {
		d.SMTP = *d.Settings.SMTP
	} else {
		d.SMTP = email.SMTPSettings{Security: "starttls"}
	}
	// A refused form previews what was typed.
	preview := d.Settings
	if sp.Form.Name == emailForm && sp.Form.Values != nil {
		previewFromForm(&preview, sp.Form.Values)
	}
	if preview.CompanyName == "" {
		// The domain names the company after the inbox when none is given.
		preview.CompanyName = d.Inbox.Name
	}
	d.Preview = s.previewOf(preview, user(r), d.Inbox.Name)
	d.Preview.Page = sp.Page
	if d.View != nil {
		if d.Status, err = s.emailStatusOf(ctx, sp.Page, d.View); err != nil {
			return "", nil, err
		}
		d.Title = sp.T("settings.title") + " · " + d.View.Channel.Name
	} else {
		d.Title = sp.T("settings.title") + " · " + sp.T("email.setup.title", d.Inbox.Name)
	}
	return "settings-email-channel", d, nil
}

// emailPreview is how replies will look: the From line and the signature.
type emailPreview struct {
	*Page
	Address       string
	FromName      string
	AgentExample  string // the From name in "agent and company" mode, for the option's label
	CompanyName   string // and in "company" mode
	SignatureHTML template.HTML
	// OOB is set when the preview answers typing: the options' examples are updated too.
	OOB bool
}

// previewOf renders the From name and signature for u, as email.Preview (and so a reply) does.
func (s *Server) previewOf(st email.Settings, u *store.User, inboxName string) emailPreview {
	p := emailPreview{Address: st.Address}
	var sig string
	p.FromName, _, sig = email.Preview(st, u, inboxName)
	// The signature went through the signature policy (no script, handler or form): it is shown
	// as the customer will see it.
	p.SignatureHTML = template.HTML(sig)
	agentMode, companyMode := st, st
	agentMode.FromName, companyMode.FromName = "agent_and_company", "company"
	p.AgentExample, _, _ = email.Preview(agentMode, u, inboxName)
	p.CompanyName, _, _ = email.Preview(companyMode, u, inboxName)
	return p
}

// previewFromForm applies the form's identity fields to st.
func previewFromForm(st *email.Settings, f map[string][]string) {
	get := func(k string) (string, bool) {
		v, ok := f[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("address"); ok {
		st.Address = strings.TrimSpace(v)
	}
	if v, ok := get("from_name"); ok {
		st.FromName = v
	}
	if v, ok := get("company_name"); ok {
		st.CompanyName = strings.TrimSpace(v)
	}
	if v, ok := get("signature_html"); ok {
		st.SignatureHTML = v
	}
}

// emailPreview answers the form's live preview: the From line and signature as typed.
func (s *Server) emailPreview(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.email(); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	st := email.DefaultSettings()
	previewFromForm(&st, r.PostForm)
	name := ""
	if id, err := strconv.ParseInt(r.PostForm.Get("inbox_id"), 10, 64); err == nil {
		if in, err := s.Workspace.Inbox(r.Context(), user(r), id); err == nil {
			name = in.Name
		}
	}
	if st.CompanyName == "" {
		// A new channel takes the inbox's name as the company's, as the domain does.
		st.CompanyName = name
	}
	p := s.previewOf(st, user(r), name)
	p.Page, p.OOB = s.page(r, "", "settings"), true
	return s.renderBlock(w, http.StatusOK, "settings-email-channel", "email-preview", p)
}

// emailInput reads the channel form. stored is the channel's settings on an edit (nil when
// connecting): unticking IMAP or SMTP then removes the stored server.
func emailInput(r *http.Request, stored *email.Settings) (email.ChannelInput, error) {
	f := r.PostForm
	text := func(k string) *string { v := f.Get(k); return &v }
	on := func(k string) bool { return f.Get(k) == "on" }
	in := email.ChannelInput{Address: text("address"), CompanyName: text("company_name"), SignatureHTML: text("signature_html")}
	if v := f.Get("from_name"); v != "" {
		in.FromName = &v
	}
	log := on("log_to_original_sender")
	in.LogToOriginalSender = &log
	in.Filters = &email.FilterRules{AutoReplies: on("filters.auto_replies"), Bounces: on("filters.bounces"),
		Bulk: on("filters.bulk"), RoleSenders: on("filters.role_senders")}
	if on("imap_enabled") {
		c, err := imapFromForm(r)
		if err != nil {
			return in, err
		}
		in.IMAP = &c
	} else if stored != nil && stored.IMAP != nil {
		in.RemoveIMAP = true
	}
	if on("smtp_enabled") {
		port, err := formPort(f.Get("smtp.port"), "invalid_smtp", "smtp.port")
		if err != nil {
			return in, err
		}
		in.SMTP = &email.SMTPSettings{Host: f.Get("smtp.host"), Port: port, Security: f.Get("smtp.security"),
			Username: f.Get("smtp.username"), Password: f.Get("smtp.password")}
	} else if stored != nil && stored.SMTP != nil {
		in.RemoveSMTP = true
	}
	if on("dkim_enabled") {
		in.DKIM = &email.DKIMSettings{Selector: f.Get("dkim.selector"), PrivateKey: f.Get("dkim.private_key")}
	} else if stored != nil && stored.DKIM != nil {
		in.RemoveDKIM = true
	}
	return in, nil
}

func imapFromForm(r *http.Request) (email.IMAPSettings, error) {
	f := r.PostForm
	port, err := formPort(f.Get("imap.port"), "invalid_imap", "imap.port")
	if err != nil {
		return email.IMAPSettings{}, err
	}
	days := 0
	if v := strings.TrimSpace(f.Get("imap.backfill_days")); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			return email.IMAPSettings{}, problem.Field("invalid_imap", "imap.backfill_days", "must be a number of days")
		}
	}
	return email.IMAPSettings{Host: f.Get("imap.host"), Port: port, Security: f.Get("imap.security"),
		Username: f.Get("imap.username"), Password: f.Get("imap.password"), Mailbox: f.Get("imap.mailbox"),
		BackfillDays: days}, nil
}

// formPort reads a port field; empty is 0, which the domain turns into the default port.
func formPort(v, code, field string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, problem.Field(code, field, "must be a port number")
	}
	return n, nil
}

func (s *Server) createEmailChannel(w http.ResponseWriter, r *http.Request) error {
	e, err := s.email()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	in, err := emailInput(r, nil)
	if err == nil {
		in.InboxID, _ = strconv.ParseInt(r.PostForm.Get("inbox_id"), 10, 64)
		var v *email.View
		if v, err = e.CreateChannel(r.Context(), user(r), in); err == nil {
			redirect(w, r, "/settings/email/"+settingsID(v.Channel.ID)+"?flash=email.flash.connected")
			return nil
		}
	}
	return s.emailInvalid(w, r, err)
}

func (s *Server) updateEmailChannel(w http.ResponseWriter, r *http.Request) error {
	e, id, err := s.emailWithID(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	v, err := e.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	in, err := emailInput(r, &v.Settings)
	if err == nil {
		if _, err = e.UpdateChannel(r.Context(), user(r), id, in); err == nil {
			return s.settingsDone(w, r, "email", "/settings/email/"+settingsID(id), "email.flash.saved", s.emailChannelPage)
		}
	}
	return s.emailInvalid(w, r, err)
}

// emailInvalid shows the channel form again with what was typed and the domain's complaint next
// to its field (422); anything else goes the usual way. Field messages come from
// email.error.<field>, else email.error.<code>, else the domain's own words.
func (s *Server) emailInvalid(w http.ResponseWriter, r *http.Request, err error) error {
	p, ok := fixable(err)
	if !ok {
		return err
	}
	sp := s.newSettingsPage(r, "email")
	sp.Form = formState{Name: emailForm, Values: r.PostForm, Errors: map[string]string{}}
	fields := p.Fields
	if p.Code == "email_address_in_use" {
		fields = map[string]string{"address": p.Detail}
	}
	for field, detail := range fields {
		if field == "inbox_id" {
			// The inbox is no field of the form: say it above the form.
			sp.Form.Error = emailMessage(sp.Page, field, p.Code, detail)
			continue
		}
		sp.Form.Errors[field] = emailMessage(sp.Page, field, p.Code, detail)
	}
	if len(fields) == 0 {
		sp.Form.Error = emailMessage(sp.Page, "", p.Code, p.Detail)
	}
	return s.showBuilt(w, r, http.StatusUnprocessableEntity, sp, s.emailChannelPage)
}

// emailMessage words a problem in the page's language: email.error.<code> for a code that
// means one thing, else email.error.<field> (invalid_imap covers several fields), else
// error.<code>, else the domain's own words.
func emailMessage(pg *Page, field, code, detail string) string {
	keys := []string{"email.error." + code, "error." + code}
	if field != "" {
		keys = []string{"email.error." + code, "email.error." + field, "error." + code}
	}
	for _, key := range keys {
		if msg := pg.T(key); msg != key {
			return msg
		}
	}
	return detail
}

// --- the channel's status ---------------------------------------------------------------------

// emailStatusView is the "is mail arriving?" card of a channel's page.
type emailStatusView struct {
	*Page
	ChannelID    int64
	Address      string
	Receiving    string
	Confirmation *email.Confirmation
	Test         *testView
	// TestProblem says why no test mail could be sent (e.g. no SMTP relay).
	TestProblem string
	IMAP        bool
	IMAPState   *store.EmailIMAPState
	Quarantined []email.Quarantine
	// Poll keeps the card refreshing while something is awaited: a test mail, or the first
	// mail of a channel connected less than half an hour ago.
	Poll bool
}

// testView is the last test mail's round trip.
type testView struct {
	SentAt int64
	// After is how long the round trip took, once the mail arrived ("4 s").
	After   string
	Arrived bool
	Error   string
	// Late is set when the mail has not arrived after a minute: the card lists likely causes.
	Late bool
}

// Test mails and fresh channels are polled for this long; after that a reload shows news.
const (
	testLateAfter  = time.Minute
	testPollFor    = 15 * time.Minute
	freshPollFor   = 30 * time.Minute
	statusPollSecs = 3
)

func (s *Server) emailStatusOf(ctx context.Context, pg *Page, v *email.View) (*emailStatusView, error) {
	now := time.Now()
	st := &emailStatusView{Page: pg, ChannelID: v.Channel.ID, Address: v.Settings.Address, Receiving: v.ReceivingAddress,
		Confirmation: v.State.ForwardingConfirmation, Quarantined: v.State.Quarantined, IMAP: v.Settings.IMAP != nil}
	if c := st.Confirmation; c != nil && !strings.HasPrefix(c.Link, "https://") {
		// The link comes from a mail: only a web address is offered to open.
		cc := *c
		cc.Link = ""
		st.Confirmation = &cc
	}
	if t := v.State.Test; t != nil {
		tv := &testView{SentAt: t.SentAt, Error: t.Error, Arrived: t.ReceivedAt > 0}
		age := now.Sub(time.UnixMilli(t.SentAt))
		switch {
		case tv.Arrived:
			tv.After = roundTrip(pg, time.Duration(t.ReceivedAt-t.SentAt)*time.Millisecond)
		case tv.Error == "":
			tv.Late = age >= testLateAfter
			st.Poll = age < testPollFor
		}
		st.Test = tv
	}
	nothingYet := st.Confirmation == nil && (st.Test == nil || !st.Test.Arrived)
	if nothingYet && now.Sub(time.UnixMilli(v.Channel.CreatedAt)) < freshPollFor {
		st.Poll = true
	}
	if st.IMAP {
		is, err := s.Store.EmailIMAPState(ctx, v.Channel.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		st.IMAPState = is
	}
	return st, nil
}

// roundTrip words a test mail's travel time: seconds under two minutes, else minutes.
func roundTrip(pg *Page, d time.Duration) string {
	if d < 2*time.Minute {
		return pg.T("email.duration.seconds", max(0, int(d.Round(time.Second)/time.Second)))
	}
	return pg.T("email.duration.minutes", int(d.Round(time.Minute)/time.Minute))
}

// When formats a unix millisecond time in the viewer's time zone.
func (st *emailStatusView) When(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).In(st.Loc).Format("2006-01-02 15:04")
}

// PollSeconds is how often the status card refreshes itself while it polls.
func (st *emailStatusView) PollSeconds() int { return statusPollSecs }

// emailStatus answers the status card's polling.
func (s *Server) emailStatus(w http.ResponseWriter, r *http.Request) error {
	e, id, err := s.emailWithID(r)
	if err != nil {
		return err
	}
	return s.showEmailStatus(w, r, e, id, s.page(r, "", "settings"), "")
}

// showEmailStatus answers with the channel's status card; testProblem says why no test mail
// could be sent.
func (s *Server) showEmailStatus(w http.ResponseWriter, r *http.Request, e *email.Service, id int64, pg *Page, testProblem string) error {
	v, err := e.Channel(r.Context(), id)
	if err != nil {
		return err
	}
	st, err := s.emailStatusOf(r.Context(), pg, v)
	if err != nil {
		return err
	}
	st.TestProblem = testProblem
	return s.renderBlock(w, http.StatusOK, "settings-email-channel", "email-status", st)
}

// sendTestEmail sends a test mail to the team address; htmx gets the status card back, which
// then polls until the mail has come back through the team's forwarding.
func (s *Server) sendTestEmail(w http.ResponseWriter, r *http.Request) error {
	e, id, err := s.emailWithID(r)
	if err != nil {
		return err
	}
	pg := s.page(r, "", "settings")
	_, sendErr := e.SendTest(r.Context(), user(r), id)
	var refusal string
	if sendErr != nil {
		p, ok := problem.As(sendErr)
		switch {
		case ok && p.Code == "test_email_failed":
			// The state records the relay's answer; the card shows it.
		case ok && p.Kind == problem.Conflict:
			refusal = emailMessage(pg, "", p.Code, p.Detail)
		default:
			return sendErr
		}
	}
	if !isHTMX(r) {
		flash := "email.flash.test_sent"
		if refusal != "" || sendErr != nil {
			flash = "email.flash.test_failed"
		}
		redirect(w, r, "/settings/email/"+settingsID(id)+"?flash="+flash)
		return nil
	}
	return s.showEmailStatus(w, r, e, id, pg, refusal)
}

// revealWebhookSecret shows the webhook's secret: htmx swaps it in, a plain link gets the page
// with it shown. It is never in the page until asked for, so it does not sit in the HTML of
// every visit.
func (s *Server) revealWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	sp := s.newSettingsPage(r, "email")
	_, data, err := s.emailChannelPage(r, sp)
	if err != nil {
		return err
	}
	d := data.(*emailChannelData)
	d.Secret = d.View.Settings.WebhookSecret
	if isHTMX(r) {
		return s.renderBlock(w, http.StatusOK, "settings-email-channel", "email-secret", d)
	}
	return s.render(w, r, http.StatusOK, "settings-email-channel", d)
}

// --- the IMAP connection test -----------------------------------------------------------------

// imapResult is a connection test's outcome: each step passed, failed or was not reached.
type imapResult struct {
	*Page
	OK    bool
	Steps []imapStepView
	// Error is the server's or the network's words for the failed step.
	Error string
	// Invalid is set for settings that can never work (no host, a bad port).
	Invalid string
}

type imapStepView struct {
	Step  string
	State string // ok | failed | skipped
}

// testIMAP connects to the mailbox of the form's IMAP fields. On a connected channel an empty
// password means the stored one, but only for the same host and user: a stored password is
// never sent to another server.
func (s *Server) testIMAP(w http.ResponseWriter, r *http.Request) error {
	e, err := s.email()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	pg := s.page(r, "", "settings")
	res := &imapResult{Page: pg}
	c, err := imapFromForm(r)
	if err != nil {
		// imapFromForm names one field per problem.
		p, _ := problem.As(err)
		field := firstKey(p.Fields)
		res.Invalid = emailMessage(pg, field, p.Code, p.Fields[field])
	} else {
		if c.Password == "" && r.PathValue("id") != "" {
			id, err := pathInt(r, "id")
			if err != nil {
				return err
			}
			v, err := e.Channel(r.Context(), id)
			if err != nil {
				return err
			}
			full, err := email.ChannelSettings(v.Channel)
			if err != nil {
				return err
			}
			if old := full.IMAP; old != nil && strings.EqualFold(strings.TrimSpace(c.Host), old.Host) && strings.TrimSpace(c.Username) == old.Username {
				c.Password = old.Password
			}
		}
		s.runIMAPTest(r.Context(), res, c)
	}
	if isHTMX(r) {
		return s.renderBlock(w, http.StatusOK, "settings-email-channel", "imap-test-result", res)
	}
	// Without scripts the button submitted the whole form here: show the page with what was
	// typed and the result under the button.
	sp := s.newSettingsPage(r, "email")
	sp.Form = formState{Name: emailForm, Values: r.PostForm}
	_, data, err := s.emailChannelPage(r, sp)
	if err != nil {
		return err
	}
	data.(*emailChannelData).IMAPResult = res
	return s.render(w, r, http.StatusOK, "settings-email-channel", data)
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// runIMAPTest connects with c and fills res with which steps passed.
func (s *Server) runIMAPTest(ctx context.Context, res *imapResult, c email.IMAPSettings) {
	cfg := email.IMAPConfig(c)
	cfg.Host, cfg.Username = strings.TrimSpace(cfg.Host), strings.TrimSpace(cfg.Username)
	if cfg.Security == "" {
		cfg.Security = imapsync.SecurityTLS
	}
	steps := []imapsync.Step{imapsync.StepConnect, imapsync.StepTLS, imapsync.StepLogin, imapsync.StepMailbox}
	if cfg.Security == imapsync.SecurityNone {
		steps = []imapsync.Step{imapsync.StepConnect, imapsync.StepLogin, imapsync.StepMailbox}
	}
	test := s.IMAPTest
	if test == nil {
		test = imapsync.Test
	}
	err := test(ctx, cfg)
	var se *imapsync.StepError
	switch {
	case err == nil:
		res.OK = true
	case errors.As(err, &se):
		res.Error = se.Err.Error()
	default:
		res.Invalid = err.Error()
		return
	}
	state := "ok"
	for _, st := range steps {
		if se != nil && st == se.Step {
			state = "failed"
		}
		res.Steps = append(res.Steps, imapStepView{Step: string(st), State: state})
		if state == "failed" {
			state = "skipped"
		}
	}
}
