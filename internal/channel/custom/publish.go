package custom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Limits on published messages beyond the body size limit.
const (
	maxParticipants  = 50
	maxAttachments   = 50
	maxThreadID      = 256
	maxIdempotencyID = 256
	maxNameLength    = 256
	// futureSkew is how far ahead of our clock a published timestamp may be before it is clamped.
	futureSkew = time.Minute
)

// FlexID is an id sent as a JSON string ("123", HubSpot's style) or number (123).
type FlexID string

// UnmarshalJSON accepts a string or an integer.
func (f *FlexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = FlexID(n.String())
	return nil
}

// Int parses the id; ok is false when it is not a positive integer.
func (f FlexID) Int() (int64, bool) {
	n, err := strconv.ParseInt(string(f), 10, 64)
	return n, err == nil && n > 0
}

// PublishRequest is the body of POST …/custom-channels/{channelId}/messages.
type PublishRequest struct {
	ChannelAccountID         FlexID             `json:"channelAccountId"`
	MessageDirection         string             `json:"messageDirection"`
	IntegrationThreadID      string             `json:"integrationThreadId"`
	IntegrationIdempotencyID string             `json:"integrationIdempotencyId"`
	Text                     *string            `json:"text"`
	RichText                 string             `json:"richText"`
	Timestamp                string             `json:"timestamp"`
	InReplyToID              FlexID             `json:"inReplyToId"`
	Senders                  []Participant      `json:"senders"`
	Recipients               []Participant      `json:"recipients"`
	Attachments              *[]json.RawMessage `json:"attachments"`
	AssociateWithContactID   FlexID             `json:"associateWithContactId"`
	PreResolvedContacts      *PreResolved       `json:"preResolvedContacts"`
}

// PreResolved lists contacts the integration matched itself.
type PreResolved struct {
	Contacts []PreResolvedContact `json:"contacts"`
}

// PreResolvedContact is one contact the integration matched, and the properties that matched.
type PreResolvedContact struct {
	ContactVid                      FlexID   `json:"contactVid"`
	ContactPropertiesLeadingToMatch []string `json:"contactPropertiesLeadingToMatch"`
}

// Publication is a validated PublishRequest, ready for the inbox domain.
type Publication struct {
	AccountID      int64
	Incoming       bool
	ThreadKey      string
	IdempotencyKey string
	Text           string
	HTML           string
	At             int64
	InReplyToID    *int64
	ContactID      *int64
	// Customer is the participant on the customer side: the first sender of an incoming message,
	// the first recipient of a mirrored outgoing one.
	Customer    Participant
	Sender      json.RawMessage
	Recipients  json.RawMessage
	Attachments json.RawMessage
	Identities  []store.Identity
}

// DecodePublish reads a publish body strictly: unknown fields, trailing data and wrong types are
// refused with a problem error.
func DecodePublish(body []byte) (*PublishRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req PublishRequest
	if err := dec.Decode(&req); err != nil {
		return nil, problem.Invalidf("invalid_json", "the body is not a valid publish request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, problem.Invalidf("invalid_json", "the body must hold a single JSON value")
	}
	return &req, nil
}

// Validate checks the request against the channel's capabilities and returns what to store.
// now is the server's clock (timestamps ahead of it are clamped to it).
func (r *PublishRequest) Validate(customChannelID int64, caps *Capabilities, now time.Time) (*Publication, error) {
	missing := map[string]string{}
	if r.ChannelAccountID == "" {
		missing["channelAccountId"] = "is required"
	}
	if r.MessageDirection == "" {
		missing["messageDirection"] = "is required"
	}
	if r.Text == nil {
		missing["text"] = "is required (it may be empty when there are attachments)"
	}
	if r.Timestamp == "" {
		missing["timestamp"] = "is required"
	}
	if len(r.Senders) == 0 {
		missing["senders"] = "must list at least one sender"
	}
	if len(r.Recipients) == 0 {
		missing["recipients"] = "must list at least one recipient"
	}
	if r.Attachments == nil {
		missing["attachments"] = "is required (send [] for none)"
	}
	if caps.ThreadingModel == ThreadByIntegration && strings.TrimSpace(r.IntegrationThreadID) == "" {
		missing["integrationThreadId"] = "is required by the channel's INTEGRATION_THREAD_ID threading model"
	}
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for k := range missing {
			names = append(names, k)
		}
		slices.Sort(names)
		return nil, &problem.Error{Kind: problem.Invalid, Code: "missing_field",
			Detail: "required fields are missing: " + strings.Join(names, ", "), Fields: missing}
	}

	p := &Publication{}
	var ok bool
	if p.AccountID, ok = r.ChannelAccountID.Int(); !ok {
		return nil, problem.NotFoundf("channel_account_not_found", "no channel account %q on this channel", string(r.ChannelAccountID))
	}
	switch r.MessageDirection {
	case "INCOMING":
		p.Incoming = true
	case "OUTGOING":
	default:
		return nil, problem.Field("invalid_message_direction", "messageDirection", "must be INCOMING or OUTGOING")
	}
	at, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil || at.Year() < 1970 {
		return nil, problem.Field("invalid_timestamp", "timestamp", "must be an ISO-8601 date-time like 2024-03-09T16:00:00.000Z")
	}
	if at.After(now.Add(futureSkew)) {
		at = now // a sender's clock running ahead must not put the message above newer ones
	}
	p.At = at.UnixMilli()

	if len(r.Senders) > maxParticipants || len(r.Recipients) > maxParticipants {
		return nil, problem.Invalidf("too_many_participants", "at most %d senders and %d recipients", maxParticipants, maxParticipants)
	}
	if !p.Incoming && len(r.Recipients) > 1 && !caps.AllowMultipleRecipients {
		return nil, problem.Field("multiple_recipients_not_allowed", "recipients", "the channel does not allow more than one recipient")
	}
	senders, err := normalizeParticipants("senders", r.Senders, caps)
	if err != nil {
		return nil, err
	}
	recipients, err := normalizeParticipants("recipients", r.Recipients, caps)
	if err != nil {
		return nil, err
	}

	if id := strings.TrimSpace(r.IntegrationThreadID); id != "" {
		if utf8.RuneCountInString(id) > maxThreadID {
			return nil, problem.Field("invalid_integration_thread_id", "integrationThreadId", fmt.Sprintf("must be at most %d characters", maxThreadID))
		}
	}
	if caps.ThreadingModel == ThreadByIntegration {
		p.ThreadKey = "t:" + strings.TrimSpace(r.IntegrationThreadID)
	} else {
		p.ThreadKey = participantsKey(senders, recipients)
	}
	if r.IntegrationIdempotencyID != "" {
		if utf8.RuneCountInString(r.IntegrationIdempotencyID) > maxIdempotencyID {
			return nil, problem.Field("invalid_idempotency_id", "integrationIdempotencyId", fmt.Sprintf("must be at most %d characters", maxIdempotencyID))
		}
		p.IdempotencyKey = r.IntegrationIdempotencyID
	}

	p.Text = *r.Text
	p.HTML = r.RichText
	if r.InReplyToID != "" {
		id, ok := r.InReplyToID.Int()
		if !ok {
			return nil, problem.Field("invalid_in_reply_to", "inReplyToId", "is not a message id")
		}
		p.InReplyToID = &id
	}
	if r.AssociateWithContactID != "" {
		id, ok := r.AssociateWithContactID.Int()
		if !ok {
			return nil, problem.Field("contact_not_found", "associateWithContactId", "is not a contact id")
		}
		p.ContactID = &id
	} else if r.PreResolvedContacts != nil && len(r.PreResolvedContacts.Contacts) > 0 {
		id, ok := r.PreResolvedContacts.Contacts[0].ContactVid.Int()
		if !ok {
			return nil, problem.Field("contact_not_found", "preResolvedContacts.contacts[0].contactVid", "is not a contact id")
		}
		p.ContactID = &id
	}

	atts, err := validateAttachments(*r.Attachments)
	if err != nil {
		return nil, err
	}
	if p.Text == "" && p.HTML == "" && len(*r.Attachments) == 0 {
		return nil, problem.Field("empty_message", "text", "a message needs text, rich text or an attachment")
	}
	p.Attachments = atts

	if p.Incoming {
		p.Customer = senders[0]
	} else {
		p.Customer = recipients[0]
	}
	p.Identities = []store.Identity{p.Customer.DeliveryIdentifier.Identity(customChannelID)}
	first := senders[0]
	p.Sender = mustJSON(storedSender{Name: first.Name, DeliveryIdentifier: first.DeliveryIdentifier, ActorID: first.SenderActorID})
	stored := make([]storedSender, len(recipients))
	for i, rc := range recipients {
		stored[i] = storedSender{Name: rc.Name, DeliveryIdentifier: rc.DeliveryIdentifier}
	}
	p.Recipients = mustJSON(stored)
	return p, nil
}

// normalizeParticipants checks each participant's identifier against the declared types and
// returns copies with normalized identifiers.
func normalizeParticipants(field string, list []Participant, caps *Capabilities) ([]Participant, error) {
	out := make([]Participant, len(list))
	for i, pt := range list {
		f := fmt.Sprintf("%s[%d].deliveryIdentifier", field, i)
		if pt.DeliveryIdentifier == nil {
			return nil, problem.Field("missing_field", f, "is required")
		}
		if !caps.Allows(pt.DeliveryIdentifier.Type) {
			return nil, problem.Field("invalid_delivery_identifier_type", f+".type",
				fmt.Sprintf("%q is not among the channel's deliveryIdentifierTypes (%s)", pt.DeliveryIdentifier.Type, strings.Join(caps.DeliveryIdentifierTypes, ", ")))
		}
		di, err := pt.DeliveryIdentifier.Normalize(f)
		if err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(pt.Name) > maxNameLength {
			return nil, problem.Field("invalid_name", fmt.Sprintf("%s[%d].name", field, i), fmt.Sprintf("must be at most %d characters", maxNameLength))
		}
		pt.DeliveryIdentifier = &di
		pt.Name = strings.TrimSpace(pt.Name)
		out[i] = pt
	}
	return out, nil
}

// participantsKey threads by the set of participants: the same people in either direction share
// a conversation. Long keys are hashed so the thread index stays small.
func participantsKey(senders, recipients []Participant) string {
	var ids []string
	for _, pt := range append(slices.Clone(senders), recipients...) {
		ids = append(ids, pt.DeliveryIdentifier.Type+":"+pt.DeliveryIdentifier.Value)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	key := strings.Join(ids, "\n")
	if len(key) > 200 {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return "p:" + key
}

// attachmentTypes are the attachment kinds a published message may carry (HubSpot's union).
var attachmentTypes = []string{"FILE", "LOCATION", "CONTACT", "UNSUPPORTED_CONTENT", "MESSAGE_HEADER",
	"QUICK_REPLIES", "SOCIAL_MEDIA_METADATA", "WHATSAPP_TEMPLATE_METADATA"}

// validateAttachments checks each attachment's discriminator and required keys and returns the
// list as compact JSON. Their content is kept as sent: it is HubSpot-shaped and shown as such.
func validateAttachments(list []json.RawMessage) (json.RawMessage, error) {
	if len(list) > maxAttachments {
		return nil, problem.Field("too_many_attachments", "attachments", fmt.Sprintf("at most %d", maxAttachments))
	}
	for i, raw := range list {
		field := fmt.Sprintf("attachments[%d]", i)
		var a map[string]json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil || a == nil {
			return nil, problem.Field("invalid_attachment", field, "must be an object")
		}
		var typ string
		if err := json.Unmarshal(a["type"], &typ); err != nil || !slices.Contains(attachmentTypes, typ) {
			return nil, problem.Field("invalid_attachment_type", field+".type", "must be one of "+strings.Join(attachmentTypes, ", "))
		}
		switch typ {
		case "FILE":
			var id FlexID
			if err := json.Unmarshal(a["fileId"], &id); err != nil || id == "" {
				return nil, problem.Field("invalid_attachment", field+".fileId", "is required for a FILE attachment")
			}
		case "LOCATION":
			var lat, lon float64
			if json.Unmarshal(a["latitude"], &lat) != nil || json.Unmarshal(a["longitude"], &lon) != nil ||
				lat < -90 || lat > 90 || lon < -180 || lon > 180 {
				return nil, problem.Field("invalid_attachment", field, "a LOCATION needs latitude and longitude")
			}
		}
	}
	var buf bytes.Buffer
	b, err := json.Marshal(list)
	if err != nil {
		return nil, problem.Field("invalid_attachment", "attachments", "could not be read")
	}
	if err := json.Compact(&buf, b); err != nil {
		return nil, problem.Field("invalid_attachment", "attachments", "could not be read")
	}
	return buf.Bytes(), nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called on plain structs of strings
	}
	return b
}
