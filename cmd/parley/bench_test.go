package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/bench"
)

// These tests check that the benchmarks work and report sane figures, never how fast anything
// is: timing goals live in BENCHMARKS.md, not in tests.

// benchDB returns the database flags of a fresh database on the engine.
func benchDB(t *testing.T, e engineEnv) []string {
	for _, kv := range e.env {
		if v, ok := strings.CutPrefix(kv, "PARLEY_DATABASE_URL="); ok {
			return []string{"--database-url", v}
		}
	}
	return []string{"--data-dir", t.TempDir()}
}

func runBench(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if err := benchCommand(ctx, args, &out, &errb); err != nil {
		t.Fatalf("parley bench %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// figure returns a result line's value.
func figure(t *testing.T, out, key string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q in:\n%s", key, out)
	return ""
}

var firstNumber = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

func number(t *testing.T, s string) float64 {
	t.Helper()
	n, err := strconv.ParseFloat(firstNumber.FindString(s), 64)
	if err != nil {
		t.Fatalf("no number in %q", s)
	}
	return n
}

func TestBenchIngestAndDeliver(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db := benchDB(t, e)
			out := runBench(t, append([]string{"ingest", "--messages", "200", "--clients", "8", "--threads", "20"}, db...)...)
			if got := figure(t, out, "stored"); !strings.HasPrefix(got, "200 of 200 ") {
				t.Errorf("stored: %s\n%s", got, out)
			}
			if got := figure(t, out, "pushed"); !strings.HasPrefix(got, "200 of 200 ") {
				t.Errorf("pushed: %s\n%s", got, out)
			}
			if number(t, figure(t, out, "throughput")) <= 0 || number(t, figure(t, out, "latency")) <= 0 {
				t.Errorf("no throughput or latency:\n%s", out)
			}
			if got := figure(t, out, "routing"); got != "round robin to the bench agent" {
				t.Errorf("routing: %s", got)
			}

			// A second benchmark on the same database makes its own channel and tokens.
			out = runBench(t, append([]string{"deliver", "--rate", "200", "--duration", "1s", "--clients", "8"}, db...)...)
			if got := figure(t, out, "received"); !strings.HasPrefix(got, "200 of 200 frames") {
				t.Errorf("received: %s\n%s", got, out)
			}
			if lat := figure(t, out, "publish → frame latency"); !strings.Contains(lat, "(n=200)") {
				t.Errorf("latency: %s", lat)
			}
		})
	}
}

func TestBenchEmail(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			out := runBench(t, append([]string{"email", "--messages", "150", "--clients", "4"}, benchDB(t, e)...)...)
			if got := figure(t, out, "delivered"); !strings.HasPrefix(got, "150 acknowledged (250), 0 failed") {
				t.Errorf("delivered: %s\n%s", got, out)
			}
			if got := figure(t, out, "stored"); !strings.HasPrefix(got, "150 of 150 acknowledged found, 150 rows") {
				t.Errorf("stored: %s\n%s", got, out)
			}
			if got := figure(t, out, "errors"); !strings.HasPrefix(got, "0 ") {
				t.Errorf("errors: %s\n%s", got, out)
			}
			// Replies were sent and each joined its parent's conversation.
			th := figure(t, out, "threaded")
			var ok, replies int
			if _, err := fmt.Sscanf(th, "%d of %d replies", &ok, &replies); err != nil || replies == 0 || ok != replies {
				t.Errorf("threaded: %s", th)
			}
			if number(t, figure(t, out, "throughput")) <= 0 || !strings.Contains(figure(t, out, "SMTP transaction"), "(n=150)") {
				t.Errorf("no throughput or latency:\n%s", out)
			}
			if n := number(t, figure(t, out, "DNS queries")); n < 150 {
				t.Errorf("the receiver did not ask the benchmark's DNS server: %s", figure(t, out, "DNS queries"))
			}
		})
	}
}

func TestBenchListAndSearchOnSeed(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db := benchDB(t, e)
			var out, errb bytes.Buffer
			if err := seedCommand(context.Background(), append([]string{"--conversations", "300", "--messages", "3",
				"--users", "8", "--quiet"}, db...), &out, &errb); err != nil {
				t.Fatalf("seed: %v\n%s", err, errb.String())
			}
			if !regexp.MustCompile(`conversations\s+300\n`).MatchString(out.String()) {
				t.Fatalf("seed summary:\n%s", out.String())
			}
			// A second seed refuses the database in use.
			if err := seedCommand(context.Background(), append([]string{"--conversations", "10", "--quiet"}, db...), &out, &errb); err == nil {
				t.Fatal("a second seed was accepted without --force")
			}

			list := runBench(t, append([]string{"list", "--requests", "3"}, db...)...)
			if !strings.Contains(list, "300 conversations") {
				t.Errorf("list does not describe the data set:\n%s", list)
			}
			for _, view := range []string{"admin: open", "agent: assigned to me, open"} {
				if got := figure(t, list, view); !strings.Contains(got, "(n=3)") || !strings.Contains(got, "rows/page") {
					t.Errorf("%s: %s", view, got)
				}
			}
			if got := figure(t, list, "admin: all"); !strings.HasSuffix(got, "rows/page 50.0") {
				t.Errorf("admin: all should fill its pages: %s", got)
			}
			search := runBench(t, append([]string{"search", "--requests", "3"}, db...)...)
			if got := figure(t, search, "ALL"); !strings.Contains(got, "(n=") {
				t.Errorf("search: %s", got)
			}
			pages := runBench(t, append([]string{"pages", "--requests", "3"}, db...)...)
			for _, p := range []string{"agent: open conversation", "agent: list block (live refresh)", "admin: settings, users"} {
				if got := figure(t, pages, p); !strings.Contains(got, "(n=3)") || !strings.Contains(got, "KiB") {
					t.Errorf("pages %s: %s", p, got)
				}
			}
		})
	}
}

func TestBenchConnections(t *testing.T) {
	out := runBench(t, "connections", "--server", "in-process", "--count", "40", "--hold", "0s", "--data-dir", t.TempDir())
	if got := figure(t, out, "still open after hold"); !strings.HasPrefix(got, "40 ") {
		t.Errorf("still open: %s\n%s", got, out)
	}
	if got := figure(t, out, "opened"); !strings.HasPrefix(got, "40 in ") || !strings.HasSuffix(got, ", 0 failed") {
		t.Errorf("opened: %s", got)
	}
}

func TestBenchStartup(t *testing.T) {
	res, err := bench.Startup(context.Background(), bench.StartupOptions{Binary: parleyBinary(t), DataDir: t.TempDir(), Runs: 2})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Print(&out)
	if number(t, res.Figure("first start")) <= 0 || !strings.Contains(res.Figure("restarts"), "(n=1)") {
		t.Errorf("startup:\n%s", out.String())
	}
	if number(t, res.Figure("idle RSS")) <= 0 {
		t.Errorf("no idle memory:\n%s", out.String())
	}
}

func TestBenchRefusesRemoteTargets(t *testing.T) {
	var out, errb bytes.Buffer
	err := benchCommand(context.Background(), []string{"ingest", "--url", "http://192.0.2.1:8080", "--token", "x"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v, want a refusal of a non-loopback target", err)
	}
	if err := benchCommand(context.Background(), []string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"ingest", "deliver", "connections", "list", "search", "pages", "email", "chat", "startup"} {
		if !strings.Contains(out.String(), "\n  "+sc+" ") {
			t.Errorf("--help does not list %s", sc)
		}
	}
}
