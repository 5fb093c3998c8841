package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// selectRows runs a point read (rows found by a unique key) with ?
// placeholders on the read pool and scans its rows into dest, a pointer to a
// slice of row models.
//
// On PostgreSQL the arguments go as parameters of a statement that pgx
// prepares once per connection, so PostgreSQL plans it once rather than at
// every request: planning these reads cost several times running them
// (46–120 µs against 10–15 µs, on a table of nine indexes). bun cannot do
// that: it writes the arguments into the statement. Only reads by a unique
// key belong here, whose one plan serves every argument (lists do not; see
// list). On SQLite bun formats it as any other statement. The query hooks
// (tracing) see it either way.
func (d *DB) selectRows(ctx context.Context, query string, args []any, dest any) error {
	if d.pgx == nil {
		return d.read.NewRaw(query, args...).Scan(ctx, dest)
	}
	event := &bun.QueryEvent{DB: d.read, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
	query = numberPlaceholders(query)
	event.Query = query
	for _, h := range d.hooks {
		ctx = h.BeforeQuery(ctx, event)
	}
	rows, err := d.read.DB.QueryContext(ctx, query, append([]any{d.statements}, args...)...)
	if err == nil {
		err = d.read.ScanRows(ctx, rows, dest)
	}
	event.Err = err
	for i := len(d.hooks) - 1; i >= 0; i-- {
		d.hooks[i].AfterQuery(ctx, event)
	}
	return err
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

// AddQueryHook installs h on every pool and on the store's own reads.
func (d *DB) AddQueryHook(h bun.QueryHook) {
	for _, b := range d.buns() {
		b.AddQueryHook(h)
	}
	d.hooks = append(d.hooks, h)
}
