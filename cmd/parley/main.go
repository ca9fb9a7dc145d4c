// Command parley is the whole product in one binary: the server and its admin commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/parley-inbox/parley/internal/config"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/store"
)

const usage = `parley — a self-hosted conversations inbox

Usage:
  parley serve                    run the server (SQLite in ./parley-data unless --database-url)
  parley migrate                  apply database migrations and exit
  parley user create --email E --name N [--role owner|admin|agent] [--password P]
  parley user reset-password --email E [--password P]
  parley token create --email E --name N    print a new API token for the user
  parley webhook-listen --secret S [--listen 127.0.0.1:9000]
                                  a webhook target that verifies signatures and prints events
  parley seed [--conversations N] [--messages M] [--users U] [--teams T] [--inboxes I] [--contacts C] [--force]
                                  fill the database with a generated installation for benchmarks
  parley bench SCENARIO [flags]   run a benchmark (ingest, deliver, connections, list, search, startup);
                                  "parley bench --help" lists them
  parley version                  print the version

Every command takes --data-dir and --database-url (or PARLEY_DATA_DIR, PARLEY_DATABASE_URL);
run "parley serve -h" for all settings.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		if p, ok := problem.As(err); ok {
			fmt.Fprintln(os.Stderr, "parley:", p.Detail)
		} else {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "user":
		return userCommand(ctx, rest, stdout, stderr)
	case "token":
		return tokenCommand(ctx, rest, stdout, stderr)
	case "webhook-listen":
		return webhookListen(ctx, rest, stdout, stderr)
	case "seed":
		return seedCommand(ctx, rest, stdout, stderr)
	case "bench":
		return benchCommand(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "parley", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// version is the module version when built from a tagged module, else the VCS revision.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel+" + rev
}

// flags makes a flag set with every configuration setting bound, for a subcommand. parse parses
// the arguments and resolves the configuration from flags, environment and defaults.
func flags(name string, stderr io.Writer) (fs *flag.FlagSet, c *config.Config, parse func(args []string) error) {
	fs = flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c = &config.Config{}
	resolve := config.Bind(fs, c)
	return fs, c, func(args []string) error {
		if err := fs.Parse(args); err != nil {
			return err
		}
		return resolve()
	}
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, c *config.Config) (*store.Store, error) {
	s, err := store.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newLogger(c *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, c, parse := flags("migrate", stderr)
	if err := parse(args); err != nil {
		return err
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "migrated %s database\n", s.Dialect())
	return nil
}
