package custom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Kind is the channel kind of custom channel accounts in the channels table and the key of the
// custom Sender in the inbox service's Senders.
const Kind = "custom"

// AccountEventJob is the job kind that delivers CHANNEL_ACCOUNT_CREATED / CHANNEL_ACCOUNT_UPDATED
// webhooks; its handler is Sender.HandleAccountEvent.
const AccountEventJob = "custom.account_event"

// Inbox is what publishing needs from the inbox domain (*inbox.Service implements it).
type Inbox interface {
	Receive(ctx context.Context, in inbox.Inbound) (*store.Message, *store.Conversation, bool, error)
	UpdateMessageStatus(ctx context.Context, messageID int64, status, failureReason string) error
}

// Service manages custom channels and their accounts and publishes messages into the inbox.
type Service struct {
	Store *store.Store
	Inbox Inbox
	// WakeJobs, when set, nudges the job runner after a commit that enqueued jobs.
	WakeJobs func()
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) wake() {
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
}

// ChannelInput is a custom channel's registration; on update, nil fields keep their value.
type ChannelInput struct {
	Name               *string
	Capabilities       json.RawMessage // nil keeps; must be a capabilities object
	WebhookURL         *string
	ConnectRedirectURL *string
	Description        *string
	LogoURL            *string
}

const (
	maxChannelName = 200
	maxDescription = 2000
	maxURL         = 2048
)

// apply validates in and writes it over c. create requires the name and capabilities.
func (in *ChannelInput) apply(c *store.CustomChannel, create bool) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || utf8.RuneCountInString(name) > maxChannelName {
			return problem.Field("invalid_name", "name", fmt.Sprintf("must be 1 to %d characters", maxChannelName))
		}
		c.Name = name
	} else if create {
		return problem.Field("missing_field", "name", "is required")
	}
	if in.Capabilities != nil {
		caps, err := ParseCapabilities(in.Capabilities)
		if err != nil {
			return err
		}
		c.Capabilities = caps.JSON()
	} else if create {
		return problem.Field("missing_field", "capabilities", "is required")
	}
	for _, u := range []struct {
		field string
		in    *string
		out   *string
	}{
		{"webhookUrl", in.WebhookURL, &c.WebhookURL},
		{"channelAccountConnectionRedirectUrl", in.ConnectRedirectURL, &c.ConnectRedirectURL},
		{"channelLogoUrl", in.LogoURL, &c.LogoURL},
	} {
		if u.in == nil {
			continue
		}
		v := strings.TrimSpace(*u.in)
		if v != "" && !validHTTPURL(v) {
			return problem.Field("invalid_url", u.field, "must be an absolute http or https URL")
		}
		*u.out = v
	}
	if in.Description != nil {
		if utf8.RuneCountInString(*in.Description) > maxDescription {
			return problem.Field("invalid_description", "channelDescription", fmt.Sprintf("must be at most %d characters", maxDescription))
		}
		c.Description = *in.Description
	}
	return nil
}

func validHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && len(v) <= maxURL && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

func notFoundChannel(id int64) error {
	return problem.NotFoundf("custom_channel_not_found", "no custom channel %d", id)
}

// Channel returns a custom channel (archived ones too).
func (s *Service) Channel(ctx context.Context, id int64) (*store.CustomChannel, error) {
	c, err := s.Store.CustomChannel(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundChannel(id)
	}
	return c, err
}

// activeChannel returns a custom channel that is not archived, with its capabilities.
func (s *Service) activeChannel(ctx context.Context, id int64) (*store.CustomChannel, *Capabilities, error) {
	c, err := s.Channel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if c.ArchivedAt != nil {
		return nil, nil, problem.Conflictf("channel_archived", "custom channel %d is archived", id)
	}
	caps, err := LoadCapabilities(c.Capabilities)
	if err != nil {
		return nil, nil, err
	}
	return c, caps, nil
}

func audit(ctx context.Context, tx *store.Tx, actor *store.User, action, targetType string, targetID int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e := &store.AuditEntry{Action: action, TargetType: targetType, TargetID: &targetID, Data: b}
	if actor != nil {
		e.ActorID = &actor.ID
	}
	return tx.AddAuditEntry(ctx, e)
}

// CreateChannel registers a custom channel with a fresh signing secret.
func (s *Service) CreateChannel(ctx context.Context, actor *store.User, in ChannelInput) (*store.CustomChannel, error) {
	c := &store.CustomChannel{}
	if err := in.apply(c, true); err != nil {
		return nil, err
	}
	if actor != nil {
		c.CreatedBy = &actor.ID
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		c.Secret = ""
		if err := tx.InsertCustomChannel(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.create", "custom_channel", c.ID, map[string]any{"name": c.Name})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateChannel changes a custom channel's registration.
func (s *Service) UpdateChannel(ctx context.Context, actor *store.User, id int64, in ChannelInput) (*store.CustomChannel, error) {
	var c *store.CustomChannel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.CustomChannel(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundChannel(id)
		} else if err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return problem.Conflictf("channel_archived", "custom channel %d is archived", id)
		}
		if err := in.apply(c, false); err != nil {
			return err
		}
		if err := tx.UpdateCustomChannel(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.update", "custom_channel", c.ID, map[string]any{"name": c.Name})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ArchiveChannel archives a custom channel: its accounts stop accepting messages and replies.
// Archiving twice is not an error.
func (s *Service) ArchiveChannel(ctx context.Context, actor *store.User, id int64) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.CustomChannel(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundChannel(id)
		} else if err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return nil
		}
		now := store.Now()
		c.ArchivedAt = &now
		if err := tx.UpdateCustomChannel(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.archive", "custom_channel", c.ID, map[string]any{"name": c.Name})
	})
}

// RotateSecret gives a custom channel a new signing secret; webhooks are signed with it from now on.
func (s *Service) RotateSecret(ctx context.Context, actor *store.User, id int64) (*store.CustomChannel, error) {
	var c *store.CustomChannel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.CustomChannel(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundChannel(id)
		} else if err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return problem.Conflictf("channel_archived", "custom channel %d is archived", id)
		}
		c.Secret = store.NewCustomChannelSecret()
		if err := tx.UpdateCustomChannel(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.rotate_secret", "custom_channel", c.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AccountInput creates a channel account, or updates one (nil fields keep their value; InboxID
// and DeliveryIdentifier are fixed after creation).
type AccountInput struct {
	InboxID            int64
	Name               *string
	Authorized         *bool
	DeliveryIdentifier *DeliveryIdentifier
}

func notFoundAccount(id string) error {
	return problem.NotFoundf("channel_account_not_found", "no channel account %s on this channel", id)
}

// Account returns one of the custom channel's accounts.
func (s *Service) Account(ctx context.Context, channelID, accountID int64) (*store.Channel, error) {
	if _, err := s.Channel(ctx, channelID); err != nil {
		return nil, err
	}
	a, err := s.Store.Channel(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isAccountOf(a, channelID)) {
		return nil, notFoundAccount(ID(accountID))
	}
	return a, err
}

func isAccountOf(a *store.Channel, channelID int64) bool {
	return a.Kind == Kind && a.CustomChannelID != nil && *a.CustomChannelID == channelID
}

// accountEvent is the payload of an AccountEventJob.
type accountEvent struct {
	Type      string `json:"type"` // CHANNEL_ACCOUNT_CREATED | CHANNEL_ACCOUNT_UPDATED
	ChannelID int64  `json:"channel_id"`
	AccountID int64  `json:"account_id"`
	At        int64  `json:"at"`
}

func enqueueAccountEvent(ctx context.Context, tx *store.Tx, typ string, a *store.Channel) error {
	_, err := tx.EnqueueJob(ctx, store.NewJob{
		Kind:        AccountEventJob,
		Payload:     accountEvent{Type: typ, ChannelID: *a.CustomChannelID, AccountID: a.ID, At: store.Now()},
		OrderingKey: "custom-account:" + ID(a.ID),
	})
	return err
}

// CreateAccount connects an account of the custom channel to an inbox.
func (s *Service) CreateAccount(ctx context.Context, actor *store.User, channelID int64, in AccountInput) (*store.Channel, error) {
	c, caps, err := s.activeChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if in.InboxID <= 0 {
		return nil, problem.Field("missing_field", "inboxId", "is required")
	}
	a := &store.Channel{Kind: Kind, InboxID: in.InboxID, CustomChannelID: &c.ID, Authorized: true, Status: "active"}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" || utf8.RuneCountInString(*in.Name) > maxChannelName {
		return nil, problem.Field("invalid_name", "name", fmt.Sprintf("must be 1 to %d characters", maxChannelName))
	}
	a.Name = strings.TrimSpace(*in.Name)
	if in.Authorized != nil {
		a.Authorized = *in.Authorized
	}
	if in.DeliveryIdentifier != nil {
		if !caps.Allows(in.DeliveryIdentifier.Type) {
			return nil, problem.Field("invalid_delivery_identifier_type", "deliveryIdentifier.type",
				"must be one of the channel's deliveryIdentifierTypes: "+strings.Join(caps.DeliveryIdentifierTypes, ", "))
		}
		di, err := in.DeliveryIdentifier.Normalize("deliveryIdentifier")
		if err != nil {
			return nil, err
		}
		a.AddressType, a.Address = di.Type, di.Value
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Inbox(ctx, in.InboxID); errors.Is(err, store.ErrNotFound) {
			return problem.Field("inbox_not_found", "inboxId", "no such inbox")
		} else if err != nil {
			return err
		}
		if _, err := tx.InsertChannel(ctx, a); err != nil {
			return err
		}
		if err := enqueueAccountEvent(ctx, tx, "CHANNEL_ACCOUNT_CREATED", a); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.account_create", "channel", a.ID,
			map[string]any{"custom_channel_id": c.ID, "inbox_id": a.InboxID, "name": a.Name})
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return a, nil
}

// UpdateAccount renames, authorizes or deauthorizes an account.
func (s *Service) UpdateAccount(ctx context.Context, actor *store.User, channelID, accountID int64, in AccountInput) (*store.Channel, error) {
	if _, _, err := s.activeChannel(ctx, channelID); err != nil {
		return nil, err
	}
	if in.Name != nil && (strings.TrimSpace(*in.Name) == "" || utf8.RuneCountInString(*in.Name) > maxChannelName) {
		return nil, problem.Field("invalid_name", "name", fmt.Sprintf("must be 1 to %d characters", maxChannelName))
	}
	var a *store.Channel
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		a, err = tx.Channel(ctx, accountID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !isAccountOf(a, channelID)) {
			return notFoundAccount(ID(accountID))
		} else if err != nil {
			return err
		}
		if a.ArchivedAt != nil {
			return problem.Conflictf("channel_account_archived", "channel account %d is archived", accountID)
		}
		if in.Name != nil {
			a.Name = strings.TrimSpace(*in.Name)
		}
		if in.Authorized != nil {
			a.Authorized = *in.Authorized
		}
		if err := tx.UpdateChannelAccount(ctx, a); err != nil {
			return err
		}
		if err := enqueueAccountEvent(ctx, tx, "CHANNEL_ACCOUNT_UPDATED", a); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "custom_channel.account_update", "channel", a.ID,
			map[string]any{"custom_channel_id": channelID, "name": a.Name, "authorized": a.Authorized})
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return a, nil
}

// Publish stores a message the integration published. created is false when the
// integrationIdempotencyId was seen before; the message is then the one stored the first time.
func (s *Service) Publish(ctx context.Context, channelID int64, req *PublishRequest) (msg *Message, created bool, err error) {
	c, caps, err := s.activeChannel(ctx, channelID)
	if err != nil {
		return nil, false, err
	}
	pub, err := req.Validate(c.ID, caps, s.now())
	if err != nil {
		return nil, false, err
	}
	account, err := s.Store.Channel(ctx, pub.AccountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isAccountOf(account, c.ID)) {
		return nil, false, notFoundAccount(string(req.ChannelAccountID))
	} else if err != nil {
		return nil, false, err
	}
	if account.ArchivedAt != nil {
		return nil, false, problem.Conflictf("channel_account_archived", "channel account %d is archived", account.ID)
	}
	if !account.Authorized {
		return nil, false, problem.Conflictf("channel_account_not_authorized", "channel account %d is not authorized", account.ID)
	}
	if pub.InReplyToID != nil {
		if _, err := s.messageOf(ctx, c.ID, *pub.InReplyToID); err != nil {
			return nil, false, problem.Field("invalid_in_reply_to", "inReplyToId", "is not a message of this channel")
		}
	}
	if pub.ContactID != nil {
		if _, err := s.Store.Contact(ctx, *pub.ContactID); errors.Is(err, store.ErrNotFound) {
			return nil, false, problem.Field("contact_not_found", "associateWithContactId", "no such contact")
		} else if err != nil {
			return nil, false, err
		}
	}
	direction := "inbound"
	if !pub.Incoming {
		direction = "outbound"
	}
	m, conv, duplicate, err := s.Inbox.Receive(ctx, inbox.Inbound{
		ChannelID:         account.ID,
		Channel:           account,
		ThreadKey:         pub.ThreadKey,
		Direction:         direction,
		IdempotencyKey:    pub.IdempotencyKey,
		ContactName:       pub.Customer.Name,
		ContactIdentities: pub.Identities,
		ContactID:         pub.ContactID,
		Text:              pub.Text,
		HTML:              pub.HTML,
		Sender:            pub.Sender,
		Recipients:        pub.Recipients,
		Attachments:       pub.Attachments,
		InReplyToID:       pub.InReplyToID,
		At:                pub.At,
		// Messages are unique per account and key in the database; HubSpot dedupes per
		// channel, so a replay through another account of the channel is caught too. The
		// lookup runs in the receive transaction, after the receive lock.
		FindByIdempotencyKey: func(ctx context.Context, tx *store.Tx) (*store.Message, error) {
			return tx.CustomMessageByIdempotencyKey(ctx, c.ID, pub.IdempotencyKey)
		},
	})
	if err != nil {
		return nil, false, err
	}
	if duplicate && (m.ChannelID == nil || *m.ChannelID != account.ID) {
		// First published through another account of the channel.
		if m.ChannelID == nil {
			return nil, false, fmt.Errorf("custom message %d has no channel", m.ID)
		}
		if account, err = s.Store.Channel(ctx, *m.ChannelID); err != nil {
			return nil, false, err
		}
	}
	// The conversation Receive returns saves reading the customer side again: a published
	// message names its recipients, so the peer is only needed for the contact's actor id.
	obj, err := renderMessageOf(ctx, s.Store, c, caps, account, m, nil, conv)
	if err != nil {
		return nil, false, err
	}
	return obj, !duplicate, nil
}

// messageOf returns a message sent or received on an account of the custom channel.
func (s *Service) messageOf(ctx context.Context, channelID, messageID int64) (*store.Message, error) {
	notFound := problem.NotFoundf("message_not_found", "no message %d on this channel", messageID)
	m, err := s.Store.Message(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if m.ChannelID == nil {
		return nil, notFound
	}
	a, err := s.Store.Channel(ctx, *m.ChannelID)
	if err != nil {
		return nil, err
	}
	if !isAccountOf(a, channelID) {
		return nil, notFound
	}
	return m, nil
}

// Message returns one message of the custom channel in HubSpot's shape.
func (s *Service) Message(ctx context.Context, channelID, messageID int64) (*Message, error) {
	c, err := s.Channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	caps, err := LoadCapabilities(c.Capabilities)
	if err != nil {
		return nil, err
	}
	m, err := s.messageOf(ctx, channelID, messageID)
	if err != nil {
		return nil, err
	}
	account, err := s.Store.Channel(ctx, *m.ChannelID)
	if err != nil {
		return nil, err
	}
	return renderMessage(ctx, s.Store, c, caps, account, m, nil)
}

// StatusUpdate is the integration's report on an outgoing message.
type StatusUpdate struct {
	StatusType   string
	ErrorMessage string
}

const maxErrorMessage = 1000

// UpdateStatus records what happened to an outgoing message: SENT, FAILED (with errorMessage) or READ.
func (s *Service) UpdateStatus(ctx context.Context, channelID, messageID int64, up StatusUpdate) (*Message, error) {
	var status, reason string
	switch up.StatusType {
	case "SENT":
		status = "sent"
	case "READ":
		status = "read"
	case "FAILED":
		status = "failed"
		reason = strings.TrimSpace(up.ErrorMessage)
		if reason == "" {
			reason = "the integration reported a failure"
		}
		if utf8.RuneCountInString(reason) > maxErrorMessage {
			reason = string([]rune(reason)[:maxErrorMessage])
		}
	case "":
		return nil, problem.Field("missing_field", "statusType", "is required")
	default:
		return nil, problem.Field("invalid_status_type", "statusType", "must be SENT, FAILED or READ")
	}
	if _, err := s.Channel(ctx, channelID); err != nil {
		return nil, err
	}
	m, err := s.messageOf(ctx, channelID, messageID)
	if err != nil {
		return nil, err
	}
	if m.Direction != "outbound" {
		return nil, problem.Conflictf("not_outgoing_message", "message %d is incoming; only outgoing messages have a delivery status", messageID)
	}
	if err := s.Inbox.UpdateMessageStatus(ctx, m.ID, status, reason); err != nil {
		return nil, err
	}
	return s.Message(ctx, channelID, messageID)
}

// renderMessage builds HubSpot's message object for a message of a custom channel account.
// author, when known, saves a lookup for agent messages.
func renderMessage(ctx context.Context, st *store.Store, c *store.CustomChannel, caps *Capabilities, account *store.Channel,
	m *store.Message, author *store.User) (*Message, error) {
	return renderMessageOf(ctx, st, c, caps, account, m, author, nil)
}

// renderMessageOf is renderMessage with the message's conversation, when the caller has it:
// the customer side of the conversation is then read only if the message names no recipient.
func renderMessageOf(ctx context.Context, st *store.Store, c *store.CustomChannel, caps *Capabilities, account *store.Channel,
	m *store.Message, author *store.User, conv *store.Conversation) (*Message, error) {
	var peer *store.CustomPeer
	loadPeer := func() error {
		if peer != nil {
			return nil
		}
		var err error
		if peer, err = st.CustomConversationPeer(ctx, m.ConversationID); err != nil {
			return fmt.Errorf("conversation of message %d: %w", m.ID, err)
		}
		return nil
	}
	contactID := (*int64)(nil)
	if conv != nil && conv.ID == m.ConversationID {
		contactID = conv.ContactID
	} else {
		if err := loadPeer(); err != nil {
			return nil, err
		}
		contactID = peer.ContactID
	}
	contactActor := ""
	if contactID != nil {
		contactActor = "V-" + ID(*contactID)
	}
	obj := &Message{
		ID:                    ID(m.ID),
		Type:                  "MESSAGE",
		ChannelID:             ID(c.ID),
		ChannelAccountID:      ID(account.ID),
		ConversationsThreadID: ID(m.ConversationID),
		CreatedAt:             Timestamp(m.CreatedAt),
		UpdatedAt:             Timestamp(m.UpdatedAt),
		Text:                  m.Text,
		RichText:              m.HTML,
		Attachments:           attachmentsJSON(m.Attachments),
		TruncationStatus:      "NOT_TRUNCATED",
		Status:                Status{StatusType: StatusType(m.Status)},
	}
	if m.Status == "failed" {
		obj.Status.FailureDetails = &FailureDetails{ErrorMessage: m.FailureReason, ErrorMessageTokens: map[string]string{}}
	}
	if m.InReplyToID != nil {
		obj.InReplyToID = ID(*m.InReplyToID)
	}
	accountParticipant := Participant{Name: account.Name}
	if account.AddressType != "" {
		accountParticipant.DeliveryIdentifier = &DeliveryIdentifier{Type: account.AddressType, Value: account.Address}
	}
	sender := parseSender(m.Sender)
	recipients := parseRecipients(m.Recipients)
	switch {
	case m.Direction == "inbound":
		obj.Direction = "INCOMING"
		obj.CreatedBy = contactActor
		obj.Client = &Client{ClientType: "INTEGRATION", IntegrationAppID: ID(c.ID)}
		if sender != nil && sender.ActorID == "" {
			sender.ActorID = contactActor
		}
	case m.AuthorID != nil:
		obj.Direction = "OUTGOING"
		obj.CreatedBy = "A-" + ID(*m.AuthorID)
		obj.Client = &Client{ClientType: "HUBSPOT"}
		if author == nil || author.ID != *m.AuthorID {
			var err error
			author, err = st.User(ctx, *m.AuthorID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		p := accountParticipant
		p.ActorID = obj.CreatedBy
		if author != nil {
			p.Name = author.Name
		}
		sender = &p
	case sender != nil:
		// Mirrored in by the integration: the business wrote it outside Parley.
		obj.Direction = "OUTGOING"
		obj.CreatedBy = "I-" + ID(c.ID)
		obj.Client = &Client{ClientType: "INTEGRATION", IntegrationAppID: ID(c.ID)}
	default:
		obj.Direction = "OUTGOING"
		obj.CreatedBy = "S-parley"
		obj.Client = &Client{ClientType: "SYSTEM"}
		p := accountParticipant
		sender = &p
	}
	if sender != nil {
		obj.Senders = []Participant{*sender}
	} else {
		obj.Senders = []Participant{}
	}
	if len(recipients) == 0 && obj.Direction == "OUTGOING" {
		if err := loadPeer(); err != nil {
			return nil, err
		}
		if p, ok := customerOf(peer, c.ID, caps); ok {
			recipients = []Participant{p}
		}
	}
	if recipients == nil {
		recipients = []Participant{}
	}
	obj.Recipients = recipients
	return obj, nil
}

// customerOf finds how to address the conversation's customer on this channel: the sender of
// their latest message, the recipient of the latest mirrored message, or a contact identity of a
// type the channel declared.
func customerOf(peer *store.CustomPeer, customChannelID int64, caps *Capabilities) (Participant, bool) {
	actor := ""
	if peer.ContactID != nil {
		actor = "V-" + ID(*peer.ContactID)
	}
	if p := parseSender(peer.LastInboundSender); p != nil && p.DeliveryIdentifier != nil {
		p.ActorID = actor
		if p.Name == "" {
			p.Name = peer.ContactName
		}
		return *p, true
	}
	if rs := parseRecipients(peer.LastMirroredRecipients); len(rs) > 0 {
		p := rs[0]
		p.ActorID = actor
		if p.Name == "" {
			p.Name = peer.ContactName
		}
		return p, true
	}
	for _, id := range peer.Identities {
		if di, ok := IdentifierFor(id, customChannelID, caps); ok {
			return Participant{ActorID: actor, Name: peer.ContactName, DeliveryIdentifier: &di}, true
		}
	}
	return Participant{}, false
}

// ParseID parses a HubSpot-style string id.
func ParseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
