// Package migrations holds the SQL schema, embedded in the binary: one folder
// per dialect, with the same versions and the same schema. Files are named
// <version>_<name>.tx.up.sql and .tx.down.sql; "tx" runs each file in one
// transaction, so a migration that fails changes nothing. The store applies
// them with bun's migrate package.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// For returns the migration files of PostgreSQL, or of SQLite.
func For(sqlite bool) fs.FS {
	dir := "postgres"
	if sqlite {
		dir = "sqlite"
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // dir is one of the embedded folders
	}
	return sub
}
