package chat

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-inbox/parley/internal/inbox"
	"github.com/parley-inbox/parley/internal/problem"
	"github.com/parley-inbox/parley/internal/realtime/wsconn"
	"github.com/parley-inbox/parley/internal/store"
)

// outgoing is one frame in a connection's send queue.
type outgoing struct {
	seq     int64 // the message id of a message frame; 0 for others
	data    []byte
	written func()
}

// conn is one visitor connection: its socket side (wsconn.Conn) and the visitor it serves.
type conn struct {
	wsconn.Conn[outgoing]
	hub     *Hub
	visitor int64
	id      uint64
}

// session is one visitor connection's view of who it is.
type session struct {
	svc     *Service
	w       *widget
	visitor *store.ChatVisitor
	conn    *conn
	limit   *visitorLimit
}

// serve runs one accepted visitor WebSocket until it closes. since is the last seq (message
// id) the widget saw; nil replays the whole conversation.
//
// Replay without gaps or duplicates: the connection is registered for live frames first, then
// the conversation is read from the database; queued live frames for messages the replay
// already wrote are skipped. Message ids are not commit-ordered on PostgreSQL, so the replay
// remembers the ids it wrote rather than only the highest.
func (s *Service) serve(ctx context.Context, ws *websocket.Conn, w *widget, v *store.ChatVisitor, since *int64) {
	h := s.Hub
	defer ws.CloseNow() //nolint:errcheck // a no-op after Close
	select {
	case <-h.started:
	case <-h.stopped:
		_ = ws.Close(websocket.StatusTryAgainLater, "chat is not running") // closing anyway
		return
	case <-ctx.Done():
		return
	}
	ws.SetReadLimit(maxClientFrame)
	c := &conn{hub: h, visitor: v.ID, id: h.nextConn.Add(1)}
	c.Init(ws, &h.opts.Options, h.opts.SendQueue, &h.stats.dropped)
	h.stats.connections.Add(1)
	defer h.stats.connections.Add(-1)
	sess := &session{svc: s, w: w, visitor: v, conn: c, limit: h.acquireLimit(v.ID)}
	defer h.releaseLimit(v.ID, sess.limit)

	defer wsconn.GoRead(ctx, sess.readLoop)()

	sh := h.shardOf(v.ID)
	ack := make(chan struct{})
	if !sh.send(shardMsg{kind: msgRegister, conn: c, ack: ack}) {
		return
	}
	select {
	case <-ack:
	case <-h.stopped:
		return
	}
	defer sh.send(shardMsg{kind: msgUnregister, conn: c})

	replayed, err := sess.replay(ctx, since)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log().Warn("chat: replay", "visitor_id", v.ID, "err", err)
		}
		c.CloseWith(int(websocket.StatusTryAgainLater), "replay failed; reconnect and resume", true)
	} else {
		sess.connected(ctx) // away status (away.go)
		c.writeLoop(ctx, replayed)
	}
	c.Finish()
}

// replay writes the conversation's messages after since, then "ready", and returns the ids
// it wrote.
func (sess *session) replay(ctx context.Context, since *int64) (map[int64]bool, error) {
	s, c := sess.svc, sess.conn
	written := map[int64]bool{}
	after := int64(0)
	if since != nil {
		after = *since
	}
	conv, err := s.Store.ChatConversation(ctx, sess.w.ch.ID, sess.visitor.ThreadKey())
	if errors.Is(err, store.ErrNotFound) {
		// No conversation yet: a bot flow's bot greets the visitor (botrun.go).
		if preview, err := sess.botPreview(ctx); err != nil {
			s.log().Warn("chat: a bot's opening", "visitor_id", sess.visitor.ID, "err", err)
		} else if preview != nil {
			if err := c.Write(ctx, preview); err != nil {
				return nil, err
			}
		}
		return written, c.Write(ctx, readyFrame(after))
	} else if err != nil {
		return nil, err
	}
	max := s.Hub.opts.MaxReplay
	msgs, err := s.Store.ChatMessagesAfter(ctx, conv.ID, after, max+1)
	if err != nil {
		return nil, err
	}
	if len(msgs) > max {
		// Too far behind: the widget reloads the latest messages with since unset… which would
		// be as long. It gets the newest max instead, after telling it it missed some.
		if err := c.Write(ctx, resyncFrame(msgs[len(msgs)-1].ID)); err != nil {
			return nil, err
		}
		msgs = msgs[len(msgs)-max:]
	}
	last := after
	for i := range msgs {
		m := &msgs[i]
		last = max64(last, m.ID)
		if !visible(m) {
			continue
		}
		if err := c.Write(ctx, messageFrame(m)); err != nil {
			return nil, err
		}
		written[m.ID] = true
		if m.Direction == "outbound" && (m.Status == "queued" || m.Status == "sent") {
			sess.svc.markDelivered(m.ID)
		}
	}
	return written, c.Write(ctx, readyFrame(last))
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// writeLoop writes queued frames until the connection closes, skipping messages the replay
// wrote, and pings the widget.
func (c *conn) writeLoop(ctx context.Context, replayed map[int64]bool) {
	c.WriteLoop(ctx, c.hub.stopped, func(o outgoing) error {
		if o.seq != 0 && replayed[o.seq] {
			return nil
		}
		if err := c.Write(ctx, o.data); err != nil {
			return err
		}
		if o.seq != 0 {
			c.hub.stats.delivered.Add(1)
		}
		if o.written != nil {
			o.written()
		}
		return nil
	})
}

// readLoop reads visitor frames until the connection ends.
func (sess *session) readLoop(ctx context.Context) {
	c := sess.conn
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig {
				c.CloseWith(int(websocket.StatusMessageTooBig), "frame too large", true)
				return
			}
			c.ReadFailed(err)
			return
		}
		if !sess.limit.allow(time.Now()) {
			c.Push(outgoing{data: errorFrame(CodeVisitorRateLimited, "too many frames; slow down", "")})
			continue
		}
		if typ != websocket.MessageText {
			c.Push(outgoing{data: errorFrame("invalid_frame", "frames are JSON text", "")})
			continue
		}
		f, err := parseClientFrame(data)
		if err != nil {
			c.Push(outgoing{data: errorFrame("invalid_frame", err.Error(), "")})
			continue
		}
		sess.handle(ctx, f)
	}
}

func (sess *session) handle(ctx context.Context, f clientFrame) {
	switch f.Type {
	case frameMessage, frameAnswer:
		sess.message(ctx, f)
	case frameTyping:
		if fn := sess.svc.VisitorTyping; fn != nil {
			if conv, err := sess.svc.Store.ChatConversation(ctx, sess.w.ch.ID, sess.visitor.ThreadKey()); err == nil {
				fn(conv.ID, conv.InboxID)
			}
		}
	case frameRead:
		sess.read(ctx, f.MessageID)
	case framePage:
		sess.page(ctx, f)
	case frameEmail:
		sess.email(ctx, f.Email)
	case frameConsent:
		sess.consent(ctx, f.FlowID)
	}
}

// message stores a visitor's message exactly once per client_id and acknowledges it after
// commit; every connection of the visitor then gets it, so several tabs agree.
func (sess *session) message(ctx context.Context, f clientFrame) {
	s, v := sess.svc, sess.visitor
	sender, _ := json.Marshal(map[string]any{"visitor_id": v.ID, "name": v.Name, "email": v.Email})
	in := inbox.Inbound{
		ChannelID:      sess.w.ch.ID,
		Channel:        sess.w.ch,
		ThreadKey:      v.ThreadKey(),
		Direction:      "inbound",
		IdempotencyKey: "visitor:" + strconv.FormatInt(v.ID, 10) + ":" + f.ClientID,
		ContactName:    v.Name,
		Text:           f.Text,
		Sender:         sender,
	}
	if v.Email != "" {
		in.ContactIdentities = []store.Identity{{Kind: "email", Value: v.Email}}
	} else {
		// Anonymous visitors are contacts too (CHAT-8), known by their visitor id only.
		in.ContactIdentities = []store.Identity{{Kind: "chat_visitor", Value: strconv.FormatInt(v.ID, 10)}}
	}
	err := sess.withFiles(ctx, &in, f.Files)
	var prep *prepared // the chatflow's consent and hand-off (handoff.go)
	if err == nil {
		prep, err = sess.prepareMessage(ctx, &in)
	}
	var turn *botTurn // the bot's part, when one has the conversation (botrun.go)
	if err == nil {
		turn, err = sess.botBefore(ctx, f, &in)
	}
	var msg *store.Message
	var conv *store.Conversation
	var duplicate bool
	if err == nil {
		msg, conv, duplicate, err = s.Inbox.Receive(ctx, in)
	}
	if err != nil {
		code, detail := "internal", "the message could not be stored; send it again"
		if p, ok := problem.As(err); ok && p.Kind != problem.Internal {
			code, detail = p.Code, p.Detail
		} else if ctx.Err() == nil {
			s.log().Warn("chat: receive a visitor message", "visitor_id", v.ID, "err", err)
		}
		sess.conn.Push(outgoing{data: errorFrame(code, detail, f.ClientID)})
		return
	}
	sess.conn.Push(outgoing{data: ackFrame(f.ClientID, msg.ID)})
	if !duplicate {
		s.Hub.Push(v.ID, msg.ID, messageFrame(msg), nil)
	}
	turn.after(ctx)
	if !in.NoRouting && !duplicate {
		sess.received(ctx, prep, conv)
	}
}

// read records that the visitor read an agent's message.
func (sess *session) read(ctx context.Context, messageID int64) {
	s := sess.svc
	m, err := s.Store.Message(ctx, messageID)
	if err != nil || m.Direction != "outbound" {
		sess.conn.Push(outgoing{data: errorFrame("message_not_found", "no agent message "+strconv.FormatInt(messageID, 10), "")})
		return
	}
	conv, err := s.Store.ChatConversation(ctx, sess.w.ch.ID, sess.visitor.ThreadKey())
	if err != nil || conv.ID != m.ConversationID {
		sess.conn.Push(outgoing{data: errorFrame("message_not_found", "no agent message "+strconv.FormatInt(messageID, 10), "")})
		return
	}
	if m.Status == "read" || m.Status == "failed" {
		return
	}
	if err := s.Inbox.UpdateMessageStatus(ctx, messageID, "read", ""); err != nil && ctx.Err() == nil {
		s.log().Warn("chat: record a read receipt", "message_id", messageID, "err", err)
	}
}
