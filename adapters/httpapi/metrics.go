package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the HTTP API's Prometheus metrics. Labels hold route
// templates ("/v1/identities/:identity_id"), never raw paths or IDs, so
// that their number stays small; requests that match no route are
// "unmatched".
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// limiterFailures counts requests let through because the rate
	// limiter could not decide.
	limiterFailures *prometheus.CounterVec
	gatherer        prometheus.Gatherer
}

// NewMetrics registers the HTTP metrics with reg; Handler serves what
// gatherer gathers.
func NewMetrics(reg prometheus.Registerer, gatherer prometheus.Gatherer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadr_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadr_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method, route template and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leadr_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		limiterFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadr_rate_limiter_failures_total",
			Help: "Requests let through unlimited because the rate limiter (Redis) failed, by limit.",
		}, []string{"limit"}),
		gatherer: gatherer,
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.limiterFailures)
	return m
}

func (m *Metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		labels := prometheus.Labels{"method": methodLabel(c.Request.Method), "route": route, "status": strconv.Itoa(c.Writer.Status())}
		m.requests.With(labels).Inc()
		m.duration.With(labels).Observe(time.Since(start).Seconds())
	}
}

// Handler serves the metrics in Prometheus's text format. It is for the
// private listener only (LEADR_METRICS_ADDR, LEADR_DEBUG_ADDR): the metrics
// show every tenant's traffic, so the public router does not serve them.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// methodLabel keeps the method label to a known set: any client can send
// any method, and each would be a new series.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}
