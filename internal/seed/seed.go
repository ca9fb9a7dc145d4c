// Package seed generates a realistic installation — people, teams, inboxes, custom channel
// accounts, contacts, and conversations full of messages — for benchmarks and demos. It writes
// through the store's bulk methods in large transactions, so a million conversations take
// minutes. It never runs inside the server.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/channel/custom"
	"github.com/parley-inbox/parley/internal/store"
)

// Options says how big the installation is.
type Options struct {
	Conversations int
	Messages      int // per conversation, on average (each has 1 to 2×Messages−1)
	Users         int
	Teams         int
	Inboxes       int
	Contacts      int // 0 means one per two conversations
	Channels      int // custom channel accounts; 0 means two per inbox
	// Seed makes runs repeatable: the same options and seed generate the same data.
	Seed int64
	// Force adds to a database that already holds conversations, contacts or inboxes.
	Force bool
	// Progress, when set, receives a one-line progress bar redrawn with \r.
	Progress io.Writer
	// Now anchors the generated timestamps (the last year before it); zero means time.Now().
	Now time.Time
}

// Summary reports what a run added.
type Summary struct {
	Dialect  store.Dialect
	Added    map[string]int64 // rows added per table
	Tables   []string         // Added's keys in a stable order
	Duration time.Duration
	Options  Options
}

// ErrNotEmpty refuses to seed a database that is in use, unless Options.Force.
var ErrNotEmpty = errors.New("the database already holds data")

func (o *Options) validate() error {
	var errs []error
	if o.Conversations < 0 || o.Conversations > 100_000_000 {
		errs = append(errs, errors.New("conversations: want 0 to 100,000,000"))
	}
	if o.Messages < 1 || o.Messages > 1000 {
		errs = append(errs, errors.New("messages: want 1 to 1,000 per conversation"))
	}
	if o.Users < 1 || o.Users > 10_000 {
		errs = append(errs, errors.New("users: want 1 to 10,000"))
	}
	if o.Teams < 0 || o.Teams > 1000 {
		errs = append(errs, errors.New("teams: want 0 to 1,000"))
	}
	if o.Inboxes < 1 || o.Inboxes > 1000 {
		errs = append(errs, errors.New("inboxes: want 1 to 1,000"))
	}
	if o.Contacts < 0 || o.Contacts > 100_000_000 {
		errs = append(errs, errors.New("contacts: want 0 to 100,000,000"))
	}
	if o.Channels < 0 || o.Channels > 10_000 {
		errs = append(errs, errors.New("channels: want 0 to 10,000"))
	}
	if o.Contacts == 0 {
		o.Contacts = max(1, o.Conversations/2)
	}
	if o.Channels == 0 {
		o.Channels = 2 * o.Inboxes
	}
	if o.Channels < o.Inboxes {
		errs = append(errs, errors.New("channels: want at least one per inbox"))
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return errors.Join(errs...)
}

// Run seeds s.
func Run(ctx context.Context, s *store.Store, o Options) (*Summary, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	began := time.Now()
	before, err := s.RowCounts(ctx)
	if err != nil {
		return nil, err
	}
	if !o.Force && (before["conversations"] > 0 || before["contacts"] > 0 || before["inboxes"] > 0) {
		return nil, fmt.Errorf("%w (%d conversations, %d contacts, %d inboxes); pass --force to add to it",
			ErrNotEmpty, before["conversations"], before["contacts"], before["inboxes"])
	}
	start, err := s.SeedStart(ctx)
	if err != nil {
		return nil, err
	}
	g := &generator{o: o, start: start, now: o.Now.UnixMilli()}
	// Names of people, teams and inboxes are unique; a second run into the same database tells
	// its rows apart with a suffix.
	if before["users"] > 0 || before["teams"] > 0 {
		g.suffix = " " + strconv.FormatInt(start.ConversationID, 36)
	}
	if err := g.workspace(ctx, s, before["users"] == 0); err != nil {
		return nil, err
	}
	bar := newProgress(o.Progress, "contacts", int64(o.Contacts))
	if err := g.run(ctx, s, o.Contacts, contactBatch, bar, g.contactBatch); err != nil {
		return nil, err
	}
	bar.done()
	bar = newProgress(o.Progress, "conversations", int64(o.Conversations))
	if err := g.run(ctx, s, o.Conversations, max(100, 20_000/o.Messages), bar, g.conversationBatch); err != nil {
		return nil, err
	}
	bar.done()
	if err := s.FinishSeed(ctx); err != nil {
		return nil, err
	}
	if o.Progress != nil {
		fmt.Fprint(o.Progress, "analyzing tables for the query planner…\n")
	}
	if err := s.Analyze(ctx); err != nil {
		return nil, err
	}
	after, err := s.RowCounts(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Dialect: s.Dialect(), Added: map[string]int64{}, Tables: store.SeedCountTables(),
		Duration: time.Since(began), Options: o}
	for _, t := range sum.Tables {
		sum.Added[t] = after[t] - before[t]
	}
	return sum, nil
}

// contactBatch is how many contacts go in one transaction.
const contactBatch = 5000

// run generates n rows in batches of size with gen (on several goroutines, each batch from its
// own random stream so the result does not depend on scheduling) and writes them: one writer on
// SQLite, which has one write connection, two on PostgreSQL.
func (g *generator) run(ctx context.Context, s *store.Store, n, size int, bar *progress, gen func(r *rand.Rand, first, count int) *store.SeedBatch) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct{ first, count int }
	jobs := make(chan job)
	batches := make(chan *batch, 4)
	go func() {
		defer close(jobs)
		for first := 0; first < n; first += size {
			select {
			case jobs <- job{first, min(size, n-first)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var gens sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		gens.Go(func() {
			for j := range jobs {
				r := rand.New(rand.NewPCG(uint64(g.o.Seed), uint64(g.stream.Add(0)<<32)|uint64(j.first)))
				b := &batch{rows: j.count, SeedBatch: gen(r, j.first, j.count)}
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { gens.Wait(); close(batches) }()
	writers := 1
	if s.Dialect() == store.Postgres {
		writers = 2
	}
	var ws sync.WaitGroup
	for range writers {
		ws.Go(func() {
			for b := range batches {
				if err := s.InsertSeedBatch(ctx, b.SeedBatch); err != nil {
					cancel(err)
					return
				}
				bar.add(int64(b.rows))
			}
		})
	}
	ws.Wait()
	g.stream.Add(1)
	if err := context.Cause(ctx); err != nil {
		// Drain the generators so they can exit.
		for range batches {
		}
		return err
	}
	return nil
}

type batch struct {
	*store.SeedBatch
	rows int
}

// generator holds the workspace the generated conversations refer to.
type generator struct {
	o      Options
	start  store.SeedStart
	now    int64
	suffix string
	stream atomic.Uint64

	agents        []*store.User // users who may be assigned
	teamOf        map[int64]int64
	teams         []int64
	inboxes       []*store.Inbox
	channels      [][]*store.Channel // per inbox index
	visible       [][]*store.User    // agents who see each inbox, per inbox index
	customChannel int64
}

var teamNames = []string{"Support", "Billing", "Sales", "Success", "Technical", "Returns", "VIP", "Partners",
	"Onboarding", "Escalations", "Shipping", "Accounts"}

var inboxNames = []string{"Support", "Sales", "Billing", "Returns", "Partners", "Enterprise", "Shop", "Press",
	"Careers", "Security"}

// workspace creates the people, teams, inboxes and channel accounts in one transaction.
// owner says whether the first user is the owner (the database had no users).
func (g *generator) workspace(ctx context.Context, s *store.Store, owner bool) error {
	r := rand.New(rand.NewPCG(uint64(g.o.Seed), 0xfeed))
	return s.InTx(ctx, func(tx *store.Tx) error {
		g.agents, g.teams, g.inboxes, g.channels, g.visible = nil, nil, nil, nil, nil
		g.teamOf = map[int64]int64{}
		var users []*store.User
		for i := range g.o.Users {
			first, last := pick(r, firstNames), pick(r, lastNames)
			role := "agent"
			switch {
			case i == 0 && owner:
				role = "owner"
			case i%10 == 0:
				role = "admin"
			}
			u := &store.User{
				Email:    strings.ToLower(fmt.Sprintf("%s.%s.%d%s@seed.example.com", first, last, i+1, strings.TrimSpace(g.suffix))),
				Name:     first + " " + last,
				JobTitle: pick(r, []string{"Support agent", "Support lead", "Account manager", "Billing specialist", "Engineer"}),
				Locale:   "en", TimeZone: pick(r, []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London"}),
				Role:      role,
				CreatedAt: g.now - 400*day,
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return fmt.Errorf("seed users: %w", err)
			}
			users = append(users, u)
			if role == "agent" || i > 0 {
				g.agents = append(g.agents, u)
			}
		}
		if len(g.agents) == 0 {
			g.agents = users
		}
		for i := range g.o.Teams {
			t := &store.Team{Name: teamNames[i%len(teamNames)] + suffixN(i, len(teamNames)) + g.suffix}
			if err := tx.CreateTeam(ctx, t); err != nil {
				return fmt.Errorf("seed teams: %w", err)
			}
			g.teams = append(g.teams, t.ID)
		}
		members := map[int64][]int64{} // team → users
		if len(g.teams) > 0 {
			for i, u := range g.agents {
				t := g.teams[i%len(g.teams)]
				g.teamOf[u.ID] = t
				members[t] = append(members[t], u.ID)
				if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: t, UserID: u.ID, IsPrimary: true}); err != nil {
					return fmt.Errorf("seed team members: %w", err)
				}
				if len(g.teams) > 1 && r.IntN(4) == 0 {
					t2 := g.teams[(i+1)%len(g.teams)]
					members[t2] = append(members[t2], u.ID)
					if _, err := tx.SetTeamMember(ctx, store.TeamMember{TeamID: t2, UserID: u.ID}); err != nil {
						return fmt.Errorf("seed team members: %w", err)
					}
				}
			}
		}
		caps := (&custom.Capabilities{
			DeliveryIdentifierTypes: []string{custom.OpaqueID},
			ThreadingModel:          custom.ThreadByIntegration,
			RichText:                []string{"HYPERLINK", "BOLD", "ITALIC"},
			AllowOutgoingMessages:   true,
			AllowConversationStart:  true,
		}).JSON()
		cc := &store.CustomChannel{Name: "Seed chat" + g.suffix, Capabilities: caps, Description: "Generated by parley seed",
			CreatedAt: g.now - 400*day}
		if err := tx.InsertCustomChannel(ctx, cc); err != nil {
			return fmt.Errorf("seed custom channel: %w", err)
		}
		g.customChannel = cc.ID
		for i := range g.o.Inboxes {
			in := &store.Inbox{Name: inboxNames[i%len(inboxNames)] + suffixN(i, len(inboxNames)) + g.suffix, Access: "everyone"}
			var seeing []*store.User
			if i > 0 {
				// Every inbox after the first is limited to a team and a few people.
				in.Access = "specific"
				in.UserIDs = []int64{}
				in.TeamIDs = []int64{}
				see := map[int64]bool{}
				if len(g.teams) > 0 {
					t := g.teams[i%len(g.teams)]
					in.TeamIDs = append(in.TeamIDs, t)
					for _, id := range members[t] {
						see[id] = true
					}
				}
				for k := 0; k < 2 && k < len(g.agents); k++ {
					u := g.agents[(i*3+k)%len(g.agents)]
					if !see[u.ID] {
						in.UserIDs = append(in.UserIDs, u.ID)
						see[u.ID] = true
					}
				}
				for _, u := range g.agents {
					if see[u.ID] {
						seeing = append(seeing, u)
					}
				}
			} else {
				seeing = g.agents
			}
			if err := tx.CreateInbox(ctx, in); err != nil {
				return fmt.Errorf("seed inboxes: %w", err)
			}
			g.inboxes = append(g.inboxes, in)
			g.visible = append(g.visible, seeing)
			g.channels = append(g.channels, nil)
		}
		for i := range g.o.Channels {
			k := i % len(g.inboxes)
			ccID := cc.ID
			ch := &store.Channel{InboxID: g.inboxes[k].ID, Kind: custom.Kind, Name: fmt.Sprintf("Chat account %d%s", i+1, g.suffix),
				CustomChannelID: &ccID, AddressType: custom.OpaqueID,
				Address:    fmt.Sprintf("seed-account-%d-%d", cc.ID, i+1),
				Authorized: true, CreatedAt: g.now - 400*day}
			if _, err := tx.InsertChannel(ctx, ch); err != nil {
				return fmt.Errorf("seed channels: %w", err)
			}
			g.channels[k] = append(g.channels[k], ch)
		}
		return nil
	})
}

func suffixN(i, n int) string {
	if i < n {
		return ""
	}
	return " " + strconv.Itoa(i/n+1)
}

const (
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// contactName returns contact i's name; conversations use it for their messages' sender.
func (g *generator) contactName(id int64) (first, last string) {
	r := rand.New(rand.NewPCG(uint64(g.o.Seed)^0xc0ffee, uint64(id)))
	return pick(r, firstNames), pick(r, lastNames)
}

func (g *generator) contactBatch(r *rand.Rand, first, count int) *store.SeedBatch {
	b := &store.SeedBatch{Contacts: make([]store.Contact, count)}
	for i := range count {
		id := g.start.ContactID + int64(first+i)
		fn, ln := g.contactName(id)
		c := &b.Contacts[i]
		c.ID = id
		c.Name = fn + " " + ln
		c.CreatedAt = g.now - 730*day + r.Int64N(720*day)
		c.Properties = []byte("{}")
		if r.IntN(10) < 6 {
			c.Company = pick(r, companyWords) + " " + pick(r, companySuffixes)
		}
		if r.IntN(10) == 0 && len(g.agents) > 0 {
			owner := pick(r, g.agents).ID
			c.OwnerID = &owner
		}
		c.Blocked = r.IntN(500) == 0
		c.Identities = append(c.Identities, store.Identity{
			Kind: "custom:" + strconv.FormatInt(g.customChannel, 10), Value: opaqueID(id)})
		if r.IntN(10) < 6 {
			c.Identities = append(c.Identities, store.Identity{Kind: "email",
				Value: strings.ToLower(fmt.Sprintf("%s.%s.%d@example.net", fn, ln, id))})
		}
		if r.IntN(10) < 2 {
			c.Identities = append(c.Identities, store.Identity{Kind: "phone", Value: fmt.Sprintf("+4477%08d", id%100_000_000)})
		}
	}
	return b
}

func opaqueID(contactID int64) string { return "seed-contact-" + strconv.FormatInt(contactID, 10) }

var priorities = []struct {
	name   string
	weight int
}{{"none", 60}, {"low", 15}, {"medium", 15}, {"high", 7}, {"urgent", 3}}

func (g *generator) conversationBatch(r *rand.Rand, first, count int) *store.SeedBatch {
	b := &store.SeedBatch{Conversations: make([]store.Conversation, 0, count)}
	z := rand.NewZipf(r, 1.07, 2, uint64(len(vocabulary)-1))
	span := 365 * day
	for i := range count {
		n := int64(first + i)
		id := g.start.ConversationID + n
		// Ids grow with time, as in a real installation: conversation n opened at its share of
		// the year, give or take an hour.
		created := g.now - span + n*span/int64(max(g.o.Conversations, 1)) + r.Int64N(2*hour) - hour
		created = min(created, g.now-minute)
		k := r.IntN(len(g.inboxes))
		if r.IntN(3) == 0 {
			k = 0 // the shared inbox gets more than its share
		}
		ch := pick(r, g.channels[k])
		contact := g.start.ContactID + r.Int64N(int64(g.o.Contacts))
		fn, ln := g.contactName(contact)
		c := store.Conversation{
			ID:        id,
			Number:    g.start.ConversationNumber + n,
			InboxID:   g.inboxes[k].ID,
			ChannelID: &ch.ID,
			ContactID: &contact,
			ThreadKey: "t:seed-" + strconv.FormatInt(id, 10),
			Subject:   subject(r, z),
			Status:    "open",
			Priority:  "none",
			CreatedAt: created,
		}
		b.Texts = append(b.Texts, store.SearchText{ConversationID: id, N: 0, Body: c.Subject})
		b.Events = append(b.Events, store.ConversationEvent{ConversationID: id, Type: "created",
			Data: []byte(`{"channel_id":` + strconv.FormatInt(ch.ID, 10) + `,"direction":"inbound"}`), CreatedAt: created})

		var assignee *store.User
		if seeing := g.visible[k]; len(seeing) > 0 && r.IntN(100) < 85 {
			assignee = pick(r, seeing)
			c.AssigneeID = &assignee.ID
			if t, ok := g.teamOf[assignee.ID]; ok && r.IntN(10) < 6 {
				c.TeamID = &t
			}
			if r.IntN(10) == 0 {
				prev := pick(r, seeing).ID
				c.PreviousAssigneeID = &prev
			}
		}

		// Messages: the customer writes first, then replies and answers alternate more or less.
		msgs := 1 + r.IntN(2*g.o.Messages-1)
		at := created
		inbound := true
		var lastIn, lastOut int64
		customer := []byte(`{"name":"` + fn + " " + ln + `","deliveryIdentifier":{"type":"` + custom.OpaqueID +
			`","value":"` + opaqueID(contact) + `"}}`)
		account := []byte(`[{"name":"` + ch.Name + `","deliveryIdentifier":{"type":"` + custom.OpaqueID +
			`","value":"` + ch.Address + `"}}]`)
		var text string
		for m := range msgs {
			if m > 0 {
				at += minute + r.Int64N(8*hour)
				if r.IntN(10) >= 4 { // mostly alternate
					inbound = !inbound
				}
				if !inbound && assignee == nil {
					inbound = true
				}
			}
			at = min(at, g.now-1)
			text = message(r, z)
			msg := store.Message{
				ID:             g.start.MessageID + int64(len(b.Messages)) + g.messageBase(first),
				ConversationID: id,
				ChannelID:      &ch.ID,
				Text:           text,
				Attachments:    []byte("[]"),
				CreatedAt:      at,
				UpdatedAt:      at,
			}
			if inbound {
				msg.Direction, msg.Status, msg.Sender, msg.Recipients = "inbound", "received", customer, account
				lastIn = at
			} else {
				msg.Direction, msg.Status, msg.AuthorID = "outbound", "sent", &assignee.ID
				msg.Sender = []byte(`{"user_id":` + strconv.FormatInt(assignee.ID, 10) + `,"name":"` + assignee.Name +
					`","email":"` + assignee.Email + `"}`)
				msg.Recipients = []byte("[]")
				lastOut = at
			}
			b.Messages = append(b.Messages, msg)
			b.Texts = append(b.Texts, store.SearchText{ConversationID: id, N: m + 1, Body: text})
		}
		c.Preview = previewOf(text)
		c.LastActivityAt = at
		c.UpdatedAt = at
		if lastIn > 0 {
			c.LastInboundAt = &lastIn
		}
		if lastOut > 0 {
			c.LastOutboundAt = &lastOut
		}
		if assignee != nil {
			b.Events = append(b.Events, store.ConversationEvent{ConversationID: id, Type: "assigned", ActorID: &assignee.ID,
				Data: []byte(`{"assignee_id":` + strconv.FormatInt(assignee.ID, 10) + `,"reason":"seed"}`), CreatedAt: created + minute})
			// Most conversations are read by their assignee; the rest are unread for everyone.
			if lastIn > 0 && r.IntN(4) > 0 {
				b.Reads = append(b.Reads, store.ConversationRead{ConversationID: id, UserID: assignee.ID, ReadAt: lastIn})
			}
		}

		// Old conversations are mostly closed; recent ones mostly open.
		recent := g.now-at < 3*day
		if (recent && r.IntN(10) < 3) || (!recent && r.IntN(100) < 92) {
			closed := min(at+5*minute+r.Int64N(2*day), g.now-1)
			c.Status, c.ClosedAt = "closed", &closed
			c.UpdatedAt = closed
			b.Events = append(b.Events, store.ConversationEvent{ConversationID: id, Type: "closed", ActorID: c.AssigneeID,
				Data: []byte(`{}`), CreatedAt: closed})
		} else if r.IntN(20) == 0 {
			until := g.now + hour + r.Int64N(72*hour)
			c.SnoozedUntil = &until
		}
		switch x := r.IntN(1000); {
		case x < 10:
			c.Spam, c.AssigneeID, c.TeamID = true, nil, nil
		case x < 15:
			trashed := c.UpdatedAt
			c.TrashedAt = &trashed
		}
		w := r.IntN(100)
		for _, p := range priorities {
			if w < p.weight {
				c.Priority = p.name
				break
			}
			w -= p.weight
		}
		for range r.IntN(4) * r.IntN(2) { // half have none, the rest up to three
			t := pick(r, tags)
			dup := false
			for _, have := range c.Tags {
				dup = dup || have == t
			}
			if !dup {
				c.Tags = append(c.Tags, t)
			}
		}
		b.Conversations = append(b.Conversations, c)
	}
	return b
}

// messageBase is the number of message ids reserved before the batch starting at conversation
// first. Each conversation reserves 2×Messages ids (its maximum), so batches generated in parallel
// never collide; the gaps are harmless.
func (g *generator) messageBase(first int) int64 {
	return int64(first) * int64(2*g.o.Messages)
}
