package outbound

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signs outgoing mail for one domain and selector.
type DKIM struct {
	Domain   string
	Selector string
	Key      crypto.Signer
}

// NewDKIM reads an RSA (PKCS #1 or PKCS #8) or Ed25519 (PKCS #8) private key from PEM.
func NewDKIM(domain, selector string, keyPEM []byte) (*DKIM, error) {
	domain, selector = strings.TrimSpace(domain), strings.TrimSpace(selector)
	if domain == "" || selector == "" {
		return nil, errors.New("dkim: domain and selector are required")
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	return &DKIM{Domain: domain, Selector: selector, Key: key}, nil
}

// ParseKey reads a DKIM private key from PEM.
func ParseKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("dkim key: no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("dkim key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("dkim key: %w", err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("dkim key: %T is neither RSA nor Ed25519", k)
	}
	return nil, fmt.Errorf("dkim key: unsupported PEM type %q", block.Type)
}

// signedHeaders are the fields RFC 6376 §5.4.1 recommends plus our threading ones. A header
// the message lacks is still listed, so nobody can add it later without breaking the signature;
// the ones readers see are listed twice ("oversigned"), so a second copy cannot be added either.
var signedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
}

// Sign returns msg with a DKIM-Signature header in front (relaxed/relaxed, SHA-256).
func (d *DKIM) Sign(msg []byte) ([]byte, error) {
	if d == nil {
		return msg, nil
	}
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.Key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return out.Bytes(), nil
}
