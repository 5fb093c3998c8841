package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/leadr-oss/identity/ports"
)

// Redis limits in Redis, so that every replica counts against the same
// limits.
type Redis struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
	now     func() time.Time
	// downUntil, in Unix nanoseconds: after a failure, Redis is not asked
	// again for a while, so that a Redis that does not answer costs each
	// request nothing rather than a timeout.
	downUntil atomic.Int64
}

// Timeouts of Redis: a limiter must never be what makes a request slow.
const (
	redisDialTimeout = time.Second
	redisIOTimeout   = 250 * time.Millisecond
	// redisBackoff is how long Redis is left alone after a failure.
	redisBackoff = time.Second
)

// errRedisDown is the answer while Redis is left alone after a failure.
var errRedisDown = errors.New("redis: not asked for a second after a failure")

// NewRedis connects to the Redis of url (redis:// or rediss://, with
// go-redis's options). The connection is made on first use.
func NewRedis(url string, now func() time.Time) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// go-redis's message may quote the URL, password included.
		return nil, errors.New("redis URL: not a redis:// or rediss:// URL go-redis understands")
	}
	opts.DialTimeout = redisDialTimeout
	opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = redisIOTimeout, redisIOTimeout, redisIOTimeout
	opts.MaxRetries = -1 // a retry would only double the wait of a request
	quietRedis.Do(func() { redis.SetLogger(silent{}) })
	client := redis.NewClient(opts)
	return &Redis{client: client, limiter: redis_rate.NewLimiter(client), now: now}, nil
}

func (r *Redis) Allow(ctx context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	if limit.Off() {
		return ports.RateDecision{Allowed: true, Remaining: limit.Burst}, nil
	}
	if r.now().UnixNano() < r.downUntil.Load() {
		return ports.RateDecision{Allowed: true}, errRedisDown
	}
	res, err := r.limiter.Allow(ctx, "leadr:"+key, redis_rate.Limit{Rate: limit.Rate, Period: limit.Period, Burst: max(limit.Burst, 1)})
	if err != nil {
		if ctx.Err() == nil { // the request's own end is no fault of Redis
			r.downUntil.Store(r.now().Add(redisBackoff).UnixNano())
		}
		return ports.RateDecision{Allowed: true}, err
	}
	d := ports.RateDecision{Allowed: res.Allowed > 0, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}

// go-redis prints its own failures to standard error, outside the
// service's structured log; the HTTP adapter logs and counts them instead.
var quietRedis sync.Once

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// Ping asks whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes the connections to Redis.
func (r *Redis) Close() error { return r.client.Close() }
