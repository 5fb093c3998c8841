package bootstrap

import (
	"context"
	"io"
	"time"

	"go.uber.org/fx"
)

// Stderr is where the generated bootstrap key is printed.
type Stderr io.Writer

// startTimeout bounds what start-up does against the database (connecting,
// migrating, reading secrets, bootstrap).
const startTimeout = 2 * time.Minute

// Aggregates are the slices of the service, each an fx module of its own
// (see identity.go): joining one to the service is a line here.
var Aggregates = []fx.Option{
	TenancyModule,
	GameModule,
	IdentityModule,
	PlayerModule,
	SigningKeyModule,
	SessionModule,
	EventsModule,
	WebhookModule,
}

// Service is the whole service: give it a configuration and run it.
func Service(cfg Config, stderr io.Writer) fx.Option {
	return fx.Options(
		Core(cfg, stderr),
		ObservabilityModule,
		HTTPModule,
		RateLimitModule,
		DebugModule,
		CacheMetricsModule,
		fx.Options(Aggregates...),
		// Last, so that its stop runs first: readiness answers 503 from the
		// first moment of shutdown, however long the background work of
		// the slices (the webhook dispatcher, the purges) takes to stop.
		fx.Invoke(func(lc fx.Lifecycle, d *Draining) {
			lc.Append(fx.Hook{OnStop: func(context.Context) error { d.Store(true); return nil }})
		}),
		fx.StopTimeout(cfg.ShutdownDrain+cfg.ShutdownTimeout+5*time.Second),
		fx.StartTimeout(startTimeout),
	)
}

// Core is what the service and every command that works on its database
// start from, so that they open it alike: the configuration, the log, the
// database and its secrets, and what the use cases share (the clock, the
// API-key hasher, the cursor codec).
func Core(cfg Config, stderr io.Writer) fx.Option {
	return fx.Options(
		SecretsModule,
		fx.Supply(cfg, fx.Annotate(stderr, fx.As(new(Stderr)))),
		LoggerModule,
		DatabaseModule,
		ApplicationModule,
	)
}
