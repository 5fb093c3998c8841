package acceptance

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/test/harness"
)

func TestHealthAndRoutes(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	w := harness.Over(t, svc.Anonymous())
	h := w.Do("GET", "/v1/health", nil).Want(http.StatusOK)
	if h.JSON["service"] != "leadr" || h.JSON["status"] != "healthy" || h.JSON["database"] != "connected" || len(h.JSON) != 3 {
		t.Fatalf("health: %s", h.Body)
	}
	w.Do("GET", "/v1/health/live", nil).Want(http.StatusOK)
	w.Do("GET", "/v1/leaderboards", nil).Want(http.StatusNotFound, "Not Found")
	w.Do("GET", "/", nil).Want(http.StatusNotFound, "Not Found")
	a := w.Do("DELETE", "/v1/identities", nil).Want(http.StatusMethodNotAllowed, "Method Not Allowed")
	if allow := a.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow: %q", allow)
	}
	w.Do("PUT", "/v1/api-keys/key_0195f2a0-0000-7000-8000-000000000000", nil).Want(http.StatusMethodNotAllowed, "Method Not Allowed")
	if rid := w.Do("GET", "/v1/health/live", nil).Header.Get("X-Request-ID"); rid == "" {
		t.Fatal("no X-Request-ID on the answer")
	}
}
