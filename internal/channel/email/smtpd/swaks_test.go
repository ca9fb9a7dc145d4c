package smtpd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSwaks talks to the server with swaks, a real-world SMTP test client,
// when it is installed (Debian package "swaks").
func TestSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks not installed")
	}
	cfg, _ := selfSigned(t)
	h := startServer(t, func(s *Server) { s.TLS = cfg; s.MaxSize = 4096 })
	host, port, _ := strings.Cut(h.addr, ":")
	run := func(args ...string) (string, error) {
		base := []string{"--server", host, "--port", port, "--from", "ann@shop.example",
			"--helo", "swaks.shop.example", "--timeout", "5"}
		out, err := exec.Command(swaks, append(base, args...)...).CombinedOutput()
		return string(out), err
	}

	out, err := run("--to", "support@in.parley.test", "--tls", "--header", "Subject: from swaks")
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	d := h.deliveries()
	if len(d) != 1 || !d[0].env.TLS || d[0].env.HELO != "swaks.shop.example" || !strings.Contains(d[0].raw, "Subject: from swaks") {
		t.Fatalf("deliveries = %+v\n%s", d, out)
	}

	out, err = run("--to", "stranger@elsewhere.example")
	if err == nil || !strings.Contains(out, "<** 550") {
		t.Errorf("relay attempt not refused with 550:\n%s", out)
	}

	out, err = run("--to", "support@in.parley.test", "--body", strings.Repeat(strings.Repeat("x", 79)+"\n", 100))
	if err == nil || !strings.Contains(out, "<** 552") {
		t.Errorf("oversized message not refused with 552:\n%s", out)
	}
}
