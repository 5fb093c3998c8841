package bootstrap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadr-oss/identity/application/cursor"
	"github.com/leadr-oss/identity/ports/paging"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/credcache"
	"github.com/leadr-oss/identity/application/sealing"
	"github.com/leadr-oss/identity/ports"
)

// Stderr is where the generated bootstrap key is printed.
type Stderr io.Writer

// startTimeout bounds what start-up does against the database (connecting,
// migrating, reading secrets, bootstrap).
const startTimeout = 2 * time.Minute

// Aggregates are the slices of the service, each an fx module of its own
// (see identity.go): joining one to the service is a line here.
var Aggregates = []fx.Option{
	TenancyModule,
	GameModule,
	IdentityModule,
	SessionModule,
}

// Service is the whole service: give it a configuration and run it.
func Service(cfg Config, stderr io.Writer) fx.Option {
	return fx.Options(
		Core(cfg, stderr),
		ObservabilityModule,
		HTTPModule,
		RateLimitModule,
		DebugModule,
		CacheMetricsModule,
		fx.Options(Aggregates...),
		fx.StopTimeout(cfg.ShutdownDrain+cfg.ShutdownTimeout+5*time.Second),
		fx.StartTimeout(startTimeout),
	)
}

// Core is what the service and every command that works on its database
// start from, so that they open it alike: the configuration, the log, the
// database and its secrets, and what the use cases share (the clock, the
// API-key hasher, the cursor codec).
func Core(cfg Config, stderr io.Writer) fx.Option {
	return fx.Options(
		SecretsModule,
		fx.Supply(cfg, fx.Annotate(stderr, fx.As(new(Stderr)))),
		LoggerModule,
		DatabaseModule,
		ApplicationModule,
	)
}

// LoggerModule provides zap, JSON by default, and routes fx's own events
// through it at debug level.
var LoggerModule = fx.Options(
	fx.Provide(NewLogger),
	fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
		z := &fxevent.ZapLogger{Logger: l}
		z.UseLogLevel(zapcore.DebugLevel)
		return z
	}),
)

func NewLogger(cfg Config) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	if cfg.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(cfg.LogLevel)
	zc.DisableStacktrace = true // panics are logged with their stack explicitly
	zc.EncoderConfig.TimeKey = "time"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}

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
	),
	fx.Invoke(listenForChanges),
)

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

// Names of the generated secrets in the database.
const (
	pepperSecret = "api_key_pepper"
	cursorSecret = "cursor_secret"
)

// sharedSecret returns the configured secret or, when there is none, the one
// generated once and stored in the database, sealed, for every replica.
func sharedSecret(secrets ports.SecretStore, log *zap.Logger, configured Secret, name, envVar string) ([]byte, error) {
	if configured != "" {
		return []byte(configured.Reveal()), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	v, err := secrets.Secret(ctx, name, func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	log.Debug(envVar+" is not set; using the generated secret, stored sealed in the database", zap.String("secret", name))
	return v, nil
}

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

// routes provides a slice's HTTP endpoints to the router.
func routes(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.ResultTags(`group:"routes"`)))
}

// HTTPModule serves the API and shuts it down gracefully: stop accepting,
// let requests in flight finish within LEADR_SHUTDOWN_TIMEOUT.
var HTTPModule = fx.Module("http",
	fx.Provide(
		func(d httpapi.Deps) (http.Handler, error) { return httpapi.NewRouter(d) },
		NewServer,
		func() *Draining { return new(Draining) },
	),
	fx.Provide(func(in struct {
		fx.In
		Routes        []httpapi.Routes `group:"routes"`
		Authenticator ports.Authenticator
		Health        ports.Pinger
		Logger        *zap.Logger
		Metrics       *httpapi.Metrics
		Tracing       *Tracing
		Config        Config
		RateLimits    httpapi.RateLimits
		Draining      *Draining
	}) httpapi.Deps {
		d := httpapi.Deps{Routes: in.Routes, Authenticator: in.Authenticator,
			Health: in.Health, Logger: in.Logger, Metrics: in.Metrics, CORSAllowedOrigins: in.Config.CORSAllowedOrigins,
			RequestTimeout: in.Config.RequestTimeout, Unavailable: store.Unavailable,
			RateLimits: in.RateLimits, TrustedProxies: in.Config.TrustedProxies, Draining: in.Draining.Load}
		if in.Tracing != nil {
			d.Tracing = in.Tracing.Middleware
		}
		return d
	}),
	fx.Invoke(func(*Server) {}),
)

// Draining is set from the start of shutdown: readiness answers 503.
type Draining struct{ atomic.Bool }

// Server is the running HTTP server.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	addr net.Addr

	mu sync.Mutex
	// fresh are the connections accepted whose first request has not
	// arrived whole: net/http drops a request that arrives after Shutdown
	// began without an answer, so shutdown waits for them first.
	fresh map[net.Conn]struct{}
}

// Addr is the address the server listens on, known once it started.
func (s *Server) Addr() net.Addr { return s.addr }

func NewServer(lc fx.Lifecycle, cfg Config, h http.Handler, log *zap.Logger, draining *Draining) *Server {
	s := &Server{fresh: map[net.Conn]struct{}{}}
	// A request's line and headers are read and parsed before anything
	// checks them: net/http's default of 1 MiB let 50 unauthenticated
	// requests of header lines take 300 MB. MaxHeaderBytes is twice the
	// adapter's limit, so that headers over that limit still get its 431
	// in the contract's shape; past twice, net/http answers a plain 431.
	s.srv = &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		MaxHeaderBytes:    2 * httpapi.MaxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
		ConnState:         s.track,
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
			}
			s.ln, s.addr = ln, ln.Addr()
			log.Info("listening", zap.String("addr", ln.Addr().String()))
			go func() {
				err := s.srv.Serve(ln)
				if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
					log.Error("http server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// Behind a load balancer: readiness fails first, and requests
			// are still served while the balancer notices and stops
			// sending them (LEADR_SHUTDOWN_DRAIN).
			draining.Store(true)
			if cfg.ShutdownDrain > 0 {
				log.Info("shutting down: draining, readiness answers 503", zap.Duration("drain", cfg.ShutdownDrain))
				select {
				case <-time.After(cfg.ShutdownDrain):
				case <-ctx.Done():
				}
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			log.Info("shutting down: finishing requests in flight", zap.Duration("timeout", cfg.ShutdownTimeout))
			// No new connection; then the requests of connections already
			// accepted may arrive whole before Shutdown, which would drop
			// them. The wait is capped: a connection that sends nothing (a
			// preconnect, a TCP health check) must not take the time of
			// the requests in flight.
			// (Keep-alives stay on until then: turning them off closes
			// the connections still sending their first request's headers.)
			_ = s.ln.Close()
			s.awaitFirstRequests(ctx, min(readHeaderTimeout, cfg.ShutdownTimeout/2))
			err := s.srv.Shutdown(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				// The time for requests in flight is up: drop what is left,
				// and still stop cleanly.
				log.Warn("shutdown timeout reached: closing the connections that remain")
				return s.srv.Close()
			}
			if errors.Is(err, net.ErrClosed) { // the listener, closed above
				err = nil
			}
			return err
		},
	})
	return s
}

// readHeaderTimeout is how long a connection has to send a request's
// headers, and so the longest shutdown waits for a first request.
const readHeaderTimeout = 10 * time.Second

func (s *Server) track(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

// awaitFirstRequests waits until every connection accepted has sent its
// first request (or given up, by the read header timeout), for at most
// limit.
func (s *Server) awaitFirstRequests(ctx context.Context, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.fresh)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
