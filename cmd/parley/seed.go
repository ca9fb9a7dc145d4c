package main

import (
	"context"
	"fmt"
	"io"

	"github.com/parley-inbox/parley/internal/seed"
)

// seedCommand fills the configured database with a generated installation for benchmarks.
func seedCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c, parse := flags("seed", stderr)
	var o seed.Options
	fs.IntVar(&o.Conversations, "conversations", 10_000, "conversations to generate")
	fs.IntVar(&o.Messages, "messages", 10, "messages per conversation, on average")
	fs.IntVar(&o.Users, "users", 50, "people (the first is the owner on an empty database; one in ten is an admin)")
	fs.IntVar(&o.Teams, "teams", 5, "teams")
	fs.IntVar(&o.Inboxes, "inboxes", 5, "inboxes (the first is open to everyone, the others to a team and a few people)")
	fs.IntVar(&o.Contacts, "contacts", 0, "contacts (default: one per two conversations)")
	fs.IntVar(&o.Channels, "channels", 0, "custom channel accounts (default: two per inbox)")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed: the same options and seed generate the same data")
	fs.BoolVar(&o.Force, "force", false, "add to a database that already holds conversations, contacts or inboxes")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: parley seed [--conversations N] [--messages M] [flags]\n\n"+
			"Generates a realistic installation (people, teams, inboxes, custom channel accounts, contacts,\n"+
			"conversations with messages, tags, assignments and timeline events over the last year) in the\n"+
			"configured database, for benchmarks (see BENCHMARKS.md). It refuses a database in use unless --force.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected argument %q", fs.Arg(0))
	}
	if !*quiet {
		o.Progress = stderr
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	sum, err := seed.Run(ctx, s, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %s database in %s (seed %d):\n", sum.Dialect, sum.Duration.Round(100_000_000), o.Seed)
	for _, t := range sum.Tables {
		if n := sum.Added[t]; n != 0 {
			fmt.Fprintf(stdout, "  %-20s %12s\n", t, seed.Thousands(n))
		}
	}
	return nil
}
