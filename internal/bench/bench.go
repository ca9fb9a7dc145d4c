// Package bench runs Parley's benchmark scenarios (SPEC §14) against a server over HTTP and
// WebSocket, as clients would: ingest through the custom channels API, publish → WebSocket
// delivery, idle WebSocket connections, conversation lists and search, start-up time and memory.
// Every scenario is bounded in count and time, talks to loopback only, and returns one Result
// that states its exact parameters. The server comes from the caller (cmd/parley starts one in
// process, as a child process, or points at a running one); this package never starts one.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/store"
)

// Target is the server under test.
type Target struct {
	URL        string // http://127.0.0.1:port
	AdminToken string // an owner's or admin's API token
	AgentToken string // an agent's API token; may be empty
	AgentID    int64  // the agent's user id; 0 when unknown
	// AdminSession and AgentSession are session tokens for the web app (the cookie's value);
	// empty when the benchmark cannot reach the database to make them.
	AdminSession, AgentSession string
	// Store is the server's database when the benchmark can reach it: used to check what was
	// stored and to describe the data set. It may be nil.
	Store *store.Store
	// PID is the server's process, for memory figures; 0 when unknown.
	PID int
	// Mode says how the server runs: "in-process", "process" or "external".
	Mode string
}

// KV is one named value of a result.
type KV struct{ Key, Value string }

// Result is what a scenario measured, with the parameters that produced it.
type Result struct {
	Scenario string
	Goal     string // the SPEC line it measures, e.g. "PERF-1: ≥ 5,000/s on PostgreSQL, ≥ 3,000/s on SQLite"
	Params   []KV
	Figures  []KV
	Notes    []string
}

func (r *Result) param(k string, v any)  { r.Params = append(r.Params, KV{k, fmt.Sprint(v)}) }
func (r *Result) figure(k string, v any) { r.Figures = append(r.Figures, KV{k, fmt.Sprint(v)}) }
func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Print writes the result block.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "== parley bench %s ==\n", r.Scenario)
	if r.Goal != "" {
		fmt.Fprintf(w, "goal: %s\n", r.Goal)
	}
	width := 0
	for _, kv := range append(slices.Clone(r.Params), r.Figures...) {
		width = max(width, len(kv.Key))
	}
	fmt.Fprintln(w, "parameters:")
	for _, kv := range r.Params {
		fmt.Fprintf(w, "  %-*s  %s\n", width, kv.Key, kv.Value)
	}
	fmt.Fprintln(w, "results:")
	for _, kv := range r.Figures {
		fmt.Fprintf(w, "  %-*s  %s\n", width, kv.Key, kv.Value)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// Figure returns the named figure's value ("" when absent); tests read results with it.
func (r *Result) Figure(key string) string {
	for _, kv := range r.Figures {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// Environment describes the machine and the engine, for the head of a result.
func Environment(ctx context.Context, t *Target) []KV {
	kv := []KV{{"machine", Machine()}, {"go", runtime.Version() + fmt.Sprintf(" GOMAXPROCS=%d", runtime.GOMAXPROCS(0))},
		{"server", t.Mode + " at " + t.URL}}
	if t.Store != nil {
		kv = append(kv, KV{"database", string(t.Store.Dialect()) + " " + t.Store.EngineVersion(ctx)})
	}
	return kv
}

// latencies collects request durations; they are few enough (bounded runs) to keep them all.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Summary is a latency distribution.
type Summary struct {
	N                       int
	P50, P95, P99, Max, Avg time.Duration
}

func (l *latencies) summary() Summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	return summarize(d)
}

func summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	// Nearest-rank percentiles: the smallest value with at least p% of the samples at or below it.
	pct := func(p float64) time.Duration {
		i := int(p/100*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return Summary{N: len(d), P50: pct(50), P95: pct(95), P99: pct(99), Max: d[len(d)-1], Avg: sum / time.Duration(len(d))}
}

func (s Summary) String() string {
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)", ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.N)
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// newClient is an HTTP client that keeps up to conns connections to the server open.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// apiError is a response outside 2xx.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// call sends a JSON request with a bearer token and decodes a JSON answer into out (if not nil).
func call(ctx context.Context, c *http.Client, method, u, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{resp.StatusCode, string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, u, err)
		}
	}
	return nil
}

// CheckLoopback refuses targets that are not on this machine: load generators must not be
// pointed at someone else's server by mistake.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("url %q: want http://127.0.0.1:PORT", rawURL)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("url %q: benchmarks run against loopback addresses only (127.0.0.0/8, ::1, localhost)", rawURL)
	}
	return nil
}

func runID() string { return time.Now().UTC().Format("20060102-150405.000") }

// rate formats a per-second rate.
func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds())
}
