// Package store is the persistence adapter: bun on PostgreSQL or SQLite,
// implementing the repository ports with explicit row models and mappers.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

// Store is the database handle every repository shares.
type Store struct {
	db *DB
}

func New(db *DB) *Store { return &Store{db: db} }

// repositories are the constructors of every repository; each aggregate's
// file adds its own, so that Repositories needs no list.
var repositories []func(*Store) (any, error)

// Repositories returns every repository on s, for the contract suite.
func (s *Store) Repositories() ([]any, error) {
	out := []any{NewSecrets(s), s.Outbox()}
	for _, newRepo := range repositories {
		r, err := newRepo(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Rows are the tables' shapes, declared with each repository; mappers turn
// them into aggregates and back. Domain types never carry storage tags.

func toUUID[E id.Entity](i id.ID[E]) uuid.UUID   { return uuid.UUID(i.UUID()) }
func fromUUID[E id.Entity](u uuid.UUID) id.ID[E] { return id.FromUUID[E](id.UUID(u)) }

// Ping answers within ctx whether the database serves queries.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.read.NewRaw("SELECT 1").Scan(ctx, &one)
}

// violationKey names the constraint an error broke, so that callers can map
// it to a domain error: PostgreSQL's constraint name; for SQLite, which
// reports columns rather than names, "table.column" of a unique constraint
// and "table.foreign_key" of a foreign key (table is the one written to).
func violationKey(err error, table string) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505", "23503":
			return pgErr.ConstraintName, true
		}
		return "", false
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		const unique, primaryKey, foreignKey = 2067, 1555, 787
		switch liteErr.Code() {
		case unique, primaryKey:
			// "constraint failed: UNIQUE constraint failed: users.email (2067)"
			msg := liteErr.Error()
			cols := msg[strings.LastIndex(msg, "constraint failed: ")+len("constraint failed: "):]
			cols, _, _ = strings.Cut(cols, " (")
			return strings.TrimSpace(cols), true
		case foreignKey:
			return table + ".foreign_key", true
		}
	}
	return "", false
}

// translate maps a broken constraint to the domain error named for it, and
// passes every other error through.
func translate(err error, table string, byConstraint map[string]error) error {
	if key, ok := violationKey(err, table); ok {
		if derr, ok := byConstraint[key]; ok {
			return derr
		}
	}
	return err
}

// updateLocked is the one way aggregates change: in a transaction, load the
// row with SELECT … FOR UPDATE, rebuild the aggregate, let fn change it, and
// write the columns back, with the event changed names, only when the row
// differs. An error from fn rolls back and is returned unwrapped.
func updateLocked[R any, A any](ctx context.Context, db *DB, table string, where condition, notFound error,
	fromRow func(*R) (A, error), toRow func(A) *R, changed func(before, after A) event.Event, fn func(A) error, columns ...string,
) (A, error) {
	var out A
	err := db.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		loaded := new(R)
		err := db.forUpdate(tx.NewSelect().Model(loaded).Where(where.sql, where.args...)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		agg, err := fromRow(loaded)
		if err != nil {
			return err
		}
		if err := fn(agg); err != nil {
			return err
		}
		out = agg
		previous, _ := fromRow(loaded)
		return db.saveIfChanged(ctx, table, toRow(previous), toRow(agg), columns, func() event.Event { return changed(previous, agg) })
	})
	if err != nil {
		var zero A
		return zero, err
	}
	return out, nil
}

// saveIfChanged writes columns of after, and records the event, unless
// nothing changed. Both rows come from the same mapper, so equal state
// gives equal rows. An event without a type is none: the row changed in
// its bookkeeping only (a webhook's failing_since).
func (d *DB) saveIfChanged(ctx context.Context, table string, before, after any, columns []string, changed func() event.Event) error {
	if reflect.DeepEqual(before, after) {
		return nil
	}
	st := ctx.Value(txKey{}).(*txState)
	if _, err := st.tx.NewUpdate().Model(after).Column(columns...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("save %s: %w", table, err)
	}
	if e := changed(); e.Type != "" {
		return d.record(ctx, e)
	}
	return nil
}

// create inserts row and records the event of its creation.
func (d *DB) create(ctx context.Context, row any, created event.Event, constraints map[string]error) error {
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewInsert().Model(row)
		if _, err := q.Exec(ctx); err != nil {
			return translate(err, q.GetTableName(), constraints)
		}
		return d.record(ctx, created)
	})
}

// getOne loads the one row of table with columns where holds, and maps it;
// no row is notFound.
func getOne[R any, P interface {
	*R
	row
}, A any](ctx context.Context, db *DB, table, columns string, where condition, notFound error, fromRow func(*R) (A, error)) (A, error) {
	rows, err := selectRows[R, P](ctx, db, pointRead, "SELECT "+columns+" FROM "+table+" WHERE "+where.sql, where.args)
	if err == nil && len(rows) == 0 {
		err = notFound
	}
	if err != nil {
		var zero A
		return zero, err
	}
	return fromRow(&rows[0])
}
