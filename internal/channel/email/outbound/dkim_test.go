package outbound

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimKeys returns PEM private keys and the DNS TXT records that publish their public halves.
func dkimKeys(t *testing.T) map[string][2]string {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	rsa8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	rsaRecord := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub)
	return map[string][2]string{
		"rsa-pkcs1": {string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})), rsaRecord},
		"rsa-pkcs8": {string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsa8})), rsaRecord},
		"ed25519":   {string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})), "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub)},
	}
}

func verify(t *testing.T, msg []byte, record string) error {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "s2026._domainkey.acme.example" {
				t.Errorf("looked up %s", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		return err
	}
	if len(vs) != 1 {
		t.Fatalf("%d signatures", len(vs))
	}
	if vs[0].Domain != "acme.example" {
		t.Errorf("domain %s", vs[0].Domain)
	}
	return vs[0].Err
}

func TestDKIMSignVerify(t *testing.T) {
	msg, err := Compose(reply())
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range dkimKeys(t) {
		t.Run(name, func(t *testing.T) {
			d, err := NewDKIM("acme.example", "s2026", []byte(k[0]))
			if err != nil {
				t.Fatal(err)
			}
			signed, err := d.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(signed, []byte("DKIM-Signature:")) || !bytes.HasSuffix(signed, msg) {
				t.Fatal("signature should be one header in front of the unchanged message")
			}
			if err := verify(t, signed, k[1]); err != nil {
				t.Fatalf("verify: %v", err)
			}
			for what, tampered := range map[string][]byte{
				"subject":  bytes.Replace(signed, []byte("Subject: Re: Order"), []byte("Subject: Re: Orden"), 1),
				"body":     bytes.Replace(signed, []byte("Hej Bo"), []byte("Hej Al"), 1),
				"added cc": bytes.Replace(signed, []byte("\r\nSubject:"), []byte("\r\nCc: spy@evil.example\r\nSubject:"), 1),
				// Oversigning: a second From above the signed one must break the signature too.
				"second from": bytes.Replace(signed, []byte("\r\nFrom:"), []byte("\r\nFrom: ceo@acme.example\r\nFrom:"), 1),
			} {
				if bytes.Equal(tampered, signed) {
					t.Fatalf("%s: tampering did not change the message", what)
				}
				if err := verify(t, tampered, k[1]); err == nil {
					t.Errorf("%s: tampered message still verifies", what)
				}
			}
		})
	}
}

func TestDKIMKeyErrors(t *testing.T) {
	if _, err := NewDKIM("acme.example", "s", []byte("not pem")); err == nil {
		t.Error("accepted junk key")
	}
	k := dkimKeys(t)["ed25519"][0]
	if _, err := NewDKIM("", "s", []byte(k)); err == nil {
		t.Error("accepted empty domain")
	}
	if _, err := NewDKIM("acme.example", "", []byte(k)); err == nil {
		t.Error("accepted empty selector")
	}
}
