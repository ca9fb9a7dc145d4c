package inbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-inbox/parley/internal/channel"
	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

// testKind is the channel kind of the fake Sender the tests register.
const testKind = "test"

// fakeSender is a channel.Sender for the tests' own channel kind: it records what it was asked
// to send and answers with the results queued in next (success with an id when empty).
type fakeSender struct {
	mu    sync.Mutex
	sent  []*channel.Outbound
	next  []error
	n     int
	check error // returned by CheckReply when set
}

func (f *fakeSender) Send(ctx context.Context, out *channel.Outbound) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, out)
	if len(f.next) > 0 {
		err := f.next[0]
		f.next = f.next[1:]
		if err != nil {
			return "", err
		}
	}
	f.n++
	return fmt.Sprintf("ext-%d-%d", out.Message.ID, f.n), nil
}

func (f *fakeSender) CheckReply(ctx context.Context, ch *store.Channel, out *channel.Outbound) error {
	return f.check
}

func (f *fakeSender) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// fixture is a workspace: an admin, an agent who sees the support inbox, a seller who sees the
// sales inbox through a team, an outsider who sees neither, and one test channel per inbox.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	s        *store.Store
	svc      *inbox.Service
	sender   *fakeSender
	admin    *store.User
	agent    *store.User
	seller   *store.User
	outsider *store.User
	support  *store.Inbox
	sales    *store.Inbox
	team     *store.Team
	chSup    *store.Channel
	chSales  *store.Channel
}

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context(), s: s, sender: &fakeSender{}}
	f.svc = &inbox.Service{
		Store:   s,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Senders: map[string]channel.Sender{testKind: f.sender},
	}
	err := s.InTx(f.ctx, func(tx *store.Tx) error {
		mk := func(email, role string) (*store.User, error) {
			u := &store.User{Email: email, Name: email[:len(email)-len("@example.com")], Role: role, Locale: "en", TimeZone: "UTC"}
			return u, tx.CreateUser(f.ctx, u)
		}
		var err error
		if f.admin, err = mk("admin@example.com", "admin"); err != nil {
			return err
		}
		if f.agent, err = mk("agent@example.com", "agent"); err != nil {
			return err
		}
		if f.seller, err = mk("seller@example.com", "agent"); err != nil {
			return err
		}
		if f.outsider, err = mk("outsider@example.com", "agent"); err != nil {
			return err
		}
		f.team = &store.Team{Name: "Sales"}
		if err := tx.CreateTeam(f.ctx, f.team); err != nil {
			return err
		}
		if _, err := tx.SetTeamMember(f.ctx, store.TeamMember{TeamID: f.team.ID, UserID: f.seller.ID, IsPrimary: true}); err != nil {
			return err
		}
		f.support = &store.Inbox{Name: "Support", Access: "specific", UserIDs: []int64{f.agent.ID}}
		if err := tx.CreateInbox(f.ctx, f.support); err != nil {
			return err
		}
		f.sales = &store.Inbox{Name: "Sales", Access: "specific", TeamIDs: []int64{f.team.ID}}
		if err := tx.CreateInbox(f.ctx, f.sales); err != nil {
			return err
		}
		f.chSup = &store.Channel{InboxID: f.support.ID, Kind: testKind, Name: "Support test", Authorized: true}
		if _, err := tx.InsertChannel(f.ctx, f.chSup); err != nil {
			return err
		}
		f.chSales = &store.Channel{InboxID: f.sales.ID, Kind: testKind, Name: "Sales test", Authorized: true}
		_, err = tx.InsertChannel(f.ctx, f.chSales)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// receive stores an inbound message from ada@example.com on the support channel; edit sets
// other fields.
func (f *fixture) receive(thread, text string, edit ...func(*inbox.Inbound)) (*store.Message, *store.Conversation) {
	f.t.Helper()
	in := inbox.Inbound{
		ChannelID:         f.chSup.ID,
		ThreadKey:         thread,
		ContactName:       "Ada Lovelace",
		ContactIdentities: []store.Identity{{Kind: "email", Value: "Ada@Example.com"}},
		Text:              text,
	}
	for _, e := range edit {
		e(&in)
	}
	m, c, dup, err := f.svc.Receive(f.ctx, in)
	if err != nil {
		f.t.Fatalf("receive: %v", err)
	}
	if dup {
		f.t.Fatalf("receive %q: unexpected duplicate", text)
	}
	return m, c
}

func (f *fixture) conversation(u *store.User, id int64) *store.Conversation {
	f.t.Helper()
	c, err := f.svc.Conversation(f.ctx, u, id)
	if err != nil {
		f.t.Fatalf("conversation %d as %s: %v", id, u.Email, err)
	}
	return c
}

func (f *fixture) update(u *store.User, id int64, p inbox.Patch) *store.Conversation {
	f.t.Helper()
	c, err := f.svc.Update(f.ctx, u, id, p)
	if err != nil {
		f.t.Fatalf("update %d: %v", id, err)
	}
	return c
}

// events returns the types of the conversation's timeline events, in order, with their data.
func (f *fixture) events(id int64) ([]string, []map[string]any) {
	f.t.Helper()
	evs, err := f.s.ConversationEvents(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var types []string
	var data []map[string]any
	for _, e := range evs {
		types = append(types, e.Type)
		var d map[string]any
		if err := json.Unmarshal(e.Data, &d); err != nil {
			f.t.Fatalf("event %s data %s: %v", e.Type, e.Data, err)
		}
		data = append(data, d)
	}
	return types, data
}

// lastEvent returns the newest event's type and data.
func (f *fixture) lastEvent(id int64) (string, map[string]any) {
	f.t.Helper()
	types, data := f.events(id)
	if len(types) == 0 {
		f.t.Fatal("no events")
	}
	return types[len(types)-1], data[len(data)-1]
}

// wantCode asserts err is a problem with the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	p, ok := problem.As(err)
	if !ok || p.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var errTransient = errors.New("provider timed out")
