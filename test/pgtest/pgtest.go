// Package pgtest gives tests a real PostgreSQL with this service's schema.
//
// The server is the one LEADR_TEST_DATABASE_URL names (a postgres:// URL of a
// user who may create databases) or, without it, a container started with
// testcontainers from the image LEADR_TEST_POSTGRES_IMAGE (default: the
// official postgres:15 image). One server per test package: call Main from
// TestMain, and it is started on first use and removed after the package's
// tests. Each package gets a migrated database of its own (URL, Open);
// Fresh and Empty make more for tests of what is global to a database.
//
// Without Docker or a server a test fails when CI is set, and is skipped
// with a loud message otherwise.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/leadr-oss/identity/adapters/store"
)

// The environment that chooses the server.
const (
	EnvURL   = "LEADR_TEST_DATABASE_URL"
	EnvImage = "LEADR_TEST_POSTGRES_IMAGE"
	// EnvRunID, when set, labels every container a test run starts
	// (org.leadr.test.run=<id>), so that a script can remove them all
	// when no reaper runs.
	EnvRunID     = "LEADR_TEST_RUN_ID"
	DefaultImage = "postgres:15"
)

// Server is a PostgreSQL server tests may create databases on.
type Server struct {
	// URL connects as a user who may create databases.
	URL       string
	container *postgres.PostgresContainer
}

// Start returns the server of LEADR_TEST_DATABASE_URL, or starts a
// container. Stop it when done.
func Start(ctx context.Context) (*Server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		return &Server{URL: u}, nil
	}
	image := os.Getenv(EnvImage)
	if image == "" {
		image = DefaultImage
	}
	opts := []testcontainers.ContainerCustomizer{
		postgres.WithDatabase("postgres"), postgres.WithUsername("postgres"), postgres.WithPassword("postgres"),
		postgres.BasicWaitStrategies(),
		testcontainers.WithCmdArgs("-c", "max_connections=200", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
	}
	if run := os.Getenv(EnvRunID); run != "" {
		opts = append(opts, testcontainers.WithLabels(map[string]string{"org.leadr.test.run": run}))
	}
	c, err := postgres.Run(ctx, image, opts...)
	if err != nil {
		if c != nil {
			_ = c.Terminate(context.Background())
		}
		return nil, fmt.Errorf("start PostgreSQL container from %s (set %s to another image, or %s to a server): %w", image, EnvImage, EnvURL, err)
	}
	u, err := c.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		_ = c.Terminate(context.Background())
		return nil, err
	}
	return &Server{URL: u, container: c}, nil
}

// Stop removes the container, if Start started one.
func (s *Server) Stop(ctx context.Context) error {
	if s.container == nil {
		return nil
	}
	return s.container.Terminate(ctx)
}

// CreateDatabase creates a database with a fresh name, migrated if asked,
// and returns its name and URL.
func (s *Server) CreateDatabase(ctx context.Context, migrated bool) (name, dbURL string, err error) {
	admin, err := store.Open(s.URL, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = "leadr_test_" + hex.EncodeToString(b)
	if _, err := admin.Bun().ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	if migrated {
		if err := Migrate(ctx, u.String()); err != nil {
			return "", "", err
		}
	}
	return name, u.String(), nil
}

// DropDatabase drops a database, closing its connections.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if err := s.closePooled(ctx, name); err != nil {
		return err
	}
	admin, err := store.Open(s.URL, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Bun().ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// closePooled has PgBouncer, when the server is behind one, close its own
// connections to the database before it is dropped. PgBouncer 1.18 dies
// ("server_proto: server in bad state") when the drop's FORCE ends a
// server connection it is still setting up, and takes every other test's
// connections with it.
func (s *Server) closePooled(ctx context.Context, name string) error {
	u, err := url.Parse(s.URL)
	if err != nil || u.Query().Get("pooler") != "transaction" {
		return err
	}
	u.Path = "/pgbouncer"
	u.RawQuery = url.Values{"sslmode": {u.Query().Get("sslmode")}}.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol // all the console speaks
	console, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("PgBouncer's console: %w", err)
	}
	defer console.Close(ctx)
	if _, err := console.Exec(ctx, "KILL "+name); err != nil && !strings.Contains(err.Error(), "no such database") {
		return fmt.Errorf("PgBouncer: KILL %s: %w", name, err)
	}
	return nil
}

// Migrate applies the service's migrations to the database at dbURL.
func Migrate(ctx context.Context, dbURL string) error {
	db, err := store.Open(dbURL, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// Missing ends t for want of what msg names (a server, a tool, an
// image): a failure in CI, where nothing may be skipped, and a skip said
// aloud on standard error elsewhere.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "SKIP: "+msg)
	t.Skip(msg)
}

// The package's server and database, made on first use.
var shared struct {
	once   sync.Once
	server *Server
	name   string
	url    string
	err    error
}

const startTimeout = 3 * time.Minute

// SharedServer returns the package's server, starting it on first use. A
// server that cannot be had fails t in CI and skips it elsewhere.
func SharedServer(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		if shared.server, shared.err = Start(ctx); shared.err != nil {
			return
		}
		shared.name, shared.url, shared.err = shared.server.CreateDatabase(ctx, true)
	})
	if shared.err != nil {
		msg := fmt.Sprintf("no PostgreSQL for this test: %v", shared.err)
		Missing(t, msg)
	}
	return shared.server
}

// URL returns the URL of the package's migrated database.
func URL(t testing.TB) string {
	t.Helper()
	SharedServer(t)
	return shared.url
}

// Open returns a handle on the package's database, closed at cleanup.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return open(t, URL(t))
}

func open(t testing.TB, dbURL string) *store.DB {
	t.Helper()
	db, err := store.Open(dbURL, store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Fresh returns a handle on a new migrated database, dropped at cleanup.
func Fresh(t testing.TB) *store.DB {
	t.Helper()
	return open(t, newDatabase(t, true))
}

// FreshURL returns the URL of a new migrated database, dropped at cleanup,
// for tests that open it more than once (replicas).
func FreshURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, true)
}

// OpenURL returns a handle on dbURL, closed at cleanup.
func OpenURL(t testing.TB, dbURL string) *store.DB {
	t.Helper()
	return open(t, dbURL)
}

// Empty returns the URL of a new database without tables, dropped at
// cleanup.
func Empty(t testing.TB) string {
	t.Helper()
	return newDatabase(t, false)
}

func newDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	s := SharedServer(t)
	name, dbURL, err := s.CreateDatabase(t.Context(), migrated)
	if err != nil {
		t.Fatal(err)
	}
	// Registered before the handle's Close, so it runs after it.
	t.Cleanup(func() {
		if err := s.DropDatabase(context.Background(), name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// Main runs a package's tests, then drops its database and stops its
// server.
func Main(m *testing.M) {
	code := m.Run()
	if s := shared.server; s != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if shared.name != "" {
			if err := s.DropDatabase(ctx, shared.name); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest: drop database:", err)
			}
		}
		if err := s.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop PostgreSQL:", err)
		}
		cancel()
	}
	os.Exit(code)
}
