package custom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

func problemCode(t *testing.T, err error) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("want a problem error, got %v", err)
	}
	return p
}

func TestParseCapabilities(t *testing.T) {
	c, err := ParseCapabilities(json.RawMessage(`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS","CHANNEL_SPECIFIC_OPAQUE_ID"],
		"threadingModel":"DELIVERY_IDENTIFIER","richText":["HYPERLINK","BOLD"],"allowOutgoingMessages":false,
		"outgoingAttachmentTypes":["FILE"],"allowedFileAttachmentMimeTypes":["image/png","image/*"],
		"maxFileAttachmentCount":2,"maxFileAttachmentSizeBytes":1000,"maxTotalFileAttachmentSizeBytes":1500}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.ThreadingModel != ThreadByParticipants || c.AllowOutgoingMessages || !c.Allows(EmailAddress) || c.Allows(PhoneNumber) ||
		!c.RichTextSupported() || !c.AttachmentsSupported() || c.MaxTotalFileAttachmentSizeBytes != 1500 {
		t.Fatalf("parsed %+v", c)
	}
	// The stored form round-trips.
	back, err := LoadCapabilities(c.JSON())
	if err != nil || back.MaxFileAttachmentCount != 2 || len(back.AllowedFileAttachmentMimeTypes) != 2 {
		t.Fatalf("round trip: %+v %v", back, err)
	}

	// Defaults: threading by integration thread id, outgoing messages allowed.
	c, err = ParseCapabilities(json.RawMessage(`{"deliveryIdentifierTypes":["HS_PHONE_NUMBER"]}`))
	if err != nil || c.ThreadingModel != ThreadByIntegration || !c.AllowOutgoingMessages || c.RichTextSupported() || c.AttachmentsSupported() {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if !strings.Contains(string(c.JSON()), `"richText":[]`) {
		t.Fatalf("lists must render as [], got %s", c.JSON())
	}

	bad := []struct {
		body   string
		fields []string
	}{
		{`[]`, []string{"capabilities"}},
		{`"x"`, []string{"capabilities"}},
		{`{}`, []string{"capabilities.deliveryIdentifierTypes"}},
		{`{"deliveryIdentifierTypes":[]}`, []string{"capabilities.deliveryIdentifierTypes"}},
		// HubSpot's classic mistake: objects instead of strings.
		{`{"deliveryIdentifierTypes":[{"type":"HS_EMAIL_ADDRESS"}]}`, []string{"capabilities.deliveryIdentifierTypes"}},
		{`{"deliveryIdentifierTypes":["EMAIL"]}`, []string{"capabilities.deliveryIdentifierTypes"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS","HS_EMAIL_ADDRESS"]}`, []string{"capabilities.deliveryIdentifierTypes"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"threadingModel":"BY_MAGIC","richText":["BLINK"],"allowInlineImages":"yes"}`,
			[]string{"capabilities.threadingModel", "capabilities.richText", "capabilities.allowInlineImages"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"maxFileAttachmentCount":-1,"maxFileAttachmentSizeBytes":1.5,"outgoingAttachmentTypes":["VIDEO"]}`,
			[]string{"capabilities.maxFileAttachmentCount", "capabilities.maxFileAttachmentSizeBytes", "capabilities.outgoingAttachmentTypes"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"allowedFileAttachmentMimeTypes":["png"]}`, []string{"capabilities.allowedFileAttachmentMimeTypes"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"teleport":true}`, []string{"capabilities.teleport"}},
		{`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"allowOutgoingMessages":null}`, []string{"capabilities.allowOutgoingMessages"}},
	}
	for _, tc := range bad {
		_, err := ParseCapabilities(json.RawMessage(tc.body))
		p := problemCode(t, err)
		if p.Code != CodeInvalidCapabilities || p.Kind != problem.Invalid {
			t.Errorf("%s: code %s", tc.body, p.Code)
		}
		for _, f := range tc.fields {
			if _, ok := p.Fields[f]; !ok {
				t.Errorf("%s: fields %v lack %s", tc.body, p.Fields, f)
			}
		}
		if len(p.Fields) != len(tc.fields) {
			t.Errorf("%s: fields %v, want exactly %v", tc.body, p.Fields, tc.fields)
		}
	}
}

func TestDeliveryIdentifiers(t *testing.T) {
	good := []struct {
		in   DeliveryIdentifier
		want string
		id   store.Identity
	}{
		{DeliveryIdentifier{EmailAddress, " Ada@Example.COM "}, "ada@example.com", store.Identity{Kind: "email", Value: "ada@example.com"}},
		{DeliveryIdentifier{PhoneNumber, "+1 (415) 555-0123"}, "+14155550123", store.Identity{Kind: "phone", Value: "+14155550123"}},
		{DeliveryIdentifier{ShortCode, "12345"}, "12345", store.Identity{Kind: "custom:7", Value: "12345"}},
		{DeliveryIdentifier{OpaqueID, "tg-chat:bc_123:987"}, "tg-chat:bc_123:987", store.Identity{Kind: "custom:7", Value: "tg-chat:bc_123:987"}},
	}
	for _, tc := range good {
		got, err := tc.in.Normalize("d")
		if err != nil || got.Value != tc.want || got.Type != tc.in.Type {
			t.Errorf("%v: %v %v", tc.in, got, err)
			continue
		}
		if id := got.Identity(7); id != tc.id {
			t.Errorf("%v: identity %v want %v", tc.in, id, tc.id)
		}
	}
	bad := []struct {
		in   DeliveryIdentifier
		code string
	}{
		{DeliveryIdentifier{EmailAddress, "not an email"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{EmailAddress, "Ada <ada@example.com>"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{EmailAddress, "ada@localhost"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{PhoneNumber, "4155550123"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{PhoneNumber, "+0123456789"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{PhoneNumber, "+1234567890123456"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{PhoneNumber, "+1415555abcd"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{ShortCode, "12"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{ShortCode, "12a45"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{OpaqueID, "  "}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{OpaqueID, strings.Repeat("x", 257)}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{OpaqueID, "a\x00b"}, "invalid_delivery_identifier"},
		{DeliveryIdentifier{"FAX", "123"}, "invalid_delivery_identifier_type"},
	}
	for _, tc := range bad {
		_, err := tc.in.Normalize("d")
		if p := problemCode(t, err); p.Code != tc.code {
			t.Errorf("%v: code %s want %s", tc.in, p.Code, tc.code)
		}
	}
	caps := &Capabilities{DeliveryIdentifierTypes: []string{OpaqueID, EmailAddress}}
	if di, ok := IdentifierFor(store.Identity{Kind: "custom:7", Value: "x"}, 7, caps); !ok || di.Type != OpaqueID {
		t.Errorf("opaque identity: %v %v", di, ok)
	}
	if _, ok := IdentifierFor(store.Identity{Kind: "custom:8", Value: "x"}, 7, caps); ok {
		t.Error("another channel's identity must not address this channel")
	}
	if _, ok := IdentifierFor(store.Identity{Kind: "phone", Value: "+14155550123"}, 7, caps); ok {
		t.Error("phone is not declared by the channel")
	}
}

// hubspotVerify is a v3 verifier written the way HubSpot's documentation tells integrations to
// write one, independent of Sign.
func hubspotVerify(secret, method, uri, body, timestamp, signature string, now time.Time) bool {
	var ts int64
	if _, err := fmt.Sscan(timestamp, &ts); err != nil || now.UnixMilli()-ts > 300000 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri + body + timestamp))
	return hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(signature))
}

func TestSignAndVerify(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	body := []byte(`{"type":"OUTGOING_CHANNEL_MESSAGE_CREATED"}`)
	uri := "https://hooks.example.com/hubspot?portal=1"
	sig := Sign("s3cret", "POST", uri, body, now.UnixMilli())
	if !hubspotVerify("s3cret", "POST", uri, string(body), "1700000000000", sig, now) {
		t.Fatal("a HubSpot-style verifier rejects our signature")
	}
	if err := Verify("s3cret", "POST", uri, body, "1700000000000", sig, now.Add(4*time.Minute)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	cases := []struct {
		name               string
		secret, method     string
		uri                string
		body               string
		ts, sig            string
		at                 time.Time
		want               error
		hubspotAlsoRejects bool
	}{
		{"wrong secret", "other", "POST", uri, string(body), "1700000000000", sig, now, ErrBadSignature, true},
		{"wrong method", "s3cret", "PUT", uri, string(body), "1700000000000", sig, now, ErrBadSignature, true},
		{"wrong uri", "s3cret", "POST", uri + "&x=1", string(body), "1700000000000", sig, now, ErrBadSignature, true},
		{"tampered body", "s3cret", "POST", uri, string(body) + " ", "1700000000000", sig, now, ErrBadSignature, true},
		{"other timestamp", "s3cret", "POST", uri, string(body), "1700000000001", sig, now, ErrBadSignature, true},
		{"too old", "s3cret", "POST", uri, string(body), "1700000000000", sig, now.Add(5*time.Minute + time.Millisecond), ErrStale, true},
		{"far future", "s3cret", "POST", uri, string(body), "1700000000000", sig, now.Add(-6 * time.Minute), ErrStale, false},
		{"no signature", "s3cret", "POST", uri, string(body), "1700000000000", "", now, ErrNoSignature, true},
		{"no timestamp", "s3cret", "POST", uri, string(body), "", sig, now, ErrNoSignature, true},
		{"padded timestamp", "s3cret", "POST", uri, string(body), "01700000000000", sig, now, ErrBadSignature, true},
	}
	for _, tc := range cases {
		err := Verify(tc.secret, tc.method, tc.uri, []byte(tc.body), tc.ts, tc.sig, tc.at)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, err, tc.want)
		}
		if tc.hubspotAlsoRejects && hubspotVerify(tc.secret, tc.method, tc.uri, tc.body, tc.ts, tc.sig, tc.at) {
			t.Errorf("%s: the reference verifier accepts it", tc.name)
		}
	}

	// Verifiers decode a fixed set of escapes in the URI; signing the canonical form agrees.
	escaped := "https://hooks.example.com/a%3Ab?next=%2Fx%40y"
	sig = Sign("k", "POST", CanonicalURI(escaped), nil, now.UnixMilli())
	if err := Verify("k", "POST", escaped, nil, "1700000000000", sig, now); err != nil {
		t.Fatalf("escaped uri: %v", err)
	}
	if !hubspotVerify("k", "POST", "https://hooks.example.com/a:b?next=/x@y", "", "1700000000000", sig, now) {
		t.Fatal("reference verifier on the decoded uri rejects it")
	}
}

func TestSignV2MatchesHubSpotExample(t *testing.T) {
	// The worked example of HubSpot's v2 validation documentation (GET, no body).
	got := SignV2("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "GET", "https://www.example.com/webhook_uri", nil)
	if got != "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e" {
		t.Fatalf("v2 signature %s", got)
	}
}

func FuzzVerify(f *testing.F) {
	now := time.UnixMilli(1_700_000_000_000)
	body := []byte(`{"a":1}`)
	f.Add("secret", "POST", "https://x.example/h?q=1", body, "1700000000000", Sign("secret", "POST", "https://x.example/h?q=1", body, 1_700_000_000_000))
	f.Add("", "", "", []byte{}, "", "")
	f.Add("k", "POST", "%3A%2f%zz", []byte("\xff"), "-1", "====")
	f.Add("k", "GET", "u", []byte(nil), "99999999999999999999999", "abc")
	f.Fuzz(func(t *testing.T, secret, method, uri string, body []byte, ts, sig string) {
		err := Verify(secret, method, uri, body, ts, sig, now)
		if err == nil {
			// Accepting means the signature is exactly ours over the canonical URI.
			n, perr := parseMillis(ts)
			if perr != nil || sig != Sign(secret, method, CanonicalURI(uri), body, n) {
				t.Fatalf("accepted a signature Sign would not produce: ts=%q sig=%q", ts, sig)
			}
		}
		// Signing then verifying always passes inside the window.
		good := Sign(secret, method, CanonicalURI(uri), body, now.UnixMilli())
		if err := Verify(secret, method, uri, body, "1700000000000", good, now); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

func parseMillis(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(s, &n)
	return n, err
}

func testCaps(model string) *Capabilities {
	return &Capabilities{DeliveryIdentifierTypes: []string{OpaqueID, EmailAddress, PhoneNumber}, ThreadingModel: model, AllowOutgoingMessages: true}
}

func TestValidatePublish(t *testing.T) {
	now := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	base := func() map[string]any {
		return map[string]any{
			"channelAccountId": "12", "messageDirection": "INCOMING", "integrationThreadId": "chat-1",
			"integrationIdempotencyId": "k1", "text": "Hi", "timestamp": "2024-03-09T15:00:00.000Z",
			"senders":     []any{map[string]any{"name": "Ada", "deliveryIdentifier": map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "Ada@Example.com"}}},
			"recipients":  []any{map[string]any{"name": "Acme", "deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "acme"}}},
			"attachments": []any{},
		}
	}
	decode := func(m map[string]any) (*PublishRequest, error) {
		b, _ := json.Marshal(m)
		return DecodePublish(b)
	}
	req, err := decode(base())
	if err != nil {
		t.Fatal(err)
	}
	p, err := req.Validate(3, testCaps(ThreadByIntegration), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.AccountID != 12 || !p.Incoming || p.ThreadKey != "t:chat-1" || p.IdempotencyKey != "k1" ||
		p.At != time.Date(2024, 3, 9, 15, 0, 0, 0, time.UTC).UnixMilli() ||
		len(p.Identities) != 1 || p.Identities[0] != (store.Identity{Kind: "email", Value: "ada@example.com"}) {
		t.Fatalf("publication %+v", p)
	}

	// Participants threading: the same two people share a key whichever way the message goes.
	in, _ := decode(base())
	pin, err := in.Validate(3, testCaps(ThreadByParticipants), now)
	if err != nil {
		t.Fatal(err)
	}
	m := base()
	m["messageDirection"] = "OUTGOING"
	m["senders"], m["recipients"] = m["recipients"], m["senders"]
	out, _ := decode(m)
	pout, err := out.Validate(3, testCaps(ThreadByParticipants), now)
	if err != nil {
		t.Fatal(err)
	}
	if pin.ThreadKey != pout.ThreadKey || !strings.HasPrefix(pin.ThreadKey, "p:") || pout.Incoming ||
		pout.Identities[0] != pin.Identities[0] {
		t.Fatalf("participant threading: %q vs %q, %v vs %v", pin.ThreadKey, pout.ThreadKey, pin.Identities, pout.Identities)
	}

	// A timestamp from the future is clamped to now.
	m = base()
	m["timestamp"] = "2030-01-01T00:00:00Z"
	r, _ := decode(m)
	if p, err := r.Validate(3, testCaps(ThreadByIntegration), now); err != nil || p.At != now.UnixMilli() {
		t.Fatalf("future timestamp: %v %v", p, err)
	}

	bad := []struct {
		name   string
		change func(m map[string]any)
		caps   *Capabilities
		code   string
	}{
		{"missing text", func(m map[string]any) { delete(m, "text") }, nil, "missing_field"},
		{"missing attachments", func(m map[string]any) { delete(m, "attachments") }, nil, "missing_field"},
		{"missing thread id", func(m map[string]any) { delete(m, "integrationThreadId") }, nil, "missing_field"},
		{"no senders", func(m map[string]any) { m["senders"] = []any{} }, nil, "missing_field"},
		{"bad direction", func(m map[string]any) { m["messageDirection"] = "SIDEWAYS" }, nil, "invalid_message_direction"},
		{"bad timestamp", func(m map[string]any) { m["timestamp"] = "yesterday" }, nil, "invalid_timestamp"},
		{"undeclared type", func(m map[string]any) {
			m["senders"] = []any{map[string]any{"deliveryIdentifier": map[string]any{"type": "HS_SHORT_CODE", "value": "12345"}}}
		}, nil, "invalid_delivery_identifier_type"},
		{"bad email", func(m map[string]any) {
			m["senders"] = []any{map[string]any{"deliveryIdentifier": map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "nope"}}}
		}, nil, "invalid_delivery_identifier"},
		{"no identifier", func(m map[string]any) { m["senders"] = []any{map[string]any{"name": "x"}} }, nil, "missing_field"},
		{"empty message", func(m map[string]any) { m["text"] = "" }, nil, "empty_message"},
		{"bad attachment", func(m map[string]any) { m["attachments"] = []any{map[string]any{"type": "HOLOGRAM"}} }, nil, "invalid_attachment_type"},
		{"file without id", func(m map[string]any) { m["attachments"] = []any{map[string]any{"type": "FILE"}} }, nil, "invalid_attachment"},
		{"bad account id", func(m map[string]any) { m["channelAccountId"] = "abc" }, nil, "channel_account_not_found"},
		{"multiple recipients", func(m map[string]any) {
			m["messageDirection"] = "OUTGOING"
			r := m["recipients"].([]any)
			m["recipients"] = append(r, map[string]any{"deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "b"}})
		}, nil, "multiple_recipients_not_allowed"},
	}
	for _, tc := range bad {
		m := base()
		tc.change(m)
		r, err := decode(m)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		caps := tc.caps
		if caps == nil {
			caps = testCaps(ThreadByIntegration)
		}
		_, err = r.Validate(3, caps, now)
		if p := problemCode(t, err); p.Code != tc.code {
			t.Errorf("%s: code %s want %s (%v)", tc.name, p.Code, tc.code, p)
		}
	}

	for _, body := range []string{`{"channelAccountId":"1","bogus":1}`, `{"text":1}`, `{}{}`, `{"senders":[{"deliveryIdentifier":{"type":"X","value":"v","extra":1}}]}`, `nope`} {
		if _, err := DecodePublish([]byte(body)); err == nil {
			t.Errorf("%s: decoded", body)
		}
	}
	if r, err := DecodePublish([]byte(`{"channelAccountId":12,"associateWithContactId":"551"}`)); err != nil || r.ChannelAccountID != "12" || r.AssociateWithContactID != "551" {
		t.Errorf("ids as numbers or strings: %+v %v", r, err)
	}
}

func FuzzPublish(f *testing.F) {
	f.Add([]byte(`{"channelAccountId":"12","messageDirection":"INCOMING","integrationThreadId":"t","text":"hi","timestamp":"2024-03-09T16:00:00.000Z","senders":[{"name":"Ada","deliveryIdentifier":{"type":"HS_EMAIL_ADDRESS","value":"ada@example.com"}}],"recipients":[{"deliveryIdentifier":{"type":"CHANNEL_SPECIFIC_OPAQUE_ID","value":"acme"}}],"attachments":[{"type":"FILE","fileId":"1"},{"type":"LOCATION","latitude":1,"longitude":2}]}`))
	f.Add([]byte(`{"channelAccountId":1,"messageDirection":"OUTGOING","text":"","timestamp":"2999-01-01T00:00:00Z","senders":[{"deliveryIdentifier":{"type":"HS_PHONE_NUMBER","value":"+1 415 555 0123"}}],"recipients":[{"deliveryIdentifier":{"type":"HS_PHONE_NUMBER","value":"+14155550124"}}],"attachments":[]}`))
	f.Add([]byte(`{"attachments":[null,1,"x",{"type":null}],"preResolvedContacts":{"contacts":[{"contactVid":"-1"}]}}`))
	f.Add([]byte(`{"senders":[{"deliveryIdentifier":null}],"inReplyToId":9e99}`))
	caps := []*Capabilities{testCaps(ThreadByIntegration), testCaps(ThreadByParticipants)}
	now := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodePublish(body)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("decode error is not a problem: %v", err)
			}
			return
		}
		for _, c := range caps {
			p, err := req.Validate(9, c, now)
			if err != nil {
				if _, ok := problem.As(err); !ok {
					t.Fatalf("validation error is not a problem: %v", err)
				}
				continue
			}
			if p.AccountID <= 0 || p.ThreadKey == "" || len(p.Identities) != 1 || p.Identities[0].Value == "" ||
				p.At > now.Add(futureSkew).UnixMilli() || !json.Valid(p.Sender) || !json.Valid(p.Recipients) || !json.Valid(p.Attachments) {
				t.Fatalf("accepted an invalid publication: %+v", p)
			}
			if len(p.ThreadKey) > 300 {
				t.Fatalf("thread key too long: %d", len(p.ThreadKey))
			}
		}
	})
}

func FuzzParseCapabilities(f *testing.F) {
	f.Add([]byte(`{"deliveryIdentifierTypes":["HS_EMAIL_ADDRESS"],"richText":["BOLD"],"maxFileAttachmentCount":3}`))
	f.Add([]byte(`{"deliveryIdentifierTypes":[{"type":"HS_EMAIL_ADDRESS"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCapabilities(raw)
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Code != CodeInvalidCapabilities || len(p.Fields) == 0 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if len(c.DeliveryIdentifierTypes) == 0 {
			t.Fatal("accepted capabilities without identifier types")
		}
		again, err := ParseCapabilities(c.JSON())
		if err != nil || string(again.JSON()) != string(c.JSON()) {
			t.Fatalf("stored form does not re-parse: %v", err)
		}
	})
}
