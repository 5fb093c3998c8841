// Package faults drives the running service while its PostgreSQL fails:
// stopped under load, a table locked, the pool exhausted (section 9 of
// docs/api-contract.md). Every such answer must be the contract's 503 with
// Retry-After, within the request's deadline; nothing acknowledged may be
// lost; and the service must recover by itself.
package faults

import (
	"testing"

	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
