package store_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/ports/portstest"
	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func env(db *bun.DB) portstest.Env {
	s := store.New(db)
	return portstest.Env{Identities: store.NewIdentities(s), Tenancy: store.NewTenancy(s), Secrets: store.NewSecrets(s)}
}

func TestContract(t *testing.T) {
	portstest.Run(t,
		func(t *testing.T) portstest.Env { return env(pgtest.Open(t)) },
		func(t *testing.T) portstest.Env { return env(pgtest.Fresh(t)) })
}
