package bootstrap

import (
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Names of the generated secrets in the database.
const (
	pepperSecret = "api_key_pepper"
	cursorSecret = "cursor_secret"
)

// ApplicationModule provides what every aggregate's use cases share: the
// clock, the API-key hasher and the cursor codec.
var ApplicationModule = fx.Module("application",
	fx.Provide(
		func() ports.Clock { return time.Now },
		func(_ schemaReady, s ports.SecretStore, log *zap.Logger, cfg Config) (auth.Hasher, error) {
			pepper, err := sharedSecret(s, log, cfg.APIKeyPepper, pepperSecret, "LEADR_API_KEY_PEPPER")
			return auth.NewHasher(pepper), err
		},
		func(_ schemaReady, s ports.SecretStore, log *zap.Logger, cfg Config) (paging.Cursors, error) {
			secret, err := sharedSecret(s, log, cfg.CursorSecret, cursorSecret, "LEADR_CURSOR_SECRET")
			return cursor.NewCodec(secret), err
		},
	),
)
