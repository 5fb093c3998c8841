package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// errDatabaseDown is what the fake classifier calls a fault.
var errDatabaseDown = errors.New("dial tcp 10.0.0.1:5432: connect: connection refused")

// failing identities fail every list with err, or wait for the request's
// context to end when err is nil.
type failing struct {
	ports.Identities
	err error
}

func (f failing) List(ctx context.Context, _ tenancy.Principal, _ ports.ListIdentities) (paging.Page[*identity.Identity], error) {
	if f.err != nil {
		return paging.Page[*identity.Identity]{}, f.err
	}
	<-ctx.Done()
	return paging.Page[*identity.Identity]{}, ctx.Err()
}

func faultEnv(t *testing.T, err error, timeout time.Duration) *env {
	return newEnv(t, func(o *options) {
		o.identities = failing{err: err}
		o.requestTimeout = timeout
		o.unavailable = func(err error) bool { return errors.Is(err, errDatabaseDown) }
	})
}

func TestDatabaseFaultsAnswer503(t *testing.T) {
	t.Parallel()
	for name, e := range map[string]*env{
		"fault":    faultEnv(t, errDatabaseDown, time.Minute),
		"deadline": faultEnv(t, nil, 20*time.Millisecond),
	} {
		r := e.do("GET", "/v1/identities", e.super, nil).want(t, http.StatusServiceUnavailable, "Service temporarily unavailable")
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", name, r.header.Get("Retry-After"))
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"level":"warn"`) || strings.Contains(logs, `"level":"error"`) {
			t.Errorf("%s: a fault of the database is a warning, not an error:\n%s", name, logs)
		}
	}
	// Whatever the classifier does not know stays a bug.
	e := faultEnv(t, errors.New("bun: Model(unsupported map[int]int)"), time.Minute)
	e.do("GET", "/v1/identities", e.super, nil).want(t, http.StatusInternalServerError, "Internal Server Error")
}

func TestAbandonedRequestsAreNotErrors(t *testing.T) {
	t.Parallel()
	e := faultEnv(t, nil, time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, "GET", "/v1/identities", nil)
	req.Header.Set("leadr-api-key", e.super)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.router.ServeHTTP(rec, req)
	}()
	cancel() // the client hangs up while the list waits for the database
	<-done
	if rec.Code != 499 {
		t.Fatalf("status %d, want 499", rec.Code)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "client closed the request") || !strings.Contains(logs, `"status":499`) || strings.Contains(logs, `"level":"error"`) {
		t.Fatalf("an abandoned request is logged as an error or not at all:\n%s", logs)
	}
}

func TestHugeHeadersAnswer431(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := strings.Repeat("a", 60<<10)
	e.do("GET", "/v1/health", "", nil, "X-Big", big).want(t, http.StatusOK)
	e.do("GET", "/v1/health", "", nil, "X-Big", big, "X-Bigger", big[:5<<10]).
		want(t, http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large")
}

func TestRejectedInputIsEchoedBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	long := `"` + strings.Repeat("é", 3000) + `"`
	for name, value := range map[string]string{"deep": deep, "long": long, "wide": "[" + strings.Repeat(`"x",`, 2000) + `"x"]`,
		"a long number": strings.Repeat("1", 20000)} {
		body := `{"account_id":` + value + `,"game_id":` + value + `,"kind":` + value + `,"external_key":` + value + `}`
		r := e.do("POST", "/v1/identities", e.super, body)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d, want 422: %.200s", name, r.status, r.raw)
		}
		if len(r.raw) > 4<<10 {
			t.Errorf("%s: a %d-byte body answered with %d bytes", name, len(body), len(r.raw))
		}
		if !strings.Contains(r.raw, "…") {
			t.Errorf("%s: the cut is not marked: %.300s", name, r.raw)
		}
	}
	// Small inputs come back whole, as FastAPI echoes them.
	r := e.do("POST", "/v1/identities", e.super, `{"kind":[[1,2,{"a":"b"}]]}`).want(t, http.StatusUnprocessableEntity)
	if !strings.Contains(r.raw, `"input":[[1,2,{"a":"b"}]]`) {
		t.Errorf("a small input is not echoed whole: %s", r.raw)
	}
}

func TestReadinessSaysDraining(t *testing.T) {
	t.Parallel()
	var draining atomic.Bool
	e := newEnv(t, func(o *options) { o.draining = draining.Load })
	if r := e.do("GET", "/v1/health/ready", "", nil).want(t, http.StatusOK); r.str("status") != "ready" {
		t.Fatalf("ready: %s", r.raw)
	}
	draining.Store(true)
	if r := e.do("GET", "/v1/health/ready", "", nil).want(t, http.StatusServiceUnavailable); r.str("status") != "draining" {
		t.Fatalf("draining: %s", r.raw)
	}
	// The replica still serves while it drains.
	e.do("GET", "/v1/health", "", nil).want(t, http.StatusOK)
}

// TestUnreadBodiesAreNotDatabaseFaults: a body that breaks off is the
// client's doing, 408, even when its error looks like one the database
// adapter would call a fault.
func TestUnreadBodiesAreNotDatabaseFaults(t *testing.T) {
	t.Parallel()
	e := faultEnv(t, errDatabaseDown, time.Minute)
	req := httptest.NewRequest("POST", "/v1/identities", iotest.ErrReader(errDatabaseDown))
	req.Header.Set("leadr-api-key", e.super)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), "Request body not received in time") {
		t.Fatalf("%d %s, want 408", rec.Code, rec.Body)
	}
}
