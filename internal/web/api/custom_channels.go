package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// The custom channels API mirrors HubSpot's Custom Channels API (camelCase JSON, ids as strings,
// {"results": [...], "paging": {"next": {"after": …}}} lists) so HubSpot integrations port with a
// base-URL change. Every route is served under both prefixes below. An integration runs with an
// admin's API token, sent as a bearer token or as HubSpot's ?hapikey= parameter.
var customChannelPrefixes = []string{"/api/v1/custom-channels", "/conversations/v3/custom-channels"}

// customChannelRoutes returns every custom channel route once per prefix.
func customChannelRoutes() []Route {
	type def struct {
		method, path string
		handle       func(s *Server, w http.ResponseWriter, r *http.Request) error
	}
	defs := []def{
		{http.MethodPost, "", createCustomChannel},
		{http.MethodGet, "", listCustomChannels},
		{http.MethodGet, "/{channelId}", getCustomChannel},
		{http.MethodPatch, "/{channelId}", updateCustomChannel},
		{http.MethodDelete, "/{channelId}", archiveCustomChannel},
		{http.MethodPost, "/{channelId}/secret/rotate", rotateCustomChannelSecret},
		{http.MethodPost, "/{channelId}/channel-accounts", createChannelAccount},
		{http.MethodGet, "/{channelId}/channel-accounts", listChannelAccounts},
		{http.MethodGet, "/{channelId}/channel-accounts/{accountId}", getChannelAccount},
		{http.MethodPatch, "/{channelId}/channel-accounts/{accountId}", updateChannelAccount},
		{http.MethodPost, "/{channelId}/messages", publishCustomMessage},
		{http.MethodGet, "/{channelId}/messages/{messageId}", getCustomMessage},
		{http.MethodPatch, "/{channelId}/messages/{messageId}", updateCustomMessageStatus},
	}
	var rts []Route
	for _, prefix := range customChannelPrefixes {
		for _, d := range defs {
			rts = append(rts, Route{Method: d.method, Pattern: prefix + d.path, Access: Admin, QueryToken: true, Handle: d.handle})
		}
	}
	return rts
}

func customService(s *Server) *custom.Service {
	svc := &custom.Service{Store: s.Store}
	if s.Inbox != nil {
		svc.Inbox = s.Inbox
		svc.WakeJobs = s.Inbox.WakeJobs
	}
	return svc
}

// customPathID parses a HubSpot-style id in the path; a malformed one names nothing.
func customPathID(r *http.Request, name, code, what string) (int64, error) {
	id, ok := custom.ParseID(r.PathValue(name))
	if !ok {
		return 0, problem.NotFoundf(code, "no %s %q", what, r.PathValue(name))
	}
	return id, nil
}

func channelIDParam(r *http.Request) (int64, error) {
	return customPathID(r, "channelId", "custom_channel_not_found", "custom channel")
}

// channelAndChildID parses {channelId} and the id of what lives under it (an account, a message).
func channelAndChildID(r *http.Request, child func(*http.Request) (int64, error)) (channelID, childID int64, err error) {
	if channelID, err = channelIDParam(r); err != nil {
		return 0, 0, err
	}
	if childID, err = child(r); err != nil {
		return 0, 0, err
	}
	return channelID, childID, nil
}

// customPrefix is the prefix the request came in under, so Location headers point back to it.
func customPrefix(r *http.Request) string {
	for _, p := range customChannelPrefixes {
		if strings.HasPrefix(r.URL.Path, p) {
			return p
		}
	}
	return customChannelPrefixes[0]
}

// hubspotList is HubSpot's list envelope.
type hubspotList[T any] struct {
	Results []T            `json:"results"`
	Paging  *hubspotPaging `json:"paging,omitempty"`
}

type hubspotPaging struct {
	Next struct {
		After string `json:"after"`
		Link  string `json:"link,omitempty"`
	} `json:"next"`
}

func newHubspotList[T any](results []T, r *http.Request, after string) hubspotList[T] {
	if results == nil {
		results = []T{}
	}
	l := hubspotList[T]{Results: results}
	if after != "" {
		l.Paging = &hubspotPaging{}
		l.Paging.Next.After = after
		q := r.URL.Query()
		q.Del("hapikey") // never echo a credential into a link
		q.Set("after", after)
		l.Paging.Next.Link = r.URL.Path + "?" + q.Encode()
	}
	return l
}

// afterParam reads HubSpot's ?after= cursor: the id after which the next page starts.
func afterParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, problem.Field("invalid_cursor", "after", "is not a cursor this API returned")
	}
	return n, nil
}

// customChannelJSON is HubSpot's channel object. Secret is only set when it was just created or rotated.
type customChannelJSON struct {
	ID                                  string          `json:"id"`
	Name                                string          `json:"name"`
	Capabilities                        json.RawMessage `json:"capabilities"`
	WebhookURL                          string          `json:"webhookUrl"`
	ChannelAccountConnectionRedirectURL string          `json:"channelAccountConnectionRedirectUrl"`
	ChannelDescription                  string          `json:"channelDescription"`
	ChannelLogoURL                      string          `json:"channelLogoUrl"`
	Archived                            bool            `json:"archived"`
	ArchivedAt                          *string         `json:"archivedAt"`
	CreatedAt                           string          `json:"createdAt"`
	UpdatedAt                           string          `json:"updatedAt"`
	Secret                              string          `json:"secret,omitempty"`
}

func toCustomChannelJSON(c *store.CustomChannel, withSecret bool) customChannelJSON {
	out := customChannelJSON{
		ID:                                  custom.ID(c.ID),
		Name:                                c.Name,
		Capabilities:                        c.Capabilities,
		WebhookURL:                          c.WebhookURL,
		ChannelAccountConnectionRedirectURL: c.ConnectRedirectURL,
		ChannelDescription:                  c.Description,
		ChannelLogoURL:                      c.LogoURL,
		Archived:                            c.ArchivedAt != nil,
		CreatedAt:                           custom.Timestamp(c.CreatedAt),
		UpdatedAt:                           custom.Timestamp(c.UpdatedAt),
	}
	if c.ArchivedAt != nil {
		at := custom.Timestamp(*c.ArchivedAt)
		out.ArchivedAt = &at
	}
	if withSecret {
		out.Secret = c.Secret
	}
	return out
}

// customChannelBody is a registration (POST) or a change (PATCH: absent fields are kept).
type customChannelBody struct {
	Name                                *string         `json:"name"`
	Capabilities                        json.RawMessage `json:"capabilities"`
	WebhookURL                          *string         `json:"webhookUrl"`
	ChannelAccountConnectionRedirectURL *string         `json:"channelAccountConnectionRedirectUrl"`
	ChannelDescription                  *string         `json:"channelDescription"`
	ChannelLogoURL                      *string         `json:"channelLogoUrl"`
}

func (b *customChannelBody) input() custom.ChannelInput {
	return custom.ChannelInput{
		Name:               b.Name,
		Capabilities:       b.Capabilities,
		WebhookURL:         b.WebhookURL,
		ConnectRedirectURL: b.ChannelAccountConnectionRedirectURL,
		Description:        b.ChannelDescription,
		LogoURL:            b.ChannelLogoURL,
	}
}

func createCustomChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	prefix := customPrefix(r)
	var body customChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := customService(s).CreateChannel(r.Context(), caller(r), body.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", prefix+"/"+custom.ID(c.ID))
	writeJSON(w, http.StatusCreated, toCustomChannelJSON(c, true))
	return nil
}

func listCustomChannels(s *Server, w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	archived, err := queryFlag(r, "archived")
	if err != nil {
		return err
	}
	list, more, err := s.Store.CustomChannels(r.Context(), store.CustomChannelFilter{IncludeArchived: archived, AfterID: after, Limit: n})
	if err != nil {
		return err
	}
	out := make([]customChannelJSON, len(list))
	for i, c := range list {
		out[i] = toCustomChannelJSON(c, false)
	}
	next := ""
	if more {
		next = custom.ID(list[len(list)-1].ID)
	}
	writeJSON(w, http.StatusOK, newHubspotList(out, r, next))
	return nil
}

func getCustomChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := channelIDParam(r)
	if err != nil {
		return err
	}
	c, err := customService(s).Channel(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomChannelJSON(c, false))
	return nil
}

func updateCustomChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := channelIDParam(r)
	if err != nil {
		return err
	}
	var body customChannelBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	c, err := customService(s).UpdateChannel(r.Context(), caller(r), id, body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomChannelJSON(c, false))
	return nil
}

func archiveCustomChannel(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := channelIDParam(r)
	if err != nil {
		return err
	}
	if err := customService(s).ArchiveChannel(r.Context(), caller(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func rotateCustomChannelSecret(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := channelIDParam(r)
	if err != nil {
		return err
	}
	c, err := customService(s).RotateSecret(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomChannelJSON(c, true))
	return nil
}

// channelAccountJSON is HubSpot's PublicChannelAccount.
type channelAccountJSON struct {
	ID                 string                     `json:"id"`
	ChannelID          string                     `json:"channelId"`
	InboxID            string                     `json:"inboxId"`
	Name               string                     `json:"name"`
	Active             bool                       `json:"active"`
	Authorized         bool                       `json:"authorized"`
	Archived           bool                       `json:"archived"`
	ArchivedAt         *string                    `json:"archivedAt"`
	CreatedAt          string                     `json:"createdAt"`
	UpdatedAt          string                     `json:"updatedAt"`
	DeliveryIdentifier *custom.DeliveryIdentifier `json:"deliveryIdentifier"`
}

func toChannelAccountJSON(a *store.Channel) channelAccountJSON {
	out := channelAccountJSON{
		ID:         custom.ID(a.ID),
		InboxID:    custom.ID(a.InboxID),
		Name:       a.Name,
		Active:     a.Status == "active" && a.Authorized && a.ArchivedAt == nil,
		Authorized: a.Authorized,
		Archived:   a.ArchivedAt != nil,
		CreatedAt:  custom.Timestamp(a.CreatedAt),
		UpdatedAt:  custom.Timestamp(a.UpdatedAt),
	}
	if a.CustomChannelID != nil {
		out.ChannelID = custom.ID(*a.CustomChannelID)
	}
	if a.ArchivedAt != nil {
		at := custom.Timestamp(*a.ArchivedAt)
		out.ArchivedAt = &at
	}
	if a.AddressType != "" {
		out.DeliveryIdentifier = &custom.DeliveryIdentifier{Type: a.AddressType, Value: a.Address}
	}
	return out
}

type channelAccountCreateBody struct {
	InboxID            custom.FlexID              `json:"inboxId"`
	Name               *string                    `json:"name"`
	Authorized         *bool                      `json:"authorized"`
	DeliveryIdentifier *custom.DeliveryIdentifier `json:"deliveryIdentifier"`
}

type channelAccountPatchBody struct {
	Name       *string `json:"name"`
	Authorized *bool   `json:"authorized"`
}

func createChannelAccount(s *Server, w http.ResponseWriter, r *http.Request) error {
	prefix := customPrefix(r)
	channelID, err := channelIDParam(r)
	if err != nil {
		return err
	}
	var body channelAccountCreateBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in := custom.AccountInput{Name: body.Name, Authorized: body.Authorized, DeliveryIdentifier: body.DeliveryIdentifier}
	if body.InboxID != "" {
		id, ok := body.InboxID.Int()
		if !ok {
			return problem.Field("inbox_not_found", "inboxId", "no such inbox")
		}
		in.InboxID = id
	}
	a, err := customService(s).CreateAccount(r.Context(), caller(r), channelID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", prefix+"/"+custom.ID(channelID)+"/channel-accounts/"+custom.ID(a.ID))
	writeJSON(w, http.StatusCreated, toChannelAccountJSON(a))
	return nil
}

func listChannelAccounts(s *Server, w http.ResponseWriter, r *http.Request) error {
	channelID, err := channelIDParam(r)
	if err != nil {
		return err
	}
	if _, err := customService(s).Channel(r.Context(), channelID); err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	archived, err := queryFlag(r, "archived")
	if err != nil {
		return err
	}
	f := store.ChannelAccountFilter{CustomChannelID: channelID, Archived: &archived, AfterID: after, Limit: n}
	q := r.URL.Query()
	if t := q.Get("deliveryIdentifierType"); t != "" {
		f.AddressType = t
		if v := q.Get("deliveryIdentifierValue"); v != "" {
			di, err := custom.DeliveryIdentifier{Type: t, Value: v}.Normalize("deliveryIdentifier")
			if err != nil {
				return err
			}
			f.Address = di.Value
		}
	} else if v := q.Get("deliveryIdentifierValue"); v != "" {
		f.Address = v
	}
	list, more, err := s.Store.ChannelAccounts(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]channelAccountJSON, len(list))
	for i, a := range list {
		out[i] = toChannelAccountJSON(a)
	}
	next := ""
	if more {
		next = custom.ID(list[len(list)-1].ID)
	}
	writeJSON(w, http.StatusOK, newHubspotList(out, r, next))
	return nil
}

func accountIDParam(r *http.Request) (int64, error) {
	return customPathID(r, "accountId", "channel_account_not_found", "channel account")
}

func getChannelAccount(s *Server, w http.ResponseWriter, r *http.Request) error {
	channelID, accountID, err := channelAndChildID(r, accountIDParam)
	if err != nil {
		return err
	}
	a, err := customService(s).Account(r.Context(), channelID, accountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toChannelAccountJSON(a))
	return nil
}

func updateChannelAccount(s *Server, w http.ResponseWriter, r *http.Request) error {
	channelID, accountID, err := channelAndChildID(r, accountIDParam)
	if err != nil {
		return err
	}
	var body channelAccountPatchBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	a, err := customService(s).UpdateAccount(r.Context(), caller(r), channelID, accountID,
		custom.AccountInput{Name: body.Name, Authorized: body.Authorized})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toChannelAccountJSON(a))
	return nil
}

// publishCustomMessage stores a message the integration publishes: 201 the first time, 200 with
// the same message when its integrationIdempotencyId was seen before.
func publishCustomMessage(s *Server, w http.ResponseWriter, r *http.Request) error {
	prefix := customPrefix(r)
	channelID, err := channelIDParam(r)
	if err != nil {
		return err
	}
	var body custom.PublishRequest
	if err := decode(w, r, &body); err != nil {
		return err
	}
	msg, created, err := customService(s).Publish(r.Context(), channelID, &body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", prefix+"/"+custom.ID(channelID)+"/messages/"+msg.ID)
	}
	writeJSON(w, status, msg)
	return nil
}

func messageIDParam(r *http.Request) (int64, error) {
	return customPathID(r, "messageId", "message_not_found", "message")
}

func getCustomMessage(s *Server, w http.ResponseWriter, r *http.Request) error {
	channelID, messageID, err := channelAndChildID(r, messageIDParam)
	if err != nil {
		return err
	}
	msg, err := customService(s).Message(r.Context(), channelID, messageID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, msg)
	return nil
}

type messageStatusBody struct {
	StatusType   string `json:"statusType"`
	ErrorMessage string `json:"errorMessage"`
}

func updateCustomMessageStatus(s *Server, w http.ResponseWriter, r *http.Request) error {
	channelID, messageID, err := channelAndChildID(r, messageIDParam)
	if err != nil {
		return err
	}
	var body messageStatusBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	msg, err := customService(s).UpdateStatus(r.Context(), channelID, messageID,
		custom.StatusUpdate{StatusType: body.StatusType, ErrorMessage: body.ErrorMessage})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, msg)
	return nil
}
