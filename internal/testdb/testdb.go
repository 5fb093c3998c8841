// Package testdb gives each test package its own freshly migrated database
// on the PostgreSQL server named by LEADR_TEST_DATABASE_URL.
//
// Without that variable a test fails when CI is set (a missing database must
// not pass as green) and is skipped loudly otherwise.
package testdb

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

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/adapters/store"
)

// EnvURL names the server tests use.
const EnvURL = "LEADR_TEST_DATABASE_URL"

var shared struct {
	once  sync.Once
	admin *bun.DB
	name  string
	url   string
	err   error
}

// Require fails or skips t when no test database is configured.
func Require(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		msg := EnvURL + " is not set: this test needs PostgreSQL (run ./scripts/test.sh, which starts one)"
		if InCI() {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "SKIP (no database): "+msg)
		t.Skip(msg)
	}
	return base
}

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// URL returns the URL of this package's database, creating and migrating it
// on first use.
func URL(t testing.TB) string {
	t.Helper()
	base := Require(t)
	shared.once.Do(func() { shared.url, shared.err = create(base) })
	if shared.err != nil {
		t.Fatalf("test database: %v", shared.err)
	}
	return shared.url
}

// Open returns a handle on this package's database, closed at cleanup.
func Open(t testing.TB) *bun.DB {
	t.Helper()
	db, err := store.Open(URL(t), store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Fresh returns a handle on a new, migrated database of its own, dropped at
// cleanup, for tests of what is global to a database.
func Fresh(t testing.TB) *bun.DB {
	t.Helper()
	db, err := store.Open(newDatabase(t, true), store.PoolOptions{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Empty returns the URL of a new database without any table, dropped at
// cleanup, for tests of what the service does to a database of its own.
func Empty(t testing.TB) string {
	t.Helper()
	return newDatabase(t, false)
}

func newDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	base := Require(t)
	admin, err := store.Open(base, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	name, dbURL, err := createDatabase(t.Context(), admin, base, migrated)
	if err != nil {
		admin.Close()
		t.Fatal(err)
	}
	// Registered first, so it runs after the cleanups that close handles.
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	return dbURL
}

func create(base string) (string, error) {
	admin, err := store.Open(base, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, url, err := createDatabase(ctx, admin, base, true)
	if err != nil {
		admin.Close()
		return "", err
	}
	shared.admin, shared.name = admin, name
	return url, nil
}

// createDatabase creates a database with a random name on the server of
// base, and migrates it if asked.
func createDatabase(ctx context.Context, admin *bun.DB, base string, migrated bool) (name, dbURL string, err error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = "leadr_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database (is %s reachable?): %w", EnvURL, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	if !migrated {
		return name, u.String(), nil
	}
	db, err := store.Open(u.String(), store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		return "", "", err
	}
	if _, err := m.Up(ctx); err != nil {
		return "", "", fmt.Errorf("migrate: %w", err)
	}
	return name, u.String(), nil
}

// Main runs a package's tests and then drops its database. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := shared.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+shared.name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "testdb: drop database:", err)
		}
		cancel()
		shared.admin.Close()
	}
	os.Exit(code)
}
