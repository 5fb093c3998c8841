package apptest_test

import (
	"testing"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/ports/portstest"
)

func TestMemoryMeetsTheContract(t *testing.T) {
	shared := apptest.NewMemory()
	env := func(m *apptest.Memory) portstest.Env { return portstest.NewEnv(m.Repositories()...) }
	portstest.Run(t,
		func(*testing.T) portstest.Env { return env(shared) },
		func(*testing.T) portstest.Env { return env(apptest.NewMemory()) })
}
