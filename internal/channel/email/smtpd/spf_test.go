package smtpd

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
)

func TestCheckSPF(t *testing.T) {
	dns := &fakeDNS{
		txt: map[string][]string{
			"ip4.example":           {"v=spf1 ip4:192.0.2.0/24 -all"},
			"soft.example":          {"some other text", "v=spf1 ip4:192.0.2.1 ~all"},
			"neutral.example":       {"v=spf1 ?all"},
			"noall.example":         {"v=spf1 ip4:192.0.2.1"},
			"inc.example":           {"v=spf1 include:_spf.provider.example -all"},
			"_spf.provider.example": {"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all"},
			"inc-none.example":      {"v=spf1 include:nothing.example -all"},
			"a.example":             {"v=spf1 a/24 -all"},
			"mx.example":            {"v=spf1 mx -all"},
			"redir.example":         {"v=spf1 redirect=ip4.example"},
			"two.example":           {"v=spf1 -all", "v=spf1 +all"},
			"bad.example":           {"v=spf1 ip4:999.1.1.1 -all"},
			"unknown.example":       {"v=spf1 foo:bar -all"},
			"macro.example":         {"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"},
			"temp-inc.example":      {"v=spf1 include:down.example -all"},
			"void.example":          {"v=spf1 a:v1.example a:v2.example a:v3.example +all"},
			"helo.example":          {"v=spf1 ip4:203.0.113.5 -all"},
			"ptr.example":           {"v=spf1 ptr +all"},
			"mod.example":           {"v=spf1 exp=explain.example unknown-mod=x ip4:192.0.2.1 -all"},
		},
		ip: map[string][]string{
			"a.example":                         {"203.0.113.10"},
			"mail1.example":                     {"198.51.100.7", "2001:db8::25"},
			"1.2.0.192.user._spf.macro.example": {"127.0.0.2"},
		},
		mx:   map[string][]string{"mx.example": {"mail0.example", "mail1.example"}},
		fail: map[string]bool{"down.example": true},
	}
	// include chain longer than the 10-lookup limit
	for i := 0; i < 12; i++ {
		dns.txt[fmt.Sprintf("loop%d.example", i)] = []string{fmt.Sprintf("v=spf1 include:loop%d.example -all", i+1)}
	}
	dns.txt["loop12.example"] = []string{"v=spf1 +all"}

	tests := []struct {
		ip, from, helo string
		want           Result
		domain         string
	}{
		{"192.0.2.77", "bob@ip4.example", "h.example", ResultPass, "ip4.example"},
		{"192.0.3.1", "bob@ip4.example", "h.example", ResultFail, "ip4.example"},
		{"::ffff:192.0.2.9", "bob@IP4.Example", "h.example", ResultPass, "ip4.example"},
		{"192.0.2.2", "bob@soft.example", "", ResultSoftFail, "soft.example"},
		{"192.0.2.2", "bob@neutral.example", "", ResultNeutral, "neutral.example"},
		{"192.0.2.2", "bob@noall.example", "", ResultNeutral, "noall.example"},
		{"192.0.2.2", "bob@nospf.example", "", ResultNone, "nospf.example"},
		{"198.51.100.3", "bob@inc.example", "", ResultPass, "inc.example"},
		{"2001:db8::1", "bob@inc.example", "", ResultPass, "inc.example"},
		{"10.0.0.1", "bob@inc.example", "", ResultFail, "inc.example"}, // include softfail = no match → -all
		{"10.0.0.1", "bob@inc-none.example", "", ResultPermError, "inc-none.example"},
		{"203.0.113.99", "bob@a.example", "", ResultPass, "a.example"},
		{"203.0.114.1", "bob@a.example", "", ResultFail, "a.example"},
		{"198.51.100.7", "bob@mx.example", "", ResultPass, "mx.example"},
		{"2001:db8::25", "bob@mx.example", "", ResultPass, "mx.example"},
		{"198.51.100.8", "bob@mx.example", "", ResultFail, "mx.example"},
		{"192.0.2.5", "bob@redir.example", "", ResultPass, "redir.example"},
		{"10.1.1.1", "bob@redir.example", "", ResultFail, "redir.example"},
		{"192.0.2.5", "bob@two.example", "", ResultPermError, "two.example"},
		{"192.0.2.5", "bob@bad.example", "", ResultPermError, "bad.example"},
		{"192.0.2.5", "bob@unknown.example", "", ResultPermError, "unknown.example"},
		{"192.0.2.1", "user@macro.example", "", ResultPass, "macro.example"},
		{"192.0.2.9", "user@macro.example", "", ResultFail, "macro.example"},
		{"192.0.2.9", "bob@temp-inc.example", "", ResultTempError, "temp-inc.example"},
		{"192.0.2.9", "bob@down.example", "", ResultTempError, "down.example"},
		{"192.0.2.9", "bob@loop0.example", "", ResultPermError, "loop0.example"},
		{"192.0.2.9", "bob@void.example", "", ResultPermError, "void.example"},
		{"203.0.113.5", "", "helo.example", ResultPass, "helo.example"}, // bounce: HELO identity
		{"192.0.2.9", "bob@ptr.example", "", ResultPass, "ptr.example"},
		{"192.0.2.1", "bob@mod.example", "", ResultPass, "mod.example"},
		{"192.0.2.1", "bob@localhost", "", ResultNone, "localhost"},
	}
	for _, tt := range tests {
		got := CheckSPF(context.Background(), dns, netip.MustParseAddr(tt.ip), tt.from, tt.helo)
		if got.Result != tt.want || got.Domain != tt.domain {
			t.Errorf("CheckSPF(%s, %q) = %+v, want %s for %s", tt.ip, tt.from, got, tt.want, tt.domain)
		}
	}
}

func TestSPFMacroExpansion(t *testing.T) {
	c := &spfCheck{ip: netip.MustParseAddr("192.0.2.3"), sender: "strong-bad@email.example.com", local: "strong-bad", helo: "mx.example.org"}
	// Examples from RFC 7208 §7.4.
	cases := map[string]string{
		"%{s}":                          "strong-bad@email.example.com",
		"%{o}":                          "email.example.com",
		"%{d}":                          "email.example.com",
		"%{d4}":                         "email.example.com",
		"%{d3}":                         "email.example.com",
		"%{d2}":                         "example.com",
		"%{d1}":                         "com",
		"%{dr}":                         "com.example.email",
		"%{d2r}":                        "example.email",
		"%{l}":                          "strong-bad",
		"%{l-}":                         "strong.bad",
		"%{lr}":                         "strong-bad",
		"%{lr-}":                        "bad.strong",
		"%{l1r-}":                       "strong",
		"%{ir}.%{v}._spf.%{d2}":         "3.2.0.192.in-addr._spf.example.com",
		"%{lr-}.lp._spf.%{d2}":          "bad.strong.lp._spf.example.com",
		"%{d2}.trusted-domains.example": "example.com.trusted-domains.example",
	}
	for in, want := range cases {
		got, err := c.expand(in, "email.example.com")
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	c.ip = netip.MustParseAddr("2001:db8::cb01")
	got, _ := c.expand("%{ir}.%{v}._spf.%{d2}", "email.example.com")
	if want := "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"; got != want {
		t.Errorf("ipv6 expand = %q, want %q", got, want)
	}
	for _, bad := range []string{"%", "%{", "%{x}", "%a", "%{d0}"} {
		if _, err := c.expand(bad, "example.com"); err == nil {
			t.Errorf("expand(%q) should fail", bad)
		}
	}
}
