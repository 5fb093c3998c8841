package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/wire"
)

// statusOf maps error categories to statuses.
var statusOf = map[domain.Category]int{
	domain.CategoryInvalid:         http.StatusUnprocessableEntity,
	domain.CategoryBadRequest:      http.StatusBadRequest,
	domain.CategoryUnauthenticated: http.StatusUnauthorized,
	domain.CategoryForbidden:       http.StatusForbidden,
	domain.CategoryNotFound:        http.StatusNotFound,
	domain.CategoryConflict:        http.StatusConflict,
	// A nonce that is missing, unknown, used or expired: the request's
	// precondition, not its content, is wrong.
	domain.CategoryPreconditionFailed: http.StatusPreconditionFailed,
	domain.CategoryUnavailable:        http.StatusServiceUnavailable,
	domain.CategoryGone:               http.StatusGone,
}

// fail answers err: the one place where errors become responses. A fault
// of the database, or the request's deadline, is 503; a request its client
// abandoned is 499 to the logs and metrics. Anything else without a
// category is a bug: it is logged and answered with a bare 500 that reveals
// nothing.
func fail(c *gin.Context, err error) {
	var invalid *invalidRequest
	if errors.As(err, &invalid) {
		c.JSON(http.StatusUnprocessableEntity, wire.Problems{Detail: bounded(invalid.problems)})
		return
	}
	if errors.Is(err, errTooLarge) {
		c.JSON(http.StatusRequestEntityTooLarge, wire.Error{Detail: errTooLarge.Error()})
		return
	}
	var de *domain.Error
	categorised := errors.As(err, &de)
	var unread *unreadBody
	isUnread := errors.As(err, &unread)
	if (isUnread || !categorised || de.Category == domain.CategoryUnavailable) && abandoned(c) {
		// Nobody reads the answer: not an error of ours, and not one to
		// count as one.
		logger(c).Info("client closed the request", zap.Error(err))
		c.AbortWithStatus(StatusClientClosedRequest)
		return
	}
	if isUnread {
		// Slow or broken uploads are the client's: 408 and the
		// connection closed, rather than a 503 that blames the database.
		logger(c).Info("request body not received", zap.Error(err))
		c.Header("Connection", "close")
		c.JSON(http.StatusRequestTimeout, wire.Error{Detail: "Request body not received in time"})
		return
	}
	if !categorised {
		if !unavailable(c, err) {
			logger(c).Error("request failed", zap.Error(err))
			internalError(c)
			return
		}
		de = errUnavailable
	}
	if de.Category == domain.CategoryInvalid {
		// Use-case input arrives in request bodies (path and query inputs are
		// checked in this adapter), so a field the domain rejects is a body
		// field. A missing field's input is the whole body, as in pydantic.
		var ps problems
		ps.addDomain("body", "", err)
		for i := range ps.list {
			if ps.list[i].Type == "missing" && ps.list[i].Input == nil {
				ps.list[i].Input, _ = c.Get(bodyKey)
			}
		}
		c.JSON(http.StatusUnprocessableEntity, wire.Problems{Detail: bounded(ps.list)})
		return
	}
	status, ok := statusOf[de.Category]
	if !ok {
		logger(c).Error("request failed", zap.Error(err))
		internalError(c)
		return
	}
	if de.Category == domain.CategoryUnavailable {
		// The caller is told only that a dependency is down, and when to
		// try again; the operator needs the reason (the database, Steam
		// down or refusing the game's key). The wrapped reasons hold no
		// secret (see adapters/steam; database errors name no value).
		logger(c).Warn("a dependency is unavailable", zap.Error(err))
		c.Header("Retry-After", retryAfterSeconds)
	}
	if errors.Is(err, session.ErrAccessRequired) || errors.Is(err, session.ErrAccessInvalid) {
		// RFC 6750: a 401 of a bearer check names the scheme the client
		// must use. Other 401s (an API key, a refresh token in a body, a
		// Steam ticket) are not answers a bearer token would change, and
		// clients that refresh on this header must not retry them.
		c.Header("WWW-Authenticate", "Bearer")
	}
	if len(de.Facts) > 0 {
		c.Data(status, "application/json; charset=utf-8", withFacts(de))
		return
	}
	c.JSON(status, wire.Error{Detail: de.Message})
}

// withFacts is the body of an error that tells facts beside its detail
// (when a ban ends, which player holds an identity): each a top-level
// field after "detail", in the order of their names, so that the same
// error is always the same bytes. Times are written as every timestamp
// of the API; a zero time is null.
func withFacts(de *domain.Error) []byte {
	b := append([]byte(`{"detail":`), factJSON(de.Message)...)
	for _, name := range slices.Sorted(maps.Keys(de.Facts)) {
		b = append(b, ',')
		b = append(b, factJSON(name)...)
		b = append(b, ':')
		b = append(b, factJSON(factValue(de.Facts[name]))...)
	}
	return append(b, '}')
}

func factValue(v any) any {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return nil
		}
		return wireTime(t)
	case *time.Time:
		if t == nil || t.IsZero() {
			return nil
		}
		return wireTime(*t)
	}
	return v
}

// factJSON encodes a fact's name or value: strings, times, IDs and nil,
// which always encode. Anything else that will not is a bug, answered as
// null rather than with a broken body.
func factJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// StatusClientClosedRequest is nginx's name for a request whose client
// went away before the answer: logged and counted, never sent.
const StatusClientClosedRequest = 499

// errUnavailable answers a fault of the database.
var errUnavailable = domain.Unavailable("Service temporarily unavailable")

// retryAfterSeconds is the Retry-After of a 503: the faults behind one (a
// restarting database, a lock, a full pool) pass in seconds, and clients
// that wait longer only add to the queue when it passes.
const retryAfterSeconds = "1"

// abandoned reports whether the client went away: the request's context
// was cancelled rather than past its deadline.
func abandoned(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}

// unavailable reports whether err is the request's deadline passing or a
// fault the database adapter recognises (Deps.Unavailable).
func unavailable(c *gin.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(c.Request.Context().Err(), context.DeadlineExceeded) {
		return true
	}
	classify := requestRuntime(c).unavailable
	return classify != nil && classify(err)
}

// internalError answers the contract's 500, with the request ID that finds
// the failure in the logs.
func internalError(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusInternalServerError, wire.Error{Detail: "Internal Server Error", RequestID: c.GetString(requestIDKey)})
}
