package store

import (
	"context"
	"fmt"
	"time"

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
	return &Migrator{db: db, m: migrate.NewMigrator(db.write, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
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
	err := withSessionLock(ctx, m.db, migrateLock, func() error {
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

// Down rolls back the last group of migrations and returns their names.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var rolledBack []string
	err := withSessionLock(ctx, m.db, migrateLock, func() error {
		if err := m.m.Init(ctx); err != nil {
			return fmt.Errorf("init migrations: %w", err)
		}
		group, err := m.m.Rollback(ctx)
		for _, mig := range group.Migrations {
			rolledBack = append(rolledBack, mig.Name+"_"+mig.Comment)
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
