package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// row is a row model that lists its fields in the order of its table's
// columns constant, so that reads scan into them without reflection
// (checkRowModel holds each to its bun model when the store is built).
type row interface{ fields() []any }

// uuidField gives pgx a UUID field as the bytes it decodes a uuid into;
// as a sql.Scanner it would go through a string.
func uuidField(u *uuid.UUID) *[16]byte { return (*[16]byte)(u) }

// How the reads reach PostgreSQL. bun cannot send arguments apart (it
// writes them into the statement), so PostgreSQL would parse and plan every
// read anew, and database/sql would convert every value: together most of a
// read's cost, on a table of nine indexes. The reads go through pgx itself,
// with parameters and binary values:
//   - point reads, by a unique key, as statements prepared once per
//     connection: planned once, their one plan serves every argument;
//   - pages, as unnamed statements whose description pgx caches: planned
//     for their own arguments every time, since a prepared statement's
//     generic plan cannot know how big a game or an account is, and sorts a
//     whole game's rows to serve a page of one.
//
// Behind a transaction pooler a statement prepared on one server connection
// is unknown on the next (PgBouncer before 1.21 does not carry them over),
// so point reads go as pages do. A default_query_exec_mode in the URL is
// the operator's choice, and every read takes it (cache_statement behind a
// pooler that carries prepared statements over).
type readKind int

const (
	pointRead readKind = iota
	pageRead
)

// readModes are the pgx modes of each kind of read.
type readModes [2]pgx.QueryExecMode

func readModesFor(cfg *pgx.ConnConfig, explicit, pooled bool) readModes {
	switch {
	case explicit:
		return readModes{cfg.DefaultQueryExecMode, cfg.DefaultQueryExecMode}
	case pooled:
		return readModes{pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeCacheDescribe}
	}
	return readModes{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe}
}

// selectRows runs a read with ? placeholders on the read pool. On SQLite
// bun formats it as any other statement. The query hooks (tracing) see it
// either way.
func selectRows[R any, P interface {
	*R
	row
}](ctx context.Context, d *DB, kind readKind, query string, args []any) ([]R, error) {
	var out []R
	if d.sqlite {
		err := d.read.NewRaw(query, args...).Scan(ctx, &out)
		return out, err
	}
	event := &bun.QueryEvent{DB: d.read, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
	query = numberPlaceholders(query)
	event.Query = query
	for _, h := range d.hooks {
		ctx = h.BeforeQuery(ctx, event)
	}
	err := d.withPgx(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, query, pgxArgs(d.reads[kind], args)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			out = append(out, *new(R))
			if err := rows.Scan(P(&out[len(out)-1]).fields()...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	event.Err = err
	for i := len(d.hooks) - 1; i >= 0; i-- {
		d.hooks[i].AfterQuery(ctx, event)
	}
	return out, err
}

// withPgx lends fn a pgx connection of the read pool.
func (d *DB) withPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := d.read.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a %T in the PostgreSQL pool", dc)
		}
		return fn(c.Conn())
	})
}

// pgxArgs puts the mode first and gives UUIDs as their bytes, which pgx
// encodes directly; as driver.Valuers they would go through a string.
func pgxArgs(mode pgx.QueryExecMode, args []any) []any {
	out := make([]any, 0, len(args)+1)
	out = append(out, mode)
	for _, a := range args {
		if u, ok := a.(uuid.UUID); ok {
			a = [16]byte(u)
		}
		out = append(out, a)
	}
	return out
}

// numberPlaceholders turns ? into PostgreSQL's $1, $2, …. The store's reads
// hold no ? of their own: no literal strings, no JSON operators.
func numberPlaceholders(query string) string {
	n := strings.Count(query, "?")
	if n == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 2*n)
	i := 0
	for {
		j := strings.IndexByte(query, '?')
		if j < 0 {
			b.WriteString(query)
			return b.String()
		}
		i++
		b.WriteString(query[:j])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
		query = query[j+1:]
	}
}

// AddQueryHook installs h on every pool and on the store's own reads. It
// must be called before the repositories are used, as the tracing module
// does at start.
func (d *DB) AddQueryHook(h bun.QueryHook) {
	same := d.read == d.write
	d.write = d.write.WithQueryHook(h)
	if same {
		d.read = d.write
	} else {
		d.read = d.read.WithQueryHook(h)
	}
	d.hooks = append(d.hooks, h)
}
