package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/web/session"
)

// page is one web app page request, as someone, optionally as htmx asking for one block.
type page struct {
	name    string
	session string
	path    string
	target  string // HX-Target: the block a live refresh asks for
}

// Pages measures server-side rendering of the web app's pages (issue 4: under 50 ms on a
// database with 100,000 conversations): the inbox views, an open conversation, the list
// block that live updates refetch, contacts and a settings page. Each latency is the whole
// request on loopback, so it bounds the render time from above.
func Pages(ctx context.Context, t *Target, o QueryOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if t.AdminSession == "" || t.AgentSession == "" {
		return nil, errors.New("pages needs browser sessions, which the benchmark makes in the database: run it without --url")
	}
	res := &Result{Scenario: "pages", Goal: "issue 4: web app pages render in < 50 ms on 100,000 conversations"}
	res.Params = Environment(ctx, t)
	dataset(ctx, t, res)
	res.param("requests", fmt.Sprintf("%d per page after 3 warm-up requests, %d at a time", o.Requests, o.Concurrency))

	c := newClient(o.Concurrency)
	var list listPage
	if err := call(ctx, c, "GET", t.URL+"/api/v1/conversations?status=open&limit=1", t.AgentToken, nil, &list); err != nil {
		return nil, err
	}
	if len(list.Data) == 0 {
		return nil, errors.New("the agent sees no open conversation: seed the database first (parley seed)")
	}
	conv := strconv.FormatInt(list.Data[0].ID, 10)
	var full struct {
		ContactID *int64 `json:"contact_id"`
	}
	if err := call(ctx, c, "GET", t.URL+"/api/v1/conversations/"+conv, t.AgentToken, nil, &full); err != nil {
		return nil, err
	}
	pages := []page{
		{"agent: inbox, all open", t.AgentSession, "/inbox", ""},
		{"agent: inbox, unassigned", t.AgentSession, "/inbox?view=unassigned", ""},
		{"agent: inbox, assigned to me", t.AgentSession, "/inbox?view=mine", ""},
		{"agent: open conversation", t.AgentSession, "/inbox/" + conv, ""},
		{"agent: list block (live refresh)", t.AgentSession, "/inbox", "conversation-list"},
		{"agent: conversation block (live refresh)", t.AgentSession, "/inbox/" + conv, "conversation"},
		{"admin: inbox, all open", t.AdminSession, "/inbox", ""},
		{"admin: inbox, closed", t.AdminSession, "/inbox?view=closed", ""},
		{"admin: contacts", t.AdminSession, "/contacts", ""},
		{"admin: settings, users", t.AdminSession, "/settings/users", ""},
	}
	if full.ContactID != nil {
		pages = append(pages, page{"agent: contact", t.AgentSession, "/contacts/" + strconv.FormatInt(*full.ContactID, 10), ""})
	}
	deadline := time.Now().Add(o.Duration)
	var all latencies
	for _, p := range pages {
		var bytes atomic.Int64
		get := func() error {
			n, err := fetchPage(ctx, c, t.URL, p)
			bytes.Store(int64(n))
			return err
		}
		for range 3 {
			if err := get(); err != nil {
				return nil, err
			}
		}
		var lat latencies
		var next atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		for range o.Concurrency {
			wg.Go(func() {
				for int(next.Add(1)) <= o.Requests && time.Now().Before(deadline) && ctx.Err() == nil {
					t0 := time.Now()
					if err := get(); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					d := time.Since(t0)
					lat.add(d)
					all.add(d)
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
		res.figure(p.name, fmt.Sprintf("%s  %d KiB", lat.summary(), bytes.Load()/1024))
	}
	res.figure("ALL", all.summary().String())
	return res, nil
}

// fetchPage GETs a page with the session cookie and returns its size; anything but 200 is an error.
func fetchPage(ctx context.Context, c *http.Client, base string, p page) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+p.path, nil)
	if err != nil {
		return 0, err
	}
	req.AddCookie(&http.Cookie{Name: session.Cookie, Value: p.session})
	if p.target != "" {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", p.target)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: GET %s: HTTP %d", p.name, p.path, resp.StatusCode)
	}
	return len(b), nil
}
