package bench

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/channel/email/mime"
)

// The generated mail must be what the brief of PERF-6 describes and what the receiver accepts
// as ordinary customer mail: readable, not classified as automated, a reply pointing at its
// parent, files where promised, sizes in 2–30 KB.
func TestGeneratedMail(t *testing.T) {
	g := newMailGen("20260101120000000", "support-x@acme.example", "bench-email@in.bench.parley.invalid")
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	var parent *emailMsg
	for i := range 400 {
		kind := mailKind(i % 4)
		var p *emailMsg
		pi := -1
		if kind == mailReply {
			p, pi = parent, i-1
		}
		m := g.plan(i, kind, p, pi, r)
		raw := g.raw(m, p, r, now)
		if len(raw) < minMailSize*9/10 || len(raw) > maxMailSize*11/10 {
			t.Errorf("message %d (kind %d): %d bytes, want about 2–30 KB", i, kind, len(raw))
		}
		for _, line := range bytes.Split(raw, []byte("\r\n")) {
			if len(line) > 998 {
				t.Fatalf("message %d: a line of %d bytes (SMTP allows 998)", i, len(line))
			}
		}
		pm, err := mime.Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %d: %v\n%s", i, err, raw)
		}
		if pm.MessageID != m.id || pm.From.Address != m.from || len(pm.To) != 1 || pm.To[0].Address != "support-x@acme.example" {
			t.Fatalf("message %d: id %q from %q to %v", i, pm.MessageID, pm.From.Address, pm.To)
		}
		if c := mime.Classify(pm); c.Automated() || c.RoleSender {
			t.Errorf("message %d classified as automated: %+v", i, c)
		}
		if strings.TrimSpace(pm.Text) == "" {
			t.Errorf("message %d has no text", i)
		}
		switch kind {
		case mailReply:
			if len(pm.InReplyTo) != 1 || pm.InReplyTo[0] != p.id || pm.References[len(pm.References)-1] != p.id ||
				pm.References[0] != p.refs[0] || m.from != p.from || pm.Subject != "Re: "+strings.TrimPrefix(p.subject, "Re: ") {
				t.Errorf("reply %d: In-Reply-To %v References %v subject %q; parent <%s> %q", i, pm.InReplyTo, pm.References, pm.Subject, p.id, p.subject)
			}
		case mailAttachment:
			if len(pm.Attachments) != 1 || pm.Attachments[0].ContentType != "application/pdf" || pm.Attachments[0].Inline {
				t.Errorf("message %d: attachments %+v, want one PDF", i, pm.Attachments)
			}
		case mailInline:
			if len(pm.Attachments) != 1 || pm.Attachments[0].ContentType != "image/png" || !pm.Attachments[0].Inline ||
				!strings.Contains(pm.HTML, pm.Attachments[0].ContentID) {
				t.Errorf("message %d: attachments %+v, want one inline PNG the HTML shows", i, pm.Attachments)
			}
		default:
			if len(pm.Attachments) != 0 || len(pm.InReplyTo) != 0 {
				t.Errorf("new message %d: attachments %d, In-Reply-To %v", i, len(pm.Attachments), pm.InReplyTo)
			}
		}
		parent = m
	}
}

func TestEmailRefusesRemoteReceivers(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:25", "mx.example.com:25", "25"} {
		o := EmailOptions{Messages: 1, Clients: 1, Duration: time.Second, SMTPAddr: addr}
		if err := o.check(); err == nil {
			t.Errorf("%s: accepted", addr)
		}
	}
	o := EmailOptions{Messages: 1, Clients: 1, Duration: time.Second, SMTPAddr: "127.0.0.1:2525"}
	if err := o.check(); err != nil {
		t.Error(err)
	}
}

// The benchmark's DNS server gives the receiver's SPF and DMARC checks what a mail host's
// resolver would for the generated senders, and nothing else.
func TestBenchDNS(t *testing.T) {
	d, err := StartDNS()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, network, d.Addr)
	}}
	ctx := context.Background()
	if txt, err := r.LookupTXT(ctx, "customer7.example"); err != nil || len(txt) != 1 || !strings.HasPrefix(txt[0], "v=spf1 ip4:127.0.0.0/8") {
		t.Errorf("SPF record: %q, %v", txt, err)
	}
	if txt, err := r.LookupTXT(ctx, "_dmarc.customer7.example"); err != nil || len(txt) != 1 || txt[0] != "v=DMARC1; p=none" {
		t.Errorf("DMARC record: %q, %v", txt, err)
	}
	for _, name := range []string{"sel._domainkey.customer7.example", "example.com", "_dmarc.in.bench.parley.invalid"} {
		var dnsErr *net.DNSError
		if txt, err := r.LookupTXT(ctx, name); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("%s: %q, %v; want NXDOMAIN", name, txt, err)
		}
	}
	if d.Queries() < 5 {
		t.Errorf("%d queries counted", d.Queries())
	}
}
