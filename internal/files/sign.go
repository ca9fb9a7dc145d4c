package files

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// keySetting is the settings row holding the URL signing key (hex).
const keySetting = "files_url_signing_key"

// signingKey returns the installation's key, creating it on first use. It is cached once
// loaded; a failure is not, so the next call tries again.
func (s *Store) signingKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	v, err := s.DB.EnsureSetting(ctx, keySetting, hex.EncodeToString(fresh))
	if err != nil {
		return nil, fmt.Errorf("files: signing key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("files: the setting %s is not a 32-byte hex key", keySetting)
	}
	s.key = key
	return key, nil
}

func mac(key []byte, id string, expires int64) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "parley-file\n%s\n%d", id, expires)
	return m.Sum(nil)
}

// SignedURL returns an absolute URL that downloads f without a session until now + LinkTTL.
func (s *Store) SignedURL(ctx context.Context, f *store.File, now time.Time) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	expires := now.Add(s.linkTTL()).Unix()
	q := url.Values{
		"expires": {strconv.FormatInt(expires, 10)},
		"sig":     {base64.RawURLEncoding.EncodeToString(mac(key, f.ID, expires))},
	}
	return strings.TrimRight(s.BaseURL, "/") + Path(f) + "?" + q.Encode(), nil
}

var (
	errLinkInvalid = problem.Forbiddenf("file_link_invalid", "this download link is not valid")
	errLinkExpired = problem.Forbiddenf("file_link_expired", "this download link has expired")
)

// CheckSignature verifies a signed URL's expires and sig for the file id at now. A signature
// that does not match is invalid whatever the expiry says, so a changed expiry cannot pass as
// merely expired.
func (s *Store) CheckSignature(ctx context.Context, id, expires, sig string, now time.Time) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return errLinkInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return errLinkInvalid
	}
	key, err := s.signingKey(ctx)
	if err != nil {
		return err
	}
	if !hmac.Equal(got, mac(key, id, exp)) {
		return errLinkInvalid
	}
	if now.Unix() > exp {
		return errLinkExpired
	}
	return nil
}
