package realtime

import (
	"context"

	"github.com/parley-inbox/parley/internal/realtime/wsconn"
)

// Close codes the server uses besides the standard ones. Clients resume after any of them.
const (
	// statusTooSlow: the connection's send queue filled up. Reconnect with the last seq.
	statusTooSlow = wsconn.StatusTooSlow
	// statusAccessRevoked: the user was deactivated.
	statusAccessRevoked = 4003
)

// frame is one server frame on its way to the connections that may receive it.
type frame struct {
	seq    int64 // 0 for ephemeral frames
	inbox  int64 // the inbox whose members may receive it
	user   int64 // when set, only this user
	except int64 // when set, not this user (a typist's own typing)
	data   []byte
}

type msgKind int

const (
	msgRegister msgKind = iota
	msgUnregister
	msgFrame
	msgKickUser
)

type shardMsg struct {
	kind   msgKind
	conn   *conn
	ack    chan struct{}
	frame  *frame
	userID int64
	code   int
	reason string
}

// shardUser is one user's connections in a shard.
type shardUser struct {
	state *userState
	conns map[*conn]struct{}
}

// shard is one goroutine owning a share of the connections. It never blocks on a connection.
type shard struct {
	hub   *Hub
	in    chan shardMsg
	users map[int64]*shardUser
}

// send queues a message for the shard; it gives up when the hub or ctx stops.
func (sh *shard) send(ctx context.Context, m shardMsg) bool {
	return wsconn.Send(sh.in, m, sh.hub.stopped, ctx.Done())
}

// run handles the shard's messages until ctx ends, then closes its connections.
func (sh *shard) run(ctx context.Context) {
	wsconn.RunShard(ctx, sh.in, sh.handle, func() {
		for _, su := range sh.users {
			for c := range su.conns {
				c.Shutdown()
			}
		}
	})
}

func (sh *shard) handle(m shardMsg) {
	switch m.kind {
	case msgRegister:
		su := sh.users[m.conn.user.id]
		if su == nil {
			su = &shardUser{state: m.conn.user, conns: map[*conn]struct{}{}}
			sh.users[m.conn.user.id] = su
		}
		su.conns[m.conn] = struct{}{}
		close(m.ack)
	case msgUnregister:
		sh.remove(m.conn)
	case msgKickUser:
		if su := sh.users[m.userID]; su != nil {
			for c := range su.conns {
				c.Close(m.code, m.reason)
			}
			delete(sh.users, m.userID)
		}
	case msgFrame:
		sh.deliver(m.frame)
	}
}

func (sh *shard) remove(c *conn) {
	su := sh.users[c.user.id]
	if su == nil {
		return
	}
	delete(su.conns, c)
	if len(su.conns) == 0 {
		delete(sh.users, c.user.id)
	}
}

// deliver queues a frame to every connection whose user may see it, checking each user's current
// visibility. A connection whose queue is full is closed and forgotten here.
func (sh *shard) deliver(f *frame) {
	if f.inbox == 0 {
		return
	}
	var slow []*conn
	push := func(su *shardUser) {
		if su.state.id == f.except || !su.state.canSee(f.inbox) {
			return
		}
		for c := range su.conns {
			if !c.push(f.seq, f.data) {
				slow = append(slow, c)
			} else if f.seq != 0 {
				sh.hub.stats.delivered.Add(1)
			}
		}
	}
	if f.user != 0 {
		if su := sh.users[f.user]; su != nil {
			push(su)
		}
	} else {
		for _, su := range sh.users {
			push(su)
		}
	}
	for _, c := range slow {
		sh.remove(c)
	}
}
