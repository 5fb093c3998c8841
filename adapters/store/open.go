package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// PoolOptions size the connection pool.
type PoolOptions struct {
	MaxOpenConns    int
	ConnMaxLifetime time.Duration
}

// Open connects to the database a URL names. It checks the URL but does not
// connect: the first query does.
func Open(databaseURL string, pool PoolOptions) (db *bun.DB, err error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	switch u.Scheme {
	case "postgres", "postgresql":
	default:
		return nil, fmt.Errorf("database URL: unsupported scheme %q (want postgres://)", u.Scheme)
	}
	defer func() {
		// pgdriver.WithDSN panics on DSNs it cannot use.
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("database URL: %v", r)
		}
	}()
	// Defaults first, so that the URL's parameters (read_timeout, …) win.
	// pgdriver's own read timeout, 10 s, would fail a long migration.
	sqldb := sql.OpenDB(pgdriver.NewConnector(
		pgdriver.WithApplicationName("leadr"),
		pgdriver.WithReadTimeout(time.Minute),
		pgdriver.WithWriteTimeout(time.Minute),
		pgdriver.WithDSN(databaseURL),
	))
	sqldb.SetMaxOpenConns(pool.MaxOpenConns)
	sqldb.SetMaxIdleConns(pool.MaxOpenConns)
	sqldb.SetConnMaxLifetime(pool.ConnMaxLifetime)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// withSessionLock runs fn while holding a PostgreSQL session advisory lock
// on a connection of its own, so that replicas starting together take turns.
func withSessionLock(ctx context.Context, db *bun.DB, key int64, fn func() error) error {
	conn, err := db.Conn(ctx)
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
