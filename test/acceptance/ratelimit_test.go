package acceptance

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/redistest"
)

// wantLimited checks a 429 as the contract writes it.
func wantLimited(t *testing.T, a harness.Answer) {
	t.Helper()
	a.Want(http.StatusTooManyRequests, "Too many requests")
	if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("429 with Retry-After %q, want whole seconds", a.Header.Get("Retry-After"))
	}
}

func TestRateLimitPerAPIKey(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "5/h"))
	tenant := harness.NewTenant(t, svc) // 3 requests of the superadmin's key, 1 of the tenant's
	w := harness.Over(t, tenant.Client)
	for range 4 {
		w.Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	}
	wantLimited(t, w.Do("GET", "/v1/identities", nil))
	// Another key has a count of its own.
	harness.Over(t, svc.Admin()).Do("GET", "/v1/games", nil).Want(http.StatusOK)
	// Without a key, or with a wrong one, the answer is 401 as before: the
	// limit counts authenticated keys only.
	harness.Over(t, svc.Client("ldr_"+strings.Repeat("x", 43))).Do("GET", "/v1/identities", nil).Want(http.StatusUnauthorized)
}

func TestRateLimitPerSession(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_SESSION", "3/h"))
	tenant := harness.NewTenant(t, svc)
	one, two := deviceSignIn(t, svc, tenant.Game.ID, newDevice()), deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	for range 3 {
		bearer(t, svc, one.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	}
	wantLimited(t, bearer(t, svc, one.AccessToken).Do("GET", "/v1/client/me", nil))
	bearer(t, svc, two.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	// A wrong token is 401, not counted against anyone.
	bearer(t, svc, "junk").Do("GET", "/v1/client/me", nil).Want(http.StatusUnauthorized)
}

// TestRateLimitPerClientAddress: sign-in and refresh are limited per client
// address, which X-Forwarded-For names only when the peer is a trusted
// proxy.
func TestRateLimitPerClientAddress(t *testing.T) {
	t.Parallel()
	signInFrom := func(svc *harness.Service, game, forwardedFor string) harness.Answer {
		return bearer(t, svc, "", "X-Forwarded-For", forwardedFor).
			Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": newDevice()})
	}
	t.Run("untrusted peer: the header is ignored", func(t *testing.T) {
		t.Parallel()
		svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_CLIENT_IP", "2/h"))
		game := harness.NewTenant(t, svc).Game.ID
		checkSignIn(t, signInFrom(svc, game, "203.0.113.1"))
		checkSignIn(t, signInFrom(svc, game, "203.0.113.2"))
		wantLimited(t, signInFrom(svc, game, "203.0.113.3"))
		// Refresh counts against the same address.
		wantLimited(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": "x"}))
	})
	t.Run("trusted proxy: each forwarded client counts apart", func(t *testing.T) {
		t.Parallel()
		svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_CLIENT_IP", "2/h"),
			harness.WithEnv("LEADR_TRUSTED_PROXIES", "127.0.0.1/32,::1"))
		game := harness.NewTenant(t, svc).Game.ID
		for range 2 {
			checkSignIn(t, signInFrom(svc, game, "203.0.113.1"))
		}
		wantLimited(t, signInFrom(svc, game, "203.0.113.1"))
		// A client cannot escape by prepending addresses: the proxy
		// appends the peer it saw, which is what counts.
		wantLimited(t, signInFrom(svc, game, "198.51.100.7, 203.0.113.1"))
		checkSignIn(t, signInFrom(svc, game, "203.0.113.2"))
	})
}

// TestRateLimitsSharedThroughRedis: two replicas on one Redis count
// against one limit; with Redis down they let requests through, say so in
// the log and count it, and limit again once Redis is back.
func TestRateLimitsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	redis.Stoppable(t)
	logs := &logSink{}
	first := harness.StartService(t, harness.WithEnv("LEADR_REDIS_URL", redis.URL), harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "4/h"),
		harness.WithEnv("LEADR_LOG_LEVEL", "warn"), harness.WithLogWriter(logs))
	second := harness.StartService(t, harness.WithDatabaseURL(first.DatabaseURL), harness.WithEnv("LEADR_REDIS_URL", redis.URL),
		harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "4/h"), harness.WithEnv("LEADR_SUPERADMIN_API_KEY", first.SuperadminKey))
	tenant := harness.NewTenant(t, first)
	key := tenant.Key.Key
	harness.Over(t, first.Client(key)).Do("GET", "/v1/identities", nil).Want(http.StatusOK) // NewTenant used 1
	harness.Over(t, second.Client(key)).Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	harness.Over(t, first.Client(key)).Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	wantLimited(t, harness.Over(t, second.Client(key)).Do("GET", "/v1/identities", nil))

	redis.Stop()
	for range 5 {
		harness.Over(t, first.Client(key)).Do("GET", "/v1/identities", nil).Want(http.StatusOK)
	}
	if !strings.Contains(logs.String(), "rate limiter failed") {
		t.Errorf("Redis down is not in the log:\n%s", logs.String())
	}
	resp, err := http.Get(first.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `leadr_rate_limiter_failures_total{limit="api_key"} 5`) {
		t.Errorf("the failures are not counted:\n%s", grepLines(string(metrics), "leadr_rate_limiter"))
	}

	// Back (and empty): the limit holds again once the replicas ask it,
	// at most a second after their last failure.
	redis.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := harness.Over(t, second.Client(key)).Do("GET", "/v1/identities", nil)
		if a.Status == http.StatusTooManyRequests {
			wantLimited(t, a)
			break
		}
		a.Want(http.StatusOK)
		if time.Now().After(deadline) {
			t.Fatal("Redis is back but no limit holds")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
