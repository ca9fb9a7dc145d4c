package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func (s *Server) settingsChannelRoutes() []route {
	return []route{
		{pattern: "GET /settings/channels", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "channels", s.channelsSettings)
		}},
		{pattern: "POST /settings/channels", admin: true, handle: s.createCustomChannel},
		{pattern: "GET /settings/channels/{id}", admin: true, handle: func(w http.ResponseWriter, r *http.Request) error {
			return s.showSettings(w, r, "channels", s.channelSettings)
		}},
		{pattern: "POST /settings/channels/{id}", admin: true, handle: s.updateCustomChannel},
		{pattern: "POST /settings/channels/{id}/rotate", admin: true, handle: s.rotateCustomSecret},
		{pattern: "POST /settings/channels/{id}/accounts", admin: true, handle: s.createChannelAccount},
		{pattern: "POST /settings/channels/{id}/accounts/{account}/authorize", admin: true, handle: s.authorizeAccount(true)},
		{pattern: "POST /settings/channels/{id}/accounts/{account}/deauthorize", admin: true, handle: s.authorizeAccount(false)},
		{pattern: "POST /settings/channels/{id}/deliveries/{job}/retry", admin: true, handle: s.retryDelivery},
	}
}

// custom is the custom channels service, built the way the API builds it.
func (s *Server) custom() *custom.Service {
	svc := &custom.Service{Store: s.Store}
	if s.Inbox != nil {
		svc.Inbox = s.Inbox
		svc.WakeJobs = s.Inbox.WakeJobs
	}
	return svc
}

type channelsSettings struct {
	*settingsPage
	Channels     []*store.CustomChannel
	IdentTypes   []string
	ThreadModels []string
	DefaultTypes []string
	ShowArchived bool
}

func (s *Server) channelsSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	d := &channelsSettings{settingsPage: sp, IdentTypes: custom.DeliveryIdentifierTypes,
		ThreadModels: []string{custom.ThreadByIntegration, custom.ThreadByParticipants},
		DefaultTypes: []string{custom.OpaqueID}, ShowArchived: r.URL.Query().Get("archived") == "1"}
	var after int64
	for len(d.Channels) < maxSettingsList {
		page, more, err := s.Store.CustomChannels(r.Context(), store.CustomChannelFilter{IncludeArchived: d.ShowArchived, AfterID: after, Limit: 200})
		if err != nil {
			return "", nil, err
		}
		d.Channels = append(d.Channels, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
	}
	return "settings-channels", d, nil
}

// richTextSet is what "formatted replies" turns on: the formatting Parley's composer writes.
var richTextSet = []string{"BOLD", "ITALIC", "UNDERLINE", "HYPERLINK", "LISTS", "BLOCKQUOTE"}

// capabilitiesFromForm builds HubSpot's capabilities object from the form's plain choices; the
// domain validates it.
func capabilitiesFromForm(r *http.Request) json.RawMessage {
	types := r.PostForm["delivery_types"]
	if types == nil {
		types = []string{}
	}
	threading := r.PostForm.Get("threading_model")
	if threading == "" {
		threading = custom.ThreadByIntegration
	}
	caps := map[string]any{
		"deliveryIdentifierTypes": types,
		"threadingModel":          threading,
		"allowOutgoingMessages":   r.PostForm.Get("allow_outgoing") == "on",
		"allowConversationStart":  r.PostForm.Get("allow_start") == "on",
		"allowMultipleRecipients": r.PostForm.Get("allow_multiple") == "on",
	}
	if r.PostForm.Get("rich_text") == "on" {
		caps["richText"] = richTextSet
	}
	if r.PostForm.Get("allow_files") == "on" {
		caps["outgoingAttachmentTypes"] = []string{"FILE"}
		caps["maxFileAttachmentCount"] = 10
		caps["maxFileAttachmentSizeBytes"] = 25 << 20
		caps["maxTotalFileAttachmentSizeBytes"] = 25 << 20
	}
	b, _ := json.Marshal(caps)
	return b
}

func (s *Server) createCustomChannel(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	name, hook := r.PostForm.Get("name"), r.PostForm.Get("webhookUrl")
	if strings.TrimSpace(hook) == "" {
		// Parley must be able to deliver replies, so the form asks for the webhook up front.
		return s.settingsInvalid(w, r, fieldRequired("webhookUrl"), "channels", "channel-new", s.channelsSettings)
	}
	c, err := s.custom().CreateChannel(r.Context(), user(r), custom.ChannelInput{
		Name: &name, WebhookURL: &hook, Capabilities: capabilitiesFromForm(r)})
	if err != nil {
		return s.settingsInvalid(w, r, err, "channels", "channel-new", s.channelsSettings)
	}
	redirect(w, r, "/settings/channels/"+settingsID(c.ID)+"?flash=settings.flash.channel_created")
	return nil
}

// delivery is one webhook call of a custom channel as the log shows it.
type delivery struct {
	Job *store.Job
	// What the call was for: a message sent by an agent, or a change of an account.
	MessageID int64
	AccountID int64
	Event     string
}

type channelSettings struct {
	*settingsPage
	Channel    *store.CustomChannel
	Caps       *custom.Capabilities
	Accounts   []*store.Channel
	Inboxes    []*store.Inbox
	InboxNames map[int64]string
	Deliveries []delivery
	IdentTypes []string
}

// deliveriesShown is how many webhook calls the channel page lists.
const deliveriesShown = 50

func (s *Server) channelSettings(r *http.Request, sp *settingsPage) (string, any, error) {
	id, err := pathInt(r, "id")
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	d := &channelSettings{settingsPage: sp, InboxNames: map[int64]string{}}
	if d.Channel, err = s.custom().Channel(ctx, id); err != nil {
		return "", nil, err
	}
	if d.Caps, err = custom.LoadCapabilities(d.Channel.Capabilities); err != nil {
		return "", nil, err
	}
	d.IdentTypes = d.Caps.DeliveryIdentifierTypes
	archived := false
	if d.Accounts, _, err = s.Store.ChannelAccounts(ctx, store.ChannelAccountFilter{CustomChannelID: id, Archived: &archived, Limit: 500}); err != nil {
		return "", nil, err
	}
	if d.Inboxes, err = s.allInboxes(ctx, user(r)); err != nil {
		return "", nil, err
	}
	for _, in := range d.Inboxes {
		d.InboxNames[in.ID] = in.Name
	}
	jobs, err := s.Store.CustomChannelJobs(ctx, id, inbox.DeliverJob, custom.AccountEventJob, 0, deliveriesShown)
	if err != nil {
		return "", nil, err
	}
	for _, j := range jobs {
		dl := delivery{Job: j}
		var p struct {
			MessageID int64  `json:"message_id"`
			AccountID int64  `json:"account_id"`
			Type      string `json:"type"`
		}
		if json.Unmarshal(j.Payload, &p) == nil {
			dl.MessageID, dl.AccountID, dl.Event = p.MessageID, p.AccountID, p.Type
		}
		d.Deliveries = append(d.Deliveries, dl)
	}
	d.Title = sp.T("settings.title") + " · " + d.Channel.Name
	return "settings-channel", d, nil
}

func (s *Server) channelPath(r *http.Request) string {
	return "/settings/channels/" + r.PathValue("id")
}

func (s *Server) updateCustomChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	name, hook := r.PostForm.Get("name"), r.PostForm.Get("webhookUrl")
	if _, err := s.custom().UpdateChannel(r.Context(), user(r), id, custom.ChannelInput{Name: &name, WebhookURL: &hook}); err != nil {
		return s.settingsInvalid(w, r, err, "channels", "channel-edit", s.channelSettings)
	}
	return s.settingsDone(w, r, "channels", s.channelPath(r), "settings.flash.channel_saved", s.channelSettings)
}

func (s *Server) rotateCustomSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.custom().RotateSecret(r.Context(), user(r), id); err != nil {
		return err
	}
	return s.settingsDone(w, r, "channels", s.channelPath(r), "settings.flash.secret_rotated", s.channelSettings)
}

func (s *Server) createChannelAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	in := custom.AccountInput{Name: &name}
	if v := r.PostForm.Get("inbox_id"); v != "" {
		if in.InboxID, err = strconv.ParseInt(v, 10, 64); err != nil {
			in.InboxID = 0
		}
	}
	if typ, val := r.PostForm.Get("identifier_type"), strings.TrimSpace(r.PostForm.Get("identifier_value")); val != "" {
		in.DeliveryIdentifier = &custom.DeliveryIdentifier{Type: typ, Value: val}
	}
	if _, err := s.custom().CreateAccount(r.Context(), user(r), id, in); err != nil {
		return s.settingsInvalid(w, r, err, "channels", "account-new", s.channelSettings)
	}
	return s.settingsDone(w, r, "channels", s.channelPath(r), "settings.flash.account_created", s.channelSettings)
}

func (s *Server) authorizeAccount(authorized bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		account, err := pathInt(r, "account")
		if err != nil {
			return err
		}
		if _, err := s.custom().UpdateAccount(r.Context(), user(r), id, account, custom.AccountInput{Authorized: &authorized}); err != nil {
			return err
		}
		return s.settingsDone(w, r, "channels", s.channelPath(r), "settings.flash.account_saved", s.channelSettings)
	}
}

// retryDelivery puts a failed webhook call back in the queue, audited as the API's job retry is.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	jobID, err := pathInt(r, "job")
	if err != nil {
		return err
	}
	me := user(r)
	err = s.Store.InTx(r.Context(), func(tx *store.Tx) error {
		j, err := tx.RetryFailedJob(r.Context(), jobID)
		if err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{"kind": j.Kind, "last_error": j.LastError})
		if err != nil {
			return err
		}
		return tx.AddAuditEntry(r.Context(), &store.AuditEntry{ActorID: &me.ID, Action: "job.retried",
			TargetType: "job", TargetID: &j.ID, Data: data})
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem.NotFoundf("job_not_found", "no job %d", jobID)
	case errors.Is(err, store.ErrConflict):
		return problem.Conflictf("job_not_failed", "only a failed delivery can be retried")
	case err != nil:
		return err
	}
	if s.Inbox != nil && s.Inbox.WakeJobs != nil {
		s.Inbox.WakeJobs()
	}
	return s.settingsDone(w, r, "channels", s.channelPath(r), "settings.flash.delivery_retried", s.channelSettings)
}
