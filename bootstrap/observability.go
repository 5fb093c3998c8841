package bootstrap

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.uber.org/fx"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
)

// ServiceName names the service in traces unless OTEL_SERVICE_NAME does.
const ServiceName = "leadr-identity"

// ObservabilityModule provides the Prometheus metrics and, when configured,
// OpenTelemetry tracing.
var ObservabilityModule = fx.Module("observability",
	fx.Provide(newRegistry, newHTTPMetrics, newSpanExporter, newTracing),
)

// newRegistry is the registry /metrics serves: the HTTP metrics, the
// database pools, the Go runtime and process, and build information.
func newRegistry(cfg Config, db *store.DB) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "leadr_build_info",
		Help:        "Always 1; the version of the running service is a label.",
		ConstLabels: prometheus.Labels{"version": cfg.Version},
	})
	buildInfo.Set(1)
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		buildInfo,
	}
	for name, pool := range db.Pools() {
		cs = append(cs, collectors.NewDBStatsCollector(pool, name))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, nil
}

func newHTTPMetrics(reg *prometheus.Registry) *httpapi.Metrics {
	return httpapi.NewMetrics(reg, reg)
}

// newSpanExporter is the exporter the standard OTEL_* variables choose, or
// nil: tracing is off unless OTEL_TRACES_EXPORTER names an exporter (otlp,
// console, …), and off costs nothing, for nothing is installed.
func newSpanExporter(cfg Config) (sdktrace.SpanExporter, error) {
	if cfg.TracesExporter == "" || cfg.TracesExporter == "none" {
		return nil, nil
	}
	exp, err := autoexport.NewSpanExporter(context.Background())
	if err != nil {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%s: %w", cfg.TracesExporter, err)
	}
	return exp, nil
}

// Tracing is a span per request and per database query.
type Tracing struct {
	Middleware gin.HandlerFunc
}

// newTracing installs tracing when there is an exporter: the request
// middleware, and a query hook on every database pool. Queries are recorded
// without their values (bun inlines them), so no secret reaches a trace.
func newTracing(lc fx.Lifecycle, exp sdktrace.SpanExporter, db *store.DB) (*Tracing, error) {
	if exp == nil {
		return nil, nil
	}
	res, err := resource.New(context.Background(),
		resource.WithAttributes(semconv.ServiceName(ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	lc.Append(fx.StopHook(tp.Shutdown)) // flushes what is left
	propagators := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	db.AddQueryHook(bunotel.NewQueryHook(bunotel.WithTracerProvider(tp), bunotel.WithFormattedQueries(false)))
	return &Tracing{Middleware: otelgin.Middleware(ServiceName, otelgin.WithTracerProvider(tp), otelgin.WithPropagators(propagators))}, nil
}
