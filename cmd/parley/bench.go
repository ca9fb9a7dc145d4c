package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/bench"
	"github.com/parley-inbox/parley/internal/config"
	"github.com/parley-inbox/parley/internal/store"
)

const benchUsage = `Usage: parley bench SCENARIO [flags]

Scenarios (SPEC section 14; results and the commands behind them are in BENCHMARKS.md):
  ingest       publish messages through the custom channels API from concurrent clients (PERF-1)
  deliver      publish at a fixed rate with a WebSocket client connected; publish → frame latency (PERF-2)
  connections  open idle WebSockets to one server; memory per connection (PERF-3)
  list         conversation lists (50 rows) for several views, as an admin and an agent (PERF-4)
  search       full-text search with words of the seed vocabulary (PERF-5)
  pages        the web app's pages and the blocks live updates refetch, with browser sessions
  email        deliver generated mail to the SMTP receiver from concurrent connections (PERF-6)
  startup      start-up time and idle memory of the server (PERF-7)
  chat         the widget's gzipped size (PERF-7) and visitor message → agent screen latency

By default the benchmark starts its own server on 127.0.0.1 — in this process, or as a child
process for connections and startup (--server process|in-process) — on a temporary SQLite
database, or on --data-dir / --database-url (seed those first: parley seed). With --url it
measures a running server instead (loopback only; give --token, an admin's API token, and for
email the server's SMTP receiver as --smtp-addr; start that server with PARLEY_SMTP_RATE_LIMIT=off,
or its per-address limits throttle the benchmark).
Every scenario is bounded in count and time and prints one result block with its parameters.

Run "parley bench SCENARIO -h" for a scenario's flags.
`

// scenario is one benchmark: its flags, the server it wants by default, and how it runs.
type scenario struct {
	name, summary string
	process       bool // starts a child process by default (memory is measured per process)
	needsServer   bool
	smtp          bool // the server it starts runs its SMTP receiver
	flags         func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error)
}

// benchEnv is what a scenario may need beyond the target.
type benchEnv struct {
	cfg    *config.Config
	binary string
	stderr io.Writer
	// smtpAddr is the server's SMTP receiver: the one the benchmark's own server listens on, or
	// --smtp-addr with --url.
	smtpAddr string
	// dns answers the receiver's SPF and DMARC lookups (--receiver-dns bench); nil when the
	// server uses its own resolver.
	dns *bench.DNSServer
}

// benchInboundDomain is the domain of receiving addresses on a server the benchmark starts.
const benchInboundDomain = "in.bench.parley.invalid"

var scenarios = []scenario{
	{name: "ingest", summary: "publish through the custom channels API (PERF-1)", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.IngestOptions{}
			fs.IntVar(&o.Messages, "messages", 20_000, "messages to publish")
			fs.IntVar(&o.Clients, "clients", 32, "concurrent publishing clients")
			fs.IntVar(&o.Threads, "threads", 1000, "conversations the messages spread over (integration thread ids)")
			fs.DurationVar(&o.Duration, "duration", 2*time.Minute, "stop publishing after this long")
			fs.BoolVar(&o.Realtime, "realtime", true, "connect a WebSocket client and count the pushed events")
			fs.BoolVar(&o.Routing, "routing", true, "turn on automatic assignment for the channel")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Ingest(ctx, t, o)
			}
		}},
	{name: "deliver", summary: "publish → WebSocket frame latency at a fixed rate (PERF-2)", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.DeliverOptions{}
			fs.IntVar(&o.Rate, "rate", 1000, "messages per second")
			fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to publish")
			fs.IntVar(&o.Clients, "clients", 64, "publishing clients (enough to keep the rate when requests queue)")
			fs.IntVar(&o.Threads, "threads", 500, "conversations the messages spread over")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Deliver(ctx, t, o)
			}
		}},
	{name: "connections", summary: "idle WebSockets on one server and memory per connection (PERF-3)", process: true, needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.ConnectionsOptions{}
			fs.IntVar(&o.Count, "count", 10_000, "WebSockets to open")
			fs.DurationVar(&o.Hold, "hold", 10*time.Second, "how long to hold them idle before measuring again")
			fs.IntVar(&o.Sources, "sources", 8, "source addresses 127.0.0.1…N to spread the connections over")
			fs.IntVar(&o.DialConcurrency, "dial-concurrency", 64, "connections being opened at once")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Connections(ctx, t, o)
			}
		}},
	{name: "list", summary: "conversation list latency for several views (PERF-4)", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.QueryOptions{}
			fs.IntVar(&o.Requests, "requests", 200, "requests per view")
			fs.IntVar(&o.Concurrency, "concurrency", 1, "requests in flight at once")
			fs.DurationVar(&o.Duration, "duration", 2*time.Minute, "stop after this long")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.List(ctx, t, o)
			}
		}},
	{name: "search", summary: "full-text search latency (PERF-5)", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.QueryOptions{}
			fs.IntVar(&o.Requests, "requests", 300, "searches per kind")
			fs.IntVar(&o.Concurrency, "concurrency", 1, "requests in flight at once")
			fs.DurationVar(&o.Duration, "duration", 2*time.Minute, "stop after this long")
			fs.Int64Var(&o.Seed, "seed", 1, "random seed for the search words")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Search(ctx, t, o)
			}
		}},
	{name: "pages", summary: "web app page render latency (issue 4: < 50 ms on 100,000 conversations)", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.QueryOptions{}
			fs.IntVar(&o.Requests, "requests", 200, "requests per page")
			fs.IntVar(&o.Concurrency, "concurrency", 1, "requests in flight at once")
			fs.DurationVar(&o.Duration, "duration", 2*time.Minute, "stop after this long")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Pages(ctx, t, o)
			}
		}},
	{name: "email", summary: "inbound email through the SMTP receiver: parse, thread, store (PERF-6)", needsServer: true, smtp: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.EmailOptions{}
			fs.IntVar(&o.Messages, "messages", 5000, "messages to deliver")
			fs.IntVar(&o.Clients, "clients", 16, "concurrent SMTP connections")
			fs.DurationVar(&o.Duration, "duration", 2*time.Minute, "stop delivering after this long")
			return func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
				o.SMTPAddr, o.DNS = e.smtpAddr, e.dns
				return bench.Email(ctx, t, o)
			}
		}},
	{name: "startup", summary: "start-up time and idle memory (PERF-7)", process: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.StartupOptions{}
			fs.IntVar(&o.Runs, "runs", 5, "starts to measure")
			fs.DurationVar(&o.Idle, "idle", 3*time.Second, "how long the server idles before its memory is read")
			return func(ctx context.Context, _ *bench.Target, e *benchEnv) (*bench.Result, error) {
				o.Binary, o.DataDir, o.DatabaseURL = e.binary, e.cfg.DataDir, e.cfg.DatabaseURL
				return bench.Startup(ctx, o)
			}
		}},
	{name: "chat", summary: "the widget's gzipped size (PERF-7) and visitor message → agent screen latency", needsServer: true,
		flags: func(fs *flag.FlagSet) func(ctx context.Context, t *bench.Target, e *benchEnv) (*bench.Result, error) {
			o := bench.ChatOptions{}
			fs.IntVar(&o.Messages, "messages", 1000, "visitor messages to send in all")
			fs.IntVar(&o.Visitors, "visitors", 20, "visitors sending at once, each on their own widget socket")
			fs.Float64Var(&o.Rate, "rate", 4, "messages per second per visitor (the server allows a visitor 5 frames/s)")
			return func(ctx context.Context, t *bench.Target, _ *benchEnv) (*bench.Result, error) {
				return bench.Chat(ctx, t, o)
			}
		}},
}

func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, benchUsage)
		if len(args) == 0 {
			return errors.New("bench: name a scenario")
		}
		return nil
	}
	var sc *scenario
	for i := range scenarios {
		if scenarios[i].name == args[0] {
			sc = &scenarios[i]
		}
	}
	if sc == nil {
		fmt.Fprint(stderr, benchUsage)
		return fmt.Errorf("bench: unknown scenario %q", args[0])
	}
	fs, c, parse := flags("bench "+sc.name, stderr)
	runScenario := sc.flags(fs)
	url := fs.String("url", "", "measure the server at this loopback URL instead of starting one")
	token := fs.String("token", "", "with --url: an owner's or admin's API token")
	agentToken := fs.String("agent-token", "", "with --url: an agent's API token (list and search)")
	mode := "in-process"
	if sc.process {
		mode = "process"
	}
	server := fs.String("server", mode, "without --url: run the server in-process or as a child process")
	keep := fs.Bool("keep", false, "keep the temporary data directory")
	receiverDNS := "system"
	if sc.smtp {
		fs.StringVar(&receiverDNS, "receiver-dns", "bench", "without --url: bench (the receiver's SPF/DMARC lookups go to a DNS server in this process) or system")
	}
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (with --server in-process, the server's too) to this file")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parley bench %s [flags]\n\n%s.\n\n", sc.name, sc.summary)
		fs.PrintDefaults()
	}
	if err := parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	env := &benchEnv{cfg: c, stderr: stderr}
	var err error
	if env.binary, err = bench.Executable(); err != nil {
		return err
	}

	// A temporary data directory unless one was named: the SQLite database, or on PostgreSQL the
	// files (attachments of the email scenario), which must not land in the working directory.
	if !given["data-dir"] && os.Getenv("PARLEY_DATA_DIR") == "" {
		dir, err := os.MkdirTemp("", "parley-bench-")
		if err != nil {
			return err
		}
		c.DataDir = dir
		if !*keep {
			defer os.RemoveAll(dir)
		} else {
			fmt.Fprintf(stderr, "data directory: %s\n", dir)
		}
	}

	if !sc.needsServer {
		res, err := runScenario(ctx, nil, env)
		if err != nil {
			return err
		}
		res.Print(stdout)
		return nil
	}

	t := &bench.Target{}
	if *url != "" {
		if err := bench.CheckLoopback(*url); err != nil {
			return err
		}
		if *token == "" {
			return errors.New("bench: --url needs --token (an owner's or admin's API token)")
		}
		t.URL, t.AdminToken, t.AgentToken, t.Mode = strings.TrimRight(*url, "/"), *token, *agentToken, "external"
		env.smtpAddr = c.SMTPAddr
		if c.DatabaseURL != "" || given["data-dir"] {
			// The database lets the benchmark check what was stored; it is not migrated.
			s, err := store.Open(ctx, c.DatabaseURL, c.DataDir)
			if err != nil {
				return err
			}
			defer s.Close()
			t.Store = s
		}
	} else {
		s, err := openStore(ctx, c)
		if err != nil {
			return err
		}
		defer s.Close()
		t.Store = s
		cr, err := bench.Prepare(ctx, s)
		if err != nil {
			return err
		}
		defer func() {
			if err := cr.Revoke(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintln(stderr, "parley bench: revoke tokens:", err)
			}
		}()
		t.AdminToken, t.AgentToken, t.AgentID = cr.AdminToken, cr.AgentToken, cr.AgentID
		t.AdminSession, t.AgentSession = cr.AdminSession, cr.AgentSession
		if sc.smtp {
			if env.smtpAddr, err = bench.FreeAddr(); err != nil {
				return err
			}
			switch receiverDNS {
			case "bench":
				if env.dns, err = bench.StartDNS(); err != nil {
					return err
				}
				defer env.dns.Close()
			case "system":
			default:
				return fmt.Errorf("bench: --receiver-dns %q: want bench or system", receiverDNS)
			}
		}
		stop, err := startBenchServer(ctx, t, env, *server)
		if err != nil {
			return err
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(stderr, "parley bench: stop server:", err)
			}
		}()
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	res, err := runScenario(ctx, t, env)
	if err != nil {
		return err
	}
	res.Print(stdout)
	return nil
}

// startCPUProfile profiles this process into path until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// startBenchServer starts a server on a free loopback port on the configured database, in this
// process or as a child process, fills in t's URL, PID and Mode, and returns how to stop it.
func startBenchServer(ctx context.Context, t *bench.Target, e *benchEnv, mode string) (func() error, error) {
	addr, err := bench.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--data-dir", e.cfg.DataDir, "--database-url", e.cfg.DatabaseURL, "--shutdown-grace", "5s"}
	if e.smtpAddr != "" {
		// The receiver's per-address limits would throttle a load generator on one address.
		args = append(args, "--smtp-addr", e.smtpAddr, "--inbound-domain", benchInboundDomain, "--smtp-rate-limit", "off")
		if e.dns != nil {
			args = append(args, "--smtp-dns", e.dns.Addr)
		}
	}
	switch mode {
	case "process":
		p, err := bench.Spawn(ctx, e.binary, addr, args)
		if err != nil {
			return nil, err
		}
		t.URL, t.PID, t.Mode = p.URL, p.PID, "child process"
		return p.Stop, nil
	case "in-process":
		t.URL, t.PID, t.Mode = "http://"+addr, os.Getpid(), "in-process"
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan error, 1)
		var log syncBuffer
		go func() {
			done <- serve(sctx, append([]string{"--addr", addr, "--base-url", t.URL, "--log-level", "warn"}, args...), io.Discard, &log)
		}()
		if err := bench.WaitReady(ctx, t.URL, 60*time.Second, done); err != nil {
			cancel()
			return nil, fmt.Errorf("%w; server log:\n%s", err, log.String())
		}
		return func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(15 * time.Second):
				return errors.New("the in-process server did not stop within 15s")
			}
		}, nil
	}
	return nil, fmt.Errorf("bench: --server %q: want in-process or process", mode)
}

// syncBuffer is a log sink written by the in-process server and read on failure.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
