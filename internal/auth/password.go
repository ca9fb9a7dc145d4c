package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/parley-inbox/parley/internal/problem"
)

// Password length rules. The upper bound only stops absurd inputs from being hashed; it is far
// above anything a password manager generates.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 1024
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// PasswordParams are used for new hashes. The default (32 MiB, 2 passes, 2 lanes) costs about
// 45 ms on a 2-core machine: slow enough to make offline guessing expensive, fast enough for a
// sign-in to feel instant, and at half the memory of 64 MiB × 1 pass (which measured ~70 ms) it
// keeps bursts of sign-ins from bloating the process. Verification always uses the parameters stored in the hash, so this
// can be raised later; NeedsRehash tells when a stored hash is weaker than it.
//
// Tests may set a much cheaper value before any hashing happens (it is read without locking).
var PasswordParams = Params{Memory: 32 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// hashSlots bounds how many hashes run at once: each one holds Params.Memory, so a burst of
// sign-ins queues instead of exhausting memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// ErrMalformedHash means a stored password hash cannot be parsed.
var ErrMalformedHash = errors.New("malformed password hash")

// CheckPasswordStrength enforces the password policy: at least MinPasswordLength characters.
func CheckPasswordStrength(password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return problem.Field("weak_password", "password", fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	}
	if len(password) > MaxPasswordLength {
		return problem.Field("weak_password", "password", fmt.Sprintf("must be at most %d bytes", MaxPasswordLength))
	}
	return nil
}

// HashPassword returns the PHC-style encoding of an argon2id hash of password:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> with unpadded standard base64.
func HashPassword(password string) (string, error) {
	p := PasswordParams
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := derive(password, salt, p)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash, comparing in constant time.
// An empty encoded hash (a user without a password) never matches.
func CheckPassword(encoded, password string) (bool, error) {
	if encoded == "" {
		return false, nil
	}
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with weaker parameters than PasswordParams, so a
// successful sign-in can upgrade it.
func NeedsRehash(encoded string) bool {
	p, _, _, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	want := PasswordParams
	return p.Memory < want.Memory || p.Time < want.Time || p.KeyLen < want.KeyLen
}

var dummy struct {
	sync.Mutex
	params Params
	hash   string
}

// CheckDummyPassword does the same work as CheckPassword against a hash made with the current
// parameters, and always fails. Sign-in calls it for unknown emails so that the response time does
// not tell which addresses have accounts.
func CheckDummyPassword(password string) {
	dummy.Lock()
	if dummy.hash == "" || dummy.params != PasswordParams {
		h, err := HashPassword("not a real password, only here to spend time")
		if err == nil {
			dummy.hash, dummy.params = h, PasswordParams
		}
	}
	h := dummy.hash
	dummy.Unlock()
	_, _ = CheckPassword(h, password) // the answer is irrelevant; the work is the point
}

func derive(password string, salt []byte, p Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// decodeHash parses the PHC string. It bounds the parameters so a corrupted row cannot make a
// sign-in allocate gigabytes or spin for minutes.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	var m, t, threads uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, ErrMalformedHash
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, ErrMalformedHash
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			threads = n
		default:
			return p, nil, nil, ErrMalformedHash
		}
	}
	if m < 8 || m > 4*1024*1024 || t < 1 || t > 100 || threads < 1 || threads > 255 || m < 8*threads {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	b64 := base64.RawStdEncoding
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, ErrMalformedHash
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}, salt, key, nil
}
