package leadrcontainer

import (
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
	service = Image(t, EnvImage, "")
	return service, Image(t, pgtest.EnvImage, pgtest.DefaultImage)
}

// Image returns the image the variable env names, or def. With neither it
// fails t in CI and skips it, loudly, elsewhere: scripts/test-images.sh
// builds or pulls every image the tests use.
func Image(t testing.TB, env, def string) string {
	t.Helper()
	if image := os.Getenv(env); image != "" {
		return image
	}
	if def != "" {
		return def
	}
	msg := env + " is not set: this test needs that image (scripts/test.sh gets or builds it, with scripts/test-images.sh)"
	pgtest.Missing(t, msg)
	return ""
}
