package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/channel/chat/bot"
	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Bots (SPEC CHAT-9): a bot is a name and numbered versions of a bot.Definition. Saving writes a
// new version; a bot chatflow pins {id, version}, and a running conversation keeps the version
// it started with, so nothing an admin saves changes a chat already under way.

// Bot error codes.
const (
	CodeBotNotFound        = "bot_not_found"
	CodeBotVersionNotFound = "bot_version_not_found"
	CodeBotInUse           = "bot_in_use"
	CodeBotVersionConflict = "bot_version_conflict"
	CodeInvalidBotName     = "invalid_bot_name"
	CodeBotForbidden       = "bot_admin_only"
	CodeNoActiveBot        = "no_active_bot"
	// CodeInvalidBot is what package bot answers for a definition that does not validate, with
	// every problem in the fields.
	CodeInvalidBot = "invalid_bot"
)

const maxBotName = 200

// BotView is a bot with one version's decoded definition and what validation noticed without
// refusing it (steps nobody reaches), for an editor to show.
type BotView struct {
	ID        int64
	Name      string
	Version   int64
	CreatedAt int64
	UpdatedAt int64
	// VersionCreatedAt and VersionCreatedBy say when and by whom Version was saved.
	VersionCreatedAt int64
	VersionCreatedBy *int64
	Definition       *bot.Definition
	Warnings         []bot.Warning
	// WebhookSecret signs the bot's webhook calls (X-Parley-Signature); admins see it to verify.
	WebhookSecret string
}

// BotInput creates or saves a bot. Definition is a bot.Definition as JSON; its version field
// is ignored (the store numbers versions). BaseVersion, when not 0, is the version the edit
// started from: saving fails with bot_version_conflict when someone saved another since.
type BotInput struct {
	Name        *string
	Definition  json.RawMessage
	BaseVersion int64
}

// requireAdmin refuses agents; a nil actor is the system (setup, tests).
func requireAdmin(actor *store.User) error {
	if actor != nil && !actor.IsAdmin() {
		return problem.Forbiddenf(CodeBotForbidden, "only admins edit bots")
	}
	return nil
}

func botNotFound(id int64) error { return problem.NotFoundf(CodeBotNotFound, "no bot %d", id) }

// decodeBot reads a stored version. The row's version wins over the JSON's, which a concurrent
// save could have numbered differently.
func decodeBot(b *store.Bot) (*BotView, error) {
	def, err := bot.Decode(b.Definition)
	if err != nil {
		return nil, fmt.Errorf("bot %d version %d does not decode: %w", b.ID, b.Version, err)
	}
	def.Version = b.Version
	return &BotView{ID: b.ID, Name: b.Name, Version: b.Version, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		VersionCreatedAt: b.VersionCreatedAt, VersionCreatedBy: b.VersionCreatedBy, Definition: def,
		Warnings: def.Warnings(), WebhookSecret: b.WebhookSecret}, nil
}

// ListBots returns every bot with its current version, by name.
func (s *Service) ListBots(ctx context.Context) ([]*BotView, error) {
	rows, err := s.Store.Bots(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*BotView, 0, len(rows))
	for i := range rows {
		v, err := decodeBot(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Bot returns a bot with its current version.
func (s *Service) Bot(ctx context.Context, id int64) (*BotView, error) {
	b, err := s.Store.Bot(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, botNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return decodeBot(b)
}

// BotVersion returns one saved version of a bot.
func (s *Service) BotVersion(ctx context.Context, id, version int64) (*BotView, error) {
	b, err := s.Store.BotVersion(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.Store.Bot(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, botNotFound(id)
		}
		return nil, problem.NotFoundf(CodeBotVersionNotFound, "bot %d has no version %d", id, version)
	} else if err != nil {
		return nil, err
	}
	return decodeBot(b)
}

// BotVersions lists a bot's saved versions, newest first.
func (s *Service) BotVersions(ctx context.Context, id int64) ([]store.BotVersionInfo, error) {
	if _, err := s.Store.Bot(ctx, id); errors.Is(err, store.ErrNotFound) {
		return nil, botNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return s.Store.BotVersions(ctx, id)
}

func botName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxBotName {
		return "", problem.Field(CodeInvalidBotName, "name", fmt.Sprintf("must be 1 to %d characters", maxBotName))
	}
	return s, nil
}

// parseDefinition validates a definition (bot.Decode: unknown fields, bad references, loops)
// and returns it as the JSON to store, numbered version.
func parseDefinition(raw json.RawMessage, version int64) (*bot.Definition, json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil, problem.Field("missing_field", "definition", "is required")
	}
	// The store numbers versions, not the editor: the version is set before validation, which
	// wants one. Anything but an object is left for Decode to refuse.
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil && fields != nil {
		fields["version"] = json.RawMessage(strconv.FormatInt(version, 10))
		if _, ok := fields["schema"]; !ok {
			fields["schema"] = json.RawMessage(strconv.Itoa(bot.Schema))
		}
		if b, err := json.Marshal(fields); err == nil {
			raw = b
		}
	}
	def, err := bot.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	if def.Schema == 0 {
		def.Schema = bot.Schema
	}
	def.Version = version
	out, err := json.Marshal(def)
	if err != nil {
		return nil, nil, err
	}
	return def, out, nil
}

func botAudit(ctx context.Context, tx *store.Tx, actor *store.User, action string, botID int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e := &store.AuditEntry{Action: action, TargetType: "bot", TargetID: &botID, Data: b}
	if actor != nil {
		e.ActorID = &actor.ID
	}
	return tx.AddAuditEntry(ctx, e)
}

// CreateBot validates a definition and stores it as version 1 of a new bot. Admins only.
func (s *Service) CreateBot(ctx context.Context, actor *store.User, in BotInput) (*BotView, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, problem.Field(CodeInvalidBotName, "name", "is required")
	}
	name, err := botName(*in.Name)
	if err != nil {
		return nil, err
	}
	_, raw, err := parseDefinition(in.Definition, 1)
	if err != nil {
		return nil, err
	}
	b := &store.Bot{Name: name, Definition: raw, VersionCreatedBy: actorID(actor)}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertBot(ctx, b); err != nil {
			return err
		}
		return botAudit(ctx, tx, actor, "bot.create", b.ID, map[string]any{"name": name, "version": b.Version})
	})
	if err != nil {
		return nil, err
	}
	return s.Bot(ctx, b.ID)
}

// SaveBot renames a bot and, when a definition is given, saves it as the bot's next version.
// Admins only.
func (s *Service) SaveBot(ctx context.Context, actor *store.User, id int64, in BotInput) (*BotView, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var name string
	if in.Name != nil {
		var err error
		if name, err = botName(*in.Name); err != nil {
			return nil, err
		}
	}
	cur, err := s.Store.Bot(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, botNotFound(id)
	} else if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if in.Definition != nil {
		// Numbered as the version after the one read; if another save gets in first, the
		// number SaveBotVersion hands out differs and the save is refused below.
		if _, raw, err = parseDefinition(in.Definition, cur.Version+1); err != nil {
			return nil, err
		}
	}
	if in.BaseVersion != 0 && in.BaseVersion != cur.Version {
		return nil, versionConflict(id, in.BaseVersion, cur.Version)
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		data := map[string]any{}
		if in.Name != nil {
			if err := tx.RenameBot(ctx, id, name); errors.Is(err, store.ErrNotFound) {
				return botNotFound(id)
			} else if err != nil {
				return err
			}
			data["name"] = name
		}
		if raw != nil {
			v, err := tx.SaveBotVersion(ctx, id, raw, actorID(actor))
			if errors.Is(err, store.ErrNotFound) {
				return botNotFound(id)
			} else if err != nil {
				return err
			}
			if v != cur.Version+1 {
				return versionConflict(id, cur.Version, v-1)
			}
			data["version"] = v
		}
		return botAudit(ctx, tx, actor, "bot.update", id, data)
	})
	if err != nil {
		return nil, err
	}
	return s.Bot(ctx, id)
}

func actorID(u *store.User) *int64 {
	if u == nil {
		return nil
	}
	return &u.ID
}

func versionConflict(id, base, current int64) error {
	return problem.Conflictf(CodeBotVersionConflict,
		"bot %d was saved as version %d since version %d was read; reload it and apply the change again", id, current, base)
}

// DeleteBot removes a bot with its versions. A bot a chatflow runs cannot be deleted: move the
// flow to another bot first. Conversations it is running lose it and stay with people.
func (s *Service) DeleteBot(ctx context.Context, actor *store.User, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	flows, err := s.Store.AllChatflows(ctx)
	if err != nil {
		return err
	}
	for _, r := range flows {
		var f struct {
			Name string           `json:"name"`
			Bot  *chatflow.BotRef `json:"bot"`
		}
		if json.Unmarshal(r.Flow, &f) == nil && f.Bot != nil && f.Bot.ID == id {
			return problem.Conflictf(CodeBotInUse, "the chatflow %q (id %d) runs bot %d; give it another bot first", f.Name, r.ID, id)
		}
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteBot(ctx, id); errors.Is(err, store.ErrNotFound) {
			return botNotFound(id)
		} else if err != nil {
			return err
		}
		return botAudit(ctx, tx, actor, "bot.delete", id, map[string]any{})
	})
}
