package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// AuthResults are the authentication verdicts for one received message.
// Header is the same in RFC 8601 Authentication-Results form, for
// storing with the message and showing to agents.
type AuthResults struct {
	DKIM   []DKIMResult // one per signature checked; empty when unsigned
	SPF    SPFResult
	DMARC  DMARCResult
	Header string // e.g. "mx.example; dkim=pass header.d=a.example; spf=pass smtp.mailfrom=a.example; dmarc=pass header.from=a.example"
}

// DKIMResult is the verdict for one DKIM-Signature.
type DKIMResult struct {
	Result     Result
	Domain     string // the signature's d=
	Identifier string // the signature's i=
	Reason     string
}

// DMARCResult is the DMARC (RFC 7489) verdict for the From header domain.
type DMARCResult struct {
	Result Result
	Domain string // the RFC 5322 From domain
	// Policy the domain asks for on failure: "none", "quarantine",
	// "reject", or "" when it has no DMARC record. We record it; what to
	// do with failing mail (spam folder) is the caller's decision.
	Policy string
	Reason string
}

// maxDKIMSignatures bounds the work an attacker can make us do per message.
const maxDKIMSignatures = 5

func (s *Server) authenticate(ctx context.Context, env Envelope, raw []byte) AuthResults {
	return Authenticate(ctx, s.Resolver, s.Domain, env, raw)
}

// Authenticate runs the SPF, DKIM and DMARC checks for a message received
// from env.RemoteIP with the given envelope. authServID names us in the
// Authentication-Results summary.
func Authenticate(ctx context.Context, r Resolver, authServID string, env Envelope, raw []byte) AuthResults {
	var a AuthResults
	a.SPF = CheckSPF(ctx, r, env.RemoteIP, env.MailFrom, env.HELO)
	a.DKIM = VerifyDKIM(ctx, r, raw)
	from, err := headerFromDomain(raw)
	if err != nil {
		a.DMARC = DMARCResult{Result: ResultPermError, Reason: err.Error()}
	} else {
		a.DMARC = CheckDMARC(ctx, r, from, a.SPF, a.DKIM)
	}
	a.Header = a.format(authServID, env)
	return a
}

func (a AuthResults) format(authServID string, env Envelope) string {
	var rs []authres.Result
	for _, d := range a.DKIM {
		rs = append(rs, &authres.DKIMResult{Value: authres.ResultValue(d.Result), Reason: d.Reason, Domain: d.Domain, Identifier: d.Identifier})
	}
	if len(a.DKIM) == 0 {
		rs = append(rs, &authres.DKIMResult{Value: authres.ResultNone})
	}
	spf := &authres.SPFResult{Value: authres.ResultValue(a.SPF.Result), Reason: a.SPF.Reason}
	if env.MailFrom != "" {
		spf.From = a.SPF.Domain
	} else {
		spf.Helo = a.SPF.Domain
	}
	rs = append(rs, spf)
	rs = append(rs, &authres.DMARCResult{Value: authres.ResultValue(a.DMARC.Result), Reason: a.DMARC.Reason, From: a.DMARC.Domain})
	if authServID == "" {
		authServID = "localhost"
	}
	return authres.Format(authServID, rs)
}

// VerifyDKIM checks every DKIM-Signature of raw (up to a small maximum).
// An unsigned message gives no results.
func VerifyDKIM(ctx context.Context, r Resolver, raw []byte) []DKIMResult {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return r.LookupTXT(ctx, name) },
		MaxVerifications: maxDKIMSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		// The header block itself could not be read: any signature in it
		// is unusable.
		if bytes.Contains(bytes.ToLower(raw), []byte("dkim-signature:")) {
			return []DKIMResult{{Result: ResultPermError, Reason: err.Error()}}
		}
		return nil
	}
	out := make([]DKIMResult, 0, len(verifs))
	for _, v := range verifs {
		d := DKIMResult{Result: ResultPass, Domain: strings.ToLower(v.Domain), Identifier: v.Identifier}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			d.Result, d.Reason = ResultTempError, v.Err.Error()
		case dkim.IsPermFail(v.Err):
			d.Result, d.Reason = ResultPermError, v.Err.Error()
		default:
			d.Result, d.Reason = ResultFail, v.Err.Error()
		}
		out = append(out, d)
	}
	return out
}

// headerFromDomain returns the domain of the message's single From
// author, which is what DMARC protects.
func headerFromDomain(raw []byte) (string, error) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", errors.New("unreadable header")
	}
	froms := h.Values("From")
	if len(froms) != 1 {
		return "", errors.New("not exactly one From header")
	}
	var domains []string
	if list, err := mail.ParseAddressList(froms[0]); err == nil {
		for _, a := range list {
			domains = append(domains, domainOf(a.Address))
		}
	} else {
		// Broken display names or unknown charsets are common; the
		// address itself is usually still readable.
		v := froms[0]
		if i := strings.LastIndexByte(v, '<'); i >= 0 {
			v = v[i+1:]
			if j := strings.IndexByte(v, '>'); j >= 0 {
				v = v[:j]
			}
		}
		domains = append(domains, domainOf(strings.TrimSpace(v)))
	}
	d := domains[0]
	for _, x := range domains {
		if x != d {
			return "", errors.New("From has authors in several domains")
		}
	}
	if !validDomain(d) {
		return "", errors.New("no valid From domain")
	}
	return d, nil
}

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(addr[at+1:]), ".")
}

// orgDomain is the organizational domain (RFC 7489 §3.2): the registrable
// part according to the public suffix list.
func orgDomain(d string) string {
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if org, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return org
	}
	return d
}

func aligned(authDomain, fromDomain string, mode dmarc.AlignmentMode) bool {
	a := strings.TrimSuffix(strings.ToLower(authDomain), ".")
	if a == "" {
		return false
	}
	if mode == dmarc.AlignmentStrict {
		return a == fromDomain
	}
	return orgDomain(a) == orgDomain(fromDomain)
}

// CheckDMARC looks up the From domain's DMARC policy (falling back to its
// organizational domain) and decides whether a passing SPF or DKIM result
// is aligned with it.
func CheckDMARC(ctx context.Context, r Resolver, fromDomain string, spf SPFResult, dkims []DKIMResult) DMARCResult {
	res := DMARCResult{Domain: fromDomain}
	opts := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) { return r.LookupTXT(ctx, name) }}
	rec, err := dmarc.LookupWithOptions(fromDomain, opts)
	fromOrg := false
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org := orgDomain(fromDomain); org != fromDomain {
			rec, err = dmarc.LookupWithOptions(org, opts)
			fromOrg = true
		}
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		res.Result = ResultNone
		return res
	case dmarc.IsTempFail(err):
		res.Result, res.Reason = ResultTempError, err.Error()
		return res
	case err != nil:
		// RFC 7489 §6.6.3: a record that does not parse is no record.
		res.Result, res.Reason = ResultNone, "invalid DMARC record"
		return res
	}
	res.Policy = string(rec.Policy)
	if fromOrg && rec.SubdomainPolicy != "" {
		res.Policy = string(rec.SubdomainPolicy)
	}
	for _, d := range dkims {
		if d.Result == ResultPass && aligned(d.Domain, fromDomain, rec.DKIMAlignment) {
			res.Result, res.Reason = ResultPass, "aligned DKIM "+d.Domain
			return res
		}
	}
	if spf.Result == ResultPass && aligned(spf.Domain, fromDomain, rec.SPFAlignment) {
		res.Result, res.Reason = ResultPass, "aligned SPF "+spf.Domain
		return res
	}
	res.Result, res.Reason = ResultFail, "no aligned SPF or DKIM pass"
	return res
}
