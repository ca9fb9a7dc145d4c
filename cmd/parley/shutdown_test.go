package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFirstStartAndGracefulShutdown: a first start with no owner prints the setup link; SIGTERM
// stops the server cleanly — in-flight work finished, exit code 0.
func TestFirstStartAndGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	srv := startServer(t, freeAddr(t), []string{"PARLEY_DATA_DIR=" + t.TempDir(), "PARLEY_LOG_LEVEL=info"})
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop within 20s of SIGTERM\n%s", srv.output())
	}
	// Started with no users and no PARLEY_ADMIN_EMAIL, it offered the one-time setup link.
	for _, want := range []string{"/setup?token=pst_", "shutting down", "msg=stopped"} {
		if !strings.Contains(srv.output(), want) {
			t.Errorf("log lacks %q:\n%s", want, srv.output())
		}
	}
}
