package acceptance

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadr-oss/identity/test/harness"
)

// TestMetricsStayPrivate reproduces finding 7 of issue 17: /metrics on the
// public port showed anyone every tenant's traffic, route by route. The
// public port answers 404 now; the private listener serves them.
func TestMetricsStayPrivate(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	harness.Over(t, tenant.Client).Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	harness.Over(t, svc.Anonymous()).Do("GET", "/metrics", nil).Want(http.StatusNotFound, "Not Found")

	resp, err := http.Get(svc.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := `leadr_http_requests_total{method="GET",route="/v1/identities",status="200"} 1`; resp.StatusCode != http.StatusOK ||
		!strings.Contains(string(body), want) {
		t.Fatalf("the private listener: %d, without %s", resp.StatusCode, want)
	}
}
