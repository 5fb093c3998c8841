package httpapi_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/domain/tenancy"
)

// scrape reads what m's handler serves.
func scrape(m *httpapi.Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	metrics := httpapi.NewMetrics(reg, reg)
	e.router = newRouter(t, httpapi.Deps{Logger: zap.NewNop(), Health: e.pinger, Metrics: metrics})
	e.do("GET", "/v1/health", "", nil).want(t, 200)
	e.do("GET", "/v1/health/live", "", nil).want(t, 200)
	e.do("GET", "/v1/nothing/ide_0195f2a0-0000-7000-8000-00000000abcd", "", nil).want(t, 404)
	// Issue 17, finding 7: the public port showed every tenant's traffic.
	// The metrics are served on the private listener only.
	e.do("GET", "/metrics", "", nil).want(t, 404)

	text := scrape(metrics)
	for _, want := range []string{
		`leadr_http_requests_total{method="GET",route="/v1/health",status="200"} 1`,
		`leadr_http_requests_total{method="GET",route="/v1/health/live",status="200"} 1`,
		`leadr_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`leadr_http_request_duration_seconds_bucket{method="GET",route="/v1/health",status="200",le="+Inf"} 1`,
		`leadr_http_requests_in_flight 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "abcd") || strings.Contains(text, "/v1/nothing") {
		t.Error("a raw path or ID is in a label")
	}
}

// A request that panics is counted as the 500 it is answered with, and a
// made-up method does not become a label.
func TestMetricsCountPanicsAndBoundMethods(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	metrics := httpapi.NewMetrics(reg, reg)
	e.router = newRouter(t, httpapi.Deps{
		Routes: []httpapi.Routes{httpapi.IdentityRoutes(broken{panics: true})},
		Logger: zap.NewNop(), Health: e.pinger, Metrics: metrics, Authenticator: allowAll{},
	})
	e.do("GET", "/v1/identities", "", nil).want(t, 500)
	e.do("FOO1", "/v1/identities", "", nil).want(t, 405)
	e.do("FOO2", "/v1/identities", "", nil).want(t, 405)
	text := scrape(metrics)
	for _, want := range []string{
		`leadr_http_requests_total{method="GET",route="/v1/identities",status="500"} 1`,
		`leadr_http_requests_total{method="other",route="unmatched",status="405"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "FOO") {
		t.Error("a made-up method is a label")
	}
}

type allowAll struct{}

func (allowAll) Authenticate(context.Context, string) (tenancy.Principal, error) {
	return tenancy.Principal{SuperAdmin: true}, nil
}
