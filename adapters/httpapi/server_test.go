package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/nope", "", nil).want(t, http.StatusNotFound, "Not Found")
	e.do("GET", "/nope", e.super, nil).want(t, http.StatusNotFound, "Not Found")
	// Route checks come before authentication.
	r := e.do("DELETE", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000", "", nil).want(t, http.StatusMethodNotAllowed, "Method Not Allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") {
		t.Fatalf("Allow: %q", allow)
	}
	e.do("PUT", "/v1/accounts", e.super, nil).want(t, http.StatusMethodNotAllowed, "Method Not Allowed")
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	endpoints := []struct{ method, path string }{
		{"POST", "/v1/identities"}, {"GET", "/v1/identities"},
		{"GET", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000"}, {"PATCH", "/v1/identities/ide_0195f2a0-0000-7000-8000-000000000000"},
		{"POST", "/v1/accounts"}, {"GET", "/v1/accounts"}, {"GET", "/v1/accounts/" + acme.account},
		{"POST", "/v1/users"}, {"GET", "/v1/users"}, {"GET", "/v1/users/" + acme.user},
		{"POST", "/v1/api-keys"}, {"GET", "/v1/api-keys"},
		{"GET", "/v1/api-keys/key_0195f2a0-0000-7000-8000-000000000000"}, {"PATCH", "/v1/api-keys/key_0195f2a0-0000-7000-8000-000000000000"},
		{"POST", "/v1/games"}, {"GET", "/v1/games"}, {"GET", "/v1/games/" + acme.game}, {"PATCH", "/v1/games/" + acme.game},
	}
	for _, ep := range endpoints {
		// Invalid input too: an unauthenticated caller learns nothing about it.
		e.do(ep.method, ep.path+"?limit=0&account_id=x", "", "{").want(t, http.StatusUnauthorized, "API key required")
		for _, key := range []string{"nope", "ldr_" + strings.Repeat("A", 43), acme.key + "x", strings.ToUpper(acme.key)} {
			e.do(ep.method, ep.path, key, "{").want(t, http.StatusUnauthorized, "Invalid or expired API key")
		}
	}
	e.do("GET", "/v1/identities", acme.key, nil, "authorization", "Bearer whatever", "leadr-client-nonce", "n").want(t, http.StatusOK)

	t.Run("revoked keys fail on their next use", func(t *testing.T) {
		key := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "short-lived"}).want(t, http.StatusCreated)
		e.do("GET", "/v1/identities", key.str("key"), nil).want(t, http.StatusOK)
		e.do("PATCH", "/v1/api-keys/"+key.str("id"), acme.key, map[string]any{"status": "revoked"}).want(t, http.StatusOK)
		e.do("GET", "/v1/identities", key.str("key"), nil).want(t, http.StatusUnauthorized, "Invalid or expired API key")
	})

	t.Run("expired keys fail", func(t *testing.T) {
		expires := e.clock.Now().Add(time.Hour).Format(time.RFC3339)
		key := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "expiring", "expires_at": expires}).want(t, http.StatusCreated)
		if key.str("expires_at") != expires {
			t.Fatalf("expires_at %q, want %q", key.str("expires_at"), expires)
		}
		e.do("GET", "/v1/identities", key.str("key"), nil).want(t, http.StatusOK)
		e.clock.Advance(time.Hour)
		e.do("GET", "/v1/identities", key.str("key"), nil).want(t, http.StatusUnauthorized, "Invalid or expired API key")
	})
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/health", "", nil).want(t, http.StatusOK)
	if r.raw != `{"service":"leadr","status":"healthy","database":"connected"}` {
		t.Fatalf("health: %s", r.raw)
	}
	e.do("GET", "/v1/health/live", "", nil).want(t, http.StatusOK)
	e.pinger.err = errors.New("connection refused")
	r = e.do("GET", "/v1/health", "", nil).want(t, http.StatusServiceUnavailable)
	if r.str("status") != "unhealthy" || r.str("database") != "disconnected" || r.str("service") != "leadr" {
		t.Fatalf("unhealthy: %s", r.raw)
	}
	e.do("GET", "/v1/health/live", "", nil).want(t, http.StatusOK)
}

// broken is a use case that fails the way bugs do.
type broken struct {
	ports.Identities
	panics bool
}

func (b broken) List(context.Context, tenancy.Principal, ports.ListIdentities) (paging.Page[*identity.Identity], error) {
	if b.panics {
		panic("boom: SELECT secret FROM somewhere")
	}
	return paging.Page[*identity.Identity]{}, errors.New(`pq: relation "identities" does not exist`)
}

func TestServerErrorsRevealNothing(t *testing.T) {
	for _, panics := range []bool{false, true} {
		e := newEnv(t, func(o *options) { o.identities = broken{panics: panics} })
		r := e.do("GET", "/v1/identities", e.super, nil, "X-Request-ID", "req-42").want(t, http.StatusInternalServerError)
		if r.raw != `{"detail":"Internal Server Error","request_id":"req-42"}` {
			t.Fatalf("500 body: %s", r.raw)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, `"request_id":"req-42"`) || !strings.Contains(logs, `"status":500`) {
			t.Fatalf("the failure is not logged with its request ID:\n%s", logs)
		}
		if panics && !strings.Contains(logs, "goroutine") {
			t.Fatalf("a panic is logged without its stack:\n%s", logs)
		}
		// The server still serves.
		e.do("GET", "/v1/health", "", nil).want(t, http.StatusOK)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/health", "", nil, "X-Request-ID", "abc-123")
	if got := r.header.Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("a well-formed request ID is not echoed: %q", got)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 129), "new\nline"} {
		r := e.do("GET", "/v1/health", "", nil, "X-Request-ID", bad)
		if got := r.header.Get("X-Request-ID"); got == bad || len(got) != 32 {
			t.Fatalf("request ID %q was answered with %q", bad, got)
		}
	}
}

func TestSecretsStayOutOfLogsAndResponses(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	key := e.do("POST", "/v1/api-keys", acme.key, map[string]any{"user_id": acme.user, "name": "k"}).want(t, http.StatusCreated)
	e.do("GET", "/v1/identities", key.str("key"), nil).want(t, http.StatusOK)
	e.do("GET", "/v1/identities", key.str("key")+"x", nil).want(t, http.StatusUnauthorized)
	got := e.do("GET", "/v1/api-keys/"+key.str("id"), acme.key, nil).want(t, http.StatusOK)
	list := e.do("GET", "/v1/api-keys?limit=100", e.super, nil).want(t, http.StatusOK)
	for _, secret := range []string{e.super, acme.key, key.str("key"), testPepper, testCursorSecret, testEncryptionKey} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("a secret is in the log")
		}
		for _, body := range []string{got.raw, list.raw} {
			if strings.Contains(body, secret) {
				t.Fatalf("a secret is in a response")
			}
		}
	}
	if _, ok := got.body["key"]; ok {
		t.Fatal("GET returns a key field")
	}
}

func TestRouteAndAuthComeBeforeBodySize(t *testing.T) {
	e := newEnv(t)
	big := `{"x":"` + strings.Repeat("a", 2<<20) + `"}`
	e.do("POST", "/v1/nothing", "", big).want(t, http.StatusNotFound, "Not Found")
	e.do("DELETE", "/v1/identities", "", big).want(t, http.StatusMethodNotAllowed, "Method Not Allowed")
	e.do("POST", "/v1/identities", "", big).want(t, http.StatusUnauthorized, "API key required")
	e.do("POST", "/v1/identities", e.super, big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	e.do("POST", "/v1/games", "", big).want(t, http.StatusUnauthorized, "API key required")
	e.do("PATCH", "/v1/games/gam_0195f2a0-0000-7000-8000-000000000000", e.super, big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	// Client endpoints: the bearer check comes first too; sign-in and
	// refresh are the authentication, so their size is checked at once.
	e.do("PATCH", "/v1/client/me", "", big).want(t, http.StatusUnauthorized, "Access token required")
	e.do("DELETE", "/v1/client/sessions/current", "", big).want(t, http.StatusUnauthorized, "Access token required")
	e.do("POST", "/v1/client/sessions", "", big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	e.do("POST", "/v1/client/sessions/refresh", "", big).want(t, http.StatusRequestEntityTooLarge, "Request body too large")
	// A GET's body is never read, so its size does not matter.
	e.do("GET", "/v1/identities", e.super, big).want(t, http.StatusOK)
}

func TestTrailingSlashIsNotARoute(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/identities/", e.super, nil).want(t, http.StatusNotFound, "Not Found")
	e.do("POST", "/v1/accounts/", e.super, map[string]any{}).want(t, http.StatusNotFound, "Not Found")
}

func TestBodiesMustBeUnicode(t *testing.T) {
	e := newEnv(t)
	acme := e.newTenant("acme")
	i := e.newIdentity(acme, map[string]any{"external_key": "device-0001"})
	path := "/v1/identities/" + i.str("id")
	p := e.do("PATCH", path, acme.key, "{\"display_name\": \"\xff\xfe\"}").problems(t)[0]
	if p["type"] != "json_invalid" {
		t.Fatalf("invalid UTF-8: %v", p)
	}
	e.do("PATCH", path, acme.key, `{"display_name": "a\ud800b"}`).wantProblem(t, "string_unicode", "body", "display_name")
	ok := e.do("PATCH", path, acme.key, `{"display_name": "\ud83d\ude00 \ufffd"}`).want(t, http.StatusOK)
	if ok.str("display_name") != "😀 \ufffd" {
		t.Fatalf("a surrogate pair and an escaped U+FFFD: %q", ok.str("display_name"))
	}
	if got := e.do("GET", path, acme.key, nil); got.str("display_name") != "😀 \ufffd" {
		t.Fatalf("stored: %q", got.str("display_name"))
	}
}

func TestHugeLimits(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/identities?limit=99999999999999999999", e.super, nil).wantProblem(t, "less_than_equal", "query", "limit")
	e.do("GET", "/v1/identities?limit=-99999999999999999999", e.super, nil).wantProblem(t, "greater_than_equal", "query", "limit")
}
