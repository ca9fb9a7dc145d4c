package custom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// WebhookTimeout bounds one webhook delivery; HubSpot expects integrations to answer within ~10 s.
const WebhookTimeout = 10 * time.Second

// Sender delivers agent replies on custom channels to the channel's webhook, signed the way
// HubSpot signs its webhooks. It implements channel.Sender and channel.ReplyChecker.
type Sender struct {
	Store *store.Store
	// Client makes the webhook requests. Tests inject one; loopback targets are allowed.
	Client *http.Client
	// PortalID is sent as portalId: a stable id of this installation.
	PortalID string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var (
	_ channel.Sender       = (*Sender)(nil)
	_ channel.ReplyChecker = (*Sender)(nil)
)

// NewSender returns a Sender. A nil client gets a plain http.Client; portalID "" becomes "1".
// The Sender uses a copy of client that does not follow redirects: a client following a 302
// would turn the POST into a GET and count whatever answered it as delivered.
func NewSender(st *store.Store, client *http.Client, portalID string) *Sender {
	c := &http.Client{}
	if client != nil {
		*c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client = c
	if portalID == "" {
		portalID = "1"
	}
	return &Sender{Store: st, Client: client, PortalID: portalID}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// OutgoingEvent is the OUTGOING_CHANNEL_MESSAGE_CREATED webhook payload.
type OutgoingEvent struct {
	Type                        string   `json:"type"`
	PortalID                    string   `json:"portalId"`
	ChannelID                   string   `json:"channelId"`
	EventID                     string   `json:"eventId"`
	EventTimestamp              string   `json:"eventTimestamp"`
	ChannelIntegrationThreadIDs []string `json:"channelIntegrationThreadIds"`
	Message                     *Message `json:"message"`
}

// AccountEvent is the CHANNEL_ACCOUNT_CREATED / CHANNEL_ACCOUNT_UPDATED webhook payload.
type AccountEvent struct {
	Type                             string              `json:"type"`
	PortalID                         string              `json:"portalId"`
	ChannelID                        string              `json:"channelId"`
	ChannelAccountID                 string              `json:"channelAccountId"`
	ChannelAccountDeliveryIdentifier *DeliveryIdentifier `json:"channelAccountDeliveryIdentifier,omitempty"`
	InboxID                          string              `json:"inboxId"`
	Name                             string              `json:"name"`
	Authorized                       bool                `json:"authorized"`
	Archived                         bool                `json:"archived"`
	EventID                          string              `json:"eventId"`
	EventTimestamp                   string              `json:"eventTimestamp"`
}

// load returns the account's custom channel and capabilities, refusing what can never be sent.
func (s *Sender) load(ctx context.Context, account *store.Channel) (*store.CustomChannel, *Capabilities, error) {
	if account.CustomChannelID == nil {
		return nil, nil, fmt.Errorf("channel %d is not a custom channel account", account.ID)
	}
	c, err := s.Store.CustomChannel(ctx, *account.CustomChannelID)
	if err != nil {
		return nil, nil, fmt.Errorf("custom channel %d: %w", *account.CustomChannelID, err)
	}
	caps, err := LoadCapabilities(c.Capabilities)
	if err != nil {
		return nil, nil, err
	}
	return c, caps, nil
}

// usable reports why replies cannot go out on the account at all, as a problem error.
func usable(c *store.CustomChannel, caps *Capabilities, account *store.Channel) error {
	switch {
	case c.ArchivedAt != nil:
		return problem.Conflictf("channel_archived", "the custom channel %q is archived", c.Name)
	case account.ArchivedAt != nil:
		return problem.Conflictf("channel_account_archived", "the channel account %q is archived", account.Name)
	case !account.Authorized:
		return problem.Conflictf("channel_account_not_authorized", "the channel account %q is not authorized", account.Name)
	case !caps.AllowOutgoingMessages:
		return problem.Conflictf("outgoing_messages_not_allowed", "the custom channel %q does not allow outgoing messages", c.Name)
	}
	return nil
}

// attachmentMeta is what the capability checks read from a stored attachment.
type attachmentMeta struct {
	Size         int64  `json:"size"`
	ContentType  string `json:"content_type"`
	ContentType2 string `json:"contentType"`
	Name         string `json:"name"`
}

// CheckReply refuses replies the channel cannot carry: outgoing messages not allowed, account
// unusable, attachments beyond the declared types and limits. Rich text on a plain-text channel
// is not an error: the HTML is dropped and the text sent.
func (s *Sender) CheckReply(ctx context.Context, ch *store.Channel, out *channel.Outbound) error {
	c, caps, err := s.load(ctx, ch)
	if err != nil {
		return err
	}
	if err := usable(c, caps, ch); err != nil {
		return err
	}
	if out == nil || out.Message == nil {
		return nil
	}
	if !caps.RichTextSupported() {
		out.Message.HTML = ""
	}
	var atts []attachmentMeta
	if len(out.Message.Attachments) > 0 {
		if err := json.Unmarshal(out.Message.Attachments, &atts); err != nil {
			return problem.Field("invalid_attachment", "attachments", "could not be read")
		}
	}
	if len(atts) == 0 {
		return nil
	}
	if !caps.AttachmentsSupported() {
		return problem.Field("attachments_not_allowed", "attachments", fmt.Sprintf("the channel %q does not accept attachments", c.Name))
	}
	if len(atts) > caps.MaxFileAttachmentCount {
		return problem.Field("too_many_attachments", "attachments", fmt.Sprintf("the channel accepts at most %d attachments", caps.MaxFileAttachmentCount))
	}
	var total int64
	for _, a := range atts {
		if caps.MaxFileAttachmentSizeBytes > 0 && a.Size > caps.MaxFileAttachmentSizeBytes {
			return problem.Field("attachment_too_large", "attachments", fmt.Sprintf("%q is larger than the channel's limit of %d bytes", a.Name, caps.MaxFileAttachmentSizeBytes))
		}
		total += a.Size
		ct := a.ContentType
		if ct == "" {
			ct = a.ContentType2
		}
		if len(caps.AllowedFileAttachmentMimeTypes) > 0 && !mimeAllowed(ct, caps.AllowedFileAttachmentMimeTypes) {
			return problem.Field("attachment_type_not_allowed", "attachments", fmt.Sprintf("%q (%s) is not a type the channel accepts", a.Name, ct))
		}
	}
	if caps.MaxTotalFileAttachmentSizeBytes > 0 && total > caps.MaxTotalFileAttachmentSizeBytes {
		return problem.Field("attachments_too_large", "attachments", fmt.Sprintf("the attachments exceed the channel's total limit of %d bytes", caps.MaxTotalFileAttachmentSizeBytes))
	}
	return nil
}

func mimeAllowed(ct string, allowed []string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	typ, _, _ := strings.Cut(ct, "/")
	return slices.ContainsFunc(allowed, func(a string) bool {
		a = strings.ToLower(a)
		return a == ct || a == typ+"/*"
	})
}

// Send delivers an agent reply to the channel's webhook as OUTGOING_CHANNEL_MESSAGE_CREATED and
// returns the message id as the external id. The eventId is stable per message so an integration
// can drop a retry of a delivery it already handled.
func (s *Sender) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	if out == nil || out.Message == nil || out.Channel == nil {
		return "", channel.Permanent(errors.New("custom: nothing to send"))
	}
	c, caps, err := s.load(ctx, out.Channel)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", channel.Permanent(err)
		}
		return "", err
	}
	if err := usable(c, caps, out.Channel); err != nil {
		return "", channel.Permanent(err)
	}
	if c.WebhookURL == "" {
		return "", channel.Permanent(errors.New("channel has no webhook URL"))
	}
	msg, err := renderMessage(ctx, s.Store, c, caps, out.Channel, out.Message, out.Author)
	if err != nil {
		return "", err
	}
	// An agent reply is SENT from the integration's point of view: it is what it must deliver.
	msg.Status = Status{StatusType: "SENT"}
	if !caps.RichTextSupported() {
		msg.RichText = ""
	}
	now := s.now()
	ev := OutgoingEvent{
		Type:                        "OUTGOING_CHANNEL_MESSAGE_CREATED",
		PortalID:                    s.PortalID,
		ChannelID:                   ID(c.ID),
		EventID:                     "msg-" + ID(out.Message.ID),
		EventTimestamp:              Timestamp(now.UnixMilli()),
		ChannelIntegrationThreadIDs: []string{},
		Message:                     msg,
	}
	threadKey := ""
	if out.Conversation != nil {
		threadKey = out.Conversation.ThreadKey
	} else if peer, err := s.Store.CustomConversationPeer(ctx, out.Message.ConversationID); err == nil {
		threadKey = peer.ThreadKey
	}
	if id, ok := integrationThreadID(threadKey); ok && caps.ThreadingModel == ThreadByIntegration {
		ev.ChannelIntegrationThreadIDs = []string{id}
	}
	if err := s.post(ctx, c, ev, now); err != nil {
		return "", err
	}
	return ID(out.Message.ID), nil
}

// HandleAccountEvent is the jobs handler for AccountEventJob: it tells the channel's webhook that
// an account was connected or changed. A channel without a webhook has nobody to tell.
func (s *Sender) HandleAccountEvent(ctx context.Context, job *store.Job) error {
	var ev accountEvent
	if err := json.Unmarshal(job.Payload, &ev); err != nil {
		return channel.Permanent(fmt.Errorf("account event payload: %w", err))
	}
	c, err := s.Store.CustomChannel(ctx, ev.ChannelID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	a, err := s.Store.Channel(ctx, ev.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if c.WebhookURL == "" || c.ArchivedAt != nil {
		return nil
	}
	now := s.now()
	payload := AccountEvent{
		Type:             ev.Type,
		PortalID:         s.PortalID,
		ChannelID:        ID(c.ID),
		ChannelAccountID: ID(a.ID),
		InboxID:          ID(a.InboxID),
		Name:             a.Name,
		Authorized:       a.Authorized,
		Archived:         a.ArchivedAt != nil,
		EventID:          "account-" + ID(job.ID),
		EventTimestamp:   Timestamp(ev.At),
	}
	if a.AddressType != "" {
		payload.ChannelAccountDeliveryIdentifier = &DeliveryIdentifier{Type: a.AddressType, Value: a.Address}
	}
	return s.post(ctx, c, payload, now)
}

// post sends one signed webhook request and classifies the outcome: 2xx delivered; 408, 429, 5xx
// and network errors transient; any other status permanent.
func (s *Sender) post(ctx context.Context, c *store.CustomChannel, payload any, now time.Time) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return channel.Permanent(fmt.Errorf("encode webhook: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return channel.Permanent(fmt.Errorf("webhook URL: %w", err))
	}
	ts := now.UnixMilli()
	uri := CanonicalURI(c.WebhookURL)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set(HeaderSignatureV3, Sign(c.Secret, http.MethodPost, uri, body, ts))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, SignV2(c.Secret, http.MethodPost, uri, body))
	req.Header.Set(HeaderSignatureVersion, "v2")
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(c.WebhookURL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // only for the error text
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook answered %d %s", resp.StatusCode, printable(snippet))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return err
	}
	return channel.Permanent(err)
}

// redactURL keeps a webhook URL's scheme, host and path for error messages: query strings often
// carry tokens.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// printable makes a response snippet safe to keep as a failure reason: valid UTF-8, no control
// characters, trimmed.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
