package custom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed webhook request, as HubSpot names them.
const (
	HeaderSignatureV3      = "X-HubSpot-Signature-v3"
	HeaderTimestamp        = "X-HubSpot-Request-Timestamp"
	HeaderSignature        = "X-HubSpot-Signature"
	HeaderSignatureVersion = "X-HubSpot-Signature-Version"
)

// MaxSignatureAge is how old (or how far ahead of our clock) a signed request may be.
const MaxSignatureAge = 5 * time.Minute

// Errors from Verify.
var (
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("request timestamp is outside the 5-minute window")
	ErrNoSignature  = errors.New("signature or timestamp missing")
)

// Sign computes HubSpot's v3 signature: Base64(HMAC-SHA256(secret, method + uri + body + timestamp))
// where timestamp is the decimal unix-millisecond value sent in X-HubSpot-Request-Timestamp and uri
// is the full request URL (see CanonicalURI).
func Sign(secret, method, uri string, body []byte, timestampMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method))
	mac.Write([]byte(uri))
	mac.Write(body)
	mac.Write([]byte(strconv.FormatInt(timestampMillis, 10)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignV2 computes HubSpot's legacy v2 signature: hex(SHA-256(secret + method + uri + body)).
// Sent alongside v3 for integrations that still check X-HubSpot-Signature.
func SignV2(secret, method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a v3 signature the way a HubSpot integration does: the timestamp header must be
// within MaxSignatureAge of now, and the signature must equal Sign over the same method, URI, raw
// body and timestamp text (compared in constant time). The URI is canonicalised first, as HubSpot
// asks verifiers to decode a fixed set of percent-escapes.
func Verify(secret, method, uri string, body []byte, timestampHeader, signatureHeader string, now time.Time) error {
	if timestampHeader == "" || signatureHeader == "" {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != timestampHeader {
		// The signed text is the header as sent; a value that does not round-trip ("+1", "007")
		// cannot be what a conforming signer produced.
		return ErrBadSignature
	}
	age := now.UnixMilli() - ts
	if age > MaxSignatureAge.Milliseconds() || age < -MaxSignatureAge.Milliseconds() {
		return ErrStale
	}
	want := Sign(secret, method, CanonicalURI(uri), body, ts)
	if !hmac.Equal([]byte(want), []byte(signatureHeader)) {
		return ErrBadSignature
	}
	return nil
}

// uriDecoding is the set of percent-escapes HubSpot's verification instructions decode in the
// request URI before signing; everything else stays as sent.
var uriDecoding = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

// CanonicalURI decodes the percent-escapes HubSpot's verifiers decode, so that what we sign is
// what such a verifier reconstructs from the URL it was called on.
func CanonicalURI(uri string) string { return uriDecoding.Replace(uri) }
