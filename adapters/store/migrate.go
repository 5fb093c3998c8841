package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/leadr-oss/identity/migrations"
)

// migrateLock serialises migrations across replicas.
const migrateLock = 0x1eadd1b

// Migrator applies the embedded migrations.
type Migrator struct {
	db *DB
	m  *migrate.Migrator
}

// NewMigrator returns the migrator of db's dialect.
func NewMigrator(db *DB) (*Migrator, error) {
	ms, err := Migrations(db.sqlite)
	if err != nil {
		return nil, err
	}
	opts := []migrate.MigratorOption{migrate.WithMarkAppliedOnSuccess(true)}
	if !db.sqlite {
		opts = append(opts, migrate.BeforeMigration(unbounded))
	}
	return &Migrator{db: db, m: migrate.NewMigrator(db.write, ms, opts...)}, nil
}

// unbounded lifts, within a migration's transaction, the statement and lock
// timeouts that a pooler's connections or the role may carry: building an
// index on a large table takes longer than any request may.
func unbounded(ctx context.Context, db bun.IConn, _ *migrate.Migration) error {
	if _, ok := db.(bun.Tx); !ok {
		return nil
	}
	_, err := db.ExecContext(ctx, "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
	return err
}

// migrateLockPoll is how often a replica tries for the migrations' lock
// while another holds it.
const migrateLockPoll = 200 * time.Millisecond

// withMigrationLock runs fn while this process holds the migrations'
// advisory lock, so that replicas starting together take turns. The lock is
// transaction-scoped, held in a transaction left open on a connection of
// its own: a transaction pooler keeps an open transaction on one server
// connection, whereas a session's lock would stay with whichever server
// connection took it, and its unlock go to another. It is tried, not waited
// for, so that replicas waiting their turn hold no server connection that
// the migrations need. SQLite needs none: its single writer connection
// serialises writers.
func withMigrationLock(ctx context.Context, db *DB, fn func() error) error {
	if db.sqlite {
		return fn()
	}
	conn, err := pgx.ConnectConfig(ctx, db.conn)
	if err != nil {
		return fmt.Errorf("migrations' lock: %w", err)
	}
	defer conn.Close(context.Background())
	for {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("migrations' lock: %w", err)
		}
		var got bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", migrateLock).Scan(&got); err != nil {
			return fmt.Errorf("migrations' lock: %w", err)
		}
		if got {
			// The transaction sits idle while fn runs: no timeout may end it.
			if _, err := tx.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
				return fmt.Errorf("migrations' lock: %w", err)
			}
			// Released by the rollback, on a fresh context: ctx may be
			// the reason fn returned.
			defer tx.Rollback(context.Background()) //nolint:errcheck // closing the connection releases it anyway
			return fn()
		}
		if err := tx.Rollback(ctx); err != nil {
			return fmt.Errorf("migrations' lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(migrateLockPoll):
		}
	}
}

// Migrations are the embedded migrations of PostgreSQL, or of SQLite.
func Migrations(sqlite bool) (*migrate.Migrations, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrations.For(sqlite)); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	return ms, nil
}

// Up applies every pending migration and returns their names. Replicas that
// start together wait for each other; the later ones find nothing to do.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var applied []string
	err := withMigrationLock(ctx, m.db, func() error {
		if err := m.m.Init(ctx); err != nil {
			return fmt.Errorf("init migrations: %w", err)
		}
		group, err := m.m.Migrate(ctx)
		for _, mig := range group.Migrations {
			applied = append(applied, mig.Name+"_"+mig.Comment)
		}
		return err
	})
	return applied, err
}

// Down rolls back the last group of migrations and returns the names of
// those it rolled back. When one refuses, the group's earlier ones stay
// applied: bun names the whole group all the same, so the names are then
// those the status no longer shows applied (none if it cannot be read).
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var rolledBack []string
	err := withMigrationLock(ctx, m.db, func() error {
		if err := m.m.Init(ctx); err != nil {
			return fmt.Errorf("init migrations: %w", err)
		}
		group, err := m.m.Rollback(ctx)
		applied := map[string]bool{}
		if err != nil {
			ms, statusErr := m.m.MigrationsWithStatus(ctx)
			if statusErr != nil {
				return err
			}
			for _, mig := range ms.Applied() {
				applied[mig.Name] = true
			}
		}
		for _, mig := range group.Migrations {
			if !applied[mig.Name] {
				rolledBack = append(rolledBack, mig.Name+"_"+mig.Comment)
			}
		}
		return err
	})
	return rolledBack, err
}

// MigrationStatus is one migration and when it was applied (zero: pending).
type MigrationStatus struct {
	Name      string
	AppliedAt time.Time
}

func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, len(ms))
	for i, mig := range ms {
		out[i] = MigrationStatus{Name: mig.Name + "_" + mig.Comment, AppliedAt: mig.MigratedAt}
	}
	return out, nil
}
