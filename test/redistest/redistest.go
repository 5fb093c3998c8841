// Package redistest gives tests a real Redis: the one LEADR_TEST_REDIS_URL
// names, or a throw-away redis-server (Debian's redis-server package)
// started on a free loopback port, which a test may stop and start again to
// see the service through an outage.
//
// Without either a test fails when CI is set (.ci/run installs
// redis-server) and is skipped with a loud message otherwise.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/leadr-oss/identity/test/pgtest"
)

// EnvURL names a Redis to use instead of starting one.
const EnvURL = "LEADR_TEST_REDIS_URL"

// Server is a Redis for one test.
type Server struct {
	URL  string
	port int
	cmd  *exec.Cmd
	t    testing.TB
}

// Start returns the Redis of LEADR_TEST_REDIS_URL or starts one that ends
// with t. Only a started one can be stopped.
func Start(t testing.TB) *Server {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return &Server{URL: u, t: t}
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server is not installed (apt-get install redis-server) and " + EnvURL + " is not set"
		pgtest.Missing(t, msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), port: port, t: t}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Stoppable fails t in CI, and skips it loudly elsewhere, when the server is the one of
// LEADR_TEST_REDIS_URL, which a test cannot stop and start: the outage
// tests need redis-server.
func (s *Server) Stoppable(t testing.TB) {
	t.Helper()
	if s.port == 0 {
		msg := "the Redis of " + EnvURL + " cannot be stopped: this test needs redis-server"
		pgtest.Missing(t, msg)
	}
}

// Restart starts the server again on its port, after Stop.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir())
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server does not listen on %s", addr)
		}
	}
}

// Stop stops the server; its port refuses connections until Restart.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
