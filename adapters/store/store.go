// Package store is the persistence adapter: bun on PostgreSQL, implementing
// the repository ports with explicit row models and mappers.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Store is the database handle every repository shares.
type Store struct {
	db *bun.DB
}

func New(db *bun.DB) *Store { return &Store{db: db} }

// Ping answers within ctx whether the database serves queries.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.NewRaw("SELECT 1").Scan(ctx, &one)
}

// violation is a broken constraint, as PostgreSQL names it.
type violation struct {
	unique     bool
	foreignKey bool
	constraint string
}

func violationOf(err error) (violation, bool) {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return violation{}, false
	}
	v := violation{constraint: pgErr.Field('n')}
	switch pgErr.Field('C') {
	case "23505":
		v.unique = true
	case "23503":
		v.foreignKey = true
	default:
		return violation{}, false
	}
	return v, true
}

// translate maps a broken constraint to the domain error named for it, and
// passes every other error through.
func translate(err error, byConstraint map[string]error) error {
	if v, ok := violationOf(err); ok {
		if derr, ok := byConstraint[v.constraint]; ok {
			return derr
		}
	}
	return err
}

// updateLocked is the one way aggregates change: in a transaction, load the
// row with SELECT … FOR UPDATE, rebuild the aggregate, let fn change it, and
// write the columns back only when the row differs. An error from fn rolls
// back and is returned unwrapped.
func updateLocked[R any, A any](ctx context.Context, db *bun.DB, table string, where condition, notFound error,
	fromRow func(*R) (A, error), toRow func(A) *R, fn func(A) error, columns ...string,
) (A, error) {
	var out A
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		loaded := new(R)
		err := tx.NewSelect().Model(loaded).Where(where.sql, where.args...).For("UPDATE").Scan(ctx)
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
		before := toRow(agg)
		if err := fn(agg); err != nil {
			return err
		}
		if err := saveIfChanged(ctx, tx, before, toRow(agg), columns); err != nil {
			return fmt.Errorf("save %s: %w", table, err)
		}
		out = agg
		return nil
	})
	return out, err
}

// saveIfChanged writes columns of after unless nothing changed. Both rows
// come from the same mapper, so equal state gives equal rows.
func saveIfChanged[R any](ctx context.Context, tx bun.Tx, before, after *R, columns []string) error {
	if reflect.DeepEqual(before, after) {
		return nil
	}
	_, err := tx.NewUpdate().Model(after).Column(columns...).WherePK().Exec(ctx)
	return err
}

// getOne loads one row and maps it; no row is notFound.
func getOne[R any, A any](ctx context.Context, db bun.IDB, where condition, notFound error, fromRow func(*R) (A, error)) (A, error) {
	row := new(R)
	err := db.NewSelect().Model(row).Where(where.sql, where.args...).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		var zero A
		return zero, notFound
	}
	if err != nil {
		var zero A
		return zero, err
	}
	return fromRow(row)
}
