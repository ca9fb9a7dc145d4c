package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// StartupOptions bound the startup scenario.
type StartupOptions struct {
	Binary      string // the parley binary to start
	DataDir     string // SQLite data directory (when DatabaseURL is empty)
	DatabaseURL string
	Runs        int
	Idle        time.Duration // how long the server idles before its memory is read
}

// Startup starts `parley serve` Runs times on the same database and measures the time from
// starting the process to /readyz answering 200, then the idle server's resident memory
// (SPEC PERF-7). On an empty database the first start also creates the schema.
func Startup(ctx context.Context, o StartupOptions) (*Result, error) {
	if o.Runs < 1 || o.Runs > 100 {
		return nil, errors.New("runs: want 1 to 100")
	}
	if o.Idle < 0 || o.Idle > 10*time.Minute {
		return nil, errors.New("idle: want 0 to 10m")
	}
	res := &Result{Scenario: "startup", Goal: "PERF-7: idle server RSS ≤ 40 MB; start-up time ≤ 300 ms"}
	res.Params = []KV{{"machine", Machine()}}
	db := "SQLite in " + o.DataDir
	if o.DatabaseURL != "" {
		db = "PostgreSQL (" + redactURL(o.DatabaseURL) + ")"
	}
	res.param("database", db)
	res.param("runs", o.Runs)
	res.param("measured", "process start → first 200 from GET /readyz (polled every 1 ms), child process, log level warn")
	var ready []time.Duration
	var rss, peak int64
	for i := range o.Runs {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		p, err := Spawn(ctx, o.Binary, addr, []string{"--data-dir", o.DataDir, "--database-url", o.DatabaseURL, "--shutdown-grace", "5s"})
		if err != nil {
			return nil, err
		}
		ready = append(ready, p.Ready)
		if i == o.Runs-1 {
			select {
			case <-time.After(o.Idle):
			case <-ctx.Done():
			}
			rss, peak, err = RSS(p.PID)
			if err != nil {
				res.note("could not read the server's memory: %v", err)
			}
		}
		if err := p.Stop(); err != nil {
			return nil, fmt.Errorf("stop server: %w; log:\n%s", err, p.Log())
		}
	}
	res.figure("first start", ms(ready[0]))
	if len(ready) > 1 {
		rest := slices.Clone(ready[1:])
		slices.Sort(rest)
		res.figure("restarts", fmt.Sprintf("median %s, min %s, max %s (n=%d)", ms(rest[len(rest)/2]), ms(rest[0]), ms(rest[len(rest)-1]), len(rest)))
	}
	if rss > 0 {
		res.figure("idle RSS", fmt.Sprintf("%s after %s idle (peak %s)", kb(rss), o.Idle, kb(peak)))
	}
	return res, nil
}

// redactURL hides a password in a database URL.
func redactURL(s string) string {
	if u, err := parseURL(s); err == nil {
		return u.Redacted()
	}
	return "(unparseable)"
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
