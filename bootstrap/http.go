package bootstrap

import (
	"net/http"
	"sync/atomic"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/ports"
)

// routes provides a slice's HTTP endpoints to the router.
func routes(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.ResultTags(`group:"routes"`)))
}

// HTTPModule serves the API and shuts it down gracefully: stop accepting,
// let requests in flight finish within LEADR_SHUTDOWN_TIMEOUT.
var HTTPModule = fx.Module("http",
	fx.Provide(
		func(d httpapi.Deps) (http.Handler, error) { return httpapi.NewRouter(d) },
		NewServer,
		func() *Draining { return new(Draining) },
	),
	fx.Provide(func(in struct {
		fx.In
		Routes        []httpapi.Routes `group:"routes"`
		Authenticator ports.Authenticator
		Health        ports.Pinger
		Logger        *zap.Logger
		Metrics       *httpapi.Metrics
		Tracing       *Tracing
		Config        Config
		RateLimits    httpapi.RateLimits
		Draining      *Draining
	}) httpapi.Deps {
		d := httpapi.Deps{Routes: in.Routes, Authenticator: in.Authenticator,
			Health: in.Health, Logger: in.Logger, Metrics: in.Metrics, CORSAllowedOrigins: in.Config.CORSAllowedOrigins,
			RequestTimeout: in.Config.RequestTimeout, Unavailable: store.Unavailable,
			RateLimits: in.RateLimits, TrustedProxies: in.Config.TrustedProxies, Draining: in.Draining.Load}
		if in.Tracing != nil {
			d.Tracing = in.Tracing.Middleware
		}
		return d
	}),
	fx.Invoke(func(*Server) {}),
)

// Draining is set from the start of shutdown: readiness answers 503.
type Draining struct{ atomic.Bool }
