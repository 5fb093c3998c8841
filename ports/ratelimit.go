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

// Window is how long an emptied budget takes to be whole again: Burst
// requests' worth of the pace.
func (l RateLimit) Window() time.Duration {
	return l.Period * time.Duration(max(l.Burst, 1)) / time.Duration(l.Rate)
}

// RateDecision is a limiter's answer for one request.
type RateDecision struct {
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter, when not Allowed, is how long until one would be.
	RetryAfter time.Duration
	// ResetAfter is how long until the whole budget (Burst) is back.
	ResetAfter time.Duration
}

// RateLimiter counts requests against limits. Keys name what is limited
// (an API key's ID, a session's ID, a client address), never a secret.
type RateLimiter interface {
	// Allow counts one request of key against limit and decides on it; a
	// limit that is Off allows everything. An error means the limiter could
	// not decide; callers let the request through.
	Allow(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
}
