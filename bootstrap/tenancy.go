package bootstrap

import (
	"context"
	"fmt"
	"io"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/auth"
	apptenancy "github.com/leadr-oss/identity/application/tenancy"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// TenancyModule is accounts, users and API keys: their store, use cases,
// endpoints, the authenticator of API keys, and the superadmin bootstrap.
var TenancyModule = fx.Module("tenancy",
	fx.Provide(
		fx.Annotate(store.NewTenancy, fx.As(new(ports.TenancyRepository))),
		fx.Annotate(apptenancy.NewService, fx.As(new(ports.Tenancy))),
		fx.Annotate(func(repo ports.TenancyRepository, hasher auth.Hasher, now ports.Clock, cfg Config, changes ports.Changes) *auth.Authenticator {
			return auth.NewAuthenticator(repo, hasher, now).WithCache(credCache(cfg, changes))
		}, fx.As(new(ports.Authenticator))),
	),
	routes(httpapi.TenancyRoutes),
	fx.Invoke(bootstrapSuperadmin),
)

func bootstrapSuperadmin(_ schemaReady, _ outboxReady, repo ports.TenancyRepository, hasher auth.Hasher, now ports.Clock, cfg Config, log *zap.Logger, stderr Stderr) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	generated, created, err := auth.Bootstrap(ctx, repo, hasher, now, cfg.SuperadminAPIKey.Reveal())
	if err != nil {
		return fmt.Errorf("bootstrap superadmin: %w", err)
	}
	switch {
	case !created:
	case generated != "":
		log.Info("bootstrap: created the system account and a superadmin; its API key is printed once on standard error")
		fmt.Fprintf(stderr, "\n"+
			"  LEADR superadmin API key (shown once, store it now):\n\n"+
			"    %s\n\n"+
			"  Send it in the leadr-api-key header. Set LEADR_SUPERADMIN_API_KEY to choose the key instead.\n\n", generated)
	default:
		log.Info("bootstrap: created the system account and a superadmin with the key from LEADR_SUPERADMIN_API_KEY")
	}
	return nil
}

// SuperadminReset is the break-glass (leadr superadmin reset): when no
// superadmin key works any more, it issues a fresh one against the
// configured database, creating a superadmin when there is none, and
// prints it on out. It opens the database and its secrets as the service
// does (Core), so the key is hashed under the same pepper and works at
// once on every replica.
func SuperadminReset(ctx context.Context, cfg Config, out, stderr io.Writer) error {
	var (
		repo   ports.TenancyRepository
		hasher auth.Hasher
		now    ports.Clock
		log    *zap.Logger
	)
	app := fx.New(Core(cfg, stderr),
		fx.Provide(fx.Annotate(store.NewTenancy, fx.As(new(ports.TenancyRepository)))),
		fx.Populate(&repo, &hasher, &now, &log))
	if err := app.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = app.Stop(context.WithoutCancel(ctx)) }()
	plaintext, err := auth.ResetSuperadmin(ctx, repo, hasher, now)
	if err != nil {
		return err
	}
	log.Info("superadmin reset: issued a break-glass superadmin key", zap.String("key_prefix", plaintext[:tenancy.KeyPrefixLen]))
	fmt.Fprintln(out, plaintext)
	fmt.Fprint(stderr, "\n  A fresh superadmin API key, shown once, is printed on standard output: store it now.\n"+
		"  It works at once on every replica. Revoke the keys you no longer trust with it (PATCH /v1/api-keys/{key_id}).\n\n")
	return nil
}
