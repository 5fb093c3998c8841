package bootstrap

import (
	"context"
	"errors"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/steam"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/auth"
	appsession "github.com/leadr-oss/identity/application/session"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// Purging: how often, and how long a session stays listable after it
// expired or was revoked before it goes, and a rotated refresh token stays
// reuse (which revokes) after its rotation. Nonces go at the first purge
// after they expire, so a minute apart keeps them a couple of minutes at
// most; each purge is a few index scans per replica.
const (
	purgeEvery = time.Minute
	purgeKeep  = 7 * 24 * time.Hour
)

// orphansPerPurge bounds the sessions that one purge revokes because their
// identity or game was deleted (the deletion revoked the first
// appsession.RevokeWithDeletion): a few seconds of work per replica, so
// that the millions of sessions of a popular game are revoked over the
// following minutes, each run well inside its timeout, rather than in one
// run that the timeout cancels every time.
const orphansPerPurge = 50_000

// steamTimeout bounds every call to Steam's Web API.
const steamTimeout = 5 * time.Second

// SessionModule is client sign-in: sessions, their store,
// Steam tickets, the client and admin endpoints, and the purge of dead
// sessions and nonces, which also revokes the sessions that deletions left.
var SessionModule = fx.Module("session",
	fx.Provide(
		fx.Annotate(store.NewSessions, fx.As(new(ports.SessionRepository))),
		func(cfg Config) ports.SteamTickets {
			return steam.New(cfg.SteamAPIURL, cfg.SteamTicketIdentity, steamTimeout, nil)
		},
		fx.Annotate(newSessionService, fx.As(new(ports.ClientSessions)), fx.As(new(ports.IdentitySessions))),
	),
	routes(httpapi.SessionRoutes),
	subscribers(appsession.Reactions),
	fx.Invoke(func(lc fx.Lifecycle, repo ports.SessionRepository, now ports.Clock, log *zap.Logger) {
		purgeInBackground(lc, purgeEvery, "dead sessions", purgeSessions(repo, now, log), log)
	}),
)

type sessionDeps struct {
	fx.In
	Sessions    ports.SessionRepository
	Identities  ports.IdentityRepository
	GetOrCreate ports.Identities
	Games       ports.GameRepository
	Cipher      ports.Cipher
	Steam       ports.SteamTickets
	Tokens      ports.AccessTokens
	Hasher      auth.Hasher
	Cursors     paging.Cursors
	Now         ports.Clock
	Changes     ports.Changes
	Config      Config
	Players     ports.Players
	PlayerRepo  ports.PlayerRepository
}

func newSessionService(d sessionDeps) *appsession.Service {
	return appsession.NewService(appsession.Deps{
		Sessions: d.Sessions, Identities: d.Identities, GetOrCreate: d.GetOrCreate, Games: d.Games,
		Cipher: d.Cipher, Steam: d.Steam, Tokens: d.Tokens, Hasher: d.Hasher, Cursors: d.Cursors, Now: d.Now,
		Lifetimes: session.Lifetimes{Access: d.Config.AccessTokenTTL, Refresh: d.Config.RefreshTokenTTL, MaxAge: d.Config.SessionMaxAge},
		Cache:     credCache(d.Config, d.Changes),
		Players:   d.Players, PlayerRepository: d.PlayerRepo,
	})
}

// purgeSessions deletes expired nonces and long-dead sessions, then revokes
// sessions of deleted identities and games, as the system. It reports the
// sessions deleted; a failure of either part does not keep the other from
// running.
func purgeSessions(repo ports.SessionRepository, now ports.Clock, log *zap.Logger) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		purged, purgeErr := repo.Purge(ctx, now(), purgeKeep)
		revoked, revokeErr := repo.RevokeOrphaned(ctx, now(), orphansPerPurge)
		if revoked > 0 {
			log.Info("revoked sessions of deleted identities and games", zap.Int("sessions", revoked))
		}
		return purged, errors.Join(purgeErr, revokeErr)
	}
}
