package custom

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// maxOpaqueID bounds an integration's opaque delivery identifier.
const maxOpaqueID = 256

// DeliveryIdentifier addresses one side of a conversation on a custom channel.
type DeliveryIdentifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Normalize validates the identifier by its type and returns it in canonical form: email
// addresses lower-case, phone numbers E.164 without separators, short codes digits only, opaque
// ids as sent (trimmed). field names the identifier in errors (e.g. "senders[0].deliveryIdentifier").
func (d DeliveryIdentifier) Normalize(field string) (DeliveryIdentifier, error) {
	v := strings.TrimSpace(d.Value)
	invalid := func(msg string) (DeliveryIdentifier, error) {
		return DeliveryIdentifier{}, problem.Field("invalid_delivery_identifier", field+".value", msg)
	}
	switch d.Type {
	case EmailAddress:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || a.Name != "" || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
			return invalid("must be an email address like ada@example.com")
		}
		return DeliveryIdentifier{Type: d.Type, Value: strings.ToLower(v)}, nil
	case PhoneNumber:
		p, ok := NormalizePhone(v)
		if !ok {
			return invalid("must be a phone number in E.164 form like +14155550123")
		}
		return DeliveryIdentifier{Type: d.Type, Value: p}, nil
	case ShortCode:
		if len(v) < 3 || len(v) > 8 || !allDigits(v) {
			return invalid("must be a short code of 3 to 8 digits")
		}
		return DeliveryIdentifier{Type: d.Type, Value: v}, nil
	case OpaqueID:
		if v == "" || utf8.RuneCountInString(v) > maxOpaqueID || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return invalid("must be 1 to 256 printable characters")
		}
		return DeliveryIdentifier{Type: d.Type, Value: v}, nil
	}
	return DeliveryIdentifier{}, problem.Field("invalid_delivery_identifier_type", field+".type",
		"must be one of "+strings.Join(DeliveryIdentifierTypes, ", "))
}

// Identity maps the identifier to the contact identity it stands for: email and phone are shared
// across channels (the same customer on email and on this channel is one contact); short codes
// and opaque ids only mean something within one custom channel. d must be normalized.
func (d DeliveryIdentifier) Identity(customChannelID int64) store.Identity {
	switch d.Type {
	case EmailAddress:
		return store.Identity{Kind: "email", Value: strings.ToLower(d.Value)}
	case PhoneNumber:
		return store.Identity{Kind: "phone", Value: d.Value}
	}
	return store.Identity{Kind: "custom:" + strconv.FormatInt(customChannelID, 10), Value: d.Value}
}

// IdentifierFor is the reverse of Identity: the delivery identifier a contact identity gives on
// this channel, if the channel declared its type.
func IdentifierFor(id store.Identity, customChannelID int64, caps *Capabilities) (DeliveryIdentifier, bool) {
	switch id.Kind {
	case "email":
		return DeliveryIdentifier{Type: EmailAddress, Value: id.Value}, caps.Allows(EmailAddress)
	case "phone":
		return DeliveryIdentifier{Type: PhoneNumber, Value: id.Value}, caps.Allows(PhoneNumber)
	case "custom:" + strconv.FormatInt(customChannelID, 10):
		// The type is not kept with the identity; a short code is all digits, anything else opaque.
		if allDigits(id.Value) && caps.Allows(ShortCode) && !caps.Allows(OpaqueID) {
			return DeliveryIdentifier{Type: ShortCode, Value: id.Value}, true
		}
		if caps.Allows(OpaqueID) {
			return DeliveryIdentifier{Type: OpaqueID, Value: id.Value}, true
		}
		if caps.Allows(ShortCode) {
			return DeliveryIdentifier{Type: ShortCode, Value: id.Value}, true
		}
	}
	return DeliveryIdentifier{}, false
}

// NormalizePhone returns the E.164 form of a phone number, accepting the common separators
// (spaces, dashes, dots, parentheses) between digits.
func NormalizePhone(v string) (string, bool) {
	if !strings.HasPrefix(v, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range v[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	p := b.String()
	// E.164: a country code that does not start with 0, at most 15 digits in all.
	if len(p) < 8 || len(p) > 16 || p[1] == '0' {
		return "", false
	}
	return p, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
