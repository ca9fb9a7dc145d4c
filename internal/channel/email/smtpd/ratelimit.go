package smtpd

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: one token every Every, at most Burst saved
// up. A negative Burst disables the limit.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// limiter holds one token bucket per remote network. Buckets idle for
// longer than it takes to refill are dropped: a full bucket and a missing
// one behave the same.
type limiter struct {
	off   bool
	limit rate.Limit
	burst int
	idle  time.Duration

	mu        sync.Mutex
	buckets   map[netip.Prefix]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(rl, def RateLimit) *limiter {
	if rl.Burst < 0 {
		return &limiter{off: true}
	}
	if rl.Every <= 0 {
		rl.Every = def.Every
	}
	if rl.Burst == 0 {
		rl.Burst = def.Burst
	}
	return &limiter{
		limit:   rate.Every(rl.Every),
		burst:   rl.Burst,
		idle:    rl.Every*time.Duration(rl.Burst) + time.Minute,
		buckets: make(map[netip.Prefix]*bucket),
	}
}

// key groups IPv6 senders by /64: one host usually owns a whole /64 and
// could otherwise rotate addresses to dodge the limit.
func key(ip netip.Addr) netip.Prefix {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p
	}
	p, _ := ip.Unmap().Prefix(32)
	return p
}

func (l *limiter) allow(ip netip.Addr) bool {
	if l.off {
		return true
	}
	now := time.Now()
	k := key(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[k]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[k] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
