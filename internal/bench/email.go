package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-inbox/parley/internal/seed"
	"github.com/parley-inbox/parley/internal/store"
)

// EmailOptions bound the email scenario.
type EmailOptions struct {
	Messages int           // messages to deliver
	Clients  int           // concurrent SMTP connections
	Duration time.Duration // stop delivering after this long even if Messages are not all sent
	// SMTPAddr is the server's SMTP receiver, host:port on loopback.
	SMTPAddr string
	// DNS is the server answering the receiver's lookups, when the benchmark runs one (the
	// server was started with PARLEY_SMTP_DNS at it); nil when the server uses its own resolver.
	DNS *DNSServer
}

func (o *EmailOptions) check() error {
	if o.Messages < 1 || o.Messages > 1_000_000 {
		return errors.New("messages: want 1 to 1,000,000")
	}
	// The receiver accepts 200 connections at once by default (smtpd.DefaultMaxConnections).
	if o.Clients < 1 || o.Clients > 200 {
		return errors.New("clients: want 1 to 200")
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		return errors.New("duration: want more than 0 and at most 1h")
	}
	if o.SMTPAddr == "" {
		return errors.New("no SMTP receiver: with --url, give the server's --smtp-addr")
	}
	return checkLoopbackAddr(o.SMTPAddr)
}

// checkLoopbackAddr refuses a host:port that is not on this machine, as CheckLoopback does URLs.
func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: want 127.0.0.1:PORT", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("smtp address %q: benchmarks run against loopback addresses only (127.0.0.0/8, ::1, localhost)", addr)
	}
	return nil
}

// The mix of generated mail (shares of all messages; a reply needs an earlier acknowledged
// message, so the first few are all new).
const (
	shareReply      = 0.30
	shareAttachment = 0.05 // a PDF attachment
	shareInline     = 0.05 // HTML with an inline image (cid:)
	minMailSize     = 2 << 10
	maxMailSize     = 30 << 10
)

type mailKind uint8

const (
	mailNew        mailKind = iota // opens a conversation: plain text, or text and HTML
	mailReply                      // In-Reply-To and References an earlier message of the run
	mailAttachment                 // opens a conversation, with a PDF attached
	mailInline                     // opens a conversation, HTML showing an inline PNG
)

// emailMsg is one message of the run: what was sent and what the store should show for it.
type emailMsg struct {
	id      string // Message-ID without brackets
	from    string
	name    string
	subject string
	parent  int      // index of the message this one answers; -1 when it opens a conversation
	refs    []string // References for an answer to this message: the thread up to and including it
	kind    mailKind
	size    int
	acked   bool
}

// mailGen builds realistic mail for one run: forwarded from a team address to the inbox's
// receiving address, from many customers, in a few MIME shapes.
type mailGen struct {
	run       string // token that makes Message-IDs and addresses unique to the run
	team      string // the team address customers write to
	receiving string // the inbox's receiving address the team address forwards to
	words     []string
	first     []string
	last      []string
}

func newMailGen(run, team, receiving string) *mailGen {
	return &mailGen{run: run, team: team, receiving: receiving, words: seed.Vocabulary(),
		first: seed.FirstNames(), last: []string{"Andersson", "Berg", "Chen", "Dahl", "Eriksen", "Fischer", "Garcia",
			"Hansen", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petersen",
			"Quinn", "Rossi", "Santos", "Tanaka", "Umar", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann"}}
}

// mailSize draws a message size, log-uniform between 2 and 30 KB: most mail is small.
func mailSize(r *rand.Rand) int {
	lo, hi := math.Log(minMailSize), math.Log(maxMailSize)
	return int(math.Exp(lo + r.Float64()*(hi-lo)))
}

// plan fills in message i's envelope and identity. parent is the message it answers, nil for one
// that opens a conversation; parent must not change while plan reads it.
func (g *mailGen) plan(i int, kind mailKind, parent *emailMsg, parentIndex int, r *rand.Rand) *emailMsg {
	m := &emailMsg{kind: kind, parent: -1, size: mailSize(r)}
	msgID := func() string {
		return fmt.Sprintf("%s.%d.%x@mail.%s", g.run, i, r.Uint32(), m.from[strings.LastIndexByte(m.from, '@')+1:])
	}
	if parent != nil {
		m.parent = parentIndex
		m.from, m.name = parent.from, parent.name
		m.id = msgID()
		m.subject = "Re: " + strings.TrimPrefix(parent.subject, "Re: ")
		m.refs = append(slices.Clone(parent.refs[max(len(parent.refs)-9, 0):]), m.id)
		return m
	}
	first, last := g.first[r.IntN(len(g.first))], g.last[r.IntN(len(g.last))]
	m.name = first + " " + last
	// One sender per conversation: a sender writing more than 20 new conversations in ten
	// minutes would be quarantined as a runaway (spec/email.md §4.3), which is not this path.
	m.from = fmt.Sprintf("%s.%d@customer%d.example", strings.ToLower(first+"."+last), i, i%997)
	m.id = msgID()
	m.subject = g.sentence(r, 3+r.IntN(6))
	m.refs = []string{m.id}
	return m
}

func (g *mailGen) word(r *rand.Rand) string {
	// Squaring a uniform number favours the common words at the head of the vocabulary.
	f := r.Float64()
	return g.words[int(f*f*float64(len(g.words)))]
}

func (g *mailGen) sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for k := range n {
		w := g.word(r)
		if k == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// paragraphs returns paragraphs of about n bytes in all (at least one sentence).
func (g *mailGen) paragraphs(r *rand.Rand, n int) []string {
	var out []string
	total := 0
	for total < n {
		var p strings.Builder
		for range 2 + r.IntN(5) {
			if p.Len() > 0 {
				p.WriteByte(' ')
			}
			p.WriteString(g.sentence(r, 5+r.IntN(14)))
			p.WriteByte('.')
			if total+p.Len() >= n {
				break
			}
		}
		out = append(out, p.String())
		total += p.Len() + 4 // and the blank line between paragraphs
	}
	return out
}

// raw renders message m as it arrives at the receiver: the customer's mail as the team
// address's provider forwards it.
func (g *mailGen) raw(m *emailMsg, parent *emailMsg, r *rand.Rand, now time.Time) []byte {
	var h bytes.Buffer
	date := now.Format(time.RFC1123Z)
	domain := m.from[strings.LastIndexByte(m.from, '@')+1:]
	fmt.Fprintf(&h, "Return-Path: <%s>\r\n", m.from)
	fmt.Fprintf(&h, "Received: from mx.acme.example (mx.acme.example [192.0.2.25])\r\n\tby forwarder.acme.example with ESMTPS id %x\r\n\tfor <%s>; %s\r\n", r.Uint64(), g.receiving, date)
	fmt.Fprintf(&h, "Received: from mail.%s (mail.%s [198.51.100.%d])\r\n\tby mx.acme.example with ESMTPS id %x\r\n\tfor <%s>; %s\r\n", domain, domain, 1+r.IntN(250), r.Uint64(), g.team, date)
	fmt.Fprintf(&h, "X-Forwarded-To: %s\r\nX-Forwarded-For: %s %s\r\n", g.receiving, g.team, g.receiving)
	fmt.Fprintf(&h, "From: %q <%s>\r\nTo: Acme Support <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
		m.name, m.from, g.team, m.subject, date, m.id)
	if parent != nil {
		fmt.Fprintf(&h, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", parent.id, strings.Join(parent.refs, ">\r\n <"))
	}
	h.WriteString("MIME-Version: 1.0\r\n")
	body := max(m.size-h.Len()-250, 300) // room for the part headers

	b := newMIMEBody(m.id)
	switch m.kind {
	case mailNew, mailReply:
		alternative := r.IntN(2) == 0
		share := body // of the text part; with an HTML part as well, each gets half
		if alternative {
			share = body * 9 / 20 // the HTML's tags take the rest
		}
		var text []string
		if parent == nil {
			text = g.paragraphs(r, share)
		} else {
			// Mail programs quote what they answer; the quote is what makes replies long.
			text = g.paragraphs(r, share/3)
			text = append(text, fmt.Sprintf("On %s, %s <%s> wrote:", now.Add(-time.Hour).Format("Mon, 2 Jan 2006 at 15:04"), parent.name, parent.from))
			for _, p := range g.paragraphs(r, share*2/3) {
				text = append(text, "> "+p)
			}
		}
		if !alternative {
			b.single(&h, "text/plain; charset=UTF-8", qp(strings.Join(text, "\r\n\r\n")))
			break
		}
		alt := b.open(&h, "alternative")
		b.part(alt, "text/plain; charset=UTF-8", "quoted-printable", "", qp(strings.Join(text, "\r\n\r\n")))
		b.part(alt, "text/html; charset=UTF-8", "quoted-printable", "", qp(htmlOf(text, "")))
		b.close(alt)
	case mailAttachment:
		text := g.paragraphs(r, min(body/4, 1500))
		rest := max(body-len(strings.Join(text, "\r\n\r\n")), 256)
		pdf := append([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), randomBytes(r, rest*3/4)...)
		mixed := b.open(&h, "mixed")
		b.part(mixed, "text/plain; charset=UTF-8", "quoted-printable", "", qp(strings.Join(text, "\r\n\r\n")))
		name := fmt.Sprintf("invoice-%d.pdf", 10000+r.IntN(90000))
		b.part(mixed, `application/pdf; name="`+name+`"`, "base64", `attachment; filename="`+name+`"`, b64(pdf))
		b.close(mixed)
	case mailInline:
		text := g.paragraphs(r, min(body/4, 1500))
		cid := "image001." + strconv.FormatUint(r.Uint64(), 36) + "@" + domain
		img := noisePNG(r, max(body-2*len(strings.Join(text, "\r\n\r\n")), 256)*3/4)
		alt := b.open(&h, "alternative")
		b.part(alt, "text/plain; charset=UTF-8", "quoted-printable", "", qp(strings.Join(text, "\r\n\r\n")+"\r\n\r\n[image: screenshot.png]"))
		rel := b.nest(alt, "related")
		b.part(rel, "text/html; charset=UTF-8", "quoted-printable", "", qp(htmlOf(text, cid)))
		b.partHeaders(rel, `image/png; name="screenshot.png"`, "base64", `inline; filename="screenshot.png"`, "Content-ID: <"+cid+">\r\n")
		rel.buf.WriteString(b64(img))
		b.close(rel)
		b.close(alt)
	}
	return append(h.Bytes(), b.root.Bytes()...)
}

// mimeBody writes nested multiparts with boundaries unique to one message.
type mimeBody struct {
	root bytes.Buffer
	seq  int
	base string
}

type multipart struct {
	buf      *bytes.Buffer
	boundary string
}

func newMIMEBody(id string) *mimeBody {
	h := fnv.New32a()
	h.Write([]byte(id)) // a hash does not fail
	return &mimeBody{base: fmt.Sprintf("%08x", h.Sum32())}
}

// single ends the message headers with a one-part body.
func (b *mimeBody) single(h *bytes.Buffer, contentType, body string) {
	fmt.Fprintf(h, "Content-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", contentType)
	b.root.WriteString(body)
}

// open ends the message headers with a multipart of the subtype and returns it.
func (b *mimeBody) open(h *bytes.Buffer, subtype string) *multipart {
	b.seq++
	mp := &multipart{buf: &b.root, boundary: fmt.Sprintf("----=_Part_%s_%d", b.base, b.seq)}
	fmt.Fprintf(h, "Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", subtype, mp.boundary)
	b.root.WriteString("This is a multi-part message in MIME format.\r\n")
	return mp
}

// nest opens a multipart as a part of parent.
func (b *mimeBody) nest(parent *multipart, subtype string) *multipart {
	b.seq++
	mp := &multipart{buf: parent.buf, boundary: fmt.Sprintf("----=_Part_%s_%d", b.base, b.seq)}
	fmt.Fprintf(parent.buf, "\r\n--%s\r\nContent-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", parent.boundary, subtype, mp.boundary)
	return mp
}

func (b *mimeBody) partHeaders(mp *multipart, contentType, encoding, disposition, extra string) {
	fmt.Fprintf(mp.buf, "\r\n--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: %s\r\n", mp.boundary, contentType, encoding)
	if disposition != "" {
		fmt.Fprintf(mp.buf, "Content-Disposition: %s\r\n", disposition)
	}
	mp.buf.WriteString(extra)
	mp.buf.WriteString("\r\n")
}

func (b *mimeBody) part(mp *multipart, contentType, encoding, disposition, body string) {
	b.partHeaders(mp, contentType, encoding, disposition, "")
	mp.buf.WriteString(body)
}

func (b *mimeBody) close(mp *multipart) {
	fmt.Fprintf(mp.buf, "\r\n--%s--\r\n", mp.boundary)
}

// qp encodes text as quoted-printable with CRLF line ends.
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s)) // a bytes.Buffer does not fail
	_ = w.Close()
	return b.String()
}

// b64 encodes data as base64 in 76-character lines.
func b64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.String()
}

// htmlOf is the HTML a mail program makes of the paragraphs, with the inline image cid when set.
func htmlOf(paras []string, cid string) string {
	var b strings.Builder
	b.WriteString(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body><div dir="ltr">`)
	for i, p := range paras {
		if q, ok := strings.CutPrefix(p, "> "); ok {
			fmt.Fprintf(&b, `<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex"><p>%s</p></blockquote>`, q)
			continue
		}
		fmt.Fprintf(&b, "<p>%s</p>", p)
		if i == 0 && cid != "" {
			fmt.Fprintf(&b, `<p><img src="cid:%s" alt="screenshot.png" width="640"></p>`, cid)
		}
	}
	b.WriteString("</div></body></html>")
	return b.String()
}

func randomBytes(r *rand.Rand, n int) []byte {
	out := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			out[i+k] = byte(v >> (8 * k))
		}
	}
	return out[:n]
}

// noisePNG encodes a real PNG of about n bytes: noise does not compress, so the size follows
// the pixel count.
func noisePNG(r *rand.Rand, n int) []byte {
	const w = 64
	h := max(n/(w*4), 1)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	copy(img.Pix, randomBytes(r, len(img.Pix)))
	var b bytes.Buffer
	_ = png.Encode(&b, img) // an in-memory image always encodes
	return b.Bytes()
}

// emailTarget is the inbox and channel a run delivers to.
type emailTarget struct {
	InboxID   int64
	ChannelID int64
	Receiving string // the inbox's receiving address: the RCPT TO
	Team      string // the channel's team address: the mail's To
}

// newEmailTarget creates, through the API, an inbox open to everyone and an email channel for
// a team address in it, as an admin connecting forwarded mail would.
func newEmailTarget(ctx context.Context, t *Target, run string) (*emailTarget, error) {
	c := newClient(2)
	var ib struct {
		ID               int64  `json:"id"`
		ReceivingAddress string `json:"receiving_address"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/inboxes", t.AdminToken,
		map[string]any{"name": "Bench email " + run, "access": "everyone"}, &ib); err != nil {
		return nil, fmt.Errorf("create bench inbox: %w", err)
	}
	if ib.ReceivingAddress == "" {
		return nil, errors.New("the server gives inboxes no receiving address (no email service or inbound domain)")
	}
	f := &emailTarget{InboxID: ib.ID, Receiving: ib.ReceivingAddress, Team: "support-" + run + "@acme.example"}
	var ch struct {
		ID int64 `json:"id"`
	}
	if err := call(ctx, c, "POST", t.URL+"/api/v1/channels", t.AdminToken, map[string]any{"kind": "email",
		"inbox_id": ib.ID, "name": "Bench email " + run, "address": f.Team, "company_name": "Acme"}, &ch); err != nil {
		return nil, fmt.Errorf("create bench email channel: %w", err)
	}
	f.ChannelID = ch.ID
	return f, nil
}

// smtpSender is one client connection to the receiver, redialled after a connection error.
type smtpSender struct {
	addr string
	conn net.Conn
	c    *smtp.Client
}

func (s *smtpSender) dial() error {
	conn, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	host, _, _ := net.SplitHostPort(s.addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	if err := c.Hello("bench-client.acme.example"); err != nil {
		c.Close()
		return err
	}
	s.conn, s.c = conn, c
	return nil
}

func (s *smtpSender) close() {
	if s.c != nil {
		_ = s.c.Quit()
		s.c.Close()
		s.c, s.conn = nil, nil
	}
}

// send runs one transaction: MAIL FROM, RCPT TO, DATA; it returns nil only on the final 250.
func (s *smtpSender) send(from, rcpt string, raw []byte) error {
	if s.c == nil {
		if err := s.dial(); err != nil {
			return err
		}
	}
	_ = s.conn.SetDeadline(time.Now().Add(2 * time.Minute))
	err := func() error {
		if err := s.c.Mail(from); err != nil {
			return err
		}
		if err := s.c.Rcpt(rcpt); err != nil {
			return err
		}
		w, err := s.c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		return w.Close()
	}()
	var te *textproto.Error
	switch {
	case err == nil:
	case errors.As(err, &te):
		// The receiver answered (4xx/5xx): the session goes on after RSET.
		if s.c.Reset() != nil {
			s.c.Close()
			s.c, s.conn = nil, nil
		}
	default:
		s.c.Close()
		s.c, s.conn = nil, nil
	}
	return err
}

// Email delivers generated mail to the server's SMTP receiver from concurrent connections, the
// path forwarded mail takes, and checks in the database that every acknowledged message was
// stored once and every reply joined its conversation (SPEC PERF-6).
func Email(ctx context.Context, t *Target, o EmailOptions) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{Scenario: "email", Goal: "PERF-6: inbound email parsed, threaded and stored: ≥ 500/s"}
	res.Params = Environment(ctx, t)
	res.param("smtp receiver", o.SMTPAddr)
	res.param("messages", o.Messages)
	res.param("clients", fmt.Sprintf("%d SMTP connections, each reused for its transactions", o.Clients))
	res.param("max duration", o.Duration)
	dnsBefore := int64(0)
	if o.DNS != nil {
		res.param("receiver DNS", "the benchmark's server at "+o.DNS.Addr+": SPF pass for loopback and DMARC p=none for every sender domain, NXDOMAIN otherwise")
		dnsBefore = o.DNS.Queries()
	} else {
		res.param("receiver DNS", "the server's own resolver")
	}
	res.param("mix", fmt.Sprintf("%.0f %% replies (In-Reply-To/References to earlier mail of the run), %.0f %% PDF attachment, %.0f %% HTML with inline PNG, the rest new conversations (half text, half text+HTML); one sender per conversation; %d–%d KB, log-uniform",
		shareReply*100, shareAttachment*100, shareInline*100, minMailSize>>10, maxMailSize>>10))

	run := strings.NewReplacer("-", "", ".", "").Replace(runID())
	f, err := newEmailTarget(ctx, t, run)
	if err != nil {
		return nil, err
	}
	res.param("target", fmt.Sprintf("inbox %d (%s), email channel %d for %s, forwarded to the receiving address",
		f.InboxID, f.Receiving, f.ChannelID, f.Team))

	res.param("load average before", loadAverage())
	cpu0, cpuErr := processCPU(t.PID)

	g := newMailGen(run, f.Team, f.Receiving)
	msgs := make([]*emailMsg, o.Messages)
	var (
		poolMu sync.Mutex
		pool   []int // acknowledged messages, which later ones may answer
	)
	var lat latencies
	var next, sentN, failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for w := range o.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 6))
			s := &smtpSender{addr: o.SMTPAddr}
			defer s.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= o.Messages || time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				kind := mailNew
				switch x := r.Float64(); {
				case x < shareReply:
					kind = mailReply
				case x < shareReply+shareAttachment:
					kind = mailAttachment
				case x < shareReply+shareAttachment+shareInline:
					kind = mailInline
				}
				var parent *emailMsg
				pi := -1
				if kind == mailReply {
					poolMu.Lock()
					if len(pool) > 0 {
						pi = pool[r.IntN(len(pool))]
						parent = msgs[pi]
					}
					poolMu.Unlock()
					if parent == nil {
						kind = mailNew
					}
				}
				m := g.plan(i, kind, parent, pi, r)
				raw := g.raw(m, parent, r, time.Now())
				m.size = len(raw)
				msgs[i] = m
				sentN.Add(1)
				t0 := time.Now()
				err := s.send(m.from, f.Receiving, raw)
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat.add(time.Since(t0))
				poolMu.Lock()
				m.acked = true
				pool = append(pool, i)
				poolMu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	// Counted as sent when handed to the connection: a client that finds the time is up takes a
	// number it never sends.
	sent := int(sentN.Load())
	acked := sent - int(failed.Load())
	cpu1, cpuErr1 := processCPU(t.PID)
	res.param("load average after", loadAverage())

	var kinds [4]int
	var sizes []int
	for _, m := range msgs {
		if m != nil && m.acked {
			kinds[m.kind]++
			sizes = append(sizes, m.size)
		}
	}
	slices.Sort(sizes)
	res.figure("delivered", fmt.Sprintf("%d acknowledged (250), %d failed, in %s", acked, failed.Load(), wall.Round(time.Millisecond)))
	res.figure("throughput", rate(acked, wall))
	res.figure("SMTP transaction", lat.summary().String())
	res.figure("mix delivered", fmt.Sprintf("%d new, %d replies, %d with a PDF, %d HTML with an inline image",
		kinds[mailNew], kinds[mailReply], kinds[mailAttachment], kinds[mailInline]))
	if len(sizes) > 0 {
		res.figure("sizes", fmt.Sprintf("min %.1f KiB, p50 %.1f KiB, max %.1f KiB", kib(sizes[0]), kib(sizes[len(sizes)/2]), kib(sizes[len(sizes)-1])))
	}
	if cpuErr == nil && cpuErr1 == nil && acked > 0 {
		who := "the server process"
		if t.Mode == "in-process" {
			who = "this process: server and load generator"
		}
		res.figure("CPU per message", fmt.Sprintf("%.2f ms (%s; not the database server)", float64((cpu1-cpu0).Microseconds())/1000/float64(acked), who))
	}
	if o.DNS != nil {
		res.figure("DNS queries", fmt.Sprintf("%d answered (%.1f per message)", o.DNS.Queries()-dnsBefore, float64(o.DNS.Queries()-dnsBefore)/float64(max(sent, 1))))
	}
	if firstErr != nil {
		res.note("first error: %v", firstErr)
	}

	errs := int(failed.Load())
	if t.Store == nil {
		res.note("stored and threaded: not checked, no database access (give --data-dir or --database-url with --url)")
	} else {
		v, err := verifyEmail(ctx, t.Store, f.ChannelID, msgs)
		if err != nil {
			return nil, err
		}
		res.figure("stored", fmt.Sprintf("%d of %d acknowledged found, %d rows on the channel (counted in the database)", v.found, acked, v.rows))
		res.figure("threaded", fmt.Sprintf("%d of %d replies in their parent's conversation; %d of %d new in conversations of their own",
			v.repliesOK, v.replies, v.newOK, v.news))
		res.figure("attachments", fmt.Sprintf("%d of %d stored with their file", v.filesOK, v.files))
		errs += v.mismatches()
		for _, p := range v.problems {
			res.note("MISMATCH: %s", p)
		}
	}
	res.figure("errors", fmt.Sprintf("%d (failed deliveries and store mismatches)", errs))
	return res, nil
}

func kib(n int) float64 { return float64(n) / 1024 }

// emailCheck is what the database shows for the run's acknowledged messages.
type emailCheck struct {
	found, rows                 int64
	replies, repliesOK          int
	news, newOK                 int
	files, filesOK              int
	problems                    []string
	missing, extra, misthreaded int
}

func (v *emailCheck) mismatches() int {
	return v.missing + v.extra + v.misthreaded + (v.files - v.filesOK)
}

func (v *emailCheck) problem(format string, args ...any) {
	if len(v.problems) < 10 {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

// verifyEmail looks up every acknowledged message by its Message-ID on the channel: found once
// (the channel holds exactly as many rows as were acknowledged), a reply in its parent's
// conversation, a new message in a conversation no other new message opened, a message with a
// file stored with it.
func verifyEmail(ctx context.Context, s *store.Store, channelID int64, msgs []*emailMsg) (*emailCheck, error) {
	v := &emailCheck{}
	conv := make([]int64, len(msgs))
	opened := map[int64]int{}
	for i, m := range msgs {
		if m == nil || !m.acked {
			continue
		}
		row, err := s.MessageByExternalID(ctx, channelID, m.id)
		if errors.Is(err, store.ErrNotFound) {
			v.missing++
			v.problem("message %d (<%s>) acknowledged but not stored", i, m.id)
			continue
		} else if err != nil {
			return nil, err
		}
		v.found++
		conv[i] = row.ConversationID
		if m.kind == mailAttachment || m.kind == mailInline {
			v.files++
			var list []json.RawMessage
			if json.Unmarshal(row.Attachments, &list) == nil && len(list) == 1 {
				v.filesOK++
			} else {
				v.problem("message %d (<%s>) stored with attachments %s, want one file", i, m.id, row.Attachments)
			}
		}
	}
	for i, m := range msgs {
		if m == nil || !m.acked || conv[i] == 0 {
			continue
		}
		if m.parent >= 0 {
			v.replies++
			if conv[m.parent] == 0 {
				continue // the parent is missing, counted once above
			}
			if conv[m.parent] == conv[i] {
				v.repliesOK++
			} else {
				v.misthreaded++
				v.problem("reply %d (<%s>) in conversation %d, its parent %d in %d", i, m.id, conv[i], m.parent, conv[m.parent])
			}
			continue
		}
		v.news++
		if j, ok := opened[conv[i]]; ok {
			v.misthreaded++
			v.problem("new message %d (<%s>) joined conversation %d of message %d", i, m.id, conv[i], j)
			continue
		}
		opened[conv[i]] = i
		v.newOK++
	}
	n, err := s.CountChannelMessages(ctx, channelID)
	if err != nil {
		return nil, err
	}
	v.rows = n
	if n > v.found {
		// Duplicates, or mail stored although its sender was not told 250.
		v.extra = int(n - v.found)
		v.problem("%d rows on the channel beyond the %d acknowledged messages found", n-v.found, v.found)
	}
	return v, nil
}

// processCPU is the user and system CPU time a process has used so far (Linux).
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no process")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it are plain numbers.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat")
	}
	const ticks = 100 // USER_HZ, 100 on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// loadAverage is the 1-, 5- and 15-minute load average, for judging a run on a shared machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
