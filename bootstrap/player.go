package bootstrap

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	appplayer "github.com/leadr-oss/identity/application/player"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// purgePlayersEvery is how often each replica erases the players and
// identities past their grace period; erasedPerPurge bounds one run, each
// erasure a transaction of its own, so that a backlog (a game's players
// deleted at once) goes over the following minutes.
const (
	purgePlayersEvery = time.Minute
	erasedPerPurge    = 200
)

// PlayerModule is the player aggregate: its store, use cases, endpoints,
// its reactions (a new identity comes with its player; no session starts
// for a banned one) and the purge of deleted players and identities.
var PlayerModule = fx.Module("player",
	fx.Provide(
		fx.Annotate(store.NewPlayers, fx.As(new(ports.PlayerRepository))),
		fx.Annotate(func(players ports.PlayerRepository, identities ports.IdentityRepository, cursors paging.Cursors, now ports.Clock, cfg Config) *appplayer.Service {
			return appplayer.NewService(appplayer.Deps{Players: players, Identities: identities, Cursors: cursors, Now: now, Grace: cfg.DeletionGrace})
		}, fx.As(new(ports.Players))),
	),
	routes(httpapi.PlayerRoutes),
	subscribers(appplayer.Reactions),
	fx.Invoke(func(lc fx.Lifecycle, repo ports.PlayerRepository, now ports.Clock, cfg Config, log *zap.Logger) {
		purgeInBackground(lc, purgePlayersEvery, "deleted players and identities", func(ctx context.Context) (int, error) {
			return repo.Purge(ctx, now(), cfg.DeletionGrace, erasedPerPurge)
		}, log)
	}),
)
