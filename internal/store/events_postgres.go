package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoListen means the engine has no LISTEN/NOTIFY (SQLite: one process, nothing to listen to).
var ErrNoListen = errors.New("listen: only PostgreSQL has LISTEN/NOTIFY")

// Listen opens a dedicated PostgreSQL connection, LISTENs on the channels, calls listening once
// that is in place, then calls onNotify for every notification until ctx ends or the connection
// fails; it returns the reason. The caller reconnects, and after listening runs again catches up
// on whatever it may have missed while disconnected.
func (s *Store) Listen(ctx context.Context, channels []string, listening func(), onNotify func(channel, payload string)) error {
	if s.dialect != Postgres {
		return ErrNoListen
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) // the connection is being dropped either way
	}()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	if listening != nil {
		listening()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		onNotify(n.Channel, n.Payload)
	}
}

// Notify sends a notification on a PostgreSQL channel to every listening node (SQLite: nothing to
// do). Payloads are limited to 8000 bytes.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}
