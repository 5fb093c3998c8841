package store_test

import (
	"strings"
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/sealing"
)

// sealedSecretsVersion seals the service's secrets: no version before it
// reads them.
const sealedSecretsVersion = "20261207000003"

// schemaQueries describe a database's whole schema, one row per column,
// index and constraint (PostgreSQL) or object (SQLite).
func schemaQueries(sqlite bool) map[string]string {
	if sqlite {
		return map[string]string{"schema": `SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`}
	}
	return map[string]string{
		"columns": `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
			FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1`,
		"indexes": `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`,
		"constraints": `SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1`,
	}
}

// TestRollbackOfASealedReleaseChangesNothing: a database upgraded to this
// release rolls it back as one group, its last migration first. Once the
// service has sealed its secrets, the rollback is refused, and the
// refusal comes before any migration of the group has been rolled back:
// every migration is still applied and the schema is as it was, not half
// way back.
func TestRollbackOfASealedReleaseChangesNothing(t *testing.T) {
	for _, b := range upgradeBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			if err := store.MigrateThrough(t.Context(), db, migrationBefore(t, b.sqlite, sealedSecretsVersion)); err != nil {
				t.Fatal(err)
			}
			applied, err := upgrade(t, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) < 2 || !strings.HasPrefix(applied[0], sealedSecretsVersion+"_") {
				t.Fatalf("the upgrade applied %v, want the release from %s on", applied, sealedSecretsVersion)
			}
			// What a start does first.
			vault := sealing.NewVault(store.NewSecrets(store.New(db)), sealing.RandomKey())
			if _, err := vault.Secret(t.Context(), "cursor_secret", sealing.RandomKey); err != nil {
				t.Fatal(err)
			}
			unchanged := snapshotRows(t, db, b.sqlite, schemaQueries(b.sqlite))

			m, err := store.NewMigrator(db)
			if err != nil {
				t.Fatal(err)
			}
			rolledBack, err := m.Down(t.Context())
			if err == nil || !strings.Contains(err.Error(), "earlier versions cannot read") {
				t.Fatalf("rolling back a sealed release: %v, want it refused", err)
			}
			if len(rolledBack) > 0 {
				t.Errorf("the refused rollback rolled back %v", rolledBack)
			}
			status, err := m.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range status {
				if s.AppliedAt.IsZero() {
					t.Errorf("after the refused rollback, %s is no longer applied", s.Name)
				}
			}
			unchanged("after the refused rollback")
		})
	}
}
