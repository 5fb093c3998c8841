package httpapi

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/ports"
)

// RateLimits are the API's limits (LEADR_RATE_LIMIT_*): per API key on the
// admin endpoints, per session on a signed-in client's, and per client
// address on sign-in and refresh, which nothing else guards. A limit whose
// Rate is zero is off; without a Limiter all are.
type RateLimits struct {
	Limiter  ports.RateLimiter
	APIKey   ports.RateLimit
	Session  ports.RateLimit
	ClientIP ports.RateLimit
	// SignUp counts the identities client sign-ins create per client
	// address: a sign-in that finds its identity costs nothing of it.
	SignUp ports.RateLimit
}

// A rate scope is what one limit counts; its name prefixes the keys and
// labels the metric.
type rateScope int

const (
	scopeAPIKey rateScope = iota
	scopeSession
	scopeClientIP
	scopeSignUp
)

var scopeNames = [...]string{scopeAPIKey: "api_key", scopeSession: "session", scopeClientIP: "client_ip", scopeSignUp: "sign_up"}

// rateLimiter applies RateLimits, and lets requests through when the
// limiter fails: a limiter that is down must not take the service down
// with it. Each failure is counted; the log says so at most every
// failureLogEvery.
type rateLimiter struct {
	RateLimits
	metrics *Metrics
	log     *zap.Logger
	// lastLogged is when a failure was last logged, in Unix nanoseconds.
	lastLogged atomic.Int64
}

const failureLogEvery = 10 * time.Second

func (l *rateLimiter) limit(s rateScope) ports.RateLimit {
	switch s {
	case scopeAPIKey:
		return l.APIKey
	case scopeSession:
		return l.Session
	case scopeSignUp:
		return l.SignUp
	default:
		return l.ClientIP
	}
}

// allowRate counts the request against scope's limit for key, and answers
// 429 with Retry-After when it is over. It reports whether the request may
// go on.
func allowRate(c *gin.Context, s rateScope, key string) bool {
	allowed, retryAfter := checkRate(c, s, key)
	if allowed {
		return true
	}
	// Whole seconds, rounded up: a client that waits what it is told is
	// let through.
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds())))))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, detail{Detail: "Too many requests"})
	return false
}

// checkRate counts the request against scope's limit for key and says
// whether it may go on and, when not, how long until it would; it answers
// nothing itself.
func checkRate(c *gin.Context, s rateScope, key string) (allowed bool, retryAfter time.Duration) {
	l := requestRuntime(c).limits
	if l == nil || l.Limiter == nil || l.limit(s).Off() {
		return true, 0
	}
	allowed, retryAfter, err := l.Limiter.Allow(c.Request.Context(), scopeNames[s]+":"+key, l.limit(s))
	if err != nil {
		if c.Request.Context().Err() == nil { // a client gone is no failure of the limiter
			l.failed(s, err)
		}
		return true, 0
	}
	return allowed, retryAfter
}

func (l *rateLimiter) failed(s rateScope, err error) {
	if l.metrics != nil {
		l.metrics.limiterFailures.WithLabelValues(scopeNames[s]).Inc()
	}
	now := time.Now().UnixNano()
	last := l.lastLogged.Load()
	if now-last >= int64(failureLogEvery) && l.lastLogged.CompareAndSwap(last, now) {
		l.log.Warn("rate limiter failed: letting requests through unlimited until it answers again", zap.Error(err))
	}
}

// limitClientIP limits a route per client address (see
// LEADR_TRUSTED_PROXIES for how the address is found).
func limitClientIP(c *gin.Context) {
	if !allowRate(c, scopeClientIP, clientNetwork(c.ClientIP())) {
		return
	}
	c.Next()
}

// clientNetwork is what one client's address counts as: an IPv4 address,
// or the /64 of an IPv6 one, since a single subscriber is routinely given
// a whole /64 and could otherwise use 2^64 keys.
func clientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
