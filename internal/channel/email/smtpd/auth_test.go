package smtpd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// testKey is a DKIM key published in a fakeDNS for a signing domain.
type testKey struct {
	domain, selector string
	priv             ed25519.PrivateKey
}

func newTestKey(t *testing.T, dns *fakeDNS, domain, selector string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if dns.txt == nil {
		dns.txt = map[string][]string{}
	}
	dns.txt[selector+"._domainkey."+domain] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
	return testKey{domain, selector, priv}
}

func (k testKey) sign(t *testing.T, msg string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{
		Domain: k.domain, Selector: k.selector, Signer: k.priv,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func testMessage(from, subject, body string) string {
	return strings.ReplaceAll("From: "+from+"\n"+
		"To: support@in.parley.test\n"+
		"Subject: "+subject+"\n"+
		"Date: Mon, 02 Jun 2025 10:00:00 +0000\n"+
		"Message-ID: <"+subject+"@sender.example>\n"+
		"\n"+body+"\n", "\n", "\r\n")
}

func TestVerifyDKIM(t *testing.T) {
	dns := &fakeDNS{}
	key := newTestKey(t, dns, "shop.example", "s1")
	signed := key.sign(t, testMessage("Ann <ann@shop.example>", "hello", "Where is my order?"))

	got := VerifyDKIM(context.Background(), dns, signed)
	if len(got) != 1 || got[0].Result != ResultPass || got[0].Domain != "shop.example" {
		t.Fatalf("signed message: %+v", got)
	}

	tampered := bytes.Replace(signed, []byte("Where is my order?"), []byte("Send money please"), 1)
	got = VerifyDKIM(context.Background(), dns, tampered)
	if len(got) != 1 || got[0].Result != ResultFail || got[0].Domain != "shop.example" {
		t.Fatalf("tampered body: %+v", got)
	}

	tampered = bytes.Replace(signed, []byte("Subject: hello"), []byte("Subject: HELLO"), 1)
	if got = VerifyDKIM(context.Background(), dns, tampered); got[0].Result != ResultFail {
		t.Fatalf("tampered header: %+v", got)
	}

	if got = VerifyDKIM(context.Background(), dns, []byte(testMessage("ann@shop.example", "x", "y"))); len(got) != 0 {
		t.Fatalf("unsigned message: %+v", got)
	}

	// Key not published → permerror; DNS down → temperror.
	other := &fakeDNS{fail: map[string]bool{"s1._domainkey.shop.example": true}}
	if got = VerifyDKIM(context.Background(), other, signed); got[0].Result != ResultTempError {
		t.Fatalf("DNS down: %+v", got)
	}
	if got = VerifyDKIM(context.Background(), &fakeDNS{}, signed); got[0].Result != ResultPermError {
		t.Fatalf("no key: %+v", got)
	}
}

func TestCheckDMARC(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{
		"_dmarc.shop.example":   {"v=DMARC1; p=reject; sp=quarantine"},
		"_dmarc.strict.example": {"v=DMARC1; p=quarantine; adkim=s; aspf=s"},
		"_dmarc.broken.example": {"v=DMARC1; p=bogus"},
	}, fail: map[string]bool{"_dmarc.down.example": true}}
	pass := func(d string) []DKIMResult { return []DKIMResult{{Result: ResultPass, Domain: d}} }
	spf := func(r Result, d string) SPFResult { return SPFResult{Result: r, Domain: d} }

	tests := []struct {
		name   string
		from   string
		spf    SPFResult
		dkim   []DKIMResult
		want   Result
		policy string
	}{
		{"dkim aligned", "shop.example", spf(ResultNone, "bounce.esp.example"), pass("shop.example"), ResultPass, "reject"},
		{"dkim relaxed alignment", "shop.example", spf(ResultFail, "x.example"), pass("mail.shop.example"), ResultPass, "reject"},
		{"spf aligned", "shop.example", spf(ResultPass, "bounces.shop.example"), nil, ResultPass, "reject"},
		{"unaligned pass", "shop.example", spf(ResultPass, "esp.example"), pass("esp.example"), ResultFail, "reject"},
		{"dkim fail", "shop.example", spf(ResultFail, "shop.example"), []DKIMResult{{Result: ResultFail, Domain: "shop.example"}}, ResultFail, "reject"},
		{"subdomain uses sp", "news.shop.example", spf(ResultNone, ""), nil, ResultFail, "quarantine"},
		{"strict dkim", "strict.example", spf(ResultNone, ""), pass("mail.strict.example"), ResultFail, "quarantine"},
		{"strict spf", "strict.example", spf(ResultPass, "strict.example"), nil, ResultPass, "quarantine"},
		{"no record", "nodmarc.example", spf(ResultPass, "nodmarc.example"), nil, ResultNone, ""},
		{"broken record", "broken.example", spf(ResultPass, "broken.example"), nil, ResultNone, ""},
		{"dns down", "down.example", spf(ResultPass, "down.example"), nil, ResultTempError, ""},
	}
	for _, tt := range tests {
		got := CheckDMARC(context.Background(), dns, tt.from, tt.spf, tt.dkim)
		if got.Result != tt.want || got.Policy != tt.policy || got.Domain != tt.from {
			t.Errorf("%s: got %+v, want %s policy %q", tt.name, got, tt.want, tt.policy)
		}
	}
}

func TestHeaderFromDomain(t *testing.T) {
	tests := map[string]string{
		"From: Ann <ann@Shop.Example>\r\n\r\n":                             "shop.example",
		"From: =?x-unknown?q?Ann?= <ann@shop.example>\r\n\r\n":             "shop.example",
		"From: a@shop.example, b@shop.example\r\n\r\n":                     "shop.example",
		"From: a@shop.example, b@evil.example\r\n\r\n":                     "",
		"From: a@shop.example\r\nFrom: b@shop.example\r\n\r\n":             "",
		"To: x@y.example\r\n\r\n":                                          "",
		"From: \"Broken <quote\" <ann@shop.example>\r\nSubject: x\r\n\r\n": "shop.example",
	}
	for raw, want := range tests {
		got, err := headerFromDomain([]byte(raw))
		if got != want || (want == "") != (err != nil) {
			t.Errorf("headerFromDomain(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestAuthenticateHeader(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{
		"shop.example":        {"v=spf1 ip4:192.0.2.0/24 -all"},
		"_dmarc.shop.example": {"v=DMARC1; p=reject"},
	}}
	key := newTestKey(t, dns, "shop.example", "s1")
	raw := key.sign(t, testMessage("ann@shop.example", "hi", "body"))
	env := Envelope{RemoteIP: mustAddr("192.0.2.8"), HELO: "mx.shop.example", MailFrom: "ann@shop.example"}
	a := Authenticate(context.Background(), dns, "mx.parley.test", env, raw)
	want := "mx.parley.test; dkim=pass header.d=shop.example; spf=pass smtp.mailfrom=shop.example; dmarc=pass header.from=shop.example"
	if !strings.HasPrefix(a.Header, "mx.parley.test; dkim=pass header.d=shop.example") ||
		!strings.Contains(a.Header, "spf=pass smtp.mailfrom=shop.example") ||
		!strings.Contains(a.Header, "dmarc=pass") {
		t.Fatalf("header = %q, want like %q", a.Header, want)
	}

	// A spoofed From from an unauthorised IP without a signature.
	env.RemoteIP = mustAddr("203.0.113.9")
	a = Authenticate(context.Background(), dns, "mx.parley.test", env, []byte(testMessage("ceo@shop.example", "wire", "pay now")))
	if a.SPF.Result != ResultFail || len(a.DKIM) != 0 || a.DMARC.Result != ResultFail || a.DMARC.Policy != "reject" {
		t.Fatalf("spoof: %+v", a)
	}
	if !strings.Contains(a.Header, "dkim=none") || !strings.Contains(a.Header, "dmarc=fail") {
		t.Fatalf("spoof header = %q", a.Header)
	}
}
