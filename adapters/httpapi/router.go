// Package httpapi is the HTTP adapter: gin routes, middleware, request
// parsing with FastAPI's validation shapes, and DTOs.
package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi/openapi"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

func init() {
	// Debug mode prints every route at start and warns about itself.
	gin.SetMode(gin.ReleaseMode)
}

// Routes is one aggregate's part of the API: its endpoints and its fragment
// of the OpenAPI document (paths and schemas, see package openapi).
type Routes struct {
	// Mount adds the admin endpoints to api, the /v1 group behind API-key
	// authentication. It may be nil.
	Mount func(api gin.IRoutes)
	// MountClient adds the endpoints of game clients to client, the
	// /v1/client group, which adds nothing to them: no API key (game
	// clients cannot keep one secret) and no body limit. The slice
	// authenticates them itself (bearer tokens, or nothing for sign-in) and
	// puts limitBody() on each route, after its bearer check where it has
	// one, so that 401 comes before 413 as on the admin endpoints. CORS for
	// the configured origins covers every path under the group, from the
	// engine. It may be nil.
	MountClient func(client gin.IRoutes)
	// MountPublic adds endpoints at the root that anyone may read (the
	// JWKS). It may be nil.
	MountPublic func(root gin.IRoutes)
	OpenAPI     []byte
}

// Deps are what the HTTP API drives.
type Deps struct {
	// Routes are the aggregates' endpoints.
	Routes        []Routes
	Authenticator ports.Authenticator
	Health        ports.Pinger
	Logger        *zap.Logger
	// Metrics, when set, counts requests (served on the private listener,
	// never here).
	Metrics *Metrics
	// Tracing, when set, is the first middleware (a span per request).
	Tracing gin.HandlerFunc
	// CORSAllowedOrigins may call the client endpoints from browsers
	// (LEADR_CORS_ALLOWED_ORIGINS): scheme://host[:port], no wildcard. None
	// by default. Admin endpoints answer no origin.
	CORSAllowedOrigins []string
	// RequestTimeout is every request's deadline (LEADR_REQUEST_TIMEOUT);
	// zero: none.
	RequestTimeout time.Duration
	// Unavailable tells faults of the database (503) from bugs (500); see
	// store.Unavailable.
	Unavailable func(error) bool
	RateLimits  RateLimits
	// TrustedProxies are the addresses or CIDRs of the proxies whose
	// X-Forwarded-For names the client (LEADR_TRUSTED_PROXIES); none by
	// default: the client is the connection's peer.
	TrustedProxies []string
	// Draining reports that the replica is shutting down: readiness says
	// 503 so that load balancers send it nothing new. It may be nil.
	Draining func() bool
}

// NewRouter builds the whole HTTP API. Checks run in the contract's order:
// on admin endpoints route (404/405), authentication (401), validation
// (422), access (403), existence (404); on client endpoints route, access
// token (401), validation (422), nonce (412), existence (404).
func NewRouter(d Deps) (*gin.Engine, error) {
	fragments := make([][]byte, len(d.Routes))
	for i, rs := range d.Routes {
		fragments[i] = rs.OpenAPI
	}
	document, err := openapi.Assemble(openapi.Base, fragments...)
	if err != nil {
		return nil, err
	}
	origins, err := parseOrigins(d.CORSAllowedOrigins)
	if err != nil {
		return nil, err
	}
	policy := &corsPolicy{origins: origins}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false // "/v1/identities/" is not a route: 404
	// The client's address (logs, per-address limits) is the peer's unless
	// the peer is a trusted proxy; then X-Forwarded-For, read from the
	// right, names it. X-Real-IP is not read: proxies rarely strip it.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	rt := &runtime{unavailable: d.Unavailable,
		limits: &rateLimiter{RateLimits: d.RateLimits, metrics: d.Metrics, log: d.Logger},
		bodies: &bodyBudget{limit: BodyBudgetBytes}}
	if d.Tracing != nil {
		r.Use(d.Tracing)
	}
	r.Use(requestID(d.Logger), accessLog())
	if d.Metrics != nil {
		// Outside recovery, so that requests that panic are counted as the
		// 500s they are answered with.
		r.Use(d.Metrics.middleware())
	}
	// CORS on the engine, not on the client group: a preflight is an
	// OPTIONS, which gin answers 405 without running any group's middleware.
	r.Use(recovery(), limitHeaders(), deadline(d.RequestTimeout, rt), policy.handle)
	// Routes take the middleware in use when they are added: every route
	// comes after it. /metrics is not one: the metrics show every tenant's
	// traffic and are served on the private listener (Metrics.Handler).
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", document) })
	r.GET("/docs", serveDocs)
	r.GET("/docs/:asset", serveDocsAsset)
	r.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, wire.Error{Detail: "Not Found"}) })
	r.NoMethod(func(c *gin.Context) { c.JSON(http.StatusMethodNotAllowed, wire.Error{Detail: "Method Not Allowed"}) })

	v1 := r.Group("/v1")
	v1.GET("/health", health(d.Health))
	v1.GET("/health/live", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"service": "leadr", "status": "alive"}) })
	v1.GET("/health/ready", func(c *gin.Context) {
		if d.Draining != nil && d.Draining() {
			c.JSON(http.StatusServiceUnavailable, gin.H{"service": "leadr", "status": "draining"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"service": "leadr", "status": "ready"})
	})

	api := v1.Group("", authenticate(d.Authenticator), limitBody())
	// The client group has no authentication of its own (sign-in is the
	// authentication) and so no body limit either: each route puts
	// limitBody after its bearer check, so that 401 comes before 413 as on
	// the admin endpoints.
	client := r.Group(ClientPrefix)
	for _, rs := range d.Routes {
		if rs.Mount != nil {
			rs.Mount(api)
		}
		if rs.MountClient != nil {
			rs.MountClient(client)
		}
		if rs.MountPublic != nil {
			rs.MountPublic(r)
		}
	}
	policy.routes = clientRoutes(r)
	return r, nil
}

// HealthTimeout is how long the database has to answer a health check.
const HealthTimeout = time.Second

func health(db ports.Pinger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), HealthTimeout)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			logger(c).Warn("health check: database does not answer", zap.Error(err))
			c.JSON(http.StatusServiceUnavailable, wire.Health{Service: "leadr", Status: "unhealthy", Database: "disconnected"})
			return
		}
		c.JSON(http.StatusOK, wire.Health{Service: "leadr", Status: "healthy", Database: "connected"})
	}
}
