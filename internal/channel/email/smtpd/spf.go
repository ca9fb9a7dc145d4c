package smtpd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Resolver is the DNS the authentication checks use. *net.Resolver
// satisfies it.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// Result is an authentication verdict, spelled as in RFC 8601
// Authentication-Results.
type Result string

const (
	ResultPass      Result = "pass"
	ResultFail      Result = "fail"
	ResultSoftFail  Result = "softfail"
	ResultNeutral   Result = "neutral"
	ResultNone      Result = "none"
	ResultTempError Result = "temperror"
	ResultPermError Result = "permerror"
)

// SPFResult is the SPF (RFC 7208) verdict for the MAIL FROM domain, or
// for the HELO name when the reverse-path is empty.
type SPFResult struct {
	Result Result
	Domain string // the domain whose policy was checked
	Reason string
}

// RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups, at most 2
// lookups that find nothing, at most 10 names per "mx".
const (
	spfMaxLookups     = 10
	spfMaxVoidLookups = 2
	spfMaxMXNames     = 10
)

// CheckSPF evaluates the sender's SPF policy for a message from ip.
//
// Implemented: ip4, ip6, a, mx, include, exists, all, redirect=, macros,
// the lookup and void-lookup limits. "ptr" (which RFC 7208 says not to
// use) never matches; exp= is ignored since we never reject on SPF.
func CheckSPF(ctx context.Context, r Resolver, ip netip.Addr, mailFrom, helo string) SPFResult {
	sender := mailFrom
	if sender == "" {
		sender = "postmaster@" + helo
	}
	at := strings.LastIndexByte(sender, '@')
	if at < 0 {
		// RFC 7208 §4.3: a reverse-path without a local part means postmaster.
		sender = "postmaster@" + sender
		at = len("postmaster")
	}
	domain := strings.TrimSuffix(strings.ToLower(sender[at+1:]), ".")
	res := SPFResult{Domain: domain}
	if !validDomain(domain) {
		res.Result, res.Reason = ResultNone, "no valid sender domain"
		return res
	}
	c := &spfCheck{ctx: ctx, r: r, ip: ip.Unmap(), sender: sender, local: sender[:at], helo: helo}
	res.Result, res.Reason = c.check(domain)
	return res
}

func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, ch := range l {
			if !(ch == '-' || ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
				return false
			}
		}
	}
	return true
}

type spfCheck struct {
	ctx         context.Context
	r           Resolver
	ip          netip.Addr
	sender      string
	local       string
	helo        string
	lookups     int
	voidLookups int
}

// spfError carries a temperror/permerror out of the evaluation.
type spfError struct {
	result Result
	reason string
}

func (e *spfError) Error() string { return string(e.result) + ": " + e.reason }

func permErr(format string, a ...any) error {
	return &spfError{ResultPermError, fmt.Sprintf(format, a...)}
}

func tempErr(format string, a ...any) error {
	return &spfError{ResultTempError, fmt.Sprintf(format, a...)}
}

type spfTerm struct {
	qual   byte   // + - ~ ?
	mech   string // lower case
	arg    string // domain-spec or ip, before macro expansion
	hasArg bool
	cidr4  int
	cidr6  int
}

func (c *spfCheck) check(domain string) (Result, string) {
	res, err := c.evaluate(domain)
	if err != nil {
		var se *spfError
		if errors.As(err, &se) {
			return se.result, se.reason
		}
		return ResultTempError, err.Error()
	}
	return res, ""
}

func (c *spfCheck) evaluate(domain string) (Result, error) {
	record, err := c.record(domain)
	if err != nil || record == "" {
		return ResultNone, err
	}
	terms, redirect, err := parseSPF(record)
	if err != nil {
		return "", err
	}
	for _, t := range terms {
		match, err := c.match(t, domain)
		if err != nil {
			return "", err
		}
		if match {
			switch t.qual {
			case '-':
				return ResultFail, nil
			case '~':
				return ResultSoftFail, nil
			case '?':
				return ResultNeutral, nil
			default:
				return ResultPass, nil
			}
		}
	}
	if redirect != "" {
		if err := c.countLookup(); err != nil {
			return "", err
		}
		target, err := c.expand(redirect, domain)
		if err != nil {
			return "", err
		}
		res, err := c.evaluate(target)
		if err == nil && res == ResultNone {
			return "", permErr("redirect to %s has no SPF record", target)
		}
		return res, err
	}
	return ResultNeutral, nil
}

// record returns the domain's single "v=spf1" record, "" when it has none.
func (c *spfCheck) record(domain string) (string, error) {
	txts, err := c.r.LookupTXT(c.ctx, domain)
	if err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", tempErr("DNS TXT %s: %v", domain, err)
	}
	var found []string
	for _, t := range txts {
		if len(t) >= 6 && strings.EqualFold(t[:6], "v=spf1") && (len(t) == 6 || t[6] == ' ') {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	default:
		return "", permErr("%s has %d SPF records", domain, len(found))
	}
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// parseSPF checks the whole record's syntax up front: RFC 7208 §4.6 makes
// any syntax error a permerror even if an earlier term would match.
func parseSPF(record string) (terms []spfTerm, redirect string, err error) {
	seenRedirect := false
	for _, f := range strings.Fields(record)[1:] {
		if i := strings.IndexByte(f, '='); i > 0 && isModifierName(f[:i]) {
			switch strings.ToLower(f[:i]) {
			case "redirect":
				if seenRedirect {
					return nil, "", permErr("more than one redirect")
				}
				seenRedirect, redirect = true, f[i+1:]
				if redirect == "" {
					return nil, "", permErr("empty redirect")
				}
			}
			continue // exp= and unknown modifiers are ignored
		}
		t := spfTerm{qual: '+', cidr4: 32, cidr6: 128}
		if strings.IndexByte("+-~?", f[0]) >= 0 {
			t.qual, f = f[0], f[1:]
		}
		name := f
		rest := ""
		if i := strings.IndexAny(f, ":/"); i >= 0 {
			name, rest = f[:i], f[i:]
		}
		t.mech = strings.ToLower(name)
		if strings.HasPrefix(rest, ":") {
			t.hasArg = true
			t.arg = rest[1:]
			rest = ""
			if t.mech != "ip4" && t.mech != "ip6" {
				if i := strings.IndexByte(t.arg, '/'); i >= 0 {
					t.arg, rest = t.arg[:i], t.arg[i:]
				}
			}
			if t.arg == "" {
				return nil, "", permErr("empty argument in %q", f)
			}
		}
		switch t.mech {
		case "all":
			if t.hasArg || rest != "" {
				return nil, "", permErr("bad term %q", f)
			}
		case "include", "exists":
			if !t.hasArg || rest != "" {
				return nil, "", permErr("bad term %q", f)
			}
		case "a", "mx":
			if t.cidr4, t.cidr6, err = parseDualCIDR(rest); err != nil {
				return nil, "", permErr("bad term %q", f)
			}
		case "ptr":
			if rest != "" {
				return nil, "", permErr("bad term %q", f)
			}
		case "ip4", "ip6":
			if !t.hasArg {
				return nil, "", permErr("bad term %q", f)
			}
			p, err := parseIPNet(t.arg, t.mech == "ip4")
			if err != nil {
				return nil, "", permErr("bad term %q", f)
			}
			t.arg = p.String()
		default:
			return nil, "", permErr("unknown mechanism %q", f)
		}
		terms = append(terms, t)
	}
	return terms, redirect, nil
}

func isModifierName(s string) bool {
	for i, ch := range s {
		alpha := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'
		if !(alpha || i > 0 && (ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.')) {
			return false
		}
	}
	return s != ""
}

// parseDualCIDR parses "", "/24", "//64" or "/24//64".
func parseDualCIDR(s string) (int, int, error) {
	c4, c6 := 32, 128
	if s == "" {
		return c4, c6, nil
	}
	v4, v6, has6 := strings.Cut(s, "//")
	if v4 != "" {
		if !strings.HasPrefix(v4, "/") {
			return 0, 0, errors.New("bad cidr")
		}
		n, err := strconv.Atoi(v4[1:])
		if err != nil || n < 0 || n > 32 {
			return 0, 0, errors.New("bad cidr")
		}
		c4 = n
	}
	if has6 {
		n, err := strconv.Atoi(v6)
		if err != nil || n < 0 || n > 128 {
			return 0, 0, errors.New("bad cidr")
		}
		c6 = n
	}
	return c4, c6, nil
}

func parseIPNet(s string, v4 bool) (netip.Prefix, error) {
	addr, bits, hasBits := strings.Cut(s, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() != v4 {
		return netip.Prefix{}, errors.New("bad ip")
	}
	n := ip.BitLen()
	if hasBits {
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > ip.BitLen() {
			return netip.Prefix{}, errors.New("bad cidr")
		}
	}
	return ip.Prefix(n)
}

func (c *spfCheck) countLookup() error {
	c.lookups++
	if c.lookups > spfMaxLookups {
		return permErr("more than %d DNS lookups", spfMaxLookups)
	}
	return nil
}

func (c *spfCheck) countVoid() error {
	c.voidLookups++
	if c.voidLookups > spfMaxVoidLookups {
		return permErr("more than %d void DNS lookups", spfMaxVoidLookups)
	}
	return nil
}

func (c *spfCheck) match(t spfTerm, domain string) (bool, error) {
	switch t.mech {
	case "all":
		return true, nil
	case "ip4", "ip6":
		return netip.MustParsePrefix(t.arg).Contains(c.ip), nil
	case "ptr":
		// Deprecated by RFC 7208 §5.5 and expensive; count it, never match.
		return false, c.countLookup()
	}
	if err := c.countLookup(); err != nil {
		return false, err
	}
	target := domain
	if t.hasArg {
		var err error
		if target, err = c.expand(t.arg, domain); err != nil {
			return false, err
		}
	}
	switch t.mech {
	case "include":
		res, err := c.evaluate(target)
		if err != nil {
			return false, err
		}
		switch res {
		case ResultPass:
			return true, nil
		case ResultNone:
			return false, permErr("include:%s has no SPF record", target)
		}
		return false, nil
	case "exists":
		ips, err := c.lookupIP(target)
		for _, ip := range ips {
			if ip.Is4() {
				return true, nil
			}
		}
		return false, err
	case "a":
		ips, err := c.lookupIP(target)
		return c.anyInCIDR(ips, t), err
	case "mx":
		mxs, err := c.r.LookupMX(c.ctx, target)
		if err != nil && !isNotFound(err) {
			return false, tempErr("DNS MX %s: %v", target, err)
		}
		if len(mxs) == 0 {
			return false, c.countVoid()
		}
		if len(mxs) > spfMaxMXNames {
			return false, permErr("%s has more than %d MX names", target, spfMaxMXNames)
		}
		for _, mx := range mxs {
			ips, err := c.lookupIP(strings.TrimSuffix(mx.Host, "."))
			if err != nil {
				return false, err
			}
			if c.anyInCIDR(ips, t) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, permErr("unknown mechanism %q", t.mech)
}

func (c *spfCheck) lookupIP(host string) ([]netip.Addr, error) {
	addrs, err := c.r.LookupIPAddr(c.ctx, host)
	if err != nil && !isNotFound(err) {
		return nil, tempErr("DNS A/AAAA %s: %v", host, err)
	}
	if len(addrs) == 0 {
		return nil, c.countVoid()
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

func (c *spfCheck) anyInCIDR(ips []netip.Addr, t spfTerm) bool {
	for _, ip := range ips {
		if ip.Is4() != c.ip.Is4() {
			continue
		}
		bits := t.cidr6
		if ip.Is4() {
			bits = t.cidr4
		}
		if p, err := ip.Prefix(bits); err == nil && p.Contains(c.ip) {
			return true
		}
	}
	return false
}

// expand applies SPF macros (RFC 7208 §7) to a domain-spec.
func (c *spfCheck) expand(spec, domain string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		ch := spec[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i >= len(spec) {
			return "", permErr("bad macro in %q", spec)
		}
		switch spec[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(spec[i:], '}')
			if end < 2 {
				return "", permErr("bad macro in %q", spec)
			}
			v, err := c.macro(spec[i+1:i+end], domain)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end
		default:
			return "", permErr("bad macro in %q", spec)
		}
	}
	out := strings.TrimSuffix(b.String(), ".")
	// §7.3: keep the result within 253 characters by dropping left labels.
	for len(out) > 253 {
		_, rest, ok := strings.Cut(out, ".")
		if !ok {
			break
		}
		out = rest
	}
	return out, nil
}

func (c *spfCheck) macro(m, domain string) (string, error) {
	letter := m[0]
	upper := letter >= 'A' && letter <= 'Z'
	if upper {
		letter += 'a' - 'A'
	}
	var v string
	switch letter {
	case 's':
		v = c.sender
	case 'l':
		v = c.local
	case 'o':
		v = c.sender[strings.LastIndexByte(c.sender, '@')+1:]
	case 'd':
		v = domain
	case 'i':
		if c.ip.Is4() {
			v = c.ip.String()
		} else {
			var parts []string
			for _, x := range c.ip.As16() {
				parts = append(parts, strconv.FormatUint(uint64(x>>4), 16), strconv.FormatUint(uint64(x&15), 16))
			}
			v = strings.Join(parts, ".")
		}
	case 'p':
		v = "unknown"
	case 'v':
		v = "ip6"
		if c.ip.Is4() {
			v = "in-addr"
		}
	case 'h':
		v = c.helo
	default:
		return "", permErr("unknown macro letter %q", m[0])
	}
	rest := m[1:]
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	keep := 0
	if digits > 0 {
		n, err := strconv.Atoi(rest[:digits])
		if err != nil || n == 0 {
			return "", permErr("bad macro %q", m)
		}
		keep = n
	}
	rest = rest[digits:]
	reverse := false
	if strings.HasPrefix(rest, "r") || strings.HasPrefix(rest, "R") {
		reverse, rest = true, rest[1:]
	}
	delims := "."
	if rest != "" {
		for _, d := range rest {
			if !strings.ContainsRune(".-+,/_=", d) {
				return "", permErr("bad macro %q", m)
			}
		}
		delims = rest
	}
	if keep > 0 || reverse || delims != "." {
		parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(delims, r) })
		if reverse {
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
		if keep > 0 && keep < len(parts) {
			parts = parts[len(parts)-keep:]
		}
		v = strings.Join(parts, ".")
	}
	if upper {
		v = url.QueryEscape(v)
	}
	return v, nil
}
