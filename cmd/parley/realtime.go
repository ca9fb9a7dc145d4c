package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-inbox/parley/internal/events"
	"github.com/parley-inbox/parley/internal/realtime"
	"github.com/parley-inbox/parley/internal/store"
)

// realtimeNode is this process's share of realtime delivery: the bus that wakes it after commits
// (and, on PostgreSQL, after other nodes' commits) and the hub that serves the WebSockets.
type realtimeNode struct {
	store *store.Store
	log   *slog.Logger
	bus   *events.Bus
	hub   *realtime.Hub
	stop  context.CancelFunc
}

func newRealtimeNode(s *store.Store, log *slog.Logger) *realtimeNode {
	bus := events.NewBus(s, log)
	return &realtimeNode{store: s, log: log, bus: bus, hub: realtime.New(s, bus, log, realtime.Options{})}
}

// start runs the bus, the hub and the event log's retention on wg until stop is called: at the
// start of a shutdown, so that WebSocket clients are told to go away and resume on another node
// (an HTTP server's shutdown does not wait for upgraded connections).
func (n *realtimeNode) start(wg *sync.WaitGroup, retention time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	wg.Go(func() {
		if err := n.bus.Run(ctx); err != nil {
			n.log.Error("event bus stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := n.hub.Run(ctx); err != nil {
			n.log.Error("realtime hub stopped", "err", err)
		}
	})
	wg.Go(func() { pruneEvents(ctx, n.store, retention, n.log) })
}

// pruneEvents deletes events older than the retention window once an hour. Clients that resume
// from before the window are told to resync. Several nodes doing it at once is harmless.
func pruneEvents(ctx context.Context, s *store.Store, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.DeleteEventsBefore(ctx, time.Now().Add(-retention).UnixMilli()); err != nil && ctx.Err() == nil {
			log.Warn("delete old events", "err", err)
		} else if n > 0 {
			log.Info("deleted old events", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
