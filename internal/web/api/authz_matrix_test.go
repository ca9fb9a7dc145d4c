package api

// The authorization matrix (SPEC SEC-1, ACCESS-9): every route of the route table × every kind of
// caller × inbox membership, generated from Routes() so that a new route cannot escape it. A
// route the generator cannot fill (an unknown path parameter, a write without a sample body, an
// inbox-bound id without a Scope) fails the test with a message saying what to add.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel/chat"
	"github.com/parley-inbox/parley/internal/channel/email"
	"github.com/parley-inbox/parley/internal/web/session"

	"github.com/parley-inbox/parley/internal/auth"
	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
	"github.com/parley-inbox/parley/internal/workspace"
)

// Words that appear only in inbox A's conversation: its subject, its message, its comment and
// its contact's name. A response to someone who may not see inbox A must contain none of them.
const (
	matrixSubjectWord = "zebrasubjectword"
	matrixMessageWord = "quokkamessageword"
	matrixCommentWord = "narwhalcommentword"
	matrixContactWord = "walruscontactword"
)

var matrixSecrets = []string{matrixSubjectWord, matrixMessageWord, matrixCommentWord, matrixContactWord}

const (
	matrixPassword = "correct horse battery staple"
	// The matrix's channels are email channels so the email routes have one to act on; replies
	// on them go through matrixSender.
	matrixChannelKind = email.Kind
	// matrixMissingID names nothing; hidden ids must be answered exactly like it.
	matrixMissingID = "987654321"
)

// matrixRole is what a caller may do, and so what the matrix expects of every route.
type matrixRole int

const (
	// matrixNobody has no credentials or credentials that must not work: every non-public route
	// answers 401.
	matrixNobody matrixRole = iota
	// matrixMember is an agent who may see inbox A, directly or through a team.
	matrixMember
	// matrixOutsider is an agent who may not see inbox A (only inbox B, open to everyone).
	matrixOutsider
	// matrixAdmin is an owner or admin: they manage everything.
	matrixAdmin
)

type matrixCaller struct {
	name string
	role matrixRole
	// token is sent as a bearer token (or ?hapikey= where a route takes it); session, when set,
	// returns a session token to send as the cookie.
	token   string
	session func() string
}

// matrixKind is the kind of object a path parameter names.
type matrixKind int

const (
	matrixKindOther matrixKind = iota
	matrixKindConversation
	matrixKindContact
	matrixKindInbox
	matrixKindChannel
	// Objects that live in an inbox but have no Scope yet: only Admin routes may take them.
	matrixKindChannelAccount
	matrixKindMessage
)

// inboxBound kinds are reachable only through inbox membership: a Signed route that takes one
// must declare a Scope, or the matrix could not prove outsiders get 404.
func (k matrixKind) inboxBound() bool { return k != matrixKindOther }

func (k matrixKind) scope() Scope {
	switch k {
	case matrixKindConversation:
		return ScopeConversation
	case matrixKindContact:
		return ScopeContact
	case matrixKindInbox:
		return ScopeInbox
	case matrixKindChannel:
		return ScopeChannel
	}
	return ScopeNone
}

// matrixParam fills one path parameter with an object of the fixture. fresh is true for requests
// that change things: they get an object of their own, so every request sees the same fixture.
// filled holds the parameters to its left (by matrixParams key), for objects that belong to them.
type matrixParam struct {
	kind matrixKind
	fill func(f *matrixFixture, fresh bool, filled map[string]string) string
}

// matrixParams fills path parameters by the path segment before them and their name. Add an entry
// when a route introduces a new parameter; for an object that lives in an inbox, use inbox A and
// give it a kind (and its routes a Scope).
var matrixParams = map[string]matrixParam{
	"conversations/{id}": {matrixKindConversation, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newConversationA().ID)
		}
		return itoa(f.convA.ID)
	}},
	"contacts/{id}": {matrixKindContact, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(*f.newConversationA().ContactID)
		}
		return itoa(f.contactA)
	}},
	"inboxes/{id}": {matrixKindInbox, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			// Without the deactivated agent: the workspace refuses to save an inbox that grants
			// access to a deactivated user, even when a change leaves the grants alone.
			return itoa(f.newInbox("specific", []int64{f.member.ID}, []int64{f.team.ID}).ID)
		}
		return itoa(f.inboxA.ID)
	}},
	"channels/{id}": {matrixKindChannel, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newChannel(f.inboxA).ID)
		}
		return itoa(f.chA.ID)
	}},
	"users/{id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newUser("agent").ID)
		}
		return itoa(f.member.ID)
	}},
	"teams/{id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newTeam().ID)
		}
		return itoa(f.team.ID)
	}},
	"members/{user_id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		u := f.newUser("agent")
		if fresh {
			// A member of the team, so that removing them or changing their membership succeeds.
			teamID, err := strconv.ParseInt(filled["teams/{id}"], 10, 64)
			if err != nil {
				f.t.Fatal(err)
			}
			f.tx(func(tx *store.Tx) error {
				_, err := tx.SetTeamMember(f.ctx, store.TeamMember{TeamID: teamID, UserID: u.ID, IsPrimary: true})
				return err
			})
		}
		return itoa(u.ID)
	}},
	"tokens/{id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		return itoa(f.newToken(f.spare).ID)
	}},
	"jobs/{id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newFailedJob())
		}
		return itoa(f.job)
	}},
	"channels/{channel_id}": {matrixKindChannel, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return itoa(f.newChatChannel(f.inboxA))
		}
		if f.chatA == 0 {
			f.chatA = f.newChatChannel(f.inboxA)
		}
		return itoa(f.chatA)
	}},
	"chatflows/{flow_id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		return f.newChatflow(filled["channels/{channel_id}"])
	}},
	"bots/{id}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		return f.newBot()
	}},
	"versions/{version}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		return "1"
	}},
	"custom-channels/{channelId}": {matrixKindOther, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return f.newCustomChannel()
		}
		return f.customChannel
	}},
	"channel-accounts/{accountId}": {matrixKindChannelAccount, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			return f.newChannelAccount(filled["custom-channels/{channelId}"])
		}
		return f.channelAccount
	}},
	"messages/{messageId}": {matrixKindMessage, func(f *matrixFixture, fresh bool, filled map[string]string) string {
		if fresh {
			channelID := filled["custom-channels/{channelId}"]
			return f.publish(channelID, f.newChannelAccount(channelID), "OUTGOING", "We shipped it")
		}
		return f.customMessage
	}},
}

// matrixBodies holds a small valid body for every route that takes one ("" for none). Every
// POST, PUT and PATCH route must have an entry. Bodies must not change who may see inbox A.
var matrixBodies = map[string]func(f *matrixFixture, params map[string]string) string{
	"POST /api/v1/auth/session": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"email": f.newUser("agent").Email, "password": matrixPassword})
	},
	"POST /api/v1/setup": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"token": "pst_notasetuptoken", "email": f.uniqueEmail(), "name": "Setup",
			"password": matrixPassword})
	},
	"POST /api/v1/tokens": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "matrix " + f.unique()})
	},
	"POST /api/v1/users": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"email": f.uniqueEmail(), "name": "New person", "role": "agent",
			"password": matrixPassword})
	},
	"PATCH /api/v1/users/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"job_title": "Tester"})
	},
	"POST /api/v1/teams": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Team " + f.unique()})
	},
	"PATCH /api/v1/teams/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Team " + f.unique()})
	},
	"PUT /api/v1/teams/{id}/members/{user_id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"is_primary": false})
	},
	"POST /api/v1/inboxes": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Inbox " + f.unique(), "access": "everyone"})
	},
	"PATCH /api/v1/inboxes/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Renamed " + f.unique()})
	},
	"PATCH /api/v1/conversations/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"priority": "high", "tags": []string{"matrix"}})
	},
	"POST /api/v1/conversations/{id}/messages": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"text": "Thanks, looking into it."})
	},
	"POST /api/v1/conversations/{id}/comments": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"body": "A note from the matrix."})
	},
	"POST /api/v1/conversations/{id}/read": func(f *matrixFixture, params map[string]string) string { return "" },
	"POST /api/v1/conversations/{id}/transcript": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"to": "grace@example.com"})
	},
	"POST /api/v1/jobs/{id}/retry": func(f *matrixFixture, params map[string]string) string { return "" },
	"POST /api/v1/contacts": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Grace Hopper", "emails": []string{f.uniqueEmail()}})
	},
	"PATCH /api/v1/contacts/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"company": "Acme"})
	},
	"PUT /api/v1/channels/{id}/routing": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"enabled": true, "assign_to": "users_and_teams", "user_ids": []int64{f.member.ID},
			"team_ids": []int64{f.team.ID}, "only_available": true, "strategy": "round_robin"})
	},
	"POST /api/v1/channels": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"kind": "email", "inbox_id": f.inboxA.ID, "address": "m" + f.unique() + "@acme.example"})
	},
	"PATCH /api/v1/channels/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"company_name": "Acme " + f.unique()})
	},
	"POST /api/v1/channels/{id}/test-email":    func(f *matrixFixture, params map[string]string) string { return "" },
	"POST /api/v1/channels/{id}/inbound-email": func(f *matrixFixture, params map[string]string) string { return "" },
	"PUT /api/v1/inboxes/{id}/slack": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"channel_id": "C0123456789", "enabled": false})
	},
	"POST /api/v1/inboxes/{id}/slack/test": func(f *matrixFixture, params map[string]string) string { return "" },
	"PUT /api/v1/inboxes/{id}/email-filters": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"allow": []string{"partner.example"}, "deny": []string{"spam@bulk.example"}})
	},
	"PUT /api/v1/users/{id}/availability": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"status": "away"})
	},
	"PUT /api/v1/users/{id}/working-hours": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"time_zone": "Europe/Stockholm",
			"days": map[string]any{"mon": []map[string]string{{"start": "09:00", "end": "17:00"}}}})
	},
	"POST /api/v1/channels/{channel_id}/chatflows": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Pricing " + f.unique(), "inbox_id": f.inboxA.ID, "enabled": true})
	},
	"PUT /api/v1/channels/{channel_id}/chatflows/{flow_id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Renamed " + f.unique(), "inbox_id": f.inboxA.ID})
	},
	"PUT /api/v1/users/{id}/capacity": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"total": 5, "messaging": 3})
	},
	"POST /api/v1/bots": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Bot " + f.unique(), "definition": json.RawMessage(matrixBotDefinition)})
	},
	"PUT /api/v1/bots/{id}": func(f *matrixFixture, params map[string]string) string {
		return jsonBody(map[string]any{"name": "Renamed " + f.unique(), "definition": json.RawMessage(matrixBotDefinition)})
	},
	"POST /api/v1/conversations/{id}/bot/takeover": func(f *matrixFixture, params map[string]string) string {
		f.botRun(params["conversations/{id}"]) // a bot has the conversation, so taking it over succeeds
		return ""
	},
}

// The custom channels API runs under two prefixes with the same routes; each gets a body.
func init() {
	for _, prefix := range customChannelPrefixes {
		matrixBodies["POST "+prefix] = func(f *matrixFixture, params map[string]string) string {
			return jsonBody(matrixCustomChannelBody(f))
		}
		matrixBodies["PATCH "+prefix+"/{channelId}"] = func(f *matrixFixture, params map[string]string) string {
			return jsonBody(map[string]any{"channelDescription": "Updated by the matrix"})
		}
		matrixBodies["POST "+prefix+"/{channelId}/secret/rotate"] = func(f *matrixFixture, params map[string]string) string {
			return ""
		}
		matrixBodies["POST "+prefix+"/{channelId}/channel-accounts"] = func(f *matrixFixture, params map[string]string) string {
			return jsonBody(matrixAccountBody(f))
		}
		matrixBodies["PATCH "+prefix+"/{channelId}/channel-accounts/{accountId}"] = func(f *matrixFixture, params map[string]string) string {
			return jsonBody(map[string]any{"name": "Renamed " + f.unique()})
		}
		matrixBodies["POST "+prefix+"/{channelId}/messages"] = func(f *matrixFixture, params map[string]string) string {
			channelID := params["custom-channels/{channelId}"]
			return jsonBody(matrixPublishBody(f, f.newChannelAccount(channelID), "INCOMING", "Is anyone there?"))
		}
		matrixBodies["PATCH "+prefix+"/{channelId}/messages/{messageId}"] = func(f *matrixFixture, params map[string]string) string {
			return jsonBody(map[string]any{"statusType": "SENT"})
		}
	}
}

func matrixCustomChannelBody(f *matrixFixture) map[string]any {
	return map[string]any{
		"name": "Matrix channel " + f.unique(),
		"capabilities": map[string]any{
			"deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID"},
			"threadingModel":          "INTEGRATION_THREAD_ID",
			"allowOutgoingMessages":   true,
		},
	}
}

// matrixAccountBody connects a channel account to inbox A.
func matrixAccountBody(f *matrixFixture) map[string]any {
	return map[string]any{
		"inboxId": itoa(f.inboxA.ID), "name": "Account " + f.unique(), "authorized": true,
		"deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business-" + f.unique()},
	}
}

func matrixPublishBody(f *matrixFixture, accountID, direction, text string) map[string]any {
	n := f.unique()
	customer := map[string]any{"name": "Customer " + n,
		"deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "customer-" + n}}
	business := map[string]any{"name": "Acme",
		"deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "business"}}
	senders, recipients := customer, business
	if direction == "OUTGOING" {
		senders, recipients = business, customer
	}
	return map[string]any{
		"channelAccountId": accountID, "messageDirection": direction,
		"integrationThreadId": "thread-" + n, "integrationIdempotencyId": "key-" + n,
		"text": text, "timestamp": "2024-03-09T16:00:00.000Z",
		"senders": []any{senders}, "recipients": []any{recipients}, "attachments": []any{},
	}
}

// matrixSender accepts every reply, so replies in the matrix succeed.
type matrixSender struct{}

func (matrixSender) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	return "matrix-" + itoa(out.Message.ID), nil
}

// matrixFixture is a workspace with two inboxes: A (specific: one agent directly, one through a
// team) holding a conversation with a message and a comment, whose contact has no other
// conversation, and a custom channel account with a published message; and B, open to everyone,
// holding another conversation.
type matrixFixture struct {
	t   *testing.T
	ctx context.Context
	s   *store.Store
	ts  *testServer
	doc openapiDoc
	h   http.Handler // the API under test (ts.Handler)
	// last describes the latest answer checkCall saw, for messages.
	last string
	svc  *inbox.Service
	ws   *workspace.Service
	n    int

	owner, admin, member, teamMember, outsider, deactivated, spare *store.User
	adminToken                                                     string
	team                                                           *store.Team
	inboxA, inboxB                                                 *store.Inbox
	chA, chB                                                       *store.Channel
	convA, convB                                                   *store.Conversation
	contactA                                                       int64
	// The custom channel, its account in inbox A and a message published there (ids as the
	// custom channels API renders them).
	customChannel, channelAccount, customMessage string
	job                                          int64 // a failed job
	// chatA is a chat channel in inbox A, made on first use.
	chatA int64

	callers []matrixCaller
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (f *matrixFixture) unique() string { f.n++; return strconv.Itoa(f.n) }

func (f *matrixFixture) uniqueEmail() string { return "matrix-person" + f.unique() + "@example.com" }

func (f *matrixFixture) tx(fn func(tx *store.Tx) error) {
	f.t.Helper()
	if err := f.s.InTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// newUser creates an active user with matrixPassword.
func (f *matrixFixture) newUser(role string) *store.User {
	f.t.Helper()
	hash, err := auth.HashPassword(matrixPassword)
	if err != nil {
		f.t.Fatal(err)
	}
	n := f.unique()
	u := &store.User{Email: "matrix-" + role + n + "@example.com", Name: "Person " + n, Role: role,
		Locale: "en", TimeZone: "UTC", PasswordHash: hash}
	f.tx(func(tx *store.Tx) error { return tx.CreateUser(f.ctx, u) })
	return u
}

func (f *matrixFixture) newTeam(members ...*store.User) *store.Team {
	f.t.Helper()
	team := &store.Team{Name: "Team " + f.unique()}
	f.tx(func(tx *store.Tx) error {
		if err := tx.CreateTeam(f.ctx, team); err != nil {
			return err
		}
		for _, u := range members {
			if _, err := tx.SetTeamMember(f.ctx, store.TeamMember{TeamID: team.ID, UserID: u.ID, IsPrimary: true}); err != nil {
				return err
			}
		}
		return nil
	})
	return team
}

func (f *matrixFixture) newInbox(access string, userIDs, teamIDs []int64) *store.Inbox {
	f.t.Helper()
	in := &store.Inbox{Name: "Inbox " + f.unique(), Access: access, UserIDs: userIDs, TeamIDs: teamIDs}
	f.tx(func(tx *store.Tx) error { return tx.CreateInbox(f.ctx, in) })
	return in
}

// newInboxLikeA creates an inbox with inbox A's members.
func (f *matrixFixture) newInboxLikeA() *store.Inbox {
	return f.newInbox("specific", []int64{f.member.ID, f.deactivated.ID}, []int64{f.team.ID})
}

func (f *matrixFixture) newChannel(in *store.Inbox) *store.Channel {
	f.t.Helper()
	addr := "matrix-" + f.unique() + "@acme.example"
	ch := &store.Channel{InboxID: in.ID, Kind: matrixChannelKind, Name: "Matrix " + f.unique(), Authorized: true,
		AddressType: "email", Address: addr, Settings: json.RawMessage(`{"address":"` + addr + `","webhook_secret":"matrix-webhook-secret"}`)}
	f.tx(func(tx *store.Tx) error { _, err := tx.InsertChannel(f.ctx, ch); return err })
	return ch
}

// newChatChannel creates a chat channel in the inbox and returns its id.
func (f *matrixFixture) newChatChannel(in *store.Inbox) int64 {
	f.t.Helper()
	origins := []string{"https://www.example.com"}
	v, err := f.ts.API.Chat.CreateChannel(f.ctx, nil, chat.ChannelInput{InboxID: in.ID, AllowedOrigins: &origins})
	if err != nil {
		f.t.Fatal(err)
	}
	return v.Channel.ID
}

const matrixBotDefinition = `{"steps":[{"id":"hi","type":"send_message","send_message":{"text":"Hello"}}]}`

// botRun gives a conversation (by id as a path string) an active bot run, unless it does not
// exist (the matrix's missing id).
func (f *matrixFixture) botRun(conversationID string) {
	f.t.Helper()
	id, err := strconv.ParseInt(conversationID, 10, 64)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.s.Conversation(f.ctx, id, 0); err != nil {
		return
	}
	botID, _ := strconv.ParseInt(f.newBot(), 10, 64)
	f.tx(func(tx *store.Tx) error {
		return tx.UpsertBotRun(f.ctx, &store.BotRun{ConversationID: id, BotID: botID, Version: 1,
			State: json.RawMessage(`{"version":1,"language":"en"}`), Status: store.BotRunActive})
	})
}

// newBot creates a bot and returns its id.
func (f *matrixFixture) newBot() string {
	f.t.Helper()
	name := "Bot " + f.unique()
	b, err := f.ts.API.Chat.CreateBot(f.ctx, nil, chat.BotInput{Name: &name, Definition: json.RawMessage(matrixBotDefinition)})
	if err != nil {
		f.t.Fatal(err)
	}
	return itoa(b.ID)
}

// newChatflow adds a chatflow to a chat channel (by id as a path string) and returns its id.
func (f *matrixFixture) newChatflow(channelID string) string {
	f.t.Helper()
	id, err := strconv.ParseInt(channelID, 10, 64)
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := f.ts.API.Chat.Channel(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	body := jsonBody(map[string]any{"name": "Flow " + f.unique(), "inbox_id": v.Channel.InboxID})
	fl, err := f.ts.API.Chat.CreateChatflow(f.ctx, nil, id, []byte(body))
	if err != nil {
		f.t.Fatal(err)
	}
	return itoa(fl.ID)
}

// newToken creates an API token for u (for routes that act on a token by id).
func (f *matrixFixture) newToken(u *store.User) *store.APIToken {
	f.t.Helper()
	_, tok, err := f.ws.CreateToken(f.ctx, nil, u.ID, "matrix "+f.unique())
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *matrixFixture) tokenSecret(u *store.User) string {
	f.t.Helper()
	secret, _, err := f.ws.CreateToken(f.ctx, nil, u.ID, "matrix "+f.unique())
	if err != nil {
		f.t.Fatal(err)
	}
	return secret
}

// receive stores an inbound message on ch from a new contact.
func (f *matrixFixture) receive(ch *store.Channel, contactName, subject, text string) *store.Conversation {
	f.t.Helper()
	n := f.unique()
	_, conv, _, err := f.svc.Receive(f.ctx, inbox.Inbound{
		ChannelID:         ch.ID,
		ThreadKey:         "thread-" + n,
		ContactName:       contactName + " " + n,
		ContactIdentities: []store.Identity{{Kind: "email", Value: "customer" + n + "@example.net"}},
		Subject:           subject,
		Text:              text,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return conv
}

// newConversationA creates a conversation in inbox A, from a new contact, carrying the secret
// words in its subject, message and comment.
func (f *matrixFixture) newConversationA() *store.Conversation {
	f.t.Helper()
	conv := f.receive(f.chA, "Ada "+matrixContactWord, "Refund "+matrixSubjectWord, "My order "+matrixMessageWord+" never arrived")
	if _, err := f.svc.Comment(f.ctx, f.member, conv.ID, inbox.CommentInput{Body: "Escalate " + matrixCommentWord}); err != nil {
		f.t.Fatal(err)
	}
	return conv
}

// newFailedJob enqueues a job of a kind no worker runs and fails it, as a worker would.
func (f *matrixFixture) newFailedJob() int64 {
	f.t.Helper()
	const kind, node = "matrix.test", "matrix-node"
	f.tx(func(tx *store.Tx) error {
		_, err := tx.EnqueueJob(f.ctx, store.NewJob{Kind: kind, Payload: map[string]string{"n": f.unique()}, MaxAttempts: 1})
		return err
	})
	job, err := f.s.ClaimJob(f.ctx, node, []string{kind}, time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.FailJob(f.ctx, job.ID, node, "the matrix failed it"); err != nil {
		f.t.Fatal(err)
	}
	return job.ID
}

// adminCall makes a request the fixture needs as the admin and decodes the JSON answer.
func (f *matrixFixture) adminCall(method, path string, body any, want int) map[string]any {
	f.t.Helper()
	var out map[string]any
	f.ts.doInto(f.t, method, path, f.adminToken, body, want, &out)
	return out
}

// newCustomChannel registers a custom channel and returns its id.
func (f *matrixFixture) newCustomChannel() string {
	f.t.Helper()
	out := f.adminCall(http.MethodPost, customChannelPrefixes[0], matrixCustomChannelBody(f), http.StatusCreated)
	return out["id"].(string)
}

// newChannelAccount connects an account of the custom channel to inbox A and returns its id.
func (f *matrixFixture) newChannelAccount(channelID string) string {
	f.t.Helper()
	out := f.adminCall(http.MethodPost, customChannelPrefixes[0]+"/"+channelID+"/channel-accounts", matrixAccountBody(f), http.StatusCreated)
	return out["id"].(string)
}

// publish publishes a message through the account and returns its id.
func (f *matrixFixture) publish(channelID, accountID, direction, text string) string {
	f.t.Helper()
	out := f.adminCall(http.MethodPost, customChannelPrefixes[0]+"/"+channelID+"/messages",
		matrixPublishBody(f, accountID, direction, text), http.StatusCreated)
	return out["id"].(string)
}

func newMatrixFixture(t *testing.T, s *store.Store) *matrixFixture {
	t.Helper()
	f := &matrixFixture{t: t, ctx: t.Context(), s: s, ts: newTestServer(t, s), doc: loadOpenAPI(t)}
	f.svc, f.ws, f.h = f.ts.Inbox, f.ts.WS, f.ts.Handler
	f.svc.Senders = map[string]channel.Sender{matrixChannelKind: matrixSender{}}

	f.owner = f.newUser("owner")
	f.admin = f.newUser("admin")
	f.member = f.newUser("agent")
	f.teamMember = f.newUser("agent")
	f.outsider = f.newUser("agent")
	f.deactivated = f.newUser("agent")
	f.spare = f.newUser("agent")
	f.adminToken = f.tokenSecret(f.admin)
	f.team = f.newTeam(f.teamMember)
	f.inboxA = f.newInboxLikeA()
	f.inboxB = f.newInbox("everyone", nil, nil)
	f.chA = f.newChannel(f.inboxA)
	f.chB = f.newChannel(f.inboxB)
	f.convA = f.newConversationA()
	f.contactA = *f.convA.ContactID
	f.convB = f.receive(f.chB, "Bob", "Hello from B", "A question anyone may read")
	f.customChannel = f.newCustomChannel()
	f.channelAccount = f.newChannelAccount(f.customChannel)
	f.customMessage = f.publish(f.customChannel, f.channelAccount, "INCOMING", "Order "+matrixMessageWord+" is late")
	f.job = f.newFailedJob()

	// The deactivated agent is a member of inbox A and kept a token and a session: only the
	// deactivation stands between them and the data.
	deactivatedToken := f.tokenSecret(f.deactivated)
	deactivatedSession, err := f.ws.NewSession(f.ctx, f.deactivated)
	if err != nil {
		t.Fatal(err)
	}
	f.tx(func(tx *store.Tx) error {
		now := store.Now()
		f.deactivated.DeactivatedAt = &now
		return tx.UpdateUser(f.ctx, f.deactivated)
	})
	// The revoked token belongs to a member of inbox A.
	revoked, revokedTok, err := f.ws.CreateToken(f.ctx, nil, f.member.ID, "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ws.RevokeToken(f.ctx, nil, revokedTok.ID); err != nil {
		t.Fatal(err)
	}

	f.callers = []matrixCaller{
		{name: "anonymous", role: matrixNobody},
		{name: "garbage token", role: matrixNobody, token: "pt_notatoken"},
		{name: "deactivated member (token)", role: matrixNobody, token: deactivatedToken},
		{name: "deactivated member (session)", role: matrixNobody, session: func() string { return deactivatedSession }},
		{name: "revoked token of a member", role: matrixNobody, token: revoked},
		{name: "agent member of A", role: matrixMember, token: f.tokenSecret(f.member)},
		{name: "agent member of A through a team", role: matrixMember, session: f.newSession(f.teamMember)},
		{name: "agent outside A", role: matrixOutsider, token: f.tokenSecret(f.outsider)},
		{name: "admin", role: matrixAdmin, token: f.adminToken},
		{name: "owner", role: matrixAdmin, session: f.newSession(f.owner)},
	}
	return f
}

// newSession returns a function that starts a new session for u on every call, so that signing
// out in one request does not sign the caller out of the next.
func (f *matrixFixture) newSession(u *store.User) func() string {
	return func() string {
		f.t.Helper()
		token, err := f.ws.NewSession(f.ctx, u)
		if err != nil {
			f.t.Fatal(err)
		}
		return token
	}
}

// matrixT is the part of testing.T the checks use, so the matrix's own test can record what
// they report.
type matrixT interface {
	Helper()
	Errorf(format string, args ...any)
}

// matrixResponse is what one request answered.
type matrixResponse struct {
	status int
	code   string // the problem code, if the body is problem+json
	body   string
}

// matrixVia says how a caller's token travels.
type matrixVia int

const (
	viaHeader matrixVia = iota // Authorization: Bearer, or the session cookie
	viaQuery                   // ?hapikey= (HubSpot's developer key parameter)
)

func (f *matrixFixture) do(t matrixT, c matrixCaller, via matrixVia, method, path, body string) matrixResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if via == viaQuery {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "hapikey=" + url.QueryEscape(c.token)
	}
	r := httptest.NewRequestWithContext(f.ctx, method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if via == viaHeader {
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.session != nil {
			r.AddCookie(&http.Cookie{Name: session.Cookie, Value: c.session()})
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	res := matrixResponse{status: w.Code, body: w.Body.String()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		var p struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Errorf("%s %s as %s: problem body is not JSON: %v\n%s", method, path, c.name, err, res.body)
		}
		res.code = p.Code
	}
	return res
}

// matrixPlan is how the matrix calls one route.
type matrixPlan struct {
	route Route
	// scopeParam is the matrixParams key of the parameter the route's Scope refers to.
	scopeParam string
	body       func(f *matrixFixture, params map[string]string) string
	fresh      bool // the request changes things: fill parameters with objects of its own
}

// planRoute works out how to call rt, or reports what the developer must add.
func planRoute(rt Route) (matrixPlan, []string) {
	p := matrixPlan{route: rt, fresh: rt.Method != http.MethodGet && rt.Method != http.MethodHead}
	var problems []string
	key := rt.Method + " " + rt.Pattern
	switch rt.Access {
	case Public, Signed, Admin:
	default:
		problems = append(problems, fmt.Sprintf("unknown Access %d: teach the matrix what it means", rt.Access))
	}
	switch rt.Scope {
	case ScopeNone, ScopeConversation, ScopeContact, ScopeInbox, ScopeChannel:
	default:
		problems = append(problems, fmt.Sprintf("unknown Scope %d: teach matrixKind.scope about it and give a matrixParams entry that kind", rt.Scope))
	}
	segments := strings.Split(strings.Trim(rt.Pattern, "/"), "/")
	for i, seg := range segments {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		prev := ""
		if i > 0 {
			prev = segments[i-1]
		}
		pk := prev + "/" + seg
		param, ok := matrixParams[pk]
		if !ok {
			problems = append(problems, fmt.Sprintf("path parameter %s: add %q to matrixParams in authz_matrix_test.go (an object of the fixture; in inbox A for objects that live in an inbox)", seg, pk))
			continue
		}
		if param.kind.inboxBound() {
			if rt.Scope == ScopeNone && rt.Access == Signed {
				problems = append(problems, fmt.Sprintf("%s names an object that lives in an inbox but the route has no Scope: give it one (add a Scope value if none fits) so the matrix proves outsiders get 404", seg))
			}
			if rt.Scope != ScopeNone && param.kind.scope() == rt.Scope {
				p.scopeParam = pk
			}
		}
	}
	if rt.Scope != ScopeNone && p.scopeParam == "" {
		problems = append(problems, fmt.Sprintf("the route has Scope %d but no path parameter of that kind", rt.Scope))
	}
	if b, ok := matrixBodies[key]; ok {
		p.body = b
	} else if rt.Method == http.MethodPost || rt.Method == http.MethodPut || rt.Method == http.MethodPatch {
		problems = append(problems, fmt.Sprintf("add a small valid body for %q to matrixBodies in authz_matrix_test.go (\"\" if it takes none)", key))
	}
	return p, problems
}

// request fills the route's path parameters and body for one request by c. missing, when set,
// replaces the scope parameter's value. Writes by callers who may make them get objects of their
// own; the others are refused, so they can share the fixture's objects (and if a write is
// wrongly let through, the test fails anyway).
func (f *matrixFixture) request(p matrixPlan, c matrixCaller, missing string) (path, body string) {
	fresh := p.fresh && (c.role == matrixMember || c.role == matrixAdmin)
	segments := strings.Split(p.route.Pattern, "/")
	filled := map[string]string{}
	for i, seg := range segments {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		pk := segments[i-1] + "/" + seg
		v := matrixParams[pk].fill(f, fresh, filled)
		if pk == p.scopeParam && missing != "" {
			v = missing
		}
		filled[pk] = v
		segments[i] = v
	}
	if p.body != nil {
		body = p.body(f, filled)
	}
	return strings.Join(segments, "/"), body
}

// authCodes are the codes the middleware answers when it does not accept the credentials.
var authCodes = []string{"unauthorized", "invalid_token", "session_expired"}

// matrixNoSuccess lists the routes no caller of the matrix can make succeed, and why. Every other
// route must answer 2xx to someone: a matrix whose requests all fail for a bad body or id would
// prove nothing about access.
var matrixNoSuccess = map[string]string{
	"POST /api/v1/setup": "setup is only possible on an installation without users",
	// A plain request gets 400 websocket_required from signed-in callers (401 from the others, as
	// the matrix checks); what a WebSocket carries to whom is proven in realtime_test.go.
	"GET /api/v1/realtime": "it answers only WebSocket upgrades, which httptest cannot make",
	// Mail providers authenticate with the channel's webhook secret, which no caller of the matrix
	// holds; email_channels_test.go posts mail with it.
	"POST /api/v1/channels/{id}/inbound-email": "it takes the channel's webhook secret, not a user's credentials",
	// Testing calls Slack's auth.test with the inbox's bot token, which the fixture has none of
	// (409 slack_not_configured); internal/web/api/slack_test.go tests it against a local Slack.
	"POST /api/v1/inboxes/{id}/slack/test": "it needs a Slack bot token and Slack's answer",
}

// checkRoute calls one route as every caller and checks the answers.
func (f *matrixFixture) checkRoute(t matrixT, p matrixPlan) {
	t.Helper()
	rt := p.route
	succeeded := false
	for _, c := range f.callers {
		vias := []matrixVia{viaHeader}
		if rt.QueryToken && c.token != "" {
			vias = append(vias, viaQuery)
		}
		for _, via := range vias {
			if status := f.checkCall(t, p, c, via); status >= 200 && status < 300 {
				succeeded = true
			}
		}
	}
	if _, excused := matrixNoSuccess[routeKey(rt)]; !succeeded && !excused {
		t.Errorf("%s: no caller got a 2xx answer (last: %s): fix its matrixParams or matrixBodies entry so that members or admins succeed", routeKey(rt), f.last)
	}
	// ?hapikey= is only a credential where the route allows it.
	if rt.Access != Public && !rt.QueryToken {
		admin := matrixCaller{name: "admin with ?hapikey=", role: matrixAdmin, token: f.adminToken}
		path, body := f.request(p, admin, "")
		res := f.do(t, admin, viaQuery, rt.Method, path, body)
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s %s as %s: got %d %s, want 401: this route does not take ?hapikey=", rt.Method, path, admin.name, res.status, res.code)
		}
	}
}

// checkCall makes one request and checks its answer; it returns the status.
func (f *matrixFixture) checkCall(t matrixT, p matrixPlan, c matrixCaller, via matrixVia) int {
	t.Helper()
	rt := p.route
	path, body := f.request(p, c, "")
	res := f.do(t, c, via, rt.Method, path, body)
	where := fmt.Sprintf("%s %s as %s", rt.Method, path, c.name)
	f.last = fmt.Sprintf("%s: %d %s", where, res.status, strings.TrimSpace(res.body))
	if via == viaQuery {
		where += " (token in ?hapikey=)"
	}
	f.checkGeneric(t, where, res)
	if res.status >= 200 && res.status < 300 {
		if err := f.doc.checkResponse(rt, res.status, []byte(res.body)); err != nil {
			t.Errorf("%s: the answer does not match openapi.json: %v\n%s", where, err, res.body)
		}
	}
	if rt.Access == Public {
		if c.role == matrixNobody && res.status == http.StatusUnauthorized && slices.Contains(authCodes, res.code) {
			t.Errorf("%s: public route demands sign-in: %d %s", where, res.status, res.code)
		}
		return res.status
	}
	switch c.role {
	case matrixNobody:
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: got %d %s, want 401", where, res.status, res.code)
		}
	case matrixMember, matrixOutsider:
		if rt.Access == Admin {
			if res.status != http.StatusForbidden || res.code != "admin_only" {
				t.Errorf("%s: agent on an admin route got %d %s, want 403 admin_only", where, res.status, res.code)
			}
			break
		}
		if res.status == http.StatusUnauthorized {
			t.Errorf("%s: signed-in agent got 401 %s", where, res.code)
		}
		if rt.Scope == ScopeNone {
			break
		}
		if c.role == matrixMember && res.status == http.StatusNotFound {
			t.Errorf("%s: member of inbox A got 404 %s: the route hides what they may see", where, res.code)
		}
		if c.role == matrixOutsider {
			if res.status != http.StatusNotFound {
				t.Errorf("%s: agent outside inbox A got %d %s, want 404 (not 403: ids must not leak)", where, res.status, res.code)
			}
			// A hidden id must be answered exactly like one that names nothing.
			mpath, mbody := f.request(p, c, matrixMissingID)
			missing := f.do(t, c, via, rt.Method, mpath, mbody)
			if missing.status != res.status || missing.code != res.code {
				t.Errorf("%s: hidden id answered %d %s but a missing id %d %s: the difference leaks the id",
					where, res.status, res.code, missing.status, missing.code)
			}
		}
	case matrixAdmin:
		if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
			t.Errorf("%s: admin got %d %s: admins manage everything", where, res.status, res.code)
		}
		if rt.Scope != ScopeNone && res.status == http.StatusNotFound {
			t.Errorf("%s: admin got 404 %s: admins see every inbox", where, res.code)
		}
	}
	if c.role == matrixNobody || c.role == matrixOutsider {
		f.checkNoSecrets(t, where, res)
	}
	return res.status
}

// checkGeneric holds for every answer: no server error, and the request reached a route.
func (f *matrixFixture) checkGeneric(t matrixT, where string, res matrixResponse) {
	t.Helper()
	if res.status >= 500 {
		t.Errorf("%s: server error %d %s\n%s", where, res.status, res.code, res.body)
	}
	if res.code == "route_not_found" || res.body == "404 page not found\n" || res.status == http.StatusMethodNotAllowed {
		t.Errorf("%s: the filled path reached no route (%d %s): fix the matrix's parameters", where, res.status, res.code)
	}
	if res.status >= 400 {
		if res.code == "" {
			t.Errorf("%s: error %d is not application/problem+json with a code:\n%s", where, res.status, res.body)
		} else if err := f.doc.checkProblem([]byte(res.body)); err != nil {
			t.Errorf("%s: the error answer is not the documented problem+json: %v\n%s", where, err, res.body)
		}
	}
}

func (f *matrixFixture) checkNoSecrets(t matrixT, where string, res matrixResponse) {
	t.Helper()
	lower := strings.ToLower(res.body)
	for _, w := range matrixSecrets {
		if strings.Contains(lower, w) {
			t.Errorf("%s: the answer (%d) reveals %q from inbox A:\n%s", where, res.status, w, res.body)
		}
	}
}

// checkLists asks the list and search endpoints for inbox A's conversation in every way a client
// could: members must find it (so the probes mean something), outsiders must not.
func (f *matrixFixture) checkLists(t *testing.T) {
	probes := []struct {
		path string
		want string // a secret a member must see
	}{
		{"/api/v1/conversations", matrixSubjectWord},
		{"/api/v1/conversations?q=" + matrixMessageWord, matrixSubjectWord},
		{"/api/v1/conversations?q=" + matrixCommentWord, matrixSubjectWord},
		{"/api/v1/conversations?q=" + matrixSubjectWord, matrixSubjectWord},
		{"/api/v1/conversations?contact_id=" + itoa(f.contactA), matrixSubjectWord},
		{"/api/v1/conversations?inbox_id=" + itoa(f.inboxA.ID), matrixSubjectWord},
		{"/api/v1/conversations?status=open&sort=oldest", matrixSubjectWord},
		{"/api/v1/contacts/" + itoa(f.contactA), matrixSubjectWord},
		{"/api/v1/contacts", matrixContactWord},
		{"/api/v1/contacts?q=" + matrixContactWord, matrixContactWord},
		{"/api/v1/conversations?q=" + matrixContactWord, matrixSubjectWord},
		{"/api/v1/conversations/" + itoa(f.convA.ID) + "/timeline", matrixCommentWord},
	}
	for _, pr := range probes {
		for _, c := range f.callers {
			res := f.do(t, c, viaHeader, http.MethodGet, pr.path, "")
			where := "GET " + pr.path + " as " + c.name
			f.checkGeneric(t, where, res)
			switch c.role {
			case matrixMember, matrixAdmin:
				if res.status != http.StatusOK || !strings.Contains(strings.ToLower(res.body), pr.want) {
					t.Errorf("%s: got %d, want 200 showing %q (the probe must find inbox A's conversation):\n%s", where, res.status, pr.want, res.body)
				}
			default:
				f.checkNoSecrets(t, where, res)
			}
		}
	}
	// Inbox B is open to everyone: the outsider sees its conversation, so an empty answer is not
	// mistaken for protection.
	outsider := f.callers[slices.IndexFunc(f.callers, func(c matrixCaller) bool { return c.role == matrixOutsider })]
	res := f.do(t, outsider, viaHeader, http.MethodGet, "/api/v1/conversations", "")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Hello from B") {
		t.Errorf("GET /api/v1/conversations as %s: got %d, want 200 listing inbox B's conversation:\n%s", outsider.name, res.status, res.body)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	var plans []matrixPlan
	failed := false
	for _, rt := range (&Server{}).Routes() {
		p, problems := planRoute(rt)
		for _, msg := range problems {
			t.Errorf("%s %s: %s", rt.Method, rt.Pattern, msg)
			failed = true
		}
		plans = append(plans, p)
	}
	if failed {
		t.FailNow()
	}
	// Deletions go last, so that nothing they remove is missed by a later route.
	slices.SortStableFunc(plans, func(a, b matrixPlan) int {
		return boolOrder(a.route.Method == http.MethodDelete) - boolOrder(b.route.Method == http.MethodDelete)
	})

	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newMatrixFixture(t, s)
		t.Run("lists", f.checkLists)
		for _, p := range plans {
			t.Run(p.route.Method+" "+p.route.Pattern, func(t *testing.T) { f.checkRoute(t, p) })
		}
		// After every write the fixture still holds: no write widened access.
		t.Run("lists after writes", f.checkLists)
	})
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMatrixPlansEveryRoute checks the generator itself: it refuses a route it cannot fill.
func TestMatrixPlansEveryRoute(t *testing.T) {
	noop := func(s *Server, w http.ResponseWriter, r *http.Request) error { return nil }
	cases := []struct {
		rt   Route
		want string
	}{
		{Route{Method: "GET", Pattern: "/api/v1/widgets/{id}", Access: Signed, Handle: noop}, `"widgets/{id}" to matrixParams`},
		{Route{Method: "POST", Pattern: "/api/v1/widgets", Access: Signed, Handle: noop}, "to matrixBodies"},
		{Route{Method: "GET", Pattern: "/api/v1/conversations/{id}/secret", Access: Signed, Handle: noop}, "has no Scope"},
		{Route{Method: "GET", Pattern: "/api/v1/custom-channels/{channelId}/messages/{messageId}", Access: Signed, Handle: noop}, "has no Scope"},
		{Route{Method: "GET", Pattern: "/api/v1/users/{id}/things", Access: Signed, Scope: ScopeConversation, Handle: noop}, "no path parameter of that kind"},
		{Route{Method: "GET", Pattern: "/api/v1/x", Access: Access(42), Handle: noop}, "unknown Access"},
		{Route{Method: "GET", Pattern: "/api/v1/x", Access: Signed, Scope: Scope(42), Handle: noop}, "unknown Scope"},
	}
	for _, c := range cases {
		_, problems := planRoute(c.rt)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
			t.Errorf("%s %s: problems %q, want one containing %q", c.rt.Method, c.rt.Pattern, problems, c.want)
		}
	}
	ok := Route{Method: "GET", Pattern: "/api/v1/conversations/{id}", Access: Signed, Scope: ScopeConversation, Handle: noop}
	if _, problems := planRoute(ok); len(problems) != 0 {
		t.Errorf("a well-formed route was refused: %q", problems)
	}
}

// matrixRecorder is a matrixT that keeps what the checks report.
type matrixRecorder struct{ errors []string }

func (r *matrixRecorder) Helper() {}
func (r *matrixRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestMatrixCatchesLeaks runs the matrix's checks on routes that get access wrong, and expects
// each mistake to be reported.
func TestMatrixCatchesLeaks(t *testing.T) {
	s := storetest.OpenSQLite(t)
	f := newMatrixFixture(t, s)
	srv := f.ts.API
	// Each broken route shows a conversation (the one in the path, or inbox A's) to whoever asks.
	leak := func(status int) func(s *Server, w http.ResponseWriter, r *http.Request) error {
		return func(s *Server, w http.ResponseWriter, r *http.Request) error {
			id := f.convA.ID
			if r.PathValue("id") != "" {
				var err error
				if id, err = pathID(r, "id"); err != nil {
					return err
				}
			}
			c, err := s.Store.Conversation(r.Context(), id, 0)
			if err != nil {
				return err
			}
			writeJSON(w, status, toConversationJSON(c))
			return nil
		}
	}
	forbidOutsiders := func(s *Server, w http.ResponseWriter, r *http.Request) error {
		if caller(r).ID == f.outsider.ID {
			writeJSON(w, http.StatusForbidden, map[string]string{"code": "forbidden"})
			return nil
		}
		return leak(http.StatusOK)(s, w, r)
	}
	cases := []struct {
		rt   Route
		want []string
	}{
		{Route{Method: "GET", Pattern: "/api/v1/conversations/{id}", Access: Signed, Scope: ScopeConversation, Handle: leak(http.StatusOK)},
			[]string{"want 404 (not 403", "reveals \"" + matrixSubjectWord, "the difference leaks the id"}},
		{Route{Method: "GET", Pattern: "/api/v1/conversations", Access: Signed, Handle: leak(http.StatusOK)},
			[]string{"reveals \"" + matrixSubjectWord}},
		{Route{Method: "GET", Pattern: "/api/v1/conversations/{id}/timeline", Access: Signed, Scope: ScopeConversation, Handle: forbidOutsiders},
			[]string{"got 403 , want 404"}},
		{Route{Method: "GET", Pattern: "/api/v1/inboxes", Access: Public, Handle: leak(http.StatusOK)},
			nil}, // public routes are not checked for secrets: nothing to report but the undocumented answer
		{Route{Method: "GET", Pattern: "/api/v1/me", Access: Admin, Handle: leak(http.StatusInternalServerError)},
			[]string{"server error 500"}},
	}
	for _, c := range cases {
		mux := http.NewServeMux()
		mux.Handle(c.rt.Method+" "+c.rt.Pattern, srv.wrap(c.rt))
		f.h = mux
		p, problems := planRoute(c.rt)
		if len(problems) > 0 {
			t.Fatalf("%s: %q", routeKey(c.rt), problems)
		}
		rec := &matrixRecorder{}
		f.checkRoute(rec, p)
		for _, w := range c.want {
			if !slices.ContainsFunc(rec.errors, func(e string) bool { return strings.Contains(e, w) }) {
				t.Errorf("%s: the matrix did not report %q; it reported:\n%s", routeKey(c.rt), w, strings.Join(rec.errors, "\n"))
			}
		}
	}
}
