package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
)

// QueryOptions bound the list and search scenarios.
type QueryOptions struct {
	Requests    int // per view or kind of search
	Concurrency int
	Duration    time.Duration // overall
	Seed        int64         // search words
}

func (o *QueryOptions) check() error {
	if o.Requests < 1 || o.Requests > 1_000_000 {
		return errors.New("requests: want 1 to 1,000,000")
	}
	if o.Concurrency < 1 || o.Concurrency > 256 {
		return errors.New("concurrency: want 1 to 256")
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		return errors.New("duration: want more than 0 and at most 1h")
	}
	return nil
}

// view is one conversation list request, as someone.
type view struct {
	name  string
	token string
	query func(i int) url.Values
}

type listPage struct {
	Data []struct {
		ID int64 `json:"id"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// runViews requests every view o.Requests times (after three unmeasured warm-up requests) and
// adds a line per view and an overall line to res.
func runViews(ctx context.Context, t *Target, o QueryOptions, views []view, res *Result) error {
	c := newClient(o.Concurrency)
	deadline := time.Now().Add(o.Duration)
	var all latencies
	for _, v := range views {
		get := func(i int) (int, error) {
			q := v.query(i)
			q.Set("limit", "50")
			var page listPage
			if err := call(ctx, c, "GET", t.URL+"/api/v1/conversations?"+q.Encode(), v.token, nil, &page); err != nil {
				return 0, fmt.Errorf("%s: %w", v.name, err)
			}
			if len(page.Data) > 50 {
				return 0, fmt.Errorf("%s: %d rows for limit 50", v.name, len(page.Data))
			}
			return len(page.Data), nil
		}
		for i := range 3 {
			if _, err := get(-1 - i); err != nil {
				return err
			}
		}
		var lat latencies
		var next, rows atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		for range o.Concurrency {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= o.Requests || time.Now().After(deadline) || ctx.Err() != nil {
						return
					}
					t0 := time.Now()
					n, err := get(i)
					d := time.Since(t0)
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					lat.add(d)
					all.add(d)
					rows.Add(int64(n))
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		s := lat.summary()
		avg := 0.0
		if s.N > 0 {
			avg = float64(rows.Load()) / float64(s.N)
		}
		res.figure(v.name, fmt.Sprintf("%s  rows/page %.1f", s, avg))
	}
	res.figure("ALL", all.summary().String())
	return nil
}

// dataset describes the seeded data a list or search runs on.
func dataset(ctx context.Context, t *Target, res *Result) {
	if t.Store == nil {
		return
	}
	counts, err := t.Store.RowCounts(ctx)
	if err != nil {
		res.note("could not count the data set: %v", err)
		return
	}
	res.param("data set", fmt.Sprintf("%s conversations, %s messages, %s contacts, %s users, %s inboxes",
		seed.Thousands(counts["conversations"]), seed.Thousands(counts["messages"]), seed.Thousands(counts["contacts"]),
		seed.Thousands(counts["users"]), seed.Thousands(counts["inboxes"])))
}

type inboxJSON struct {
	ID     int64  `json:"id"`
	Access string `json:"access"`
}

// inboxes lists the inboxes the token's owner sees.
func inboxes(ctx context.Context, t *Target, c *http.Client, token string) ([]inboxJSON, error) {
	var page struct {
		Data []inboxJSON `json:"data"`
	}
	if err := call(ctx, c, "GET", t.URL+"/api/v1/inboxes?limit=200", token, nil, &page); err != nil {
		return nil, fmt.Errorf("list inboxes: %w", err)
	}
	return page.Data, nil
}

func fixed(kv ...string) func(int) url.Values {
	return func(int) url.Values {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
}

// List measures the conversation list (50 rows) for the views agents use all day, as an admin
// and as an agent (SPEC PERF-4). Run it on a seeded database: parley seed --conversations 1000000.
func List(ctx context.Context, t *Target, o QueryOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "list", Goal: "PERF-4: conversation list for a view (50 rows) with 1,000,000 conversations: p95 ≤ 15 ms"}
	res.Params = Environment(ctx, t)
	dataset(ctx, t, res)
	res.param("requests", fmt.Sprintf("%d per view after 3 warm-up requests, %d at a time, limit=50", o.Requests, o.Concurrency))
	c := newClient(2)
	admin, err := inboxes(ctx, t, c, t.AdminToken)
	if err != nil {
		return nil, err
	}
	if len(admin) == 0 {
		return nil, errors.New("the installation has no inboxes: seed it first (parley seed)")
	}
	first := strconv.FormatInt(admin[0].ID, 10)
	// The second page of the open conversations, from the first page's cursor.
	var page listPage
	if err := call(ctx, c, "GET", t.URL+"/api/v1/conversations?status=open&limit=50", t.AdminToken, nil, &page); err != nil {
		return nil, err
	}
	cursor := ""
	if page.NextCursor != nil {
		cursor = *page.NextCursor
	}
	views := []view{
		{"admin: open", t.AdminToken, fixed("status", "open")},
		{"admin: all", t.AdminToken, fixed()},
		{"admin: unassigned open", t.AdminToken, fixed("status", "open", "assignee_id", "none")},
		{"admin: one inbox, open", t.AdminToken, fixed("inbox_id", first, "status", "open")},
		{"admin: tag billing", t.AdminToken, fixed("tag", "billing")},
		{"admin: urgent, open", t.AdminToken, fixed("priority", "urgent", "status", "open")},
		{"admin: open, oldest first", t.AdminToken, fixed("status", "open", "sort", "oldest")},
		{"admin: closed", t.AdminToken, fixed("status", "closed")},
	}
	if cursor != "" {
		views = append(views, view{"admin: open, page 2", t.AdminToken, fixed("status", "open", "cursor", cursor)})
	}
	if t.AgentToken != "" {
		views = append(views,
			view{"agent: open (visible inboxes)", t.AgentToken, fixed("status", "open")},
			view{"agent: assigned to me, open", t.AgentToken, fixed("assignee_id", "me", "status", "open")},
			view{"agent: assigned to me", t.AgentToken, fixed("assignee_id", "me")},
			view{"agent: unassigned open", t.AgentToken, fixed("assignee_id", "none", "status", "open")},
		)
		if mine, err := inboxes(ctx, t, c, t.AgentToken); err == nil {
			for _, in := range mine {
				if in.Access == "specific" {
					views = append(views, view{"agent: a team inbox, open", t.AgentToken,
						fixed("inbox_id", strconv.FormatInt(in.ID, 10), "status", "open")})
					break
				}
			}
		}
	} else {
		res.note("no agent token: agent views skipped")
	}
	if err := runViews(ctx, t, o, views, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Search measures full-text search (SPEC PERF-5) with words drawn from the seed's vocabulary:
// single words, two words, a word with a filter, a word prefix (search as you type), a reference
// number (rare), as an admin and as an agent.
func Search(ctx context.Context, t *Target, o QueryOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "search", Goal: "PERF-5: full-text search with 10,000,000 messages: p95 ≤ 100 ms"}
	res.Params = Environment(ctx, t)
	dataset(ctx, t, res)
	res.param("requests", fmt.Sprintf("%d per kind after 3 warm-up requests, %d at a time, limit=50, seed %d", o.Requests, o.Concurrency, o.Seed))
	words := seed.Vocabulary()
	word := func(i, k int) string {
		r := rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)<<8|uint64(k)))
		return words[r.IntN(len(words))]
	}
	q := func(kv ...string) url.Values { return fixed(kv...)(0) }
	views := []view{
		{"admin: one word", t.AdminToken, func(i int) url.Values { return q("q", word(i, 0)) }},
		{"admin: two words", t.AdminToken, func(i int) url.Values { return q("q", word(i, 0)+" "+word(i, 1)) }},
		{"admin: one word, open", t.AdminToken, func(i int) url.Values { return q("q", word(i, 0), "status", "open") }},
		{"admin: word prefix", t.AdminToken, func(i int) url.Values {
			w := word(i, 0)
			return q("q", w[:min(len(w), 3)])
		}},
		{"admin: reference number", t.AdminToken, func(i int) url.Values {
			r := rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)))
			return q("q", strconv.Itoa(1_000_000+r.IntN(9_000_000)))
		}},
		{"admin: contact name", t.AdminToken, func(i int) url.Values {
			r := rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)^0xabc))
			return q("q", seed.FirstNames()[r.IntN(len(seed.FirstNames()))])
		}},
	}
	if t.AgentToken != "" {
		views = append(views, view{"agent: one word", t.AgentToken, func(i int) url.Values { return q("q", word(i, 0)) }})
	}
	if err := runViews(ctx, t, o, views, res); err != nil {
		return nil, err
	}
	return res, nil
}
