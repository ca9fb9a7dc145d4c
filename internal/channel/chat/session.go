package chat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/parley-inbox/parley/internal/channel/chat/chatflow"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/routing"
	"github.com/parley-inbox/parley/internal/store"
)

// Visitor-facing error codes.
const (
	CodeWidgetNotFound     = "widget_not_found"
	CodeOriginNotAllowed   = "origin_not_allowed"
	CodeInvalidVisitorTok  = "invalid_visitor_token"
	CodeInvalidSession     = "invalid_session"
	CodeVisitorRateLimited = "visitor_rate_limited"
)

const (
	maxPageURL  = 2048
	maxName     = 200
	maxLanguage = 35
	// visitorTokenBytes is the randomness of a visitor token.
	visitorTokenBytes = 32
)

// Identity is what a site says about a signed-in user of its own (CHAT-8). Hash is
// hex(HMAC-SHA256(identity secret, email)); without a valid one nothing is claimed.
type Identity struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Hash  string `json:"hash"`
}

// SessionInput is the body of POST /widget/v1/{public_id}/session.
type SessionInput struct {
	// Token is the visitor token the widget kept from an earlier session; empty for a new visitor.
	Token    string    `json:"token"`
	PageURL  string    `json:"page_url"`
	Referrer string    `json:"referrer"`
	Language string    `json:"language"`
	Mobile   bool      `json:"mobile"`
	Identity *Identity `json:"identity"`
	// TimeZone is the browser's IANA time zone and Title the page's title (visitor context).
	TimeZone string `json:"time_zone"`
	Title    string `json:"title"`
	// UserAgent is the request's User-Agent header, set by the handler.
	UserAgent string `json:"-"`
}

// Session is the answer to a session request.
type Session struct {
	VisitorID int64 `json:"visitor_id"`
	// Token is set only when a new visitor was created: the widget keeps it.
	Token string `json:"token,omitempty"`
	// Identified says whether a verified identity is attached.
	Identified bool `json:"identified"`
	// Chatflow is the display decision of the flow the page shows; nil when no flow matches.
	Chatflow     *chatflow.Decision `json:"chatflow"`
	Availability *chatflow.Status   `json:"availability"`
	// ConversationID is the visitor's conversation, if they have one.
	ConversationID *int64     `json:"conversation_id"`
	Appearance     Appearance `json:"appearance"`
	// Heading is who the widget's heading shows (heading.go); nil for the widget's own title.
	Heading *Heading `json:"heading,omitempty"`
	// Bot says the page's flow is a bot flow (CHAT-9): the bot greets the visitor (botrun.go).
	Bot bool `json:"bot,omitempty"`
	// ConsentGiven says whether the visitor agreed to the flow's consent text (true when the
	// flow asks none); under explicit consent the widget asks before the first message.
	ConsentGiven bool `json:"consent_given"`
}

// HashToken is how visitor tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IdentityHash is what a site computes to vouch for an email: hex(HMAC-SHA256(secret, email)).
func IdentityHash(secret, email string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(email))
	return hex.EncodeToString(m.Sum(nil))
}

// verify returns the normalised email and name of a validly signed identity, or ok false.
func verify(secret string, id *Identity) (email, name string, ok bool) {
	if id == nil || id.Email == "" || id.Hash == "" {
		return "", "", false
	}
	email = strings.TrimSpace(id.Email)
	want := IdentityHash(secret, email)
	if !hmac.Equal([]byte(strings.ToLower(strings.TrimSpace(id.Hash))), []byte(want)) {
		return "", "", false
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", "", false
	}
	name = strings.TrimSpace(id.Name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxName {
		name = ""
	}
	return strings.ToLower(email), name, true
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return ""
	}
	if len(s) > n {
		return ""
	}
	return s
}

// widget is a chat channel as a visitor request reaches it.
type widget struct {
	ch       *store.Channel
	cc       *store.ChatChannel
	settings Settings
}

// widgetByPublicID finds a live chat channel by public id. Unknown ids and archived channels
// answer the same.
func (s *Service) widgetByPublicID(ctx context.Context, publicID string) (*widget, error) {
	notFound := problem.NotFoundf(CodeWidgetNotFound, "no chat widget %q", publicID)
	if publicID == "" || len(publicID) > 64 {
		return nil, notFound
	}
	cc, err := s.Store.ChatChannelByPublicID(ctx, publicID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	ch, err := s.Store.Channel(ctx, cc.ChannelID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (ch.ArchivedAt != nil || ch.Kind != Kind)) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	return &widget{ch: ch, cc: cc, settings: s.widgetSettings(ch)}, nil
}

// checkOrigin refuses a browser request from a site the channel does not allow. A request
// without an Origin is not from a page (the widget always runs in one) and is refused too.
func (w *widget) checkOrigin(origin string) error {
	if !w.settings.allows(origin) {
		return problem.Forbiddenf(CodeOriginNotAllowed, "the chat widget is not allowed on %q", origin)
	}
	return nil
}

// StartSession creates or resumes a visitor of the widget and says what the widget shows on
// the page. origin is the browser's Origin header.
func (s *Service) StartSession(ctx context.Context, publicID, origin string, in SessionInput) (*Session, error) {
	w, err := s.widgetByPublicID(ctx, publicID)
	if err != nil {
		return nil, err
	}
	if err := w.checkOrigin(origin); err != nil {
		return nil, err
	}
	page := clip(in.PageURL, maxPageURL)
	referrer := clip(in.Referrer, maxPageURL)
	lang := clip(in.Language, maxLanguage)
	email, name, verified := verify(w.cc.IdentitySecret, in.Identity)

	var v *store.ChatVisitor
	var token string
	if in.Token != "" && len(in.Token) <= 128 {
		v, err = s.Store.ChatVisitorByToken(ctx, w.ch.ID, HashToken(in.Token))
		if errors.Is(err, store.ErrNotFound) {
			v = nil
		} else if err != nil {
			return nil, err
		}
	}
	// A verified visitor's conversation belongs to that person: a token coming back with another
	// identity, or none (they signed out of the site), starts a new visitor so the next person
	// at the browser does not read it.
	if v != nil && v.Email != "" && (!verified || v.Email != email) {
		v = nil
	}
	now := s.now().UnixMilli()
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if v == nil {
			token = store.NewChatSecret() // 32 random bytes
			v = &store.ChatVisitor{ChannelID: w.ch.ID, TokenHash: HashToken(token), CreatedAt: now}
		}
		v.PageURL, v.Referrer, v.LastSeenAt = page, referrer, now
		if lang != "" {
			v.Language = lang
		}
		if verified {
			v.Email = email
			if name != "" {
				v.Name = name
			}
		}
		if v.ID == 0 {
			if err := tx.InsertChatVisitor(ctx, v); err != nil {
				return err
			}
		} else if err := tx.UpdateChatVisitor(ctx, v); err != nil {
			return err
		}
		return recordVisit(ctx, tx, v.ID, in, page, now)
	})
	if err != nil {
		return nil, err
	}
	out := &Session{VisitorID: v.ID, Token: token, Identified: v.Email != "", Appearance: w.settings.Appearance}
	conv, err := s.Store.ChatConversation(ctx, w.ch.ID, v.ThreadKey())
	if err == nil {
		out.ConversationID = &conv.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	flows, err := s.flows(ctx, w.ch.ID)
	if err != nil {
		return nil, err
	}
	f := chatflow.Pick(flows, chatflow.Page{URL: page, Referrer: referrer, Known: v.Email != "", Mobile: in.Mobile})
	// The visitor's messages go by this flow: its consent, hand-off, away and auto-close.
	if out.ConsentGiven, err = s.rememberFlow(ctx, v.ID, f); err != nil {
		return nil, err
	}
	if f != nil {
		anyone, err := s.anyoneAvailable(ctx, f)
		if err != nil {
			return nil, err
		}
		st := chatflow.Available(f, s.now(), anyone)
		d := chatflow.Decide(f, chatflow.Facts{Mobile: in.Mobile, Status: st})
		out.Chatflow, out.Availability = &d, &st
		out.Bot = f.Type == chatflow.TypeBot && f.Bot != nil
		if d.Launcher {
			if out.Heading, err = s.heading(ctx, f, conv); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// anyoneAvailable says whether anyone the flow hands off to could take a chat now: active, an
// agent or admin, a member of the inbox, set available and inside their working hours
// (routing's own checks, capacity aside: a full agent is still there). A flow naming nobody
// counts everyone with access to the inbox.
func (s *Service) anyoneAvailable(ctx context.Context, f *chatflow.Flow) (bool, error) {
	if f.Availability.Mode != chatflow.ModeTeamStatus {
		return false, nil // Available ignores it
	}
	agents, err := s.Store.ChatAgents(ctx, f.InboxID, f.HandOff.UserIDs, f.HandOff.TeamIDs)
	if err != nil {
		return false, fmt.Errorf("chat availability: %w", err)
	}
	now := s.now()
	for _, a := range agents {
		c := &routing.Candidate{UserID: a.UserID, Role: a.Role, Deactivated: a.Deactivated, InboxMember: a.InboxMember,
			Status: a.Status}
		if a.WorkingHours != nil {
			if w, err := routing.ParseWorkingHours(a.WorkingHours); err == nil {
				c.WorkingHours = w
			}
		}
		if reason, _ := routing.Check(c, true, "", now); reason == "" {
			return true, nil
		}
	}
	return false, nil
}

// visitorByToken authenticates a visitor connection.
func (s *Service) visitorByToken(ctx context.Context, w *widget, token string) (*store.ChatVisitor, error) {
	bad := problem.New(problem.Unauthorized, CodeInvalidVisitorTok, "the visitor token is unknown; start a new session")
	if token == "" || len(token) > 128 {
		return nil, bad
	}
	v, err := s.Store.ChatVisitorByToken(ctx, w.ch.ID, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, bad
	}
	return v, err
}
