package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Token prefixes make leaked secrets recognisable to scanners and people.
const (
	APITokenPrefix   = "pt_"
	SessionPrefix    = "ps_"
	SetupTokenPrefix = "pst_"
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewToken returns a random 160-bit secret with the given prefix.
func NewToken(prefix string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error on supported platforms
	return prefix + strings.ToLower(encoding.EncodeToString(b))
}

// HashToken is how tokens are stored: a SHA-256 digest. Tokens are high-entropy, so a slow hash
// adds nothing and a fast one keeps every authenticated request cheap.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
