package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// NewUser is what creating a user takes. Role defaults to agent, Locale to "en", TimeZone to
// "UTC". An empty Password creates a user who cannot sign in until one is set.
type NewUser struct {
	Email    string
	Name     string
	Role     string
	Password string
	JobTitle string
	Locale   string
	TimeZone string
}

func userNotFound(id int64) error {
	return problem.NotFoundf("user_not_found", "no user %d", id)
}

func emailTaken() error {
	return problem.Conflictf("email_taken", "another user already has this email")
}

// CreateUser creates a user. actor nil means the system (CLI); otherwise the actor must be an
// admin, and only owners may create owners.
func (s *Service) CreateUser(ctx context.Context, actor *store.User, in NewUser) (*store.User, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	u, err := s.prepareUser(in)
	if err != nil {
		return nil, err
	}
	if u.Role == RoleOwner && actor != nil && actor.Role != RoleOwner {
		return nil, problem.Forbiddenf("owner_only", "only owners may create owners")
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		return createUser(ctx, tx, actor, u, nil)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// prepareUser validates in and hashes its password (outside any transaction: hashing is slow
// and must not hold SQLite's write lock).
func (s *Service) prepareUser(in NewUser) (*store.User, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	name, err := cleanName("name", in.Name)
	if err != nil {
		return nil, err
	}
	u := &store.User{Email: email, Name: name, Role: in.Role, Locale: in.Locale, TimeZone: in.TimeZone}
	if u.Role == "" {
		u.Role = RoleAgent
	}
	if err := checkRole(u.Role); err != nil {
		return nil, err
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	if err := checkLocale(u.Locale); err != nil {
		return nil, err
	}
	if u.TimeZone == "" {
		u.TimeZone = "UTC"
	}
	if err := checkTimeZone(u.TimeZone); err != nil {
		return nil, err
	}
	if u.JobTitle, err = checkJobTitle(in.JobTitle); err != nil {
		return nil, err
	}
	if in.Password != "" {
		if err := auth.CheckPasswordStrength(in.Password); err != nil {
			return nil, err
		}
		if u.PasswordHash, err = auth.HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// createUser inserts u and audits it; extra is merged into the audit data.
func createUser(ctx context.Context, tx *store.Tx, actor *store.User, u *store.User, extra map[string]any) error {
	if err := tx.CreateUser(ctx, u); err != nil {
		if store.IsConflict(err) {
			return emailTaken()
		}
		return err
	}
	data := map[string]any{"email": u.Email, "name": u.Name, "role": u.Role}
	for k, v := range extra {
		data[k] = v
	}
	return audit(ctx, tx, actor, ActionUserCreated, "user", u.ID, data)
}

// User returns one user.
func (s *Service) User(ctx context.Context, id int64) (*store.User, error) {
	u, err := s.Store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, userNotFound(id)
	}
	return u, err
}

// UserPatch is a partial change to a user; nil fields are left as they are.
type UserPatch struct {
	Email     *string
	Name      *string
	JobTitle  *string
	AvatarURL *string
	Locale    *string
	TimeZone  *string
	Role      *string
	// Password sets a new password. Users changing their own must give CurrentPassword; admins
	// setting another user's need not.
	Password        *string
	CurrentPassword string
	Deactivated     *bool
	// KeepSessionHash is the hash of the session making the change: a password change signs the
	// user out everywhere else, but not here.
	KeepSessionHash string
}

// UpdateUser changes a user. Anyone may edit their own profile (name, job title, avatar, locale,
// time zone, password); admins may also change email, role and deactivation of others. Only
// owners may change owners or make someone an owner, and the last active owner can be neither
// demoted nor deactivated.
func (s *Service) UpdateUser(ctx context.Context, actor *store.User, id int64, p UserPatch) (*store.User, error) {
	self := actor != nil && actor.ID == id
	admin := actor == nil || actor.IsAdmin()
	if !self && !admin {
		return nil, problem.Forbiddenf("admin_only", "only owners and admins may change other users")
	}
	if !admin && (p.Email != nil || p.Role != nil || p.Deactivated != nil) {
		return nil, problem.Forbiddenf("admin_only", "only owners and admins may change email, role or deactivation")
	}
	if p.Role != nil {
		if err := checkRole(*p.Role); err != nil {
			return nil, err
		}
		if *p.Role == RoleOwner && actor != nil && actor.Role != RoleOwner {
			return nil, problem.Forbiddenf("owner_only", "only owners may make someone an owner")
		}
	}

	// The password is checked and hashed before the transaction: both are slow on purpose.
	var newHash string
	if p.Password != nil {
		if err := auth.CheckPasswordStrength(*p.Password); err != nil {
			return nil, err
		}
		if self {
			cur, err := s.User(ctx, id)
			if err != nil {
				return nil, err
			}
			ok, err := auth.CheckPassword(cur.PasswordHash, p.CurrentPassword)
			if err != nil {
				return nil, fmt.Errorf("check current password: %w", err)
			}
			if !ok {
				return nil, problem.Field("invalid_current_password", "current_password", "is not your current password")
			}
		}
		var err error
		if newHash, err = auth.HashPassword(*p.Password); err != nil {
			return nil, err
		}
	}

	var out *store.User
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockUsers(ctx); err != nil {
			return err
		}
		u, err := tx.User(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound(id)
		} else if err != nil {
			return err
		}
		before := *u
		if u.Role == RoleOwner && actor != nil && actor.Role != RoleOwner {
			return problem.Forbiddenf("owner_only", "only owners may change an owner")
		}
		var changed []string
		set := func(field string, dst *string, v string) {
			if *dst != v {
				*dst = v
				changed = append(changed, field)
			}
		}
		if p.Email != nil {
			e, err := normalizeEmail(*p.Email)
			if err != nil {
				return err
			}
			set("email", &u.Email, e)
		}
		if p.Name != nil {
			n, err := cleanName("name", *p.Name)
			if err != nil {
				return err
			}
			set("name", &u.Name, n)
		}
		if p.JobTitle != nil {
			j, err := checkJobTitle(*p.JobTitle)
			if err != nil {
				return err
			}
			set("job_title", &u.JobTitle, j)
		}
		if p.AvatarURL != nil {
			if err := checkAvatarURL(*p.AvatarURL); err != nil {
				return err
			}
			set("avatar_url", &u.AvatarURL, *p.AvatarURL)
		}
		if p.Locale != nil {
			if err := checkLocale(*p.Locale); err != nil {
				return err
			}
			set("locale", &u.Locale, *p.Locale)
		}
		if p.TimeZone != nil {
			if err := checkTimeZone(*p.TimeZone); err != nil {
				return err
			}
			set("time_zone", &u.TimeZone, *p.TimeZone)
		}
		if newHash != "" {
			u.PasswordHash = newHash
			changed = append(changed, "password")
		}
		roleChanged := p.Role != nil && *p.Role != u.Role
		if roleChanged {
			u.Role = *p.Role
		}
		deactivating := p.Deactivated != nil && *p.Deactivated && u.DeactivatedAt == nil
		reactivating := p.Deactivated != nil && !*p.Deactivated && u.DeactivatedAt != nil
		if deactivating {
			now := store.Now()
			u.DeactivatedAt = &now
		}
		if reactivating {
			u.DeactivatedAt = nil
		}

		// The last active owner must stay an active owner, or nobody could manage owners again.
		if before.Role == RoleOwner && before.DeactivatedAt == nil && (u.Role != RoleOwner || u.DeactivatedAt != nil) {
			n, err := tx.CountActiveOwners(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return problem.Conflictf("last_owner", "this is the last active owner; make someone else an owner first")
			}
		}

		if len(changed) == 0 && !roleChanged && !deactivating && !reactivating {
			out = u
			return nil
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			if store.IsConflict(err) {
				return emailTaken()
			}
			return err
		}
		if deactivating {
			if err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
				return err
			}
		} else if newHash != "" {
			keep := ""
			if self {
				keep = p.KeepSessionHash
			}
			if err := tx.DeleteUserSessions(ctx, u.ID, keep); err != nil {
				return err
			}
		}
		if len(changed) > 0 {
			data := map[string]any{"fields": changed}
			if slices.Contains(changed, "email") {
				data["email"] = map[string]string{"from": before.Email, "to": u.Email}
			}
			if err := audit(ctx, tx, actor, ActionUserUpdated, "user", u.ID, data); err != nil {
				return err
			}
		}
		if roleChanged {
			if err := audit(ctx, tx, actor, ActionUserRoleChanged, "user", u.ID,
				map[string]string{"from": before.Role, "to": u.Role}); err != nil {
				return err
			}
		}
		if deactivating {
			if err := audit(ctx, tx, actor, ActionUserDeactivated, "user", u.ID, map[string]string{"email": u.Email}); err != nil {
				return err
			}
		}
		if reactivating {
			if err := audit(ctx, tx, actor, ActionUserReactivated, "user", u.ID, map[string]string{"email": u.Email}); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetPassword sets the password of the user with email (for the CLI) and signs them out
// everywhere.
func (s *Service) ResetPassword(ctx context.Context, email, password string) error {
	e, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	if err := auth.CheckPasswordStrength(password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByEmail(ctx, e)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("user_not_found", "no user with email %s", e)
		} else if err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		return audit(ctx, tx, nil, ActionUserPasswordReset, "user", u.ID, map[string]string{"email": u.Email})
	})
}

// Users lists users; one page and whether more follow.
func (s *Service) Users(ctx context.Context, f store.UserFilter) ([]*store.User, bool, error) {
	return s.Store.Users(ctx, f)
}
