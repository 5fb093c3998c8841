package store_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/internal/testdb"
	"github.com/leadr-oss/identity/ports/portstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func env(db *bun.DB) portstest.Env {
	s := store.New(db)
	return portstest.Env{Identities: store.NewIdentities(s), Tenancy: store.NewTenancy(s), Secrets: store.NewSecrets(s)}
}

func TestContract(t *testing.T) {
	portstest.Run(t,
		func(t *testing.T) portstest.Env { return env(testdb.Open(t)) },
		func(t *testing.T) portstest.Env { return env(testdb.Fresh(t)) })
}
