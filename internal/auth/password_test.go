package auth

import (
	"strings"
	"testing"

	"github.com/parley-inbox/parley/internal/problem"
)

func cheapParams(t *testing.T) {
	t.Helper()
	old := PasswordParams
	PasswordParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	t.Cleanup(func() { PasswordParams = old })
}

func TestHashAndCheckPassword(t *testing.T) {
	cheapParams(t)
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q does not look like PHC argon2id", h)
	}
	ok, err := CheckPassword(h, "correct horse battery")
	if err != nil || !ok {
		t.Fatalf("right password: ok=%v err=%v", ok, err)
	}
	ok, err = CheckPassword(h, "correct horse batterx")
	if err != nil || ok {
		t.Fatalf("wrong password: ok=%v err=%v", ok, err)
	}
	h2, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if ok, _ := CheckPassword("", "anything at all"); ok {
		t.Fatal("an empty hash matched")
	}
}

func TestDefaultParamsVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("real cost")
	}
	h, err := HashPassword("a real password here")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=32768,t=2,p=2$") {
		t.Fatalf("default parameters changed unexpectedly: %s", h)
	}
	// A hash made with cheaper parameters still verifies after the defaults change, and is flagged.
	cheapParams(t)
	ok, err := CheckPassword(h, "a real password here")
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	cheap, _ := HashPassword("a real password here")
	PasswordParams = Params{Memory: 32 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}
	if !NeedsRehash(cheap) {
		t.Fatal("a cheap hash should need rehashing under stronger defaults")
	}
	if NeedsRehash(h) {
		t.Fatal("a hash made with the defaults should not need rehashing")
	}
}

func TestMalformedHashes(t *testing.T) {
	cheapParams(t)
	good, _ := HashPassword("0123456789")
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5] + "$x",
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$c2hvcnQ",
	} {
		if ok, err := CheckPassword(bad, "0123456789"); ok || err == nil {
			t.Errorf("%q: ok=%v err=%v, want a malformed-hash error", bad, ok, err)
		}
	}
}

func TestCheckPasswordStrength(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		weak bool
	}{
		{"", true},
		{"short", true},
		{"123456789", true},
		{"1234567890", false},
		{"åäöåäöåäöå", false}, // counts characters, not bytes
		{strings.Repeat("x", MaxPasswordLength+1), true},
	} {
		err := CheckPasswordStrength(tc.pw)
		if tc.weak {
			p, ok := problem.As(err)
			if !ok || p.Code != "weak_password" || p.Fields["password"] == "" {
				t.Errorf("%q: err=%v, want weak_password on field password", tc.pw, err)
			}
		} else if err != nil {
			t.Errorf("%q: unexpected %v", tc.pw, err)
		}
	}
}

func TestCheckDummyPasswordFollowsParams(t *testing.T) {
	cheapParams(t)
	CheckDummyPassword("whatever")
	if !strings.Contains(dummy.hash, "m=64,t=1,p=1") {
		t.Fatalf("dummy hash %q not made with the current parameters", dummy.hash)
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhh", "pw")
	f.Add("$argon2id$v=19$m=,t=,p=$$", "")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		p, _, _, err := decodeHash(encoded)
		if err != nil {
			return
		}
		// Only run the (bounded) hash when it stays cheap, so fuzzing explores the parser.
		if p.Memory <= 1024 && p.Time <= 2 {
			_, _ = CheckPassword(encoded, pw)
		}
	})
}
