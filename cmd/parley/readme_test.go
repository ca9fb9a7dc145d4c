package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickstart runs the README's API quickstart, as written, against a real server on
// each engine, so the documentation cannot drift from the product.
func TestReadmeQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- quickstart:start -->\\s*```sh\\n(.*?)```\\s*<!-- quickstart:end -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quickstart block between <!-- quickstart:start --> and <!-- quickstart:end -->")
	}
	script := string(m[1])
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			// The README's first command, with the same owner account.
			env := append([]string{"PARLEY_ADMIN_EMAIL=admin@example.com", "PARLEY_ADMIN_PASSWORD=change-me-please"}, e.env...)
			srv := startServer(t, freeAddr(t), env)
			t.Cleanup(func() {
				for _, f := range []string{"parley", "channel.json", "webhook.log"} {
					os.Remove(filepath.Join(root, f))
				}
			})
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), append([]string{"PARLEY_BASE_URL=http://" + srv.addr}, e.env...)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("quickstart failed: %v\n%s\nserver log:\n%s", err, out, srv.output())
			}
			got := string(out)
			for _, want := range []string{
				`"preview": "Hi, I need help with pricing"`,
				`"text": "Hi Ada! Which plan are you on?",` + "\n  \"status\": \"sent\"",
				`{"verified":true,"type":"OUTGOING_CHANNEL_MESSAGE_CREATED","text":"Hi Ada! Which plan are you on?"}`,
			} {
				if !strings.Contains(got, want) {
					t.Errorf("quickstart output lacks %q:\n%s", want, got)
				}
			}
		})
	}
}
