package bootstrap

import (
	"go.uber.org/fx"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	appgame "github.com/leadr-oss/identity/application/game"
	"github.com/leadr-oss/identity/ports"
)

// GameModule is the game aggregate: its store, use cases and endpoints. The
// cipher its Steam Web API keys are sealed with is the database module's,
// since sign-in opens them too.
var GameModule = fx.Module("game",
	fx.Provide(
		fx.Annotate(store.NewGames, fx.As(new(ports.GameRepository))),
		fx.Annotate(appgame.NewService, fx.As(new(ports.Games))),
	),
	routes(httpapi.GameRoutes),
)
