package store_test

import (
	"path/filepath"
	"testing"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(t *testing.T, db *store.DB) portstest.Env {
	t.Helper()
	repos, err := store.New(db).Repositories()
	if err != nil {
		t.Fatal(err)
	}
	return portstest.NewEnv(repos...)
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
			func(t *testing.T) portstest.Env { return env(t, pgtest.Open(t)) },
			func(t *testing.T) portstest.Env { return env(t, pgtest.Fresh(t)) })
	})
	t.Run("sqlite", func(t *testing.T) {
		shared := sqliteDB(t)
		portstest.Run(t,
			func(t *testing.T) portstest.Env { return env(t, shared) },
			func(t *testing.T) portstest.Env { return env(t, sqliteDB(t)) })
	})
}

func identities(tb testing.TB, s *store.Store) *store.Identities {
	tb.Helper()
	r, err := store.NewIdentities(s)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func gamesRepo(tb testing.TB, s *store.Store) *store.Games {
	tb.Helper()
	r, err := store.NewGames(s)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func tenancyRepo(tb testing.TB, s *store.Store) *store.Tenancy {
	tb.Helper()
	r, err := store.NewTenancy(s)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
