package ports

import (
	"context"
	"time"
)

// RateLimit is how fast one key may make requests: Rate per Period on
// average, and up to Burst of them at once. A zero Rate is no limit.
type RateLimit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Off reports whether the limit lets everything through.
func (l RateLimit) Off() bool { return l.Rate <= 0 || l.Period <= 0 }

// RateLimiter counts requests against limits. Keys name what is limited
// (an API key's ID, a session's ID, a client address), never a secret.
type RateLimiter interface {
	// Allow counts one request of key against limit and says whether it may
	// go ahead and, when not, how long until one would. An error means the
	// limiter could not decide; callers let the request through.
	Allow(ctx context.Context, key string, limit RateLimit) (allowed bool, retryAfter time.Duration, err error)
}
