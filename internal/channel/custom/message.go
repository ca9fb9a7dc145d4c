package custom

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Participant is a sender or recipient of a message, as HubSpot shapes it.
type Participant struct {
	ActorID            string              `json:"actorId,omitempty"`
	Name               string              `json:"name,omitempty"`
	DeliveryIdentifier *DeliveryIdentifier `json:"deliveryIdentifier,omitempty"`
	// SenderActorID is accepted on publish (HubSpot's SDK sends it for agents of the business).
	SenderActorID  string `json:"senderActorId,omitempty"`
	SenderField    string `json:"senderField,omitempty"`
	RecipientField string `json:"recipientField,omitempty"`
}

// Message is HubSpot's message object (the publish response, GET …/messages/{id}, and the
// "message" of an OUTGOING_CHANNEL_MESSAGE_CREATED webhook). Ids are strings.
type Message struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	ChannelID             string            `json:"channelId"`
	ChannelAccountID      string            `json:"channelAccountId"`
	ConversationsThreadID string            `json:"conversationsThreadId"`
	CreatedAt             string            `json:"createdAt"`
	UpdatedAt             string            `json:"updatedAt,omitempty"`
	CreatedBy             string            `json:"createdBy"`
	Client                *Client           `json:"client,omitempty"`
	Direction             string            `json:"direction"`
	Senders               []Participant     `json:"senders"`
	Recipients            []Participant     `json:"recipients"`
	Text                  string            `json:"text"`
	RichText              string            `json:"richText,omitempty"`
	Subject               string            `json:"subject,omitempty"`
	Attachments           []json.RawMessage `json:"attachments"`
	InReplyToID           string            `json:"inReplyToId,omitempty"`
	Archived              bool              `json:"archived"`
	TruncationStatus      string            `json:"truncationStatus"`
	Status                Status            `json:"status"`
}

// Client says who created a message.
type Client struct {
	ClientType       string `json:"clientType"` // HUBSPOT | INTEGRATION | SYSTEM | UNKNOWN
	IntegrationAppID string `json:"integrationAppId,omitempty"`
}

// Status is a message's delivery status.
type Status struct {
	StatusType     string          `json:"statusType"` // SENT | RECEIVED | READ | FAILED
	FailureDetails *FailureDetails `json:"failureDetails,omitempty"`
}

// FailureDetails explains a FAILED status.
type FailureDetails struct {
	ErrorMessage       string            `json:"errorMessage"`
	ErrorMessageTokens map[string]string `json:"errorMessageTokens"`
}

// storedSender is what messages.sender holds for a message published on a custom channel.
type storedSender struct {
	Name               string              `json:"name,omitempty"`
	DeliveryIdentifier *DeliveryIdentifier `json:"deliveryIdentifier,omitempty"`
	ActorID            string              `json:"actorId,omitempty"`
}

// Timestamp renders unix milliseconds the way HubSpot does (ISO-8601, UTC, milliseconds).
func Timestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// ID renders an id as HubSpot does: a decimal string.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// StatusType maps Parley's message status to HubSpot's.
func StatusType(status string) string {
	switch status {
	case "received":
		return "RECEIVED"
	case "read":
		return "READ"
	case "failed":
		return "FAILED"
	}
	return "SENT" // queued, sent, delivered: HubSpot has no finer states for outgoing messages
}

// parseSender reads a message's sender column; anything but a custom channel's shape gives nil.
func parseSender(raw json.RawMessage) *Participant {
	var s storedSender
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil || (s.Name == "" && s.DeliveryIdentifier == nil) {
		return nil
	}
	return &Participant{ActorID: s.ActorID, Name: s.Name, DeliveryIdentifier: s.DeliveryIdentifier}
}

// parseRecipients reads a message's recipients column; entries without an identifier are dropped.
func parseRecipients(raw json.RawMessage) []Participant {
	var list []storedSender
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []Participant
	for _, s := range list {
		if s.DeliveryIdentifier == nil {
			continue
		}
		out = append(out, Participant{ActorID: s.ActorID, Name: s.Name, DeliveryIdentifier: s.DeliveryIdentifier})
	}
	return out
}

// attachmentsJSON renders stored attachments for HubSpot: published attachments are stored as
// sent (already HubSpot-shaped); Parley's own (snake_case keys) get camelCase keys.
func attachmentsJSON(raw json.RawMessage) []json.RawMessage {
	var list []map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil {
		return []json.RawMessage{}
	}
	out := make([]json.RawMessage, 0, len(list))
	for _, a := range list {
		m := make(map[string]json.RawMessage, len(a))
		for k, v := range a {
			m[camel(k)] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			continue
		}
		out = append(out, b)
	}
	return out
}

func camel(k string) string {
	if !strings.Contains(k, "_") {
		return k
	}
	parts := strings.Split(k, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// integrationThreadID returns the integration's thread id from a conversation's thread key.
func integrationThreadID(threadKey string) (string, bool) {
	return strings.CutPrefix(threadKey, "t:")
}
