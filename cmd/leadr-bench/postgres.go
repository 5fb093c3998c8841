package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgres is a throw-away server in the bench's work folder.
type postgres struct {
	*process
	url string
}

// serverSettings suit a benchmark of a small service: a buffer cache that
// holds the seeded table, room for both servers' pools, and WAL enough that
// seeding a million rows does not checkpoint half-way. fsync and synchronous
// commits stay on, as in production: writes pay for durability here too.
var serverSettings = []string{
	"shared_buffers=256MB",
	"max_connections=200",
	"max_wal_size=4GB",
}

// startPostgres initialises a cluster in work and starts postgres on a
// free loopback port, as scripts/with-postgres.sh does, but as a child of
// the bench, so that it stops with it.
func startPostgres(ctx context.Context, work string, logf func(string, ...any)) (*postgres, error) {
	bin, err := postgresBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential(work)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(work, "pgdata")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	args := []string{"-D", data, "-p", port, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + work}
	for _, s := range serverSettings {
		args = append(args, "-c", s)
	}
	logPath := filepath.Join(work, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGINT is PostgreSQL's fast shutdown: clients are cut, no waiting.
	p, err := startProcess("postgres", cmd, syscall.SIGINT)
	if err != nil {
		return nil, err
	}
	pg := &postgres{process: p, url: "postgres://postgres@" + addr + "/postgres?sslmode=disable"}
	if err := pg.waitReady(ctx); err != nil {
		pg.stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w; its log:\n%s", err, log)
	}
	logf("postgres: throw-away server from %s on %s (%s)", bin, addr, strings.Join(serverSettings, ", "))
	return pg, nil
}

func (pg *postgres) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := pgx.Connect(ctx, pg.url)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-pg.exited:
			return fmt.Errorf("postgres exited: %v", pg.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres does not accept connections: %w", err)
		}
	}
}

// postgresBinaries finds the folder of initdb and postgres: that of
// postgres on PATH (Debian links it; the real folder holds both), else
// the newest /usr/lib/postgresql/*/bin.
func postgresBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versioned, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range append(dirs, versioned...) {
		if executable(filepath.Join(d, "postgres")) && executable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin: " +
		"apt-get install postgresql-15, or give -database-url")
}

func majorOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// postgresCredential is whom PostgreSQL runs as: the bench's own user, or,
// since initdb and postgres refuse root, the postgres system user, who is
// then given the work folder.
func postgresCredential(work string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, and there is no 'postgres' user to run PostgreSQL as " +
			"(apt-get install postgresql-15 creates one), or give -database-url")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if err := os.Chown(work, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// createDatabase makes an empty database called name on the server of
// dbURL and returns its URL.
func createDatabase(ctx context.Context, dbURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}
