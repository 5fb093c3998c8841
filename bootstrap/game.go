package bootstrap

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	appgame "github.com/leadr-oss/identity/application/game"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/ports"
)

// encryptionSecret is the name of the generated sealing key in the database.
const encryptionSecret = "encryption_key"

// GameModule is the game aggregate: its store, use cases and endpoints, and
// the cipher its Steam Web API keys are sealed with.
var GameModule = fx.Module("game",
	fx.Provide(
		fx.Annotate(store.NewGames, fx.As(new(ports.GameRepository))),
		fx.Annotate(appgame.NewService, fx.As(new(ports.Games))),
		func(_ schemaReady, s ports.SecretStore, log *zap.Logger, cfg Config) (ports.Cipher, error) {
			key, err := sharedSecret(s, log, cfg.EncryptionKey, encryptionSecret, "LEADR_ENCRYPTION_KEY")
			return sealing.NewCipher(key), err
		},
	),
	routes(httpapi.GameRoutes),
)
