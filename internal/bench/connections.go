package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ConnectionsOptions bound the connections scenario.
type ConnectionsOptions struct {
	Count           int           // WebSockets to open
	Hold            time.Duration // how long to hold them idle
	Sources         int           // source addresses 127.0.0.1…N
	DialConcurrency int
}

func (o *ConnectionsOptions) check() error {
	if o.Count < 1 || o.Count > 1_000_000 {
		return errors.New("count: want 1 to 1,000,000")
	}
	if o.Hold < 0 || o.Hold > 10*time.Minute {
		return errors.New("hold: want 0 to 10m")
	}
	if o.Sources < 1 || o.Sources > 250 {
		return errors.New("sources: want 1 to 250")
	}
	if o.DialConcurrency < 1 || o.DialConcurrency > 1024 {
		return errors.New("dial-concurrency: want 1 to 1,024")
	}
	return nil
}

// fileLimit reads a process's soft limit on open files from /proc (Linux).
func fileLimit(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(strings.TrimPrefix(line, "Max open files"))
			if len(f) > 0 {
				if f[0] == "unlimited" {
					return 1 << 30, nil
				}
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, errors.New("no open files limit")
}

// Connections opens idle agent WebSockets to one server and reports how many it holds and the
// server's memory per idle connection (SPEC PERF-3): the growth of its resident memory divided by
// the connections. Run against a server in its own process (the default) so the figure is the
// server's alone.
func Connections(ctx context.Context, t *Target, o ConnectionsOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "connections", Goal: "PERF-3: ≥ 50,000 concurrent WebSockets on one node, with memory per idle connection reported"}
	res.Params = Environment(ctx, t)
	res.param("requested", o.Count)
	res.param("hold", o.Hold)
	res.param("source addresses", fmt.Sprintf("127.0.0.1 … 127.0.0.%d", o.Sources))

	soft, hard, err := RaiseFileLimit()
	if err != nil {
		res.note("could not raise this process's open files limit: %v", err)
	}
	res.param("open files limit (benchmark)", fmt.Sprintf("soft %d, hard %d", soft, hard))
	limit := int(soft) - 256 // headroom for the server's database files, listeners and HTTP clients
	inProcess := t.PID == os.Getpid()
	if inProcess {
		limit /= 2 // both ends of every connection are in this process
		res.note("the server runs in this process: memory figures include the client ends of the connections")
	} else if t.PID > 0 {
		if sl, err := fileLimit(t.PID); err == nil {
			res.param("open files limit (server)", sl)
			limit = min(limit, sl-256)
		}
	}
	count := o.Count
	if count > limit {
		count = max(limit, 1)
		res.note("capped at %d connections by the open files limit (one descriptor per connection per process); "+
			"raising the hard limit needs privileges this environment does not grant", count)
	}
	res.param("connections", count)

	var ms0 runtime.MemStats
	settle := func() {
		time.Sleep(2 * time.Second)
		if inProcess {
			runtime.GC()
		}
	}
	settle()
	var rss0 int64
	if t.PID > 0 {
		rss0, _, _ = RSS(t.PID)
	}
	if inProcess {
		runtime.ReadMemStats(&ms0)
	}

	clients := sourceClients(o.Sources)
	conns := make([]*websocket.Conn, count)
	var open, failed, dropped atomic.Int64
	var firstErr error
	var errOnce sync.Once
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readers sync.WaitGroup
	sem := make(chan struct{}, o.DialConcurrency)
	began := time.Now()
	var dials sync.WaitGroup
	for i := range count {
		sem <- struct{}{}
		dials.Go(func() {
			defer func() { <-sem }()
			dctx, dcancel := context.WithTimeout(cctx, 30*time.Second)
			defer dcancel()
			c, err := dialRealtime(dctx, t, t.AdminToken, clients[i%len(clients)])
			if err == nil {
				_, _, err = c.Read(dctx) // the ready frame: the server has registered the connection
				if err != nil {
					c.CloseNow()
				}
			}
			if err != nil {
				failed.Add(1)
				errOnce.Do(func() { firstErr = err })
				return
			}
			conns[i] = c
			open.Add(1)
			// Reading answers the server's pings; an idle connection receives nothing else.
			readers.Go(func() {
				for {
					if _, _, err := c.Read(cctx); err != nil {
						if cctx.Err() == nil {
							dropped.Add(1)
						}
						return
					}
				}
			})
		})
		if ctx.Err() != nil {
			break
		}
	}
	dials.Wait()
	opened := time.Since(began)
	res.figure("opened", fmt.Sprintf("%d in %s (%s), %d failed", open.Load(), opened.Round(time.Millisecond),
		rate(int(open.Load()), opened), failed.Load()))
	if firstErr != nil {
		res.note("first failure: %v", firstErr)
	}

	settle()
	var rss1, rss2, peak int64
	if t.PID > 0 {
		rss1, _, _ = RSS(t.PID)
	}
	var ms1 runtime.MemStats
	if inProcess {
		runtime.ReadMemStats(&ms1)
	}
	select {
	case <-time.After(o.Hold):
	case <-ctx.Done():
	}
	if t.PID > 0 {
		rss2, peak, _ = RSS(t.PID)
	}
	still := open.Load() - dropped.Load()
	res.figure("still open after hold", fmt.Sprintf("%d (%d dropped)", still, dropped.Load()))
	if t.PID > 0 && open.Load() > 0 {
		res.figure("server RSS", fmt.Sprintf("%s before, %s with the connections open, %s after the hold (peak %s)", kb(rss0), kb(rss1), kb(rss2), kb(peak)))
		res.figure("memory per idle connection", fmt.Sprintf("%.1f KiB (RSS growth / connections)", float64(max(rss1, rss2)-rss0)/float64(open.Load())))
	}
	if inProcess && open.Load() > 0 {
		heap := int64(ms1.HeapInuse+ms1.StackInuse) - int64(ms0.HeapInuse+ms0.StackInuse)
		res.figure("Go heap+stacks per connection", fmt.Sprintf("%.1f KiB (both ends)", float64(heap)/1024/float64(open.Load())))
	}
	if t.PID == 0 {
		res.note("the server's process id is unknown (external server): no memory figures")
	}
	cancel()
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	readers.Wait()
	return res, nil
}
