package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestPostgresFaultsAreUnavailable: what a slow, blocked or absent server
// does is a fault (503), and what a wrong statement does is a bug (500).
func TestPostgresFaultsAreUnavailable(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.FreshURL(t)
	db, err := store.Open(dbURL, store.PoolOptions{MaxOpenConns: 2, StatementTimeout: 300 * time.Millisecond, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()

	_, err = db.Bun().ExecContext(ctx, "SELECT pg_sleep(5)")
	wantUnavailable(t, "a statement past statement_timeout", err, true)
	wantState(t, err, "57014")

	holder := pgtest.OpenURL(t, dbURL)
	tx, err := holder.Bun().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the test ends with it
	if _, err := tx.ExecContext(ctx, "LOCK TABLE identities IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = db.Bun().ExecContext(ctx, "SELECT count(*) FROM identities")
	wantUnavailable(t, "a read behind a lock, past lock_timeout", err, true)
	wantState(t, err, "55P03") // lock_timeout, not the longer statement_timeout
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the read waited %s for the lock", waited)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = holder.Bun().ExecContext(short, "SELECT pg_sleep(5)")
	wantUnavailable(t, "a statement past the request's deadline", err, true)

	_, err = db.Bun().ExecContext(ctx, "SELEC 1")
	wantUnavailable(t, "a syntax error", err, false)
	_, err = db.Bun().ExecContext(ctx, "SELECT * FROM no_such_table")
	wantUnavailable(t, "an unknown table", err, false)

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	absent, err := store.Open(fmt.Sprintf("postgres://leadr@127.0.0.1:%d/leadr?sslmode=disable&connect_timeout=2", port), store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { absent.Close() })
	_, err = absent.Bun().ExecContext(ctx, "SELECT 1")
	wantUnavailable(t, "a server that is not there", err, true)
}

// TestSQLiteBusyIsUnavailable: another process holding the write lock past
// the statement timeout is a fault, not a bug.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	t.Parallel()
	path := "sqlite:" + filepath.Join(t.TempDir(), "leadr.db")
	holder, err := store.Open(path, store.PoolOptions{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	if _, err := holder.Bun().ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.Bun().BeginTx(t.Context(), nil) // _txlock=immediate: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the test ends with it
	if _, err := tx.ExecContext(t.Context(), "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(path, store.PoolOptions{MaxOpenConns: 1, StatementTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Bun().ExecContext(t.Context(), "INSERT INTO t VALUES (2)")
	wantUnavailable(t, "a write behind another process's write lock", err, true)
	_, err = db.Bun().ExecContext(t.Context(), "INSERT INTO nowhere VALUES (2)")
	wantUnavailable(t, "an unknown table", err, false)
}

func wantUnavailable(t *testing.T, what string, err error, want bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if got := store.Unavailable(err); got != want {
		t.Errorf("%s: Unavailable(%v) = %v, want %v", what, err, got, want)
	}
	if store.Unavailable(fmt.Errorf("wrapped: %w", err)) != want || store.Unavailable(errors.Join(errors.New("other"), err)) != want {
		t.Errorf("%s: wrapping changes the answer", what)
	}
}

// wantState checks the SQLSTATE of err: which of the server's timeouts
// ended the statement.
func wantState(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		t.Errorf("error %v, want SQLSTATE %s", err, code)
	}
}
