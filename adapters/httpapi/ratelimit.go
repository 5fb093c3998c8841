package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
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

// policyNames name the scopes' policies in the RateLimit header fields.
var policyNames = [...]string{scopeAPIKey: "key", scopeSession: "session", scopeClientIP: "client_ip", scopeSignUp: "sign_up"}

// The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers,
// structured-field form): the policy of each limit a request was counted
// against, and what is left of it, so that clients pace themselves before
// a 429.
const (
	rateLimitPolicyHeader = "RateLimit-Policy"
	rateLimitHeader       = "RateLimit"
)

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

// keyLimit is an API key's limit: its own, which a superadmin set, or the
// default.
func (l *rateLimiter) keyLimit(own tenancy.RateLimit) ports.RateLimit {
	switch {
	case own.IsDefault():
		return l.APIKey
	case own.Off():
		return ports.RateLimit{}
	}
	return ports.RateLimit{Rate: own.Rate(), Period: own.Period(), Burst: own.Rate()}
}

// allowRate counts the request against scope's limit for key, and answers
// 429 with Retry-After when it is over. It reports whether the request may
// go on.
func allowRate(c *gin.Context, s rateScope, key string) bool {
	allowed, retryAfter := checkRate(c, s, key)
	return allowedOr429(c, allowed, retryAfter)
}

// allowKey is allowRate for the API key of p, under the key's own limit.
func allowKey(c *gin.Context, p tenancy.Principal) bool {
	l := requestRuntime(c).limits
	if l == nil {
		return true
	}
	allowed, retryAfter := l.check(c, scopeAPIKey, p.KeyID.String(), l.keyLimit(p.RateLimit))
	return allowedOr429(c, allowed, retryAfter)
}

func allowedOr429(c *gin.Context, allowed bool, retryAfter time.Duration) bool {
	if allowed {
		return true
	}
	// Whole seconds, rounded up: a client that waits what it is told is
	// let through.
	c.Header("Retry-After", strconv.Itoa(wholeSeconds(retryAfter, 1)))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, wire.Error{Detail: "Too many requests"})
	return false
}

// checkRate counts the request against scope's limit for key and says
// whether it may go on and, when not, how long until it would; it answers
// nothing itself but the RateLimit header fields.
func checkRate(c *gin.Context, s rateScope, key string) (allowed bool, retryAfter time.Duration) {
	l := requestRuntime(c).limits
	if l == nil {
		return true, 0
	}
	return l.check(c, s, key, l.limit(s))
}

func (l *rateLimiter) check(c *gin.Context, s rateScope, key string, limit ports.RateLimit) (bool, time.Duration) {
	if l.Limiter == nil || limit.Off() {
		return true, 0
	}
	d, err := l.Limiter.Allow(c.Request.Context(), scopeNames[s]+":"+key, limit)
	if err != nil {
		if c.Request.Context().Err() == nil { // a client gone is no failure of the limiter
			l.failed(s, err)
		}
		return true, 0
	}
	name := strconv.Quote(policyNames[s])
	appendField(c, rateLimitPolicyHeader, fmt.Sprintf("%s;q=%d;w=%d", name, max(limit.Burst, 1), wholeSeconds(limit.Window(), 1)))
	appendField(c, rateLimitHeader, fmt.Sprintf("%s;r=%d;t=%d", name, d.Remaining, wholeSeconds(d.ResetAfter, 0)))
	return d.Allowed, d.RetryAfter
}

// appendField adds item to the structured-field list in header name: a
// request counted against two limits (sign-in: its address, and the
// identities it creates) names both.
func appendField(c *gin.Context, name, item string) {
	if prev := c.Writer.Header().Get(name); prev != "" {
		item = prev + ", " + item
	}
	c.Header(name, item)
}

// wholeSeconds is d in whole seconds, rounded up, and at least least.
func wholeSeconds(d time.Duration, least int) int {
	return max(least, int(math.Ceil(d.Seconds())))
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
