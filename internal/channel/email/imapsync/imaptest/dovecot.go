// Package imaptest starts a real IMAP server for tests: Debian's Dovecot (dovecot-imapd), run
// as an unprivileged process with its own configuration, one passwd-file user and maildirs in
// a temporary directory, listening on 127.0.0.1. Without dovecot installed the test is
// skipped, except under CI=true, where it fails.
//
// It is test support only: nothing outside _test.go files should import it.
package imaptest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The one user of every server, and the address the server listens on.
const (
	Host     = "127.0.0.1"
	User     = "support"
	Password = "s3cret pass"
)

// Options change the server's configuration.
type Options struct {
	// NoIdle advertises capabilities without IDLE, for a client's polling path.
	NoIdle bool
	// TLS enables STARTTLS on Port and an implicit-TLS listener on TLSPort, with a
	// self-signed certificate for 127.0.0.1 that Roots trusts.
	TLS bool
}

// Server is a running Dovecot. It is killed when the test ends.
type Server struct {
	// Port is the plain (and, with Options.TLS, STARTTLS) IMAP port on Host.
	Port int
	// TLSPort is the implicit-TLS port when Options.TLS is set, else 0.
	TLSPort int
	// Roots trusts the server's certificate when Options.TLS is set.
	Roots *x509.CertPool

	t    testing.TB
	dir  string
	conf string
	cred *syscall.Credential
	cmd  *exec.Cmd
}

func binary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"dovecot", "/usr/sbin/dovecot"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dovecot is not installed; CI must install dovecot-imapd")
	}
	t.Skip("dovecot is not installed (apt-get install dovecot-imapd)")
	return ""
}

// StartDovecot starts a Dovecot with one user (User, Password) and returns when it accepts
// IMAP. Each call starts its own server, so parallel tests do not share mailboxes.
func StartDovecot(t testing.TB, o Options) *Server {
	t.Helper()
	bin := binary(t)

	// Dovecot refuses to run its login processes as root; under root (CI containers) the
	// whole instance runs as nobody, elsewhere as the current user.
	runAs, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	if runAs.Uid == "0" {
		if runAs, err = user.Lookup("nobody"); err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(runAs.Uid)
		gid, _ := strconv.Atoi(runAs.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	group, err := user.LookupGroupId(runAs.Gid)
	if err != nil {
		t.Fatal(err)
	}

	// Not t.TempDir: its parent directories are private to the test's user, which nobody is
	// not. Unix socket paths must also stay short (108 bytes).
	dir, err := os.MkdirTemp("", "pdv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"run", "state", "home"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{t: t, dir: dir, conf: filepath.Join(dir, "dovecot.conf"), cred: cred}
	s.Port = FreePort(t)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(User+":{PLAIN}"+Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var conf strings.Builder
	fmt.Fprintf(&conf, `base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
instance_name = parley-test-%[2]d
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
# No delay after failed logins (tests fail logins on purpose), and no growing penalty for
# the IP (the anvil-auth-penalty listener below).
auth_failure_delay = 0
default_internal_user = %[3]s
default_internal_group = %[4]s
default_login_user = %[3]s
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[5]s gid=%[6]s home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
# A test server loses nothing worth keeping in a crash; fsync per message makes APPEND slow.
mail_fsync = never
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[7]d
  }
`, dir, s.Port, runAs.Username, group.Name, runAs.Uid, runAs.Gid, s.Port)
	if o.TLS {
		s.TLSPort = FreePort(t)
		fmt.Fprintf(&conf, "  inet_listener imaps {\n    address = 127.0.0.1\n    port = %d\n    ssl = yes\n  }\n}\n", s.TLSPort)
		certPEM, keyPEM, roots := certificate(t)
		s.Roots = roots
		for name, data := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&conf, "ssl = yes\nssl_cert = <%[1]s/cert.pem\nssl_key = <%[1]s/key.pem\n", dir)
	} else {
		conf.WriteString("  inet_listener imaps {\n    port = 0\n  }\n}\nssl = no\n")
	}
	if o.NoIdle {
		conf.WriteString("imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS\n")
	}
	if err := os.WriteFile(s.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	s.start(bin)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(bin string) {
	t := s.t
	t.Helper()
	cmd := exec.Command(bin, "-F", "-c", s.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	// A file, not a pipe: Wait would wait for every child holding the pipe.
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := imapclient.DialInsecure(s.Addr(), nil)
		if err == nil {
			err = c.WaitGreeting()
			c.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			stdout, _ := os.ReadFile(filepath.Join(s.dir, "stdout.log"))
			log, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
			s.Stop()
			t.Fatalf("dovecot did not start: %v\n%s\n%s", err, stdout, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the instance: its whole process group (the master leads it), at once. A
// graceful SIGTERM takes Dovecot seconds, and tests lose nothing by a crash; a reconnect test
// even wants one. The mail stays for Restart. Stopping twice does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	cmd := s.cmd
	s.cmd = nil
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait() // killed: the error says so
	// The children die a moment after the master; until then they hold the port.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart stops the instance and starts it again on the same ports and mail.
func (s *Server) Restart() {
	s.Stop()
	s.start(binary(s.t))
}

// Addr is the plain IMAP address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort(Host, strconv.Itoa(s.Port)) }

// TLSConfig trusts the server's certificate (Options.TLS).
func (s *Server) TLSConfig() *tls.Config { return &tls.Config{RootCAs: s.Roots} }

// Client returns a logged-in client on the plain port, for putting mail into the mailboxes.
// It is closed when the test ends.
func (s *Server) Client() *imapclient.Client {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.Addr(), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	if err := c.Login(User, Password).Wait(); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Append APPENDs msgs to mailbox in order, each with the INTERNALDATE date, and returns the
// UIDs the server gave them (Dovecot has UIDPLUS). The commands are pipelined: the client sends
// them all before waiting for the answers. Dovecot still runs them one after another; Append
// fails the test unless the UIDs ascend in the order of msgs.
func Append(t testing.TB, c *imapclient.Client, mailbox string, date time.Time, msgs ...[]byte) []imap.UID {
	t.Helper()
	cmds := make([]*imapclient.AppendCommand, len(msgs))
	for i, raw := range msgs {
		cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: date})
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	uids := make([]imap.UID, len(cmds))
	for i, cmd := range cmds {
		data, err := cmd.Wait()
		if err != nil {
			t.Fatal(err)
		}
		uids[i] = data.UID
		// Tests rely on fetch order (UID order) being append order, e.g. a reply after the
		// message it answers.
		if i > 0 && uids[i] <= uids[i-1] {
			t.Fatalf("append %d got uid %d after uid %d", i, uids[i], uids[i-1])
		}
	}
	return uids
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}
