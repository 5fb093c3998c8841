package bootstrap

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/ratelimit"
)

// RateLimitModule provides the API's rate limits: counted in Redis when
// LEADR_REDIS_URL is set, shared by every replica, or by each replica in
// process.
var RateLimitModule = fx.Module("ratelimit",
	fx.Provide(func(lc fx.Lifecycle, cfg Config, log *zap.Logger) (httpapi.RateLimits, error) {
		limits := httpapi.RateLimits{APIKey: cfg.RateLimitAPIKey, Session: cfg.RateLimitSession, ClientIP: cfg.RateLimitClientIP, SignUp: cfg.RateLimitSignUp}
		if cfg.RedisURL == "" {
			limits.Limiter = ratelimit.NewMemory(time.Now)
			return limits, nil
		}
		r, err := ratelimit.NewRedis(cfg.RedisURL.Reveal(), time.Now)
		if err != nil {
			return limits, err
		}
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				// Redis down at start is no reason not to serve: the limits
				// let requests through until it answers (see httpapi).
				if err := r.Ping(ctx); err != nil {
					log.Warn("Redis does not answer: rate limits are off until it does", zap.Error(err))
				}
				return nil
			},
			OnStop: func(context.Context) error { return r.Close() },
		})
		limits.Limiter = r
		return limits, nil
	}),
)
