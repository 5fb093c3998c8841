package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// IdentityListQuery exposes the SQL of an identity list page to tests.
func IdentityListQuery(f ports.IdentityFilter, req paging.Request) (string, []any) {
	return keysetQuery(identityListing(f), req)
}

// PlayerListQuery exposes the SQL of a player list page to tests.
func PlayerListQuery(f ports.PlayerFilter, req paging.Request, now time.Time) (string, []any) {
	return keysetQuery(playerListing(f, now), req)
}

// NumberPlaceholders is how the store's reads reach PostgreSQL.
var NumberPlaceholders = numberPlaceholders

// MigrateThrough applies the embedded migrations up to and including the
// version last, and records them as NewMigrator does, so that a test can
// fill a database of an older schema and then upgrade it with Up.
func MigrateThrough(ctx context.Context, db *DB, last string) error {
	all, err := Migrations(db.sqlite)
	if err != nil {
		return err
	}
	older := migrate.NewMigrations()
	found := false
	for _, m := range all.Sorted() {
		if m.Name <= last {
			older.Add(m)
			found = found || m.Name == last
		}
	}
	if !found {
		return fmt.Errorf("no migration %s", last)
	}
	m := migrate.NewMigrator(db.write, older, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return err
	}
	_, err = m.Migrate(ctx)
	return err
}
