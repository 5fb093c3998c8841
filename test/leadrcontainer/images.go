package leadrcontainer

import (
	"fmt"
	"os"
	"testing"

	"github.com/leadr-oss/identity/test/pgtest"
)

// EnvImage names the service image tests start (scripts/test.sh builds one).
const EnvImage = "LEADR_TEST_IMAGE"

// TestImages returns the service image of LEADR_TEST_IMAGE and the
// PostgreSQL image of LEADR_TEST_POSTGRES_IMAGE (default pgtest's). Without
// a service image it fails t in CI and skips it, loudly, elsewhere.
func TestImages(t testing.TB) (service, postgres string) {
	t.Helper()
	service = os.Getenv(EnvImage)
	if service == "" {
		msg := EnvImage + " is not set: this test needs the service's image (scripts/test.sh builds one)"
		if pgtest.InCI() {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "SKIP: "+msg)
		t.Skip(msg)
	}
	postgres = os.Getenv(pgtest.EnvImage)
	if postgres == "" {
		postgres = pgtest.DefaultImage
	}
	return service, postgres
}
