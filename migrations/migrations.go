// Package migrations holds the SQL schema, embedded in the binary and applied
// with bun's migrate package: one folder per dialect, with the same versions
// and the same schema. Files are named <version>_<name>.tx.up.sql and
// .tx.down.sql; "tx" runs each file in one transaction.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// For returns the migrations of PostgreSQL, or of SQLite.
func For(sqlite bool) (*migrate.Migrations, error) {
	if sqlite {
		return load("sqlite")
	}
	return load("postgres")
}

func load(dir string) (*migrate.Migrations, error) {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("discover %s migrations: %w", dir, err)
	}
	return m, nil
}
