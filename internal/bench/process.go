package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a `parley serve` child process.
type Process struct {
	URL string
	PID int
	// Ready is how long the process took from its start to answering /readyz with 200.
	Ready time.Duration

	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the start of the log; a benchmark's server should be quiet
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreeAddr returns a free loopback address to listen on.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Spawn starts binary with "serve" and args on addr, and waits until it is ready.
func Spawn(ctx context.Context, binary, addr string, args []string) (*Process, error) {
	p := &Process{URL: "http://" + addr, log: &lockedBuffer{}, done: make(chan error, 1)}
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr, "--base-url", p.URL, "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p.cmd, p.PID = cmd, cmd.Process.Pid
	go func() { p.done <- cmd.Wait() }()
	if err := waitReady(ctx, p.URL, 60*time.Second, p.done); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("%w; server log:\n%s", err, p.log.String())
	}
	p.Ready = time.Since(started)
	return p, nil
}

// waitReady polls /readyz every millisecond until it answers 200. exited, when it yields, means
// the server stopped.
func waitReady(ctx context.Context, base string, limit time.Duration, exited <-chan error) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return fmt.Errorf("the server was not ready within %s", limit)
}

// WaitReady polls base's /readyz until it answers 200 or limit passes; exited, when it yields,
// means the server stopped.
func WaitReady(ctx context.Context, base string, limit time.Duration, exited <-chan error) error {
	return waitReady(ctx, base, limit, exited)
}

// Stop asks the server to shut down (SIGTERM) and kills it if it has not within 15 seconds.
func (p *Process) Stop() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("server exited: %w", err)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("server did not stop within 15s; killed")
	}
}

// Log returns what the server wrote.
func (p *Process) Log() string { return p.log.String() }

// Executable is the running parley binary, for spawning servers.
func Executable() (string, error) { return os.Executable() }
