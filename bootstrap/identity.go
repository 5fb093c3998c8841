package bootstrap

import (
	"go.uber.org/fx"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	appidentity "github.com/leadr-oss/identity/application/identity"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// IdentityModule is the identity aggregate: its store, use cases and
// endpoints. Every aggregate joins the service this way: a module of its
// own, named in Aggregates.
var IdentityModule = fx.Module("identity",
	fx.Provide(
		fx.Annotate(store.NewIdentities, fx.As(new(ports.IdentityRepository))),
		fx.Annotate(func(repo ports.IdentityRepository, accounts ports.TenancyRepository, cursors paging.Cursors, now ports.Clock, cfg Config) *appidentity.Service {
			return appidentity.NewService(repo, accounts, cursors, now).WithDeletionGrace(cfg.DeletionGrace)
		}, fx.As(new(ports.Identities))),
	),
	routes(httpapi.IdentityRoutes),
)
