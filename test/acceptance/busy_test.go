package acceptance

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	_ "modernc.org/sqlite" // the other process's driver
)

// TestSQLiteBusyAnswers503: another process holding the SQLite file's
// write lock past the request's deadline is the database being
// unavailable, not a bug: 503 with Retry-After in time, nothing written,
// and service again once the lock goes.
func TestSQLiteBusyAnswers503(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "leadr.db")
	svc := harness.StartService(t, harness.WithDatabaseURL("sqlite:"+path), harness.WithEnv("LEADR_REQUEST_TIMEOUT", "1s"))
	tenant := harness.NewTenant(t, svc)
	create := client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: "DEVICE", ExternalKey: newDevice()}

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a := harness.Over(t, tenant.Client).Do("POST", "/v1/identities", create).Want(http.StatusServiceUnavailable, "Service temporarily unavailable")
	if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", a.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("answered after %s with a 1s deadline", took)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	// Nothing was written: the same request now creates the identity.
	harness.NewIdentity(t, tenant.Client, create)
}
