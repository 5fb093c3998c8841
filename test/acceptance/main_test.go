// Package acceptance drives the running service over HTTP only, section by
// section of docs/api-contract.md, on a real PostgreSQL. Each test starts
// its own service on its own database.
package acceptance

import (
	"testing"

	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
