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
	"github.com/jackc/pgx/v5/pgconn"
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
	// On PostgreSQL, the URL's connection without the serving pool's
	// bounds (the migrations' lock takes one of its own), and the change
	// feed's: nil behind a pooler that was given no direct address.
	conn, listen *pgx.ConnConfig
	pooled       bool
	reads        readModes
	changes      *Changes
	outbox       Outbox
	hooks        []bun.QueryHook
}

// Changes is the feed of committed changes, live while Listen runs; nil
// where there is none to trust: on SQLite, and behind a transaction pooler
// with no direct address to listen on.
func (d *DB) Changes() ports.Changes {
	if d.listen == nil {
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
		t, err := pgxConfig(databaseURL)
		if err != nil {
			return nil, err
		}
		bounds := map[string]int64{} // milliseconds, as PostgreSQL takes them
		for param, d := range map[string]time.Duration{"statement_timeout": pool.StatementTimeout, "lock_timeout": pool.LockTimeout} {
			if d > 0 {
				bounds[param] = max(d.Milliseconds(), 1)
			}
		}
		serving := t.Copy()
		if t.pooled {
			if len(bounds) > 0 {
				serving.AfterConnect = requireBounds(bounds)
			}
		} else {
			for param, ms := range bounds {
				serving.RuntimeParams[param] = strconv.FormatInt(ms, 10)
			}
		}
		db := openPostgres(serving, pool)
		return &DB{read: db, write: db, conn: t.ConnConfig, listen: t.listen, pooled: t.pooled, reads: t.reads,
			changes: new(Changes)}, nil
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

// postgresTarget is a postgres:// URL as the service reads it: pgx's
// configuration, and what two parameters of the service's own, which never
// reach PostgreSQL, say about the way there.
//
//   - pooler=transaction: the address is a transaction pooler (PgBouncer's
//     pool_mode=transaction), where a session's state does not last beyond
//     its transaction. No named prepared statements, no startup parameters
//     (PgBouncer refuses those it does not know; see requireBounds).
//   - direct=host:port[,host:port…]: PostgreSQL itself, for the change feed,
//     whose LISTEN needs a session: same user, password, database and
//     parameters. Behind a pooler without it there is no feed.
type postgresTarget struct {
	*pgx.ConnConfig
	listen *pgx.ConnConfig
	pooled bool
	reads  readModes
}

// pgxConfig parses a postgres:// URL for pgx (libpq's keywords and PG*
// variables, several hosts, target_session_attrs). Without sslmode (in the
// URL or PGSSLMODE) it requires TLS, as the README promises: libpq's
// default, prefer, would fall back to plaintext.
// bun writes its arguments into the statement, so its statements go as
// simple queries: caching them as prepared statements would prepare every
// distinct ID anew. The reads ask for their own modes (see reads.go), or
// for the URL's default_query_exec_mode when it names one.
func pgxConfig(databaseURL string) (*postgresTarget, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, errors.New("database URL: not a valid URL")
	}
	q := u.Query()
	t := &postgresTarget{}
	switch p := q.Get("pooler"); p {
	case "":
	case "transaction":
		t.pooled = true
	default:
		return nil, fmt.Errorf("database URL: pooler=%q: the pooler mode the service knows is transaction", p)
	}
	direct := q.Get("direct")
	q.Del("pooler")
	q.Del("direct")
	if !q.Has("sslmode") && os.Getenv("PGSSLMODE") == "" {
		q.Set("sslmode", "require")
	}
	if !q.Has("application_name") {
		q.Set("application_name", "leadr")
	}
	u.RawQuery = q.Encode()
	if t.ConnConfig, err = parsePgx(u.String()); err != nil {
		return nil, err
	}
	t.reads = readModesFor(t.ConnConfig, q.Has("default_query_exec_mode"), t.pooled)
	t.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	switch {
	case direct != "":
		u.Host = direct
		if t.listen, err = parsePgx(u.String()); err != nil {
			return nil, errors.New("database URL: direct: pgx cannot use it (want host:port[,host:port…])")
		}
	case !t.pooled:
		t.listen = t.ConnConfig
	}
	if t.pooled {
		// target_session_attrs is for the servers themselves (the
		// direct addresses): asked of a pooler, it checks whichever
		// server connection the pooler lends, and waits for one within
		// the connection's timeout.
		t.ConnConfig.ValidateConnect = nil
	}
	return t, nil
}

// hostConnectTimeout bounds each host's connection attempt where the URL
// gives no connect_timeout. A host gone without a word (a crashed primary
// whose name still resolves, a partition) would otherwise hold an attempt
// until TCP gives up: the change feed's for half a minute, a request's for
// its whole deadline, and the next host of a multi-host URL, the promoted
// standby, would never be tried.
const hostConnectTimeout = 2 * time.Second

func parsePgx(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("database URL: pgx cannot use it (check the host, port and parameters)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = hostConnectTimeout
	}
	cfg.DialFunc = deadPeerDialer(cfg.ConnectTimeout).DialContext
	return cfg, nil
}

// requireBounds checks each new connection through a transaction pooler
// for the bounds the serving pool's statements need. The service cannot
// set them there itself: the pooler refuses them as startup parameters,
// and a SET would stay with whichever server connection ran it. The
// pooler's server connections must carry them (PgBouncer's connect_query,
// or ALTER ROLE … SET): a connection where a bound is missing or looser
// than wanted fails, so that no statement goes unbounded.
func requireBounds(want map[string]int64) pgconn.AfterConnectFunc {
	return func(ctx context.Context, c *pgconn.PgConn) error {
		res, err := c.Exec(ctx, "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout')").ReadAll()
		if err != nil {
			return err
		}
		got := map[string]int64{}
		for _, r := range res {
			for _, row := range r.Rows {
				got[string(row[0])], _ = strconv.ParseInt(string(row[1]), 10, 64)
			}
		}
		for param, ms := range want {
			if g := got[param]; g == 0 || g > ms {
				return fmt.Errorf("behind the pooler, PostgreSQL's %s is %dms and the service needs at most %dms: "+
					"the pooler's connections must set it (PgBouncer's connect_query, or ALTER ROLE … SET)", param, g, ms)
			}
		}
		return nil
	}
}

// sqliteParams make SQLite a real database: foreign keys enforced, WAL so
// that reads never block behind the writer, a busy timeout for another
// process's writes, and every transaction taking the write lock when it
// begins (no deadlock-prone upgrade from a read lock). secure_delete zeroes
// what a write frees, on every connection: else a dropped table's pages,
// a deleted row or a value's previous bytes stay in the file's free space,
// and a copy of the file holds secrets and credentials the database no
// longer does (PostgreSQL unlinks a dropped table's files, and a dump reads
// only live rows).
const sqliteParams = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_txlock=immediate"

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
