package smtpd

import (
	"context"
	"net"
	"net/netip"
	"strings"
)

// fakeDNS is an in-memory Resolver. Names are matched case-insensitively
// without the trailing dot; names in fail give a temporary DNS error.
type fakeDNS struct {
	txt  map[string][]string
	ip   map[string][]string
	mx   map[string][]string
	fail map[string]bool
}

func norm(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (f *fakeDNS) err(name string) error {
	if f.fail[norm(name)] {
		return &net.DNSError{Err: "server failure", Name: name, IsTemporary: true}
	}
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := f.txt[norm(name)]; ok && !f.fail[norm(name)] {
		return v, nil
	}
	return nil, f.err(name)
}

func (f *fakeDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	v, ok := f.ip[norm(host)]
	if !ok || f.fail[norm(host)] {
		return nil, f.err(host)
	}
	var out []net.IPAddr
	for _, s := range v {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	v, ok := f.mx[norm(name)]
	if !ok || f.fail[norm(name)] {
		return nil, f.err(name)
	}
	var out []*net.MX
	for i, h := range v {
		out = append(out, &net.MX{Host: h + ".", Pref: uint16(10 * (i + 1))})
	}
	return out, nil
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
