package bootstrap

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	appevents "github.com/leadr-oss/identity/application/events"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// purgeEventsEvery is how often events past LEADR_EVENT_RETENTION go.
const purgeEventsEvery = 10 * time.Minute

// EventsModule reads the outbox that every write fills (DatabaseModule
// sets it up): the audit log and the change feed, and the purge of events
// past their retention.
var EventsModule = fx.Module("events",
	fx.Provide(
		fx.Annotate(store.NewEvents, fx.As(new(ports.EventRepository))),
		fx.Annotate(func(repo ports.EventRepository, cursors paging.Cursors, now ports.Clock, cfg Config) *appevents.Service {
			return appevents.NewService(repo, cursors, now, cfg.EventRetention)
		}, fx.As(new(ports.Events))),
	),
	routes(httpapi.EventRoutes),
	fx.Invoke(func(lc fx.Lifecycle, repo ports.EventRepository, now ports.Clock, cfg Config, log *zap.Logger) {
		purgeInBackground(lc, purgeEventsEvery, "events past their retention", func(ctx context.Context) (int, error) {
			return repo.Purge(ctx, now().Add(-cfg.EventRetention))
		}, log)
	}),
)
