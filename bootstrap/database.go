package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/credcache"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/ports"
)

// schemaReady is a token: whoever needs the tables depends on it.
type schemaReady struct{}

// DatabaseModule opens the database, closes it last, and migrates it at
// start when LEADR_AUTO_MIGRATE is on.
var DatabaseModule = fx.Module("database",
	fx.Provide(
		OpenDatabase,
		migrateAtStart,
		store.New,
		openVault,
		openedVault.open,
		func(v *sealing.Vault) ports.SecretStore { return v },
		fx.Annotate(func(s *store.Store) *store.Store { return s }, fx.As(new(ports.Pinger))),
		func(db *store.DB) ports.Changes { return db.Changes() },
		// The credentials key seals what slices keep for others (games'
		// Steam keys, which sign-in opens).
		func(v *sealing.Vault) (ports.Cipher, error) {
			ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
			defer cancel()
			return v.Credentials(ctx)
		},
		useOutbox,
	),
	fx.Invoke(listenForChanges, func(outboxReady) {}),
)

// outboxReady is a token: whoever writes at start depends on it.
type outboxReady struct{}

// subscribers provides a slice's reactions to the events of others.
func subscribers(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.ResultTags(`group:"subscribers,flatten"`)))
}

// useOutbox has every write record its events in the API's shape, and
// hands them to every slice's subscribers in the writing transaction.
func useOutbox(in struct {
	fx.In
	Store       *store.Store
	Subscribers []ports.Subscriber `group:"subscribers"`
}) outboxReady {
	in.Store.Outbox().EncodeWith(httpapi.EncodeEvent)
	for _, s := range in.Subscribers {
		in.Store.Outbox().Subscribe(s)
	}
	return outboxReady{}
}

// credCacheMax is the most API keys, and the most access tokens, a replica
// keeps verified: about 1.1 KiB each with their index entries, so some
// 11 MiB per cache when full. Past it, arbitrary entries make room: a
// replica serving more players at once reads some tokens' sessions again.
const credCacheMax = 10_000

// credCache configures the caches of verified credentials.
func credCache(cfg Config, changes ports.Changes) credcache.Options {
	return credcache.Options{Changes: changes, TTL: cfg.AuthCacheTTL, Max: credCacheMax}
}

// listenForChanges keeps the change feed live while the service runs; the
// caches serve nothing while it is down.
func listenForChanges(lc fx.Lifecycle, db *store.DB, log *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				down := false
				db.Listen(ctx, func(err error) {
					switch {
					case err != nil:
						log.Warn("change feed lost: cached API keys and sessions are not used until it is back", zap.Error(err))
						down = true
					case down:
						log.Info("change feed back: caching API keys and sessions again")
						down = false
					}
				})
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			<-done
			return nil
		},
	})
}

func OpenDatabase(lc fx.Lifecycle, cfg Config, log *zap.Logger) (*store.DB, error) {
	if cfg.DatabaseDefaulted {
		log.Info("LEADR_DATABASE_URL is not set: using SQLite at " + strings.TrimPrefix(DefaultDatabaseURL, "sqlite:") +
			"; PostgreSQL is the backend for production (set LEADR_DATABASE_URL=postgres://…)")
	}
	db, err := store.Open(cfg.DatabaseURL.Reveal(), servingPool(cfg))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(db.Close))
	return db, nil
}

// servingPool bounds the statements of requests below their deadline:
// PostgreSQL ends a statement at 4/5 of it, and a wait for a lock at half
// of it, so that a slow or blocked statement ends with a clean error and
// its connection intact, and is answered 503 in time. When the deadline
// comes first, pgx has to drop the connection.
func servingPool(cfg Config) store.PoolOptions {
	return store.PoolOptions{
		MaxOpenConns:     cfg.DBMaxOpenConns,
		ConnMaxLifetime:  30 * time.Minute,
		StatementTimeout: cfg.RequestTimeout * 4 / 5,
		LockTimeout:      cfg.RequestTimeout / 2,
	}
}

// migrateAtStart migrates on a pool of its own, without the serving pool's
// statement timeouts: building an index on a large table, or waiting for
// another replica's migrations, takes longer than any request may.
func migrateAtStart(cfg Config, log *zap.Logger) (schemaReady, error) {
	if !cfg.AutoMigrate {
		return schemaReady{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	db, err := store.Open(cfg.DatabaseURL.Reveal(), store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		return schemaReady{}, err
	}
	defer db.Close()
	m, err := store.NewMigrator(db)
	if err != nil {
		return schemaReady{}, err
	}
	applied, err := m.Up(ctx)
	if err != nil {
		return schemaReady{}, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", zap.Strings("migrations", applied))
	}
	return schemaReady{}, nil
}
