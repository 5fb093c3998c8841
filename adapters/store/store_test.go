package store_test

import (
	"path/filepath"
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(db *store.DB) portstest.Env {
	s := store.New(db)
	return portstest.Env{Identities: store.NewIdentities(s), Tenancy: store.NewTenancy(s), Secrets: store.NewSecrets(s)}
}

// sqliteDB opens a migrated SQLite database in a file of its own.
func sqliteDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open("sqlite:"+filepath.Join(t.TempDir(), "leadr.db"), store.PoolOptions{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := store.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestContract runs the repository contract on both backends.
func TestContract(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		portstest.Run(t,
			func(t *testing.T) portstest.Env { return env(pgtest.Open(t)) },
			func(t *testing.T) portstest.Env { return env(pgtest.Fresh(t)) })
	})
	t.Run("sqlite", func(t *testing.T) {
		shared := sqliteDB(t)
		portstest.Run(t,
			func(*testing.T) portstest.Env { return env(shared) },
			func(t *testing.T) portstest.Env { return env(sqliteDB(t)) })
	})
}
