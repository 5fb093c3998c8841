package bootstrap_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
)

func sqliteURL(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "leadr.db") }

// With an exporter, every request is a span, its database queries are its
// children, a caller's trace context is continued, and no value of a query
// (keys, hashes, secrets) reaches a span.
func TestTracing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	r := start(t, sqliteURL(t), nil, fx.Decorate(func(sdktrace.SpanExporter) sdktrace.SpanExporter { return keep{exp} }))
	super := keyPattern.FindString(r.stderr.String())
	account, user := userOf(t, r, super)
	status, key := r.call(t, "POST", "/v1/api-keys", super, map[string]any{"account_id": account, "user_id": user, "name": "traced"})
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %v", status, key)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, _ = r.call(t, "GET", "/v1/identities?kind=DEVICE", key["key"].(string), nil,
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if status != http.StatusOK {
		t.Fatalf("list: %d", status)
	}
	if err := r.app.Stop(context.Background()); err != nil { // flushes the spans
		t.Fatal(err)
	}

	spans := exp.GetSpans()
	var server *tracetest.SpanStub
	for i, s := range spans {
		if s.SpanKind == trace.SpanKindServer && s.SpanContext.TraceID().String() == traceID {
			server = &spans[i]
		}
	}
	if server == nil {
		t.Fatalf("no server span continues the caller's trace among %d spans", len(spans))
	}
	if !strings.Contains(server.Name, "/v1/identities") {
		t.Errorf("server span named %q, want the route", server.Name)
	}
	queries := 0
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindClient && s.Parent.SpanID() == server.SpanContext.SpanID() {
			queries++
		}
		for _, a := range s.Attributes {
			v := a.Value.String()
			if strings.Contains(v, super) || strings.Contains(v, key["key"].(string)) || strings.Contains(v, "DEVICE") {
				t.Errorf("span %q carries a value of a query or a key: %s=%.80s", s.Name, a.Key, v)
			}
		}
	}
	if queries < 2 { // authentication and the list
		t.Errorf("%d query spans under the request, want at least 2", queries)
	}
}

// keep keeps its spans when the service shuts its exporter down.
type keep struct{ *tracetest.InMemoryExporter }

func (keep) Shutdown(context.Context) error { return nil }

// userOf makes a user in a new account and returns both IDs.
func userOf(t *testing.T, r *replica, super string) (string, string) {
	t.Helper()
	_, acc := r.call(t, "POST", "/v1/accounts", super, map[string]any{"name": "Traced", "slug": "traced"})
	_, usr := r.call(t, "POST", "/v1/users", super, map[string]any{"account_id": acc["id"], "email": "t@traced.example", "display_name": "Traced"})
	return acc["id"].(string), usr["id"].(string)
}

// Without OTEL_TRACES_EXPORTER nothing is installed: even a tracer provider
// set globally by someone else records no span of the service.
func TestTracingOffInstallsNothing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	r := start(t, sqliteURL(t), nil)
	super := keyPattern.FindString(r.stderr.String())
	if status, _ := r.call(t, "GET", "/v1/accounts", super, nil); status != http.StatusOK {
		t.Fatalf("list: %d", status)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("tracing is off, yet %d spans were recorded", n)
	}
}

// TestMetricsOnThePrivateListener: /metrics is served on
// LEADR_METRICS_ADDR, never on the public port, where it showed every
// tenant's traffic.
func TestMetricsOnThePrivateListener(t *testing.T) {
	var private *bootstrap.PrivateListeners
	r := start(t, sqliteURL(t), map[string]string{"LEADR_METRICS_ADDR": "localhost:0"}, fx.Populate(&private))
	super := keyPattern.FindString(r.stderr.String())
	r.call(t, "GET", "/v1/accounts", super, nil)
	if status, _ := r.call(t, "GET", "/metrics", "", nil); status != http.StatusNotFound {
		t.Errorf("the public port answers /metrics: %d", status)
	}
	resp, err := http.Get("http://" + private.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
		`leadr_http_requests_total{method="GET",route="/v1/accounts",status="200"} 1`,
		`leadr_build_info{version="devel"} 1`,
		`go_sql_open_connections{db_name="leadr_write"}`,
		`go_sql_open_connections{db_name="leadr_read"}`,
		`go_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, super) {
		t.Error("a key is in the metrics")
	}
}
