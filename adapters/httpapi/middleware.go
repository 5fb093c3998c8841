package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/wire"
)

// Context keys.
const (
	loggerKey    = "leadr.logger"
	requestIDKey = "leadr.request_id"
	principalKey = "leadr.principal"
	bodyKey      = "leadr.body"
	runtimeKey   = "leadr.runtime"
)

// RequestIDHeader carries a request's ID in and out.
const RequestIDHeader = "X-Request-ID"

// APIKeyHeader carries the caller's API key.
const APIKeyHeader = "leadr-api-key"

var wellFormedRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID takes a well-formed X-Request-ID or makes one, echoes it, and
// gives the request a logger that names it (and its trace, when traced).
func requestID(base *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		rid := c.GetHeader(RequestIDHeader)
		if !wellFormedRequestID.MatchString(rid) {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			rid = hex.EncodeToString(b)
		}
		c.Header(RequestIDHeader, rid)
		c.Set(requestIDKey, rid)
		fields := []zap.Field{zap.String("request_id", rid)}
		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
			fields = append(fields, zap.String("trace_id", sc.TraceID().String()))
		}
		c.Set(loggerKey, base.With(fields...))
		c.Next()
	}
}

func logger(c *gin.Context) *zap.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*zap.Logger)
	}
	return zap.NewNop()
}

// recovery turns a panic into the contract's 500 and logs it with its stack.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logger(c).Error("panic", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
				if !c.Writer.Written() {
					internalError(c)
				}
			}
		}()
		c.Next()
	}
}

// accessLog writes one line per request. It logs no header, no query string
// and no body: nothing secret can leak through it.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		fields := []zap.Field{
			zap.String("method", c.Request.Method),
			zap.String("route", c.FullPath()),
			zap.String("path", c.Request.URL.Path),
			zap.Int("status", c.Writer.Status()),
			zap.Duration("duration", time.Since(start)),
			zap.Int("bytes", c.Writer.Size()),
			zap.String("client_ip", c.ClientIP()),
		}
		if p, ok := c.Get(principalKey); ok {
			fields = append(fields, zap.String("api_key_id", p.(tenancy.Principal).KeyID.String()))
		}
		l := logger(c)
		switch status := c.Writer.Status(); {
		case status == http.StatusServiceUnavailable:
			// A dependency's fault, logged with its reason by fail: not a
			// bug of ours.
			l.Warn("request", fields...)
		case status >= 500 && status != StatusClientClosedRequest:
			l.Error("request", fields...)
		default:
			l.Info("request", fields...)
		}
	}
}

// runtime is what the adapter's helpers need beyond the request: fail,
// which errors are faults of the database; allowRate, the limits;
// limitBody, the budget of bodies in flight.
type runtime struct {
	unavailable func(error) bool
	limits      *rateLimiter
	bodies      *bodyBudget
}

func requestRuntime(c *gin.Context) *runtime {
	if rt, ok := c.Get(runtimeKey); ok {
		return rt.(*runtime)
	}
	return &runtime{}
}

// deadline gives the request its deadline (LEADR_REQUEST_TIMEOUT), which
// reaches the database through the request's context, and its runtime.
func deadline(timeout time.Duration, rt *runtime) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(runtimeKey, rt)
		if timeout <= 0 {
			c.Next()
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// MaxHeaderBytes is the most a request's headers may take; more is 431.
// The HTTP server itself refuses what passes its own, larger, limit.
const MaxHeaderBytes = 64 << 10

// limitHeaders answers 431 to a request whose header lines (names, values
// and their separators) take more than MaxHeaderBytes.
func limitHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		n := 0
		for name, values := range c.Request.Header {
			for _, v := range values {
				n += len(name) + len(v) + len(": \r\n")
			}
		}
		if n > MaxHeaderBytes {
			c.AbortWithStatusJSON(http.StatusRequestHeaderFieldsTooLarge, wire.Error{Detail: "Request Header Fields Too Large"})
			return
		}
		c.Next()
	}
}

// authenticate requires a valid API key and stores its principal.
func authenticate(auth ports.Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := auth.Authenticate(c.Request.Context(), c.GetHeader(APIKeyHeader))
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		c.Set(principalKey, p)
		if !allowKey(c, p) {
			return
		}
		actAs(c, event.Actor{Kind: event.ActorAPIKey, ID: p.KeyID.String()})
		c.Next()
	}
}

// actAs puts who acts in the request's context, for the events of what it
// changes.
func actAs(c *gin.Context, a event.Actor) {
	c.Request = c.Request.WithContext(event.WithActor(c.Request.Context(), a))
}

func principal(c *gin.Context) tenancy.Principal {
	return c.MustGet(principalKey).(tenancy.Principal)
}
