package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/leadr-oss/identity/ports"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// PoolOptions size the connection pool and bound its statements.
type PoolOptions struct {
	MaxOpenConns    int
	ConnMaxLifetime time.Duration
	// StatementTimeout ends any statement that runs longer (PostgreSQL's
	// statement_timeout; SQLite's busy_timeout, the wait for another
	// process's write lock), and LockTimeout any wait for a lock
	// (PostgreSQL's lock_timeout). The server then stops the statement
	// itself and the connection stays usable, whereas a context that ends
	// first makes pgx drop the connection. Zero: unbounded (SQLite waits
	// 10 s).
	StatementTimeout time.Duration
	LockTimeout      time.Duration
}

// DB is the database the repositories read from and write to. On
// PostgreSQL both are one pool. On SQLite, writes go through a single
// connection (so no write ever waits on another and none sees "database is
// locked") and reads through a pool of their own, which WAL lets run beside
// the writer.
type DB struct {
	read, write *bun.DB
	sqlite      bool
	// pgx configures the change listener's own connection; nil on SQLite.
	pgx     *pgx.ConnConfig
	changes *Changes
	hooks   []bun.QueryHook
}

// Changes is the feed of committed changes, live while Listen runs; nil on
// SQLite, where there is none to trust.
func (d *DB) Changes() ports.Changes {
	if d.pgx == nil {
		return nil
	}
	return d.changes
}

// Bun returns the handle that writes, for migrations and tests.
func (d *DB) Bun() *bun.DB { return d.write }

// Pools returns the connection pools by name, for their statistics.
func (d *DB) Pools() map[string]*sql.DB {
	if d.read == d.write {
		return map[string]*sql.DB{"leadr": d.write.DB}
	}
	return map[string]*sql.DB{"leadr_read": d.read.DB, "leadr_write": d.write.DB}
}

// Close closes every pool.
func (d *DB) Close() error {
	if d.read == d.write {
		return d.write.Close()
	}
	return errors.Join(d.read.Close(), d.write.Close())
}

// Open connects to the database a URL names: postgres:// or postgresql://
// (PostgreSQL), sqlite:PATH or file:PATH (an SQLite file, created with its
// folder when missing). It checks the URL but does not connect: the first
// query does.
func Open(databaseURL string, pool PoolOptions) (*DB, error) {
	scheme, rest, _ := strings.Cut(databaseURL, ":")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		cfg, err := pgxConfig(databaseURL)
		if err != nil {
			return nil, err
		}
		serving := cfg.Copy()
		for param, d := range map[string]time.Duration{"statement_timeout": pool.StatementTimeout, "lock_timeout": pool.LockTimeout} {
			if d > 0 {
				serving.RuntimeParams[param] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
			}
		}
		db := openPostgres(serving, pool)
		return &DB{read: db, write: db, pgx: cfg, changes: new(Changes)}, nil
	case "sqlite", "file":
		return openSQLite(rest, pool)
	}
	return nil, fmt.Errorf("database URL: unsupported scheme %q (want postgres://…, sqlite:PATH or file:PATH)", scheme)
}

func openPostgres(cfg *pgx.ConnConfig, pool PoolOptions) *bun.DB {
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(pool.MaxOpenConns)
	sqldb.SetMaxIdleConns(pool.MaxOpenConns)
	sqldb.SetConnMaxLifetime(pool.ConnMaxLifetime)
	return bun.NewDB(sqldb, pgdialect.New())
}

// pgxConfig parses a postgres:// URL for pgx (libpq's keywords and PG*
// variables, several hosts, target_session_attrs). Without sslmode (in the
// URL or PGSSLMODE) it requires TLS, as the README promises: libpq's
// default, prefer, would fall back to plaintext.
// bun writes its arguments into the statement, so its statements go as
// simple queries: caching them as prepared statements would prepare every
// distinct ID anew. The reads ask for their own modes (see reads.go).
func pgxConfig(databaseURL string) (*pgx.ConnConfig, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, errors.New("database URL: not a valid URL")
	}
	q := u.Query()
	if !q.Has("sslmode") && os.Getenv("PGSSLMODE") == "" {
		q.Set("sslmode", "require")
	}
	if !q.Has("application_name") {
		q.Set("application_name", "leadr")
	}
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("database URL: pgx cannot use it (check the host, port and parameters)")
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.DialFunc = deadPeerDialer(cfg.ConnectTimeout).DialContext
	return cfg, nil
}

// sqliteParams make SQLite a real database: foreign keys enforced, WAL so
// that reads never block behind the writer, a busy timeout for another
// process's writes, and every transaction taking the write lock when it
// begins (no deadlock-prone upgrade from a read lock).
const sqliteParams = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_txlock=immediate"

const sqliteBusyTimeout = 10 * time.Second

func openSQLite(path string, pool PoolOptions) (*DB, error) {
	path = strings.TrimPrefix(path, "//")
	switch {
	case path == "":
		return nil, errors.New("database URL: sqlite: needs a file, e.g. sqlite:./data/leadr.db")
	case strings.Contains(path, ":memory:") || strings.ContainsAny(path, "?#"):
		return nil, errors.New("database URL: sqlite: wants a plain file path (no :memory:, no query)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("database folder: %w", err)
	}
	busy := sqliteBusyTimeout
	if pool.StatementTimeout > 0 {
		busy = pool.StatementTimeout
	}
	dsn := fmt.Sprintf("file:%s?%s&_pragma=busy_timeout(%d)", path, sqliteParams, max(busy.Milliseconds(), 1))
	open := func(conns int) (*bun.DB, error) {
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		sqldb.SetMaxOpenConns(conns)
		sqldb.SetMaxIdleConns(conns)
		return bun.NewDB(sqldb, sqlitedialect.New()), nil
	}
	write, err := open(1)
	if err != nil {
		return nil, err
	}
	read, err := open(max(pool.MaxOpenConns, 1))
	if err != nil {
		write.Close()
		return nil, err
	}
	return &DB{read: read, write: write, sqlite: true, changes: new(Changes)}, nil
}

// withSessionLock runs fn while holding a PostgreSQL session advisory lock
// on a connection of its own, so that replicas starting together take turns.
// SQLite needs none: its single writer connection serialises writers.
func withSessionLock(ctx context.Context, db *DB, key int64, fn func() error) error {
	if db.sqlite {
		return fn()
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	// Unlock on a fresh context: ctx may be the reason fn returned.
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", key) //nolint:errcheck // closing the session releases it anyway
	return fn()
}

// forUpdate locks the selected rows until the transaction ends. SQLite has
// no row locks and needs none: a transaction there holds the database's
// write lock from its first statement.
func (d *DB) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if d.sqlite {
		return q
	}
	return q.For("UPDATE")
}

// lockBootstrap serialises bootstrap within a transaction (PostgreSQL: a
// transaction advisory lock; SQLite: the write lock the transaction holds).
func (d *DB) lockBootstrap(ctx context.Context, tx bun.Tx) error {
	if d.sqlite {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", bootstrapLock)
	return err
}
