package workspace

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// TOTP two-factor sign-in (SPEC ACCESS-2). A user enrols an authenticator app from their profile
// (a QR code or the secret typed in), proves it with one code and gets RecoveryCodeCount one-time
// recovery codes. From then on a password alone does not start a session: the browser gets a
// pending sign-in for PendingSignInTTL and trades it with a code for a session; the API takes the
// code with the password. Each code works once: the last accepted 30-second step is remembered.

const (
	totpIssuer = "Parley"
	totpPeriod = 30
	// totpSkew is how many steps before and after now a code may be from, for clocks that drift.
	totpSkew = 1
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	// PendingSignInTTL is how long the code step of a sign-in waits.
	PendingSignInTTL = 5 * time.Minute
	// maxCodeAttempts is how many wrong codes one pending sign-in takes before it ends.
	maxCodeAttempts = 5
	// pendingSignInPrefix marks pending sign-in tokens.
	pendingSignInPrefix = "pps_"
)

// Audit actions written by this file.
const (
	ActionTOTPEnabled            = "user.totp_enabled"
	ActionTOTPDisabled           = "user.totp_disabled"
	ActionRecoveryCodesRenewed   = "user.recovery_codes_renewed"
	ActionRecoveryCodeUsedSignIn = "user.recovery_code_used"
)

func totpRequired() error {
	return problem.New(problem.Unauthorized, "totp_required", "this account uses two-factor sign-in: give the code from the authenticator app")
}

func invalidTOTPCode() error {
	return problem.Field("invalid_totp_code", "code", "is not the current code of your authenticator app or an unused recovery code")
}

func totpCodeUsed() error {
	return problem.Field("totp_code_used", "code", "was used already; wait for the next code")
}

func signInExpired() error {
	return problem.New(problem.Unauthorized, "sign_in_expired", "the sign-in took too long or had too many wrong codes; sign in again")
}

func totpNotEnabled() error {
	return problem.Conflictf("totp_not_enabled", "two-factor sign-in is not set up")
}

// TOTPEnrolment is an authenticator waiting to be confirmed with its first code.
type TOTPEnrolment struct {
	// Secret is the base32 key, for typing into an app that cannot scan.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	key *otp.Key
}

// QRCode returns the enrolment's QR code as a PNG image of size×size pixels.
func (e *TOTPEnrolment) QRCode(size int) ([]byte, error) {
	img, err := e.key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	return buf.Bytes(), nil
}

func enrolment(u *store.User, secret string) (*TOTPEnrolment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("stored totp secret unreadable: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: totpPeriod,
		Secret: raw, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), key: key}, nil
}

// TOTPStatus is a user's two-factor state as their profile shows it.
type TOTPStatus struct {
	Enabled bool
	// Pending is the enrolment waiting for its first code, if one was started.
	Pending *TOTPEnrolment
	// RecoveryCodesLeft counts unused recovery codes.
	RecoveryCodesLeft int
}

// TOTP returns the two-factor state of actor.
func (s *Service) TOTP(ctx context.Context, actor *store.User) (*TOTPStatus, error) {
	t, err := s.Store.TOTP(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &TOTPStatus{}, nil
	} else if err != nil {
		return nil, err
	}
	if t.ConfirmedAt == nil {
		e, err := enrolment(actor, t.Secret)
		if err != nil {
			return nil, err
		}
		return &TOTPStatus{Pending: e}, nil
	}
	n, err := s.Store.UnusedRecoveryCodes(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	return &TOTPStatus{Enabled: true, RecoveryCodesLeft: n}, nil
}

// StartTOTP begins enrolling an authenticator for actor with a new secret, replacing an
// unconfirmed one. It does not count until ConfirmTOTP.
func (s *Service) StartTOTP(ctx context.Context, actor *store.User) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: actor.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.StartTOTP(ctx, actor.ID, key.Secret())
	})
	if store.IsConflict(err) {
		return nil, problem.Conflictf("totp_already_enabled", "two-factor sign-in is already set up; turn it off first")
	} else if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), key: key}, nil
}

// ConfirmTOTP turns two-factor sign-in on for actor when code is the current code of the
// pending authenticator, and returns the new recovery codes, shown only this once.
func (s *Service) ConfirmTOTP(ctx context.Context, actor *store.User, code string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.TOTP(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.Conflictf("totp_not_enabled", "start setting up two-factor sign-in first")
		} else if err != nil {
			return err
		}
		if t.ConfirmedAt != nil {
			return problem.Conflictf("totp_already_enabled", "two-factor sign-in is already set up")
		}
		step, ok := matchTOTP(t.Secret, normalizeCode(code), now())
		if !ok {
			return invalidTOTPCode()
		}
		err = tx.ConfirmTOTP(ctx, actor.ID, t.Secret, step, store.Now())
		if errors.Is(err, store.ErrNotFound) {
			// Another tab started a new enrolment since: this code proves the replaced secret
			// only, which is not the current authenticator's.
			return invalidTOTPCode()
		} else if err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, actor.ID, hashes); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTOTPEnabled, "user", actor.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns two-factor sign-in off for actor, who proves it is them with their password
// and a current code or a recovery code.
func (s *Service) DisableTOTP(ctx context.Context, actor *store.User, password, code string) error {
	ok, err := auth.CheckPassword(actor.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if !ok {
		return problem.Field("invalid_current_password", "current_password", "is not your current password")
	}
	var verr error
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if verr = checkSecondFactor(ctx, tx, actor, code); verr != nil {
			return nil
		}
		if err := tx.DeleteTOTP(ctx, actor.ID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTOTPDisabled, "user", actor.ID, nil)
	})
	if err != nil {
		return err
	}
	return verr
}

// ResetTOTP turns two-factor sign-in off for someone who lost both authenticator and recovery
// codes. Admins only; only owners may do it for owners.
func (s *Service) ResetTOTP(ctx context.Context, actor *store.User, userID int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound(userID)
		} else if err != nil {
			return err
		}
		if u.Role == RoleOwner && actor != nil && actor.Role != RoleOwner {
			return problem.Forbiddenf("owner_only", "only owners may change an owner")
		}
		if _, err := tx.TOTP(ctx, userID); errors.Is(err, store.ErrNotFound) {
			return totpNotEnabled()
		} else if err != nil {
			return err
		}
		if err := tx.DeleteTOTP(ctx, userID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionTOTPDisabled, "user", userID, map[string]string{"email": u.Email})
	})
}

// RenewRecoveryCodes replaces actor's recovery codes, after a current code, and returns the
// new ones (shown only this once).
func (s *Service) RenewRecoveryCodes(ctx context.Context, actor *store.User, code string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	var verr error
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if verr = checkSecondFactor(ctx, tx, actor, code); verr != nil {
			return nil
		}
		if err := tx.ReplaceRecoveryCodes(ctx, actor.ID, hashes); err != nil {
			return err
		}
		return audit(ctx, tx, actor, ActionRecoveryCodesRenewed, "user", actor.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	if verr != nil {
		return nil, verr
	}
	return codes, nil
}

// SignInWithCode checks email and password and, for a user with two-factor sign-in, code (a
// current authenticator code or an unused recovery code), then starts a session. Without a code
// such a user gets totp_required; the JSON API uses this, the browser StartSignIn.
func (s *Service) SignInWithCode(ctx context.Context, email, password, code string) (string, *store.User, error) {
	u, err := s.checkCredentials(ctx, email, password)
	if err != nil {
		return "", nil, err
	}
	has, err := s.hasTOTP(ctx, u.ID)
	if err != nil {
		return "", nil, err
	}
	if !has {
		token, err := s.NewSession(ctx, u)
		if err != nil {
			return "", nil, err
		}
		return token, u, nil
	}
	if strings.TrimSpace(code) == "" {
		return "", nil, totpRequired()
	}
	token := auth.NewToken(auth.SessionPrefix)
	var verr error
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if verr = checkSecondFactor(ctx, tx, u, code); verr != nil {
			return nil
		}
		return tx.CreateSession(ctx, u.ID, auth.HashToken(token), now().Add(SessionDuration).UnixMilli())
	})
	if err != nil {
		return "", nil, err
	}
	if verr != nil {
		return "", nil, verr
	}
	return token, u, nil
}

// SignInStep is the outcome of a password: a session, or a pending sign-in waiting for a code.
type SignInStep struct {
	User *store.User
	// Session is the new session's token when no second factor is needed.
	Session string
	// Pending is the pending sign-in's token when a code is needed next (FinishSignIn).
	Pending string
}

// StartSignIn checks email and password. For a user with two-factor sign-in it starts no
// session but a pending sign-in, good for PendingSignInTTL and maxCodeAttempts wrong codes.
func (s *Service) StartSignIn(ctx context.Context, email, password string) (*SignInStep, error) {
	u, err := s.checkCredentials(ctx, email, password)
	if err != nil {
		return nil, err
	}
	has, err := s.hasTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !has {
		token, err := s.NewSession(ctx, u)
		if err != nil {
			return nil, err
		}
		return &SignInStep{User: u, Session: token}, nil
	}
	pending := auth.NewToken(pendingSignInPrefix)
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreatePendingSignIn(ctx, auth.HashToken(pending), u.ID, now().Add(PendingSignInTTL).UnixMilli())
	})
	if err != nil {
		return nil, fmt.Errorf("start pending sign-in: %w", err)
	}
	return &SignInStep{User: u, Pending: pending}, nil
}

// FinishSignIn completes a pending sign-in with a code and starts the session. A wrong code
// counts against the pending sign-in; sign_in_expired means starting over with the password.
func (s *Service) FinishSignIn(ctx context.Context, pending, code string) (string, *store.User, error) {
	hash := auth.HashToken(strings.TrimSpace(pending))
	token := auth.NewToken(auth.SessionPrefix)
	var u *store.User
	var verr error
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		// The attempt is counted before the code is checked, and the row stays locked until
		// this transaction ends: concurrent guesses cannot share one count, and of two
		// concurrent right codes only the first gets a session (the second finds it gone).
		p, err := tx.ClaimPendingSignInAttempt(ctx, hash, now().UnixMilli(), maxCodeAttempts)
		if errors.Is(err, store.ErrNotFound) {
			verr = signInExpired()
			return tx.DeletePendingSignIn(ctx, hash)
		} else if err != nil {
			return err
		}
		if u, err = tx.User(ctx, p.UserID); err != nil {
			return err
		}
		if u.DeactivatedAt != nil {
			verr = signInExpired()
			return tx.DeletePendingSignIn(ctx, hash)
		}
		if verr = checkSecondFactor(ctx, tx, u, code); verr != nil {
			if _, ok := problem.As(verr); !ok {
				return verr // a database failure: roll back, the attempt does not count
			}
			return nil // commit the counted attempt
		}
		if err := tx.DeletePendingSignIn(ctx, hash); err != nil {
			return err
		}
		return tx.CreateSession(ctx, u.ID, auth.HashToken(token), now().Add(SessionDuration).UnixMilli())
	})
	if err != nil {
		return "", nil, err
	}
	if verr != nil {
		return "", nil, verr
	}
	return token, u, nil
}

// PendingSignInValid reports whether a pending sign-in can still be completed, so the code page
// can send a stale browser back to the password step at once.
func (s *Service) PendingSignInValid(ctx context.Context, pending string) (bool, error) {
	var ok bool
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PendingSignIn(ctx, auth.HashToken(strings.TrimSpace(pending)), now().UnixMilli())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		ok = p.Attempts < maxCodeAttempts
		return nil
	})
	return ok, err
}

func (s *Service) hasTOTP(ctx context.Context, userID int64) (bool, error) {
	t, err := s.Store.TOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return t.ConfirmedAt != nil, nil
}

// checkSecondFactor accepts a current authenticator code not used before, or an unused recovery
// code, and uses it up inside tx. It answers invalid_totp_code, totp_code_used or
// totp_not_enabled.
func checkSecondFactor(ctx context.Context, tx *store.Tx, u *store.User, code string) error {
	t, err := tx.TOTP(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return totpNotEnabled()
	} else if err != nil {
		return err
	}
	if t.ConfirmedAt == nil {
		return totpNotEnabled()
	}
	c := normalizeCode(code)
	if len(c) == 6 {
		step, ok := matchTOTP(t.Secret, c, now())
		if !ok {
			return invalidTOTPCode()
		}
		fresh, err := tx.UseTOTPStep(ctx, u.ID, step)
		if err != nil {
			return err
		}
		if !fresh {
			return totpCodeUsed()
		}
		return nil
	}
	if len(c) != recoveryCodeLength {
		return invalidTOTPCode()
	}
	used, err := tx.UseRecoveryCode(ctx, u.ID, auth.HashToken(c), store.Now())
	if err != nil {
		return err
	}
	if !used {
		return invalidTOTPCode()
	}
	return audit(ctx, tx, u, ActionRecoveryCodeUsedSignIn, "user", u.ID, nil)
}

// normalizeCode drops what people type around a code: spaces and dashes, and case.
func normalizeCode(code string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(code)))
}

// matchTOTP returns the time step whose code is code, within totpSkew steps of at.
func matchTOTP(secret, code string, at time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := at.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// Recovery codes are 16 base32 characters (80 random bits), shown as four groups of four.
const recoveryCodeLength = 16

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes returns RecoveryCodeCount codes to show and their hashes to store.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		_, _ = rand.Read(b) // crypto/rand.Read never returns an error on supported platforms
		c := strings.ToLower(recoveryEncoding.EncodeToString(b))
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, auth.HashToken(c))
	}
	return codes, hashes
}
