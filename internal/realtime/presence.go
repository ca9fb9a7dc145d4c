package realtime

import (
	"context"
	"slices"
	"time"
)

// Presence (SPEC CONV-10): who is viewing each conversation, across nodes. One goroutine owns the
// state. Each node publishes its own viewers of a conversation whenever they change, and again
// every presenceHeartbeat while there are any; other nodes keep the latest list per node and
// forget it after presenceExpiry without news (a node that died). Presence frames list the union
// and go to everyone who may see the conversation's inbox. A socket that closes stops viewing.

const (
	presenceHeartbeat = 20 * time.Second
	presenceExpiry    = 60 * time.Second
)

type presenceKind int

const (
	opView       presenceKind = iota // conn views conv (in inbox)
	opLeave                          // conn stopped viewing conv
	opGone                           // conn closed
	opRemote                         // another node's viewers of conv
	opRevalidate                     // access changed: drop viewers who may no longer see
	opInbox                          // conv is (now) in inbox
)

type presenceOp struct {
	kind  presenceKind
	conn  *conn
	conv  int64
	inbox int64
	users []int64
	node  string
}

type remoteViewers struct {
	users []int64
	at    time.Time
}

type convPresence struct {
	inbox  int64
	local  map[*conn]struct{}
	remote map[string]remoteViewers
	// sent is the list last broadcast to clients; published the local list last sent to nodes.
	sent, published []int64
}

type presence struct {
	hub    *Hub
	in     chan presenceOp
	convs  map[int64]*convPresence
	byConn map[*conn]map[int64]bool
	now    func() time.Time
}

func newPresence(h *Hub) *presence {
	return &presence{hub: h, in: make(chan presenceOp, 1024), convs: map[int64]*convPresence{},
		byConn: map[*conn]map[int64]bool{}, now: time.Now}
}

// send queues an operation; it gives up when the hub or ctx stops.
func (p *presence) send(ctx context.Context, op presenceOp) {
	select {
	case p.in <- op:
	case <-p.hub.stopped:
	case <-ctx.Done():
	}
}

func (p *presence) run(ctx context.Context) {
	tick := time.NewTicker(presenceHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case op := <-p.in:
			p.handle(ctx, op)
		case <-tick.C:
			p.heartbeat(ctx)
		}
	}
}

func (p *presence) conv(id, inbox int64) *convPresence {
	cp := p.convs[id]
	if cp == nil {
		cp = &convPresence{inbox: inbox, local: map[*conn]struct{}{}, remote: map[string]remoteViewers{}}
		p.convs[id] = cp
	}
	return cp
}

func (p *presence) handle(ctx context.Context, op presenceOp) {
	switch op.kind {
	case opView:
		views := p.byConn[op.conn]
		if views[op.conv] {
			op.conn.push(0, presenceFrame(op.conv, p.convs[op.conv].sent))
			return
		}
		if len(views) >= p.hub.opts.MaxViews {
			op.conn.push(0, errorFrame("too_many_views", "leave a conversation before viewing another", op.conv))
			return
		}
		if views == nil {
			views = map[int64]bool{}
			p.byConn[op.conn] = views
		}
		views[op.conv] = true
		cp := p.conv(op.conv, op.inbox)
		cp.inbox = op.inbox
		cp.local[op.conn] = struct{}{}
		if !p.changed(ctx, op.conv, cp) {
			// Nothing new for the others (the user views it in another tab too): still tell
			// this connection who is there.
			op.conn.push(0, presenceFrame(op.conv, cp.sent))
		}
	case opLeave:
		p.leave(ctx, op.conn, op.conv)
	case opGone:
		for id := range p.byConn[op.conn] {
			p.leave(ctx, op.conn, id)
		}
		delete(p.byConn, op.conn)
	case opRemote:
		cp := p.convs[op.conv]
		if cp == nil && len(op.users) == 0 {
			return
		}
		cp = p.conv(op.conv, op.inbox)
		if len(op.users) == 0 {
			delete(cp.remote, op.node)
		} else {
			cp.remote[op.node] = remoteViewers{users: op.users, at: p.now()}
		}
		p.changed(ctx, op.conv, cp)
	case opRevalidate:
		for id, cp := range p.convs {
			p.revalidate(ctx, id, cp)
		}
	case opInbox:
		if cp := p.convs[op.conv]; cp != nil && cp.inbox != op.inbox {
			cp.inbox = op.inbox
			cp.sent = nil // the new inbox's members have not been told yet
			p.revalidate(ctx, op.conv, cp)
		}
	}
}

func (p *presence) leave(ctx context.Context, c *conn, id int64) {
	p.forget(c, id)
	cp := p.convs[id]
	if cp == nil {
		return
	}
	if _, ok := cp.local[c]; !ok {
		return
	}
	delete(cp.local, c)
	p.changed(ctx, id, cp)
}

// forget removes a conversation from a connection's views.
func (p *presence) forget(c *conn, id int64) {
	if views := p.byConn[c]; views != nil {
		delete(views, id)
		if len(views) == 0 {
			delete(p.byConn, c)
		}
	}
}

// revalidate drops this node's viewers of a conversation who may no longer see its inbox.
func (p *presence) revalidate(ctx context.Context, id int64, cp *convPresence) {
	for c := range cp.local {
		if !c.user.canSee(cp.inbox) {
			delete(cp.local, c)
			p.forget(c, id)
		}
	}
	p.changed(ctx, id, cp)
}

// heartbeat republishes this node's viewers and forgets silent nodes' lists.
func (p *presence) heartbeat(ctx context.Context) {
	now := p.now()
	for id, cp := range p.convs {
		for node, rv := range cp.remote {
			if now.Sub(rv.at) > presenceExpiry {
				delete(cp.remote, node)
			}
		}
		if len(cp.published) > 0 {
			p.hub.publish(ephemeral{Kind: "presence", ConversationID: id, InboxID: cp.inbox, UserIDs: cp.published})
		}
		p.changed(ctx, id, cp)
	}
}

// changed publishes this node's viewers of a conversation if they changed and broadcasts the
// union to clients if it changed; it reports whether clients were sent a new list.
func (p *presence) changed(ctx context.Context, id int64, cp *convPresence) bool {
	local := make([]int64, 0, len(cp.local))
	for c := range cp.local {
		local = append(local, c.user.id)
	}
	local = sortedUnique(local)
	if !slices.Equal(local, cp.published) {
		cp.published = local
		p.hub.publish(ephemeral{Kind: "presence", ConversationID: id, InboxID: cp.inbox, UserIDs: local})
	}
	all := slices.Clone(local)
	for _, rv := range cp.remote {
		all = append(all, rv.users...)
	}
	all = sortedUnique(all)
	sent := false
	if !slices.Equal(all, cp.sent) || cp.sent == nil {
		cp.sent = all
		p.hub.broadcast(ctx, &frame{inbox: cp.inbox, data: presenceFrame(id, all)})
		sent = true
	}
	if len(cp.local) == 0 && len(cp.remote) == 0 {
		delete(p.convs, id)
	}
	return sent
}

func sortedUnique(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
