package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/files"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// Kind is the channel kind of chat channels and the key of the chat Sender.
const Kind = "chat"

// Error codes.
const (
	CodeInvalidOrigin       = "invalid_allowed_origin"
	CodeInvalidAppearance   = "invalid_appearance"
	CodeNotChatChannel      = "not_a_chat_channel"
	CodeChatflowNotFound    = "chatflow_not_found"
	CodeChatflowInboxDiffer = "chatflow_inbox_mismatch"
)

// Inbox is what the chat channel needs from the inbox domain (*inbox.Service implements it).
type Inbox interface {
	Receive(ctx context.Context, in inbox.Inbound) (*store.Message, *store.Conversation, bool, error)
	UpdateMessageStatus(ctx context.Context, messageID int64, status, failureReason string) error
	// Route and CloseIdle hand a chat off later and auto-close it (handoff.go, autoclose.go).
	Route(ctx context.Context, conversationID int64, rule *store.RoutingRule) (bool, error)
	CloseIdle(ctx context.Context, conversationID, idleSince int64, data map[string]any) (bool, error)
}

// Service manages chat channels, their chatflows and visitors, and delivers agents' replies to
// visitors' connections. It implements channel.Sender for kind "chat".
type Service struct {
	Store *store.Store
	Inbox Inbox
	Hub   *Hub
	Log   *slog.Logger
	// Files keeps visitors' uploads and serves them the files of their conversation (files.go);
	// nil turns files off.
	Files *files.Store
	// BaseURL is the installation's public URL, for the embed snippet.
	BaseURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// VisitorTyping, when set, tells agents that the visitor of a conversation is typing.
	VisitorTyping func(conversationID, inboxID int64)
	// Email sends agents' replies to visitors who left an address and are gone, through their
	// inbox's email channel, and transcripts (away.go, transcript.go); nil sends no mail.
	Email Mailer
	// WakeJobs nudges the job runner after a commit that enqueued jobs.
	WakeJobs func()

	cross     crossNode // messages and frames for visitors connected to other nodes (crossnode.go)
	readsOnce sync.Once
	reads     chan struct{} // bounds the read receipts being looked up at once (AgentRead)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Positions of the launcher.
var Positions = []string{"right", "left"}

// Appearance is how the widget looks (CHAT-2).
type Appearance struct {
	// AccentColor is a #rrggbb colour.
	AccentColor string `json:"accent_color"`
	Position    string `json:"position"`
}

// Settings is what a chat channel stores in its channel's settings.
type Settings struct {
	// AllowedOrigins are the sites (scheme://host[:port]) that may embed the widget.
	AllowedOrigins []string   `json:"allowed_origins"`
	Appearance     Appearance `json:"appearance"`
}

const (
	maxOrigins     = 50
	maxChannelName = 200
)

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// normaliseOrigin returns the origin of s (scheme://host[:port], lower case), or "" when s is
// not an http(s) origin without a path.
func normaliseOrigin(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// validate normalises the settings in place and checks them.
func (st *Settings) validate() error {
	if len(st.AllowedOrigins) > maxOrigins {
		return problem.Field(CodeInvalidOrigin, "allowed_origins", fmt.Sprintf("must list at most %d origins", maxOrigins))
	}
	out := make([]string, 0, len(st.AllowedOrigins))
	for i, o := range st.AllowedOrigins {
		n := normaliseOrigin(o)
		if n == "" {
			return problem.Field(CodeInvalidOrigin, fmt.Sprintf("allowed_origins[%d]", i),
				"must be an origin like https://www.example.com (scheme and host, no path)")
		}
		out = append(out, n)
	}
	slices.Sort(out)
	st.AllowedOrigins = slices.Compact(out)
	if st.Appearance.AccentColor == "" {
		st.Appearance.AccentColor = "#2563eb"
	}
	if !hexColour.MatchString(st.Appearance.AccentColor) {
		return problem.Field(CodeInvalidAppearance, "appearance.accent_color", "must be a colour like #2563eb")
	}
	st.Appearance.AccentColor = strings.ToLower(st.Appearance.AccentColor)
	if st.Appearance.Position == "" {
		st.Appearance.Position = "right"
	}
	if !slices.Contains(Positions, st.Appearance.Position) {
		return problem.Field(CodeInvalidAppearance, "appearance.position", "must be right or left")
	}
	return nil
}

// allows reports whether a browser's Origin header names one of the allowed origins.
func (st *Settings) allows(origin string) bool {
	n := normaliseOrigin(origin)
	return n != "" && slices.Contains(st.AllowedOrigins, n)
}

func loadSettings(raw json.RawMessage) Settings {
	var st Settings
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &st) // written by this package; a broken one allows nothing
	}
	return st
}

// View is a chat channel as the API shows it.
type View struct {
	Channel  *store.Channel
	Chat     *store.ChatChannel
	Settings Settings
	// EmbedSnippet is the <script> line a site pastes into its pages.
	EmbedSnippet string
}

func (s *Service) view(ch *store.Channel, cc *store.ChatChannel) *View {
	base := strings.TrimRight(s.BaseURL, "/")
	return &View{Channel: ch, Chat: cc, Settings: loadSettings(ch.Settings),
		EmbedSnippet: `<script src="` + base + `/widget/` + cc.PublicID + `.js" async></script>`}
}

// ChannelInput creates a chat channel or updates one (nil fields keep their value).
type ChannelInput struct {
	InboxID        int64
	Name           *string
	AllowedOrigins *[]string
	Appearance     *Appearance
}

func notChat(id int64) error {
	return problem.NotFoundf(CodeNotChatChannel, "channel %d is not a chat channel", id)
}

// CreateChannel creates a chat channel in an inbox, with a random public id and identity secret.
func (s *Service) CreateChannel(ctx context.Context, actor *store.User, in ChannelInput) (*View, error) {
	if in.InboxID <= 0 {
		return nil, problem.Field("missing_field", "inbox_id", "is required")
	}
	name := "Live chat"
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	if name == "" || utf8.RuneCountInString(name) > maxChannelName {
		return nil, problem.Field("invalid_name", "name", fmt.Sprintf("must be 1 to %d characters", maxChannelName))
	}
	var st Settings
	if in.AllowedOrigins != nil {
		st.AllowedOrigins = *in.AllowedOrigins
	}
	if in.Appearance != nil {
		st.Appearance = *in.Appearance
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	ch := &store.Channel{Kind: Kind, InboxID: in.InboxID, Name: name, Settings: raw, Authorized: true}
	cc := &store.ChatChannel{}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Inbox(ctx, in.InboxID); errors.Is(err, store.ErrNotFound) {
			return problem.Field("inbox_not_found", "inbox_id", "no such inbox")
		} else if err != nil {
			return err
		}
		if _, err := tx.InsertChannel(ctx, ch); err != nil {
			return err
		}
		cc.ChannelID = ch.ID
		if err := tx.InsertChatChannel(ctx, cc); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "chat_channel.create", ch.ID, map[string]any{"inbox_id": ch.InboxID, "name": ch.Name,
			"allowed_origins": st.AllowedOrigins})
	})
	if err != nil {
		return nil, err
	}
	return s.view(ch, cc), nil
}

// UpdateChannel renames a chat channel or changes its allowed origins or appearance.
func (s *Service) UpdateChannel(ctx context.Context, actor *store.User, id int64, in ChannelInput) (*View, error) {
	var v *View
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ch, err := tx.Channel(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("channel_not_found", "no channel %d", id)
		} else if err != nil {
			return err
		}
		if ch.Kind != Kind {
			return notChat(id)
		}
		st := loadSettings(ch.Settings)
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" || utf8.RuneCountInString(name) > maxChannelName {
				return problem.Field("invalid_name", "name", fmt.Sprintf("must be 1 to %d characters", maxChannelName))
			}
			ch.Name = name
		}
		if in.AllowedOrigins != nil {
			st.AllowedOrigins = *in.AllowedOrigins
		}
		if in.Appearance != nil {
			st.Appearance = *in.Appearance
		}
		if err := st.validate(); err != nil {
			return err
		}
		if ch.Settings, err = json.Marshal(st); err != nil {
			return err
		}
		if err := tx.UpdateChannel(ctx, ch); err != nil {
			return err
		}
		cc, err := s.Store.ChatChannel(ctx, id)
		if err != nil {
			return err
		}
		v = s.view(ch, cc)
		return audit(ctx, tx, actor, "chat_channel.update", ch.ID, map[string]any{"name": ch.Name,
			"allowed_origins": st.AllowedOrigins})
	})
	return v, err
}

// Channel returns a chat channel.
func (s *Service) Channel(ctx context.Context, id int64) (*View, error) {
	ch, err := s.Store.Channel(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFoundf("channel_not_found", "no channel %d", id)
	} else if err != nil {
		return nil, err
	}
	if ch.Kind != Kind {
		return nil, notChat(id)
	}
	cc, err := s.Store.ChatChannel(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("chat channel %d: %w", id, err)
	}
	return s.view(ch, cc), nil
}

func audit(ctx context.Context, tx *store.Tx, actor *store.User, action string, channelID int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e := &store.AuditEntry{Action: action, TargetType: "channel", TargetID: &channelID, Data: b}
	if actor != nil {
		e.ActorID = &actor.ID
	}
	return tx.AddAuditEntry(ctx, e)
}

// Chatflows returns a chat channel's chatflows in id order.
func (s *Service) Chatflows(ctx context.Context, channelID int64) ([]chatflow.Flow, error) {
	if _, err := s.Channel(ctx, channelID); err != nil {
		return nil, err
	}
	return s.flows(ctx, channelID)
}

// flows reads and decodes the stored flows. A stored flow that no longer decodes (written by a
// later version, say) is left out rather than breaking the widget.
func (s *Service) flows(ctx context.Context, channelID int64) ([]chatflow.Flow, error) {
	rows, err := s.Store.Chatflows(ctx, channelID)
	if err != nil {
		return nil, err
	}
	out := make([]chatflow.Flow, 0, len(rows))
	for _, r := range rows {
		f, err := chatflow.Parse(r.Flow)
		if err != nil {
			s.log().Warn("chat: a stored chatflow does not validate; ignoring it", "chatflow_id", r.ID, "err", err)
			continue
		}
		f.ID = r.ID
		out = append(out, *f)
	}
	return out, nil
}

// parseFlow reads a flow from the API for a chat channel and checks its inbox is the
// channel's: a chat channel's conversations go to its inbox.
func (s *Service) parseFlow(ctx context.Context, channelID int64, body []byte) (*chatflow.Flow, error) {
	v, err := s.Channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	f, err := chatflow.Parse(body)
	if err != nil {
		return nil, err
	}
	if f.InboxID != v.Channel.InboxID {
		return nil, problem.Field(CodeChatflowInboxDiffer, "inbox_id", "must be the chat channel's inbox")
	}
	return f, nil
}

// CreateChatflow validates a flow (chatflow.Parse) and stores it on the channel.
func (s *Service) CreateChatflow(ctx context.Context, actor *store.User, channelID int64, body []byte) (*chatflow.Flow, error) {
	f, err := s.parseFlow(ctx, channelID, body)
	if err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		f.ID = 0
		raw, err := json.Marshal(f)
		if err != nil {
			return err
		}
		row := &store.Chatflow{ChannelID: channelID, Flow: raw}
		if err := tx.InsertChatflow(ctx, row); err != nil {
			return err
		}
		// The stored JSON carries its id too, so a flow read alone is whole.
		f.ID = row.ID
		if row.Flow, err = json.Marshal(f); err != nil {
			return err
		}
		if err := tx.UpdateChatflow(ctx, row); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "chatflow.create", channelID, map[string]any{"chatflow_id": f.ID, "name": f.Name})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// UpdateChatflow replaces a stored flow with a validated one.
func (s *Service) UpdateChatflow(ctx context.Context, actor *store.User, channelID, flowID int64, body []byte) (*chatflow.Flow, error) {
	f, err := s.parseFlow(ctx, channelID, body)
	if err != nil {
		return nil, err
	}
	if f.ID != 0 && f.ID != flowID {
		return nil, problem.Field(chatflow.CodeInvalidChatflow, "id", "must be the id in the path, or absent")
	}
	f.ID = flowID
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		err := tx.UpdateChatflow(ctx, &store.Chatflow{ID: flowID, ChannelID: channelID, Flow: raw})
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf(CodeChatflowNotFound, "no chatflow %d on channel %d", flowID, channelID)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "chatflow.update", channelID, map[string]any{"chatflow_id": f.ID, "name": f.Name})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// DeleteChatflow removes a flow from the channel.
func (s *Service) DeleteChatflow(ctx context.Context, actor *store.User, channelID, flowID int64) error {
	if _, err := s.Channel(ctx, channelID); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		err := tx.DeleteChatflow(ctx, channelID, flowID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf(CodeChatflowNotFound, "no chatflow %d on channel %d", flowID, channelID)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "chatflow.delete", channelID, map[string]any{"chatflow_id": flowID})
	})
}
