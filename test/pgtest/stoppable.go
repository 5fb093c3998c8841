package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Stoppable is a throw-away PostgreSQL cluster of the machine's server
// binaries that a test may stop, as a crash would, and start again on the
// same port: a service pointed at URL keeps its configuration and must find
// the server again by itself. A container would do too, but its published
// port changes across a restart; the binaries are also what CI installs in
// any case (.ci/run), Docker or not.
type Stoppable struct {
	// URL connects as the superuser to the database postgres.
	URL  string
	dir  string // the cluster's folder: data, log and socket
	opts string // the server's settings, given at every start
	// asPostgres: PostgreSQL's programs run as the postgres system user,
	// since they refuse root.
	asPostgres bool
}

// NewStoppable initialises a cluster and starts it on a free loopback port;
// it is stopped and removed when t ends. Without PostgreSQL's binaries it
// fails t in CI and skips it elsewhere.
func NewStoppable(t testing.TB) *Stoppable {
	t.Helper()
	if _, err := program("initdb"); err != nil {
		msg := fmt.Sprintf("no PostgreSQL to stop and start for this test: %v", err)
		Missing(t, msg)
	}
	// Not t.TempDir: its parents are private to this user, and the server
	// may have to run as another.
	dir, err := os.MkdirTemp("", "leadr-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// As in scripts/with-postgres.sh, the postgres system user (Debian's
	// packages make it) owns the folder of a server that root starts.
	asPostgres := os.Geteuid() == 0
	if asPostgres {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("running as root, the server needs the user postgres: %v\n%s", err, out)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Stoppable{
		URL: "postgres://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable",
		dir: dir, asPostgres: asPostgres,
		// Commits stay synchronous: an immediate stop loses the WAL not yet
		// written, and the tests check that no acknowledged write is lost.
		// fsync is off: the machine does not crash, only the server.
		opts: "-c listen_addresses=127.0.0.1 -p " + port + " -k " + dir +
			" -c synchronous_commit=on -c fsync=off -c max_connections=100",
	}
	if err := s.pgCommand("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		t.Fatal(err)
	}
	s.Start(t)
	t.Cleanup(func() {
		if err := s.pgCommand("pg_ctl", "-D", s.data(), "-m", "immediate", "stop"); err != nil {
			t.Logf("stop PostgreSQL: %v", err)
		}
	})
	return s
}

// Stop stops the server at once (pg_ctl stop -m immediate): every
// connection is cut, nothing is checkpointed, and the next start recovers
// from the WAL, as after a crash.
func (s *Stoppable) Stop(t testing.TB) {
	t.Helper()
	if err := s.pgCommand("pg_ctl", "-D", s.data(), "-m", "immediate", "stop"); err != nil {
		t.Fatal(err)
	}
}

// Start starts the server on its port and returns once it accepts
// connections.
func (s *Stoppable) Start(t testing.TB) {
	t.Helper()
	if err := s.pgCommand("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "60", "-o", s.opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("%v; the server's log:\n%s", err, log)
	}
}

func (s *Stoppable) data() string { return filepath.Join(s.dir, "data") }

// pgCommand runs one of PostgreSQL's programs as the cluster's owner.
func (s *Stoppable) pgCommand(name string, args ...string) error {
	path, err := program(name)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// program finds one of PostgreSQL's programs: on PATH, or in the newest of
// the folders where Debian's packages put them.
func program(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	// Sorted: the last is the newest major version (two digits since 10).
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(found) == 0 {
		return "", fmt.Errorf("no %s on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql-15)", name)
	}
	return found[len(found)-1], nil
}

// freePort returns a loopback port no one listens on now. The server takes
// it a moment later, and again at every start.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}
