// Package lifecycle runs the built binary as a process, as production
// does, and checks what happens at the ends of its life: a SIGTERM under
// load loses no request and no write. One PostgreSQL per package.
package lifecycle

import (
	"testing"

	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
