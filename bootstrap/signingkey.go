package bootstrap

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/application/sealing"
	appsigningkey "github.com/leadr-oss/identity/application/signingkey"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/ports"
)

const (
	// legacyTokenSecret is where earlier versions kept the HS256 secret,
	// and legacyTokensUntil when the tokens it signed are refused: fixed at
	// the first start of this version, the same for every replica.
	legacyTokenSecret = "access_token_secret"
	legacyTokensUntil = "access_token_secret_until"
	// legacyRollout is how long older replicas may go on issuing HS256
	// tokens during a rolling upgrade, beyond the first new one's start.
	legacyRollout = time.Hour
	// maintainKeysEvery is how often each replica looks at the keys'
	// schedule; a rotation is due Lead (minutes) before it takes effect.
	maintainKeysEvery        = time.Minute
	reloadKeysWithoutChanges = 2 * time.Second
)

// SigningKeyModule is the keys that sign access tokens: their store, the
// access tokens themselves, the JWKS endpoint, and on every replica the
// keys' schedule and reloading when another replica or `leadr keys`
// changed them.
var SigningKeyModule = fx.Module("signingkey",
	fx.Provide(
		fx.Annotate(store.NewSigningKeys, fx.As(new(ports.SigningKeyRepository))),
		fx.Annotate(newSigningKeys, fx.As(fx.Self()), fx.As(new(ports.SigningKeys)), fx.As(new(ports.SigningKeyAdmin))),
		newAccessTokens,
	),
	routes(httpapi.JWKSRoutes),
	fx.Invoke(followSigningKeys),
)

func signingKeys(repo ports.SigningKeyRepository, cipher ports.Cipher, now ports.Clock, cfg Config) *appsigningkey.Service {
	return appsigningkey.NewService(appsigningkey.Deps{Keys: repo, Cipher: cipher, Now: now,
		Schedule: signingkey.Schedule{Rotation: cfg.SigningKeyRotation, TokenTTL: cfg.AccessTokenTTL}})
}

// newSigningKeys loads the keys, making the first one on a new database,
// so that a key signs from the first request.
func newSigningKeys(_ schemaReady, repo ports.SigningKeyRepository, cipher ports.Cipher, now ports.Clock, cfg Config) (*appsigningkey.Service, error) {
	keys := signingKeys(repo, cipher, now, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := keys.Maintain(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return keys, nil
}

// newAccessTokens signs with the signing keys and, on a database that an
// earlier version signed HS256 tokens for, accepts those until they expire.
func newAccessTokens(_ schemaReady, keys ports.SigningKeys, s *store.Store, vault ports.SecretStore, cfg Config, now ports.Clock, log *zap.Logger) (ports.AccessTokens, error) {
	opts := []tokens.Option{tokens.WithClock(now)}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	secret := []byte(cfg.AccessTokenSecret.Reveal())
	if len(secret) == 0 {
		stored, err := store.NewSecrets(s).Has(ctx, legacyTokenSecret)
		if err != nil {
			return nil, err
		}
		if stored {
			// Stored already: the generator is never used.
			if secret, err = vault.Secret(ctx, legacyTokenSecret, sealing.RandomKey); err != nil {
				return nil, err
			}
		}
	}
	if len(secret) > 0 {
		until, err := vault.Secret(ctx, legacyTokensUntil, func() []byte {
			return binary.BigEndian.AppendUint64(nil, uint64(now().Add(cfg.AccessTokenTTL+legacyRollout).Unix()))
		})
		if err != nil || len(until) != 8 {
			return nil, errors.Join(errors.New("read when HS256 tokens end"), err)
		}
		end := time.Unix(int64(binary.BigEndian.Uint64(until)), 0)
		if now().Before(end) {
			opts = append(opts, tokens.WithLegacySecret(secret, end))
			log.Info("accepting the HS256 access tokens of the earlier version until they expire", zap.Time("until", end))
		}
	}
	return tokens.New(keys, cfg.TokenIssuer, opts...), nil
}

// followSigningKeys keeps the loaded keys on schedule and in step with the
// other replicas: it reloads them when a key changed elsewhere (or when
// changes may have been missed), and looks at the schedule every minute.
func followSigningKeys(lc fx.Lifecycle, keys *appsigningkey.Service, changes ports.Changes, log *zap.Logger) {
	every := maintainKeysEvery
	if changes == nil {
		// Nothing tells this replica of another's changes (SQLite, or a
		// transaction pooler with no direct address): look often, so that
		// a revoked key stops signing here within seconds.
		every = reloadKeysWithoutChanges
	}
	kick := make(chan struct{}, 1)
	if changes != nil {
		changes.Subscribe(func(c ports.Change) {
			if c.ID == "" || strings.HasPrefix(c.ID, id.SigningKey{}.Prefix()+"_") {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-kick:
						loadCtx, done := context.WithTimeout(ctx, 10*time.Second)
						if err := keys.Load(loadCtx); err != nil && ctx.Err() == nil {
							log.Warn("reloading the signing keys failed; the next change or minute retries", zap.Error(err))
						}
						done()
					}
				}
			})
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
	purgeInBackground(lc, every, "signing keys", func(ctx context.Context) (int, error) {
		return 0, keys.Maintain(ctx)
	}, log)
}

// Keys runs `leadr keys rotate|revoke KID|list` against the database of
// cfg; the serving replicas hear of a change at once on PostgreSQL, within
// 2 s on SQLite or behind a transaction pooler. Wrong arguments are
// ErrKeysUsage, found before anything is opened.
func Keys(ctx context.Context, cfg Config, args []string, out, stderr io.Writer) error {
	var revoke id.SigningKeyID
	switch {
	case len(args) == 1 && (args[0] == "list" || args[0] == "rotate"):
	case len(args) == 2 && args[0] == "revoke":
		kid, err := id.Parse[id.SigningKey](args[1])
		if err != nil {
			return fmt.Errorf("%w: %q is no signing key ID (sgk_…)", ErrKeysUsage, args[1])
		}
		revoke = kid
	default:
		return ErrKeysUsage
	}
	var (
		admin ports.SigningKeyAdmin
		log   *zap.Logger
	)
	app := fx.New(Core(cfg, stderr),
		fx.Provide(
			fx.Annotate(store.NewSigningKeys, fx.As(new(ports.SigningKeyRepository))),
			// Only what the operator asked for: the schedule and pruning are
			// the serving replicas', whose settings (the token TTL) this
			// shell may not have.
			func(_ schemaReady, repo ports.SigningKeyRepository, cipher ports.Cipher, now ports.Clock, cfg Config) ports.SigningKeyAdmin {
				return signingKeys(repo, cipher, now, cfg)
			},
		),
		fx.Populate(&admin, &log))
	if err := app.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = app.Stop(context.WithoutCancel(ctx)) }()

	switch args[0] {
	case "rotate":
		next, created, err := admin.Rotate(ctx)
		if err != nil {
			return err
		}
		if created {
			log.Info("keys rotate: published the next signing key", zap.String("kid", next.ID.String()), zap.Time("signs_from", next.SignsFrom))
			fmt.Fprintf(stderr, "%s is published now and signs from %s on.\n", next.ID, next.SignsFrom.Format(time.RFC3339))
		} else {
			fmt.Fprintf(stderr, "%s is published already and signs from %s on: nothing to do.\n", next.ID, next.SignsFrom.Format(time.RFC3339))
		}
	case "revoke":
		if _, err := admin.Revoke(ctx, revoke); err != nil {
			return err
		}
		log.Warn("keys revoke: unpublished a signing key; its tokens are refused", zap.String("kid", revoke.String()))
		fmt.Fprintf(stderr, "%s is revoked: the tokens it signed are refused, and their clients refresh.\n", revoke)
	}
	keys, err := admin.List(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tSTATE\tCREATED\tSIGNS FROM\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if !k.RevokedAt.IsZero() {
			revoked = k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.CreatedAt.Format(time.RFC3339), k.SignsFrom.Format(time.RFC3339), revoked)
	}
	return w.Flush()
}

// ErrKeysUsage: `leadr keys` was given arguments it does not take.
var ErrKeysUsage = errors.New("usage: leadr keys rotate | revoke KID | list")
