package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Job kinds.
const (
	// MirrorJob posts one chat message into its conversation's Slack thread.
	MirrorJob = "slack.mirror"
	// EventJob turns one Slack thread reply into an agent's reply.
	EventJob = "slack.event"
)

// EventsPath is where Slack posts events (the app's Event Subscriptions request URL).
const EventsPath = "/slack/events"

// Error codes.
const (
	CodeInvalidToken         = "invalid_slack_token"
	CodeInvalidSigningSecret = "invalid_slack_signing_secret"
	CodeInvalidChannel       = "invalid_slack_channel"
	CodeIncomplete           = "slack_incomplete"
	CodeNotConfigured        = "slack_not_configured"
	CodeTestFailed           = "slack_test_failed"
)

// Replier stores an agent's reply; *inbox.Service is one.
type Replier interface {
	Reply(ctx context.Context, actor *store.User, conversationID int64, in inbox.ReplyInput) (*store.Message, error)
}

// Service is the Slack mirror of every inbox: settings, the outbound mirror (tailer and job) and
// the inbound events (HTTP handler and job).
type Service struct {
	Store  *store.Store
	Inbox  Replier
	Client *Client
	Log    *slog.Logger
	// BaseURL is the installation's public URL: links to conversations and the events URL.
	BaseURL string
	// WakeJobs, when set, starts this process's job runner on jobs just enqueued.
	WakeJobs func()
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PollInterval is how often the mirror reads the event log when not woken (default 1s).
	PollInterval time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) client() *Client {
	if s.Client == nil {
		return &Client{}
	}
	return s.Client
}

func (s *Service) wakeJobs() {
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
}

// View is an inbox's Slack settings as admins see them: secrets only as "set" and the token's
// last characters, so that an admin can tell which token it is.
type View struct {
	InboxID          int64  `json:"inbox_id"`
	Enabled          bool   `json:"enabled"`
	ChannelID        string `json:"channel_id"`
	BotTokenSet      bool   `json:"bot_token_set"`
	BotTokenHint     string `json:"bot_token_hint"`
	SigningSecretSet bool   `json:"signing_secret_set"`
	TeamID           string `json:"team_id"`
	BotUserID        string `json:"bot_user_id"`
	// EventsURL is what to enter as the Slack app's Event Subscriptions request URL.
	EventsURL string `json:"events_url"`
}

// tokenHint shows the kind of a token and its last four characters.
func tokenHint(token string) string {
	if token == "" {
		return ""
	}
	prefix, _, _ := strings.Cut(token, "-")
	if len(token) <= 12 {
		return prefix + "-…"
	}
	return prefix + "-…" + token[len(token)-4:]
}

func (s *Service) view(inboxID int64, c *store.SlackSettings) *View {
	v := &View{InboxID: inboxID, EventsURL: strings.TrimRight(s.BaseURL, "/") + EventsPath}
	if c != nil {
		v.Enabled, v.ChannelID, v.TeamID, v.BotUserID = c.Enabled, c.ChannelID, c.TeamID, c.BotUserID
		v.BotTokenSet, v.BotTokenHint, v.SigningSecretSet = c.BotToken != "", tokenHint(c.BotToken), c.SigningSecret != ""
	}
	return v
}

func adminOnly(actor *store.User) error {
	if actor == nil || !actor.IsAdmin() {
		return problem.Forbiddenf("admin_only", "only owners and admins may do this")
	}
	return nil
}

// settings returns an inbox's stored settings, nil when it has none, or inbox_not_found.
func (s *Service) settings(ctx context.Context, inboxID int64) (*store.SlackSettings, error) {
	if _, err := s.Store.Inbox(ctx, inboxID); errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFoundf("inbox_not_found", "no inbox %d", inboxID)
	} else if err != nil {
		return nil, err
	}
	c, err := s.Store.SlackSettings(ctx, inboxID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// Settings returns an inbox's Slack settings (admins only).
func (s *Service) Settings(ctx context.Context, actor *store.User, inboxID int64) (*View, error) {
	if err := adminOnly(actor); err != nil {
		return nil, err
	}
	c, err := s.settings(ctx, inboxID)
	if err != nil {
		return nil, err
	}
	return s.view(inboxID, c), nil
}

// SettingsInput changes an inbox's Slack settings. Nil fields keep their value, and so do empty
// secrets: the forms never show the stored ones, so an empty field means "unchanged".
type SettingsInput struct {
	Enabled       *bool   `json:"enabled"`
	ChannelID     *string `json:"channel_id"`
	BotToken      *string `json:"bot_token"`
	SigningSecret *string `json:"signing_secret"`
}

var (
	// Slack channel ids: C… public, G… private (older), upper-case letters and digits.
	channelIDPattern = regexp.MustCompile(`^[CG][A-Z0-9]{6,20}$`)
	// Bot tokens (xoxb-…), as Slack issues them for an app installed in a workspace.
	botTokenPattern = regexp.MustCompile(`^xoxb-[A-Za-z0-9-]{10,250}$`)
	// Signing secrets are hex strings (32 characters today).
	signingSecretPattern = regexp.MustCompile(`^[0-9a-fA-F]{16,128}$`)
)

// SaveSettings changes an inbox's Slack settings (admins only). Turning the mirror on needs a
// bot token, a signing secret and a channel.
func (s *Service) SaveSettings(ctx context.Context, actor *store.User, inboxID int64, in SettingsInput) (*View, error) {
	if err := adminOnly(actor); err != nil {
		return nil, err
	}
	c, err := s.settings(ctx, inboxID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &store.SlackSettings{InboxID: inboxID}
	}
	if in.BotToken != nil && strings.TrimSpace(*in.BotToken) != "" {
		t := strings.TrimSpace(*in.BotToken)
		if !botTokenPattern.MatchString(t) {
			return nil, problem.Field(CodeInvalidToken, "bot_token", "must be the app's bot token (xoxb-…)")
		}
		if t != c.BotToken {
			c.BotToken, c.TeamID, c.BotUserID = t, "", "" // learned again by the next test
		}
	}
	if in.SigningSecret != nil && strings.TrimSpace(*in.SigningSecret) != "" {
		sec := strings.TrimSpace(*in.SigningSecret)
		if !signingSecretPattern.MatchString(sec) {
			return nil, problem.Field(CodeInvalidSigningSecret, "signing_secret", "must be the app's signing secret (letters a–f and digits)")
		}
		c.SigningSecret = sec
	}
	if in.ChannelID != nil {
		ch := strings.ToUpper(strings.TrimSpace(*in.ChannelID))
		if ch != "" && !channelIDPattern.MatchString(ch) {
			return nil, problem.Field(CodeInvalidChannel, "channel_id", "must be a Slack channel id such as C0123456789 (in Slack: the channel's details, at the bottom)")
		}
		c.ChannelID = ch
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if c.Enabled {
		switch {
		case c.BotToken == "":
			return nil, problem.Field(CodeIncomplete, "bot_token", "is needed to turn the Slack mirror on")
		case c.SigningSecret == "":
			return nil, problem.Field(CodeIncomplete, "signing_secret", "is needed to turn the Slack mirror on")
		case c.ChannelID == "":
			return nil, problem.Field(CodeIncomplete, "channel_id", "is needed to turn the Slack mirror on")
		}
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SaveSlackSettings(ctx, c); err != nil {
			return err
		}
		// The audit names what changed, never the secrets themselves.
		data, err := json.Marshal(map[string]any{"inbox_id": inboxID, "enabled": c.Enabled, "channel_id": c.ChannelID,
			"bot_token_changed": in.BotToken != nil && *in.BotToken != "", "signing_secret_changed": in.SigningSecret != nil && *in.SigningSecret != ""})
		if err != nil {
			return err
		}
		return tx.AddAuditEntry(ctx, &store.AuditEntry{ActorID: &actor.ID, Action: "inbox.slack_updated",
			TargetType: "inbox", TargetID: &inboxID, Data: data})
	})
	if err != nil {
		return nil, err
	}
	return s.view(inboxID, c), nil
}

// TestResult is what a connection test found.
type TestResult struct {
	OK     bool   `json:"ok"`
	Team   string `json:"team"`
	TeamID string `json:"team_id"`
	BotID  string `json:"bot_user_id"`
	URL    string `json:"url"`
}

// TestConnection checks the inbox's bot token with auth.test and records the workspace and bot
// user it names (events from other workspaces and the bot's own messages are then ignored).
func (s *Service) TestConnection(ctx context.Context, actor *store.User, inboxID int64) (*TestResult, error) {
	if err := adminOnly(actor); err != nil {
		return nil, err
	}
	c, err := s.settings(ctx, inboxID)
	if err != nil {
		return nil, err
	}
	if c == nil || c.BotToken == "" {
		return nil, problem.Conflictf(CodeNotConfigured, "this inbox has no Slack bot token yet")
	}
	id, err := s.client().AuthTest(ctx, c.BotToken)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return nil, problem.Invalidf(CodeTestFailed, "Slack refused the test: %v", se)
		}
		return nil, problem.Invalidf(CodeTestFailed, "Slack could not be reached: %v", err)
	}
	if err := s.Store.SetSlackIdentity(ctx, inboxID, c.BotToken, id.TeamID, id.UserID); err != nil {
		return nil, err
	}
	return &TestResult{OK: true, Team: id.Team, TeamID: id.TeamID, BotID: id.UserID, URL: id.URL}, nil
}
