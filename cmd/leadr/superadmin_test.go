package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// reset runs leadr superadmin reset on a service's database, with the
// configuration the service has, and returns the key it printed.
func reset(t *testing.T, databaseURL string) string {
	t.Helper()
	env := map[string]string{"LEADR_DATABASE_URL": databaseURL, "LEADR_LOG_LEVEL": "error"}
	if strings.HasPrefix(databaseURL, "postgres") {
		env["LEADR_ENCRYPTION_KEY"] = harness.EncryptionKey
	}
	code, out, errOut := runWith(t, env, "superadmin", "reset")
	key := strings.TrimSpace(out)
	if code != 0 || !tenancy.WellFormedKey(key) || !strings.Contains(errOut, "shown once") {
		t.Fatalf("superadmin reset: %d, printed %q, said %q", code, out, errOut)
	}
	return key
}

// TestSuperadminReset is the break-glass: every superadmin key is revoked,
// so no superadmin can act; leadr superadmin reset, on the host, prints a
// key that the running service takes at once as a superadmin's.
func TestSuperadminReset(t *testing.T) {
	svc := harness.StartService(t)
	admin := harness.Over(t, svc.Admin())
	var own string
	for k, err := range svc.Admin().APIKeys(t.Context(), client.ListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(svc.SuperadminKey, k.KeyPrefix) {
			own = k.ID
		}
	}
	admin.Do("PATCH", "/v1/api-keys/"+own, map[string]any{"status": "revoked"}).Want(http.StatusOK)
	admin.Do("GET", "/v1/accounts", nil).Want(http.StatusUnauthorized, "Invalid or expired API key")

	fresh := harness.Over(t, svc.Client(reset(t, svc.DatabaseURL)))
	fresh.Do("POST", "/v1/accounts", map[string]any{"name": "After the reset", "slug": "after-reset"}).Want(http.StatusCreated)
	// The revoked key stays revoked; another reset adds a key, and both work.
	admin.Do("GET", "/v1/accounts", nil).Want(http.StatusUnauthorized)
	harness.Over(t, svc.Client(reset(t, svc.DatabaseURL))).Do("GET", "/v1/accounts?limit=1", nil).Want(http.StatusOK)
	fresh.Do("GET", "/v1/accounts?limit=1", nil).Want(http.StatusOK)
}

// TestSuperadminResetOnAnEmptyDatabase: with no superadmin at all, the
// reset creates one, as the first start would, and the service started
// afterwards takes its key.
func TestSuperadminResetOnAnEmptyDatabase(t *testing.T) {
	db := pgtest.Empty(t)
	key := reset(t, db)
	svc := harness.StartService(t, harness.WithDatabaseURL(db))
	harness.Over(t, svc.Client(key)).Do("POST", "/v1/accounts", map[string]any{"name": "First", "slug": "first"}).Want(http.StatusCreated)
}
