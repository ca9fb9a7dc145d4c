package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-inbox/parley/internal/store/storetest"
)

// These tests run the real parley binary as a separate process, as an operator would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func parleyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// engineEnv is the database part of a process environment for one engine.
type engineEnv struct {
	name string
	env  []string
}

func engines(t *testing.T) []engineEnv {
	var out []engineEnv
	for _, e := range storetest.Engines(t) {
		switch e.Name {
		case "sqlite":
			out = append(out, engineEnv{name: "sqlite", env: []string{"PARLEY_DATA_DIR=" + t.TempDir()}})
		case "postgres":
			out = append(out, engineEnv{name: "postgres", env: []string{
				"PARLEY_DATA_DIR=" + t.TempDir(),
				"PARLEY_DATABASE_URL=" + storetest.NewPostgresDatabase(t),
			}})
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is one running parley serve process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	env  []string
	log  *bytes.Buffer
	mu   sync.Mutex
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func startServer(t *testing.T, addr string, env []string) *server {
	t.Helper()
	s := &server{t: t, addr: addr, env: env, log: &bytes.Buffer{}}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(parleyBinary(s.t), "serve")
	cmd.Env = append(os.Environ(), append([]string{"PARLEY_ADDR=" + s.addr, "PARLEY_LOG_LEVEL=warn"}, s.env...)...)
	cmd.Stdout = &lockedWriter{w: s.log, mu: &s.mu}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("server did not become ready; log:\n%s", s.output())
}

// kill ends the process with SIGKILL: no shutdown, no flushing — the crash REL-1 is about.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// cli runs a parley subcommand against the same database and returns its stdout.
func cli(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(parleyBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// call sends a JSON request with a bearer token and decodes the JSON answer into out (if not nil).
func call(method, url, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(b) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}

func mustCall(t *testing.T, method, url, token string, body any, out any) {
	t.Helper()
	if _, err := call(method, url, token, body, out); err != nil {
		t.Fatal(err)
	}
}
