package throttle

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestSignInLimiterRefills(t *testing.T) {
	var l SignIns
	now := time.Unix(1_700_000_000, 0)
	for range EmailAttemptBurst {
		if _, ok := l.Allow(now, "192.0.2.1", "a@example.com"); !ok {
			t.Fatal("refused within the burst")
		}
	}
	wait, ok := l.Allow(now, "192.0.2.1", "a@example.com")
	if ok || wait <= 0 || wait > EmailAttemptEvery {
		t.Fatalf("over the burst: ok=%v wait=%v", ok, wait)
	}
	if _, ok := l.Allow(now.Add(EmailAttemptEvery), "192.0.2.1", "a@example.com"); !ok {
		t.Fatal("not refilled after one interval")
	}
	// A refused email attempt does not use up the address's budget.
	ipBudget := l.buckets["ip\x00192.0.2.1"].TokensAt(now.Add(EmailAttemptEvery))
	if _, ok := l.Allow(now.Add(EmailAttemptEvery), "192.0.2.1", "a@example.com"); ok {
		t.Fatal("allowed again at once")
	}
	if got := l.buckets["ip\x00192.0.2.1"].TokensAt(now.Add(EmailAttemptEvery)); got != ipBudget {
		t.Fatalf("address budget %v → %v on a refused attempt", ipBudget, got)
	}
	// Full buckets are swept.
	later := now.Add(time.Hour)
	l.Allow(later, "192.0.2.2", "b@example.com")
	if _, ok := l.buckets["email\x00a@example.com"]; ok {
		t.Fatal("refilled bucket kept after a sweep")
	}
}

func TestClientIP(t *testing.T) {
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"198.51.100.7:5555", nil, "198.51.100.7"},
		{"198.51.100.7:5555", []string{"10.0.0.1"}, "198.51.100.7"}, // a public peer cannot claim an address
		{"127.0.0.1:5555", []string{"203.0.113.1, 198.51.100.8"}, "198.51.100.8"},
		{"10.1.2.3:5555", []string{"spoofed", "203.0.113.5"}, "203.0.113.5"},
		{"[::1]:5555", []string{"garbage"}, "::1"},
		{"127.0.0.1:5555", nil, "127.0.0.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientIP(r); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1:80", "203.0.113.1, 198.51.100.2")
	f.Add("[::1]:1", "")
	f.Add("garbage", ",,,")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		got := ClientIP(r)
		// A public peer's own address is always what counts, whatever it claims.
		if host, _, err := net.SplitHostPort(remote); err == nil {
			if a, err := netip.ParseAddr(host); err == nil && !a.IsLoopback() && !a.IsPrivate() && got != host {
				t.Fatalf("public peer %s counted as %s", host, got)
			}
		}
	})
}
