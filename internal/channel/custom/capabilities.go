package custom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/parley-inbox/parley/internal/problem"
)

// Delivery identifier types (HubSpot's enum).
const (
	EmailAddress = "HS_EMAIL_ADDRESS"
	PhoneNumber  = "HS_PHONE_NUMBER"
	ShortCode    = "HS_SHORT_CODE"
	OpaqueID     = "CHANNEL_SPECIFIC_OPAQUE_ID"
)

// Threading models.
const (
	// ThreadByIntegration threads by the integrationThreadId the integration sends.
	ThreadByIntegration = "INTEGRATION_THREAD_ID"
	// ThreadByParticipants threads by the participants' delivery identifiers.
	ThreadByParticipants = "DELIVERY_IDENTIFIER"
)

// DeliveryIdentifierTypes lists the known delivery identifier types.
var DeliveryIdentifierTypes = []string{EmailAddress, PhoneNumber, ShortCode, OpaqueID}

// RichTextFeatures lists the rich text features a channel may declare. HubSpot documents the
// first six; the rest are the formatting its composer offers, accepted so that integrations that
// declare them are not refused.
var RichTextFeatures = []string{"HYPERLINK", "TEXT_ALIGNMENT", "BLOCKQUOTE", "BOLD", "ITALIC", "LISTS",
	"UNDERLINE", "STRIKETHROUGH", "FONT_SIZE", "FONT_STYLE", "TEXT_COLOR", "TEXT_HIGHLIGHT_COLOR", "IMAGE"}

// AttachmentTypes lists the outgoing attachment types a channel may declare.
var AttachmentTypes = []string{"FILE"}

// CodeInvalidCapabilities is the problem code for a capabilities object with bad keys or values.
const CodeInvalidCapabilities = "invalid_channel_capability_values"

// Capabilities says what a custom channel supports; its JSON mirrors HubSpot's capabilities object.
type Capabilities struct {
	DeliveryIdentifierTypes         []string `json:"deliveryIdentifierTypes"`
	ThreadingModel                  string   `json:"threadingModel"`
	RichText                        []string `json:"richText"`
	AllowInlineImages               bool     `json:"allowInlineImages"`
	AllowOutgoingMessages           bool     `json:"allowOutgoingMessages"`
	AllowConversationStart          bool     `json:"allowConversationStart"`
	AllowMultipleRecipients         bool     `json:"allowMultipleRecipients"`
	OutgoingAttachmentTypes         []string `json:"outgoingAttachmentTypes"`
	AllowedFileAttachmentMimeTypes  []string `json:"allowedFileAttachmentMimeTypes"`
	MaxFileAttachmentCount          int      `json:"maxFileAttachmentCount"`
	MaxFileAttachmentSizeBytes      int64    `json:"maxFileAttachmentSizeBytes"`
	MaxTotalFileAttachmentSizeBytes int64    `json:"maxTotalFileAttachmentSizeBytes"`
}

// Allows reports whether the channel declared the delivery identifier type.
func (c *Capabilities) Allows(identifierType string) bool {
	return slices.Contains(c.DeliveryIdentifierTypes, identifierType)
}

// RichTextSupported reports whether replies may carry HTML.
func (c *Capabilities) RichTextSupported() bool { return len(c.RichText) > 0 }

// AttachmentsSupported reports whether replies may carry files.
func (c *Capabilities) AttachmentsSupported() bool {
	return slices.Contains(c.OutgoingAttachmentTypes, "FILE") && c.MaxFileAttachmentCount > 0
}

// JSON renders the capabilities with every key present (lists never null).
func (c *Capabilities) JSON() json.RawMessage {
	cc := *c
	for _, l := range []*[]string{&cc.DeliveryIdentifierTypes, &cc.RichText, &cc.OutgoingAttachmentTypes, &cc.AllowedFileAttachmentMimeTypes} {
		if *l == nil {
			*l = []string{}
		}
	}
	b, err := json.Marshal(cc)
	if err != nil {
		panic(err) // a struct of strings, bools and numbers always marshals
	}
	return b
}

// LoadCapabilities reads capabilities stored by ParseCapabilities. Stored values were validated
// on the way in, so they are decoded leniently.
func LoadCapabilities(raw json.RawMessage) (*Capabilities, error) {
	c := &Capabilities{}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("stored capabilities: %w", err)
	}
	return c, nil
}

// ParseCapabilities validates a capabilities object from a request. Every bad key is reported in
// the error's Fields (named "capabilities.<key>") under the code invalid_channel_capability_values,
// as HubSpot reports INVALID_CHANNEL_CAPABILITY_VALUES. Absent keys take their defaults:
// threading by integration thread id, outgoing messages allowed, everything else off.
func ParseCapabilities(raw json.RawMessage) (*Capabilities, error) {
	fields := map[string]string{}
	bad := func(key, msg string) { fields["capabilities."+key] = msg }
	var keys map[string]json.RawMessage
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &keys) != nil {
		return nil, &problem.Error{Kind: problem.Invalid, Code: CodeInvalidCapabilities,
			Detail: "capabilities must be a JSON object", Fields: map[string]string{"capabilities": "must be an object"}}
	}
	c := &Capabilities{ThreadingModel: ThreadByIntegration, AllowOutgoingMessages: true}

	enumList := func(key string, allowed []string, dst *[]string) {
		v, ok := keys[key]
		if !ok {
			return
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			bad(key, "must be an array of strings from "+strings.Join(allowed, ", "))
			return
		}
		seen := map[string]bool{}
		for _, s := range list {
			if allowed != nil && !slices.Contains(allowed, s) {
				bad(key, fmt.Sprintf("%q is not one of %s", s, strings.Join(allowed, ", ")))
				return
			}
			if seen[s] {
				bad(key, fmt.Sprintf("%q is listed twice", s))
				return
			}
			seen[s] = true
		}
		*dst = list
	}
	boolean := func(key string, dst *bool) {
		v, ok := keys[key]
		if !ok {
			return
		}
		if err := json.Unmarshal(v, dst); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			bad(key, "must be true or false")
		}
	}
	count := func(key string, max int64, dst *int64) {
		v, ok := keys[key]
		if !ok {
			return
		}
		var n int64
		if err := json.Unmarshal(v, &n); err != nil || n < 0 || n > max || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			bad(key, fmt.Sprintf("must be a whole number from 0 to %d", max))
			return
		}
		*dst = n
	}

	for key := range keys {
		switch key {
		case "deliveryIdentifierTypes", "threadingModel", "richText", "allowInlineImages", "allowOutgoingMessages",
			"allowConversationStart", "allowMultipleRecipients", "outgoingAttachmentTypes",
			"allowedFileAttachmentMimeTypes", "maxFileAttachmentCount", "maxFileAttachmentSizeBytes",
			"maxTotalFileAttachmentSizeBytes":
		default:
			bad(key, "is not a known capability")
		}
	}
	enumList("deliveryIdentifierTypes", DeliveryIdentifierTypes, &c.DeliveryIdentifierTypes)
	if _, ok := keys["deliveryIdentifierTypes"]; !ok {
		bad("deliveryIdentifierTypes", "is required")
	} else if _, failed := fields["capabilities.deliveryIdentifierTypes"]; !failed && len(c.DeliveryIdentifierTypes) == 0 {
		bad("deliveryIdentifierTypes", "must name at least one type")
	}
	if v, ok := keys["threadingModel"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || (s != ThreadByIntegration && s != ThreadByParticipants) {
			bad("threadingModel", "must be "+ThreadByIntegration+" or "+ThreadByParticipants)
		} else {
			c.ThreadingModel = s
		}
	}
	enumList("richText", RichTextFeatures, &c.RichText)
	enumList("outgoingAttachmentTypes", AttachmentTypes, &c.OutgoingAttachmentTypes)
	enumList("allowedFileAttachmentMimeTypes", nil, &c.AllowedFileAttachmentMimeTypes)
	for _, m := range c.AllowedFileAttachmentMimeTypes {
		if !validMediaRange(m) {
			bad("allowedFileAttachmentMimeTypes", fmt.Sprintf("%q is not a media type like image/png or image/*", m))
			break
		}
	}
	boolean("allowInlineImages", &c.AllowInlineImages)
	boolean("allowOutgoingMessages", &c.AllowOutgoingMessages)
	boolean("allowConversationStart", &c.AllowConversationStart)
	boolean("allowMultipleRecipients", &c.AllowMultipleRecipients)
	var n int64
	count("maxFileAttachmentCount", 100, &n)
	c.MaxFileAttachmentCount = int(n)
	count("maxFileAttachmentSizeBytes", 1<<40, &c.MaxFileAttachmentSizeBytes)
	count("maxTotalFileAttachmentSizeBytes", 1<<40, &c.MaxTotalFileAttachmentSizeBytes)

	if len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, strings.TrimPrefix(k, "capabilities."))
		}
		slices.Sort(keys)
		return nil, &problem.Error{Kind: problem.Invalid, Code: CodeInvalidCapabilities,
			Detail: "invalid capability values: " + strings.Join(keys, ", "), Fields: fields}
	}
	return c, nil
}

// validMediaRange accepts "type/subtype" and "type/*" made of token characters.
func validMediaRange(m string) bool {
	typ, sub, ok := strings.Cut(m, "/")
	if !ok || len(m) > 127 || !isToken(typ) || (sub != "*" && !isToken(sub)) {
		return false
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$&-^_.+", r):
		default:
			return false
		}
	}
	return true
}
