package realtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/realtime/wsconn"
	"github.com/parley-inbox/parley/internal/store"
)

// outgoing is one frame in a connection's send queue.
type outgoing struct {
	seq  int64 // 0 for frames without a seq
	data []byte
}

// conn is one client connection: its socket side (wsconn.Conn) and the user it serves.
type conn struct {
	wsconn.Conn[outgoing]
	hub  *Hub
	user *userState
	id   uint64
}

func newConn(h *Hub, ws *websocket.Conn, user *userState, maxQueue int) *conn {
	c := &conn{hub: h, user: user, id: h.nextConn.Add(1)}
	c.Init(ws, &h.opts.Options, maxQueue, &h.stats.dropped)
	return c
}

// push queues a frame without blocking. A full queue means the client does not keep up: the
// connection is closed (the client resumes from its last seq) and push reports false.
func (c *conn) push(seq int64, data []byte) bool { return c.Push(outgoing{seq: seq, data: data}) }

// Serve runs one accepted WebSocket of a signed-in user until it closes. since is the last seq
// the client saw; nil starts from now. It replays what the client may see after since, sends
// "ready", then streams live frames.
//
// Replay without gaps or duplicates: the connection is registered for live frames first (they
// wait in its queue), then the log is read from the database from since up to its end; live
// frames are then written, skipping those with a seq already covered by the replay. An event
// either reached the shards before the registration — then it was committed before, and the
// replay reads it — or after it, and then it is in the queue.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, userID int64, since *int64) {
	defer ws.CloseNow() //nolint:errcheck // after Close below this is a no-op; on early returns it frees the socket
	if err := h.waitReady(ctx); err != nil {
		_ = ws.Close(websocket.StatusTryAgainLater, "realtime is not running") // closing anyway
		return
	}
	st, err := h.acquireUser(ctx, userID)
	if err != nil {
		h.log.Warn("realtime: load the user's access", "user_id", userID, "err", err)
		_ = ws.Close(websocket.StatusTryAgainLater, "try again") // closing anyway
		return
	}
	defer h.releaseUser(st)
	if !st.access.Load().active {
		_ = ws.Close(statusAccessRevoked, "access revoked") // closing anyway
		return
	}
	ws.SetReadLimit(maxClientFrame)
	c := newConn(h, ws, st, h.opts.SendQueue)
	h.stats.connections.Add(1)
	defer h.stats.connections.Add(-1)

	// The reader runs from the start: it answers pings and pongs and takes client frames.
	defer wsconn.GoRead(ctx, c.readLoop)()

	sh := h.shards[c.id%uint64(len(h.shards))]
	ack := make(chan struct{})
	if !sh.send(ctx, shardMsg{kind: msgRegister, conn: c, ack: ack}) {
		return
	}
	select {
	case <-ack:
	case <-h.stopped:
		return
	}
	cleanup := context.WithoutCancel(ctx)
	defer sh.send(cleanup, shardMsg{kind: msgUnregister, conn: c})
	defer h.presence.send(cleanup, presenceOp{kind: opGone, conn: c})

	last, err := c.replay(ctx, since)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			h.log.Warn("realtime: replay", "user_id", userID, "err", err)
		}
		c.CloseWith(int(websocket.StatusTryAgainLater), "replay failed; reconnect and resume", true)
	} else {
		c.writeLoop(ctx, last)
	}
	c.Finish()
}

// replay writes the events after since that the user may see, then "ready", and returns the
// last seq it covered. Without since it covers nothing and starts from the latest seq. A since
// that is no longer retained (or never existed) gets resync_required: the client reloads its
// state and continues from the latest seq.
func (c *conn) replay(ctx context.Context, since *int64) (int64, error) {
	h := c.hub
	oldest, latest, err := h.store.EventBounds(ctx)
	if err != nil {
		return 0, err
	}
	if since == nil {
		return latest, c.Write(ctx, readyFrame(latest))
	}
	last := *since
	if last+1 < oldest || last > latest || latest-last > h.opts.MaxReplay {
		if err := c.Write(ctx, resyncFrame(oldest, latest)); err != nil {
			return 0, err
		}
		return latest, c.Write(ctx, readyFrame(latest))
	}
	for {
		evs, err := h.store.EventsAfter(ctx, last, h.opts.ReplayPage)
		if err != nil {
			return 0, err
		}
		for i := range evs {
			e := &evs[i]
			if c.user.canSeeEvent(e) {
				if err := c.Write(ctx, eventFrame(e)); err != nil {
					return 0, err
				}
			}
			last = e.Seq
		}
		if len(evs) < h.opts.ReplayPage {
			break
		}
		select {
		case <-c.Closing():
			return 0, context.Canceled
		default:
		}
	}
	return last, c.Write(ctx, readyFrame(last))
}

// writeLoop writes queued frames until the connection closes, skipping events the replay
// already covered, and pings the client.
func (c *conn) writeLoop(ctx context.Context, last int64) {
	c.WriteLoop(ctx, c.hub.stopped, func(o outgoing) error {
		if o.seq != 0 {
			if o.seq <= last {
				return nil
			}
			last = o.seq
		}
		return c.Write(ctx, o.data)
	})
}

// readLoop reads client frames until the connection ends.
func (c *conn) readLoop(ctx context.Context) {
	lim := c.hub.opts.Limiter()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			c.ReadFailed(err)
			return
		}
		if !lim.Allow(time.Now()) {
			c.push(0, errorFrame("rate_limited", "too many frames; slow down", 0))
			continue
		}
		if typ != websocket.MessageText {
			c.push(0, errorFrame("invalid_frame", "frames are JSON text", 0))
			continue
		}
		f, err := parseClientFrame(data)
		if err != nil {
			c.push(0, errorFrame("invalid_frame", err.Error(), 0))
			continue
		}
		c.handleFrame(ctx, f)
	}
}

// handleFrame acts on one client frame. The conversation must be one the user may see now;
// one they may not see is answered exactly like one that does not exist.
func (c *conn) handleFrame(ctx context.Context, f clientFrame) {
	h := c.hub
	if f.Type == frameLeave {
		h.presence.send(ctx, presenceOp{kind: opLeave, conn: c, conv: f.ConversationID})
		return
	}
	inboxID, err := h.store.ConversationInbox(ctx, f.ConversationID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.user.canSee(inboxID)) {
		c.push(0, errorFrame("conversation_not_found", "no conversation "+strconv.FormatInt(f.ConversationID, 10), f.ConversationID))
		return
	} else if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("realtime: look up a conversation", "conversation_id", f.ConversationID, "err", err)
		}
		c.push(0, errorFrame("internal", fmt.Sprintf("could not %s now; try again", f.Type), f.ConversationID))
		return
	}
	switch f.Type {
	case frameView:
		h.presence.send(ctx, presenceOp{kind: opView, conn: c, conv: f.ConversationID, inbox: inboxID})
	case frameTyping:
		h.broadcast(ctx, &frame{inbox: inboxID, except: c.user.id, data: typingFrame(f.ConversationID, c.user.id, f.Mode)})
		h.publish(ephemeral{Kind: "typing", ConversationID: f.ConversationID, InboxID: inboxID, UserID: c.user.id, Mode: f.Mode})
		if h.OnReplyTyping != nil && f.Mode == modeReply {
			h.OnReplyTyping(ctx, f.ConversationID, c.user.id)
		}
	}
}
