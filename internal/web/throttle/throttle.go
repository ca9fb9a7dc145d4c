// Package throttle limits sign-in and password-reset attempts per email and per client address,
// in memory on each node. The API and the web app share one SignIns per process, so guessing a
// password does not get a second budget by switching from one to the other.
package throttle

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Each email may be tried a few times in a burst and then about three times a minute; each
// client address gets a larger budget, since offices share one address.
const (
	EmailAttemptBurst = 5
	EmailAttemptEvery = 20 * time.Second
	IPAttemptBurst    = 30
	IPAttemptEvery    = 2 * time.Second
	sweepEvery        = time.Minute
)

// SignIns holds token buckets per email and per client address. Its zero value is ready.
// Buckets that have refilled are dropped periodically, so memory follows recent attempts only.
type SignIns struct {
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// Allow takes one attempt from the address's bucket and, when email is not empty, from the
// email's; or from neither, and reports how long to wait.
func (l *SignIns) Allow(now time.Time, ip, email string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*rate.Limiter{}
	}
	if now.Sub(l.lastSweep) > sweepEvery {
		l.sweep(now)
	}
	ipRes := l.bucket("ip\x00"+ip, IPAttemptEvery, IPAttemptBurst).ReserveN(now, 1)
	if d := ipRes.DelayFrom(now); d > 0 {
		ipRes.CancelAt(now)
		return d, false
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return 0, true
	}
	emailRes := l.bucket("email\x00"+email, EmailAttemptEvery, EmailAttemptBurst).ReserveN(now, 1)
	if d := emailRes.DelayFrom(now); d > 0 {
		emailRes.CancelAt(now)
		ipRes.CancelAt(now)
		return d, false
	}
	return 0, true
}

func (l *SignIns) bucket(key string, every time.Duration, burst int) *rate.Limiter {
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Every(every), burst)
		l.buckets[key] = b
	}
	return b
}

// sweep drops buckets that are full again: a new one would behave the same.
func (l *SignIns) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// ClientIP is the address attempts are counted against. X-Forwarded-For is believed only from a
// loopback or private-network peer — a reverse proxy in front of Parley — and then only its last
// entry, the one that proxy appended.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !(peer.IsLoopback() || peer.IsPrivate()) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
		return a.String()
	}
	return host
}
