package wsconn

import "context"

// Send hands m to a shard's inbox, waiting for room but never past the hub's end: it reports
// false once stopped is closed or done (nil for never) is.
func Send[M any](in chan<- M, m M, stopped, done <-chan struct{}) bool {
	select {
	case in <- m:
		return true
	case <-stopped:
		return false
	case <-done:
		return false
	}
}

// RunShard runs a shard's goroutine: it hands each message from in to handle until ctx ends,
// then calls shutdown, which closes the shard's connections (Conn.Shutdown) so that their
// clients reconnect and resume.
func RunShard[M any](ctx context.Context, in <-chan M, handle func(M), shutdown func()) {
	for {
		select {
		case <-ctx.Done():
			shutdown()
			return
		case m := <-in:
			handle(m)
		}
	}
}
