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

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	e.router = newRouter(t, httpapi.Deps{Logger: zap.NewNop(), Health: e.pinger, Metrics: httpapi.NewMetrics(reg, reg)})
	e.do("GET", "/v1/health", "", nil).want(t, 200)
	e.do("GET", "/v1/health/live", "", nil).want(t, 200)
	e.do("GET", "/v1/nothing/ide_0195f2a0-0000-7000-8000-00000000abcd", "", nil).want(t, 404)

	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`leadr_http_requests_total{method="GET",route="/v1/health",status="200"} 1`,
		`leadr_http_requests_total{method="GET",route="/v1/health/live",status="200"} 1`,
		`leadr_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`leadr_http_request_duration_seconds_bucket{method="GET",route="/v1/health",status="200",le="+Inf"} 1`,
		`leadr_http_requests_in_flight 1`, // the /metrics request itself
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
	e.router = newRouter(t, httpapi.Deps{
		Routes: []httpapi.Routes{httpapi.IdentityRoutes(broken{panics: true})},
		Logger: zap.NewNop(), Health: e.pinger, Metrics: httpapi.NewMetrics(reg, reg), Authenticator: allowAll{},
	})
	e.do("GET", "/v1/identities", "", nil).want(t, 500)
	e.do("FOO1", "/v1/identities", "", nil).want(t, 405)
	e.do("FOO2", "/v1/identities", "", nil).want(t, 405)
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
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
