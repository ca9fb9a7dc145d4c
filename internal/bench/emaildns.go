package bench

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSServer answers the SMTP receiver's SPF and DMARC lookups during the email benchmark, on
// UDP on loopback. The receiver checks every message's sender in DNS; on the machine these
// benchmarks ran on the system resolver dropped about one query in a hundred, and each drop cost
// a 5-second timeout, so the benchmark measured the resolver instead of the server. This one
// answers at once, as a local caching resolver does on a mail host:
//
//   - TXT of a sender domain (*.example): "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all", so mail from
//     loopback passes SPF;
//   - TXT of _dmarc.<sender domain>: "v=DMARC1; p=none", so DMARC is evaluated and passes by
//     the aligned SPF domain;
//   - any other name: NXDOMAIN (no DKIM keys: the generated mail is not signed).
type DNSServer struct {
	Addr    string // 127.0.0.1:port
	pc      net.PacketConn
	queries atomic.Int64
}

// StartDNS starts the server on a free loopback port.
func StartDNS() (*DNSServer, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &DNSServer{Addr: pc.LocalAddr().String(), pc: pc}
	go d.serve()
	return d, nil
}

// Queries is how many queries it has answered.
func (d *DNSServer) Queries() int64 { return d.queries.Load() }

// Close stops the server.
func (d *DNSServer) Close() error { return d.pc.Close() }

func (d *DNSServer) serve() {
	buf := make([]byte, 4096)
	for {
		n, addr, err := d.pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue
		}
		if resp := answerDNS(buf[:n]); resp != nil {
			d.queries.Add(1)
			_, _ = d.pc.WriteTo(resp, addr) // a lost answer is retried by the resolver
		}
	}
}

// benchTXT returns the TXT record of name (lower case, no trailing dot) and whether the name
// exists: a sender domain (*.example) and its _dmarc name; no other underscore names (DKIM keys).
func benchTXT(name string) (string, bool) {
	dmarc := strings.HasPrefix(name, "_dmarc.")
	domain := strings.TrimPrefix(name, "_dmarc.")
	if !strings.HasSuffix(domain, ".example") || strings.Contains(domain, "_") {
		return "", false
	}
	if dmarc {
		return "v=DMARC1; p=none", true
	}
	return "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all", true
}

// answerDNS builds the answer to one query; nil when the query cannot be read.
func answerDNS(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	txt, exists := benchTXT(name)
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !exists {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	if exists && q.Type == dnsmessage.TypeTXT && q.Class == dnsmessage.ClassINET {
		err := b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 300},
			dnsmessage.TXTResource{TXT: []string{txt}})
		if err != nil {
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
