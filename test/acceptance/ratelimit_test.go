package acceptance

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
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
	resp, err := http.Get(first.MetricsURL)
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

// wantRateLimit checks the IETF RateLimit header fields of an answer: the
// policy, and what is left of it (t within a second of wantReset, which
// the answer's own delay may cost).
func wantRateLimit(t *testing.T, a harness.Answer, policy string, remaining, wantReset int) {
	t.Helper()
	if got := a.Header.Get("RateLimit-Policy"); got != policy {
		t.Fatalf("RateLimit-Policy %q, want %q", got, policy)
	}
	name, _, _ := strings.Cut(policy, ";")
	var r, reset int
	if n, err := fmt.Sscanf(a.Header.Get("RateLimit"), name+";r=%d;t=%d", &r, &reset); n != 2 || err != nil ||
		r != remaining || reset > wantReset || reset < wantReset-1 {
		t.Fatalf("RateLimit %q, want %s;r=%d;t=%d", a.Header.Get("RateLimit"), name, remaining, wantReset)
	}
}

// TestRateLimitHeaders: every answer of a limited route, 429s included,
// says its policy and what is left of it, per API key, per session and per
// client address; the values move as the budget is spent.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "4/h"),
		harness.WithEnv("LEADR_RATE_LIMIT_SESSION", "3/m"), harness.WithEnv("LEADR_RATE_LIMIT_CLIENT_IP", "2/h"),
		harness.WithEnv("LEADR_RATE_LIMIT_SIGN_UP", "5/h"), harness.WithEnv("LEADR_CORS_ALLOWED_ORIGINS", "https://play.example.com"))
	tenant := harness.NewTenant(t, svc) // its key made one request: the game
	tw := harness.Over(t, tenant.Client)
	// Each request spends a quarter of the hour: the budget is whole again
	// 15 minutes after the last request for each one spent.
	const keyPolicy = `"key";q=4;w=3600`
	wantRateLimit(t, tw.Do("GET", "/v1/games/"+tenant.Game.ID, nil).Want(http.StatusOK), keyPolicy, 2, 1800)
	// A refusal after the key's check counts, and says so.
	wantRateLimit(t, tw.Do("GET", "/v1/games/gam_nope", nil).Want(http.StatusUnprocessableEntity), keyPolicy, 1, 2700)
	wantRateLimit(t, tw.Do("GET", "/v1/identities", nil).Want(http.StatusOK), keyPolicy, 0, 3600)
	limited := tw.Do("GET", "/v1/identities", nil)
	wantLimited(t, limited)
	wantRateLimit(t, limited, keyPolicy, 0, 3600)
	// A wrong key counts against nobody, and has no budget to tell.
	if a := harness.Over(t, svc.Client("ldr_"+strings.Repeat("x", 43))).Do("GET", "/v1/identities", nil).
		Want(http.StatusUnauthorized); a.Header.Get("RateLimit") != "" {
		t.Fatalf("a 401 says RateLimit %q", a.Header.Get("RateLimit"))
	}

	// A sign-in that creates its identity counts against two limits of its
	// address, and names both.
	signIn := bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": newDevice()})
	session := checkSignIn(t, signIn)
	if policy, left := signIn.Header.Get("RateLimit-Policy"), signIn.Header.Get("RateLimit"); policy != `"client_ip";q=2;w=3600, "sign_up";q=5;w=3600` ||
		left != `"client_ip";r=1;t=1800, "sign_up";r=4;t=720` {
		t.Fatalf("a sign-up's RateLimit-Policy %q, RateLimit %q", policy, left)
	}
	// A browser game reads them too.
	me := bearer(t, svc, session.AccessToken, "Origin", "https://play.example.com")
	for left := 2; left >= 0; left-- {
		a := me.Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		wantRateLimit(t, a, `"session";q=3;w=60`, left, 60-20*left)
		if exposed := a.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "RateLimit, RateLimit-Policy") {
			t.Fatalf("Access-Control-Expose-Headers %q", exposed)
		}
	}
	limited = me.Do("GET", "/v1/client/me", nil)
	wantLimited(t, limited)
	wantRateLimit(t, limited, `"session";q=3;w=60`, 0, 60)
}

// TestKeyRateLimitIsForSuperadmins: a key's own limit is set by
// superadmins only, checked like any field, and shown on the key.
func TestKeyRateLimitIsForSuperadmins(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	sw, tw := harness.Over(t, svc.Admin()), harness.Over(t, tenant.Client)
	own := map[string]any{"user_id": tenant.User.ID, "name": "paced", "rate_limit": "10/s"}
	tw.Do("POST", "/v1/api-keys", own).Want(http.StatusForbidden, "Superadmin access required")
	for _, limit := range []any{"10/s", "off", nil} {
		tw.Do("PATCH", "/v1/api-keys/"+tenant.Key.ID, map[string]any{"rate_limit": limit}).Want(http.StatusForbidden, "Superadmin access required")
	}
	for _, bad := range []any{"0/s", "10/d", "10", "1/s ", "01/s", "2000000/s", "OFF", 10, true} {
		sw.Do("PATCH", "/v1/api-keys/"+tenant.Key.ID, map[string]any{"rate_limit": bad}).Problem(problemType(bad), "body", "rate_limit")
	}
	if got := sw.Do("GET", "/v1/api-keys/"+tenant.Key.ID, nil).Want(http.StatusOK).JSON["rate_limit"]; got != nil {
		t.Fatalf("a new key's rate_limit is %v, want null (the default)", got)
	}
	created := sw.Do("POST", "/v1/api-keys", map[string]any{"account_id": tenant.Account.ID, "user_id": tenant.User.ID,
		"name": "paced", "rate_limit": "90/m"}).Want(http.StatusCreated)
	if created.JSON["rate_limit"] != "90/m" {
		t.Fatalf("created: %s", created.Body)
	}
	for _, limit := range []any{"5/h", "off", nil} {
		got := sw.Do("PATCH", "/v1/api-keys/"+created.Str("id"), map[string]any{"rate_limit": limit}).Want(http.StatusOK)
		if got.JSON["rate_limit"] != limit {
			t.Fatalf("set to %v: %s", limit, got.Body)
		}
	}
}

func problemType(v any) string {
	if _, ok := v.(string); ok {
		return "value_error"
	}
	return "string_type"
}

// TestKeyRateLimitOnEveryReplica: a key's own limit overrides the default,
// either way, on every replica that shares Redis, and a change reaches
// the replicas that had the key cached.
func TestKeyRateLimitOnEveryReplica(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	opts := []harness.Option{harness.WithEnv("LEADR_REDIS_URL", redis.URL), harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "1000/s")}
	first := harness.StartService(t, opts...)
	second := harness.StartService(t, append(opts, harness.WithDatabaseURL(first.DatabaseURL),
		harness.WithEnv("LEADR_SUPERADMIN_API_KEY", first.SuperadminKey))...)
	tenant := harness.NewTenant(t, first)
	replicas := []harness.Wire{harness.Over(t, first.Client(tenant.Key.Key)), harness.Over(t, second.Client(tenant.Key.Key))}
	for _, w := range replicas { // both cache the key, under the default
		if a := w.Do("GET", "/v1/identities", nil).Want(http.StatusOK); a.Header.Get("RateLimit-Policy") != `"key";q=1000;w=1` {
			t.Fatalf("RateLimit-Policy %q under the default", a.Header.Get("RateLimit-Policy"))
		}
	}
	if _, err := first.Admin().UpdateAPIKey(t.Context(), tenant.Key.ID, client.UpdateAPIKeyRequest{RateLimit: "3/h"}); err != nil {
		t.Fatal(err)
	}
	// Each replica forgets the key's principal when the change reaches it
	// (at once on PostgreSQL; within the cache's TTL where no feed tells).
	deadline := time.Now().Add(15 * time.Second)
	for {
		a := replicas[1].Do("GET", "/v1/identities", nil).Want(http.StatusOK)
		if a.Header.Get("RateLimit-Policy") == `"key";q=3;w=3600` {
			wantRateLimit(t, a, `"key";q=3;w=3600`, 2, 1200)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second replica still limits the key by %q", a.Header.Get("RateLimit-Policy"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantRateLimit(t, replicas[0].Do("GET", "/v1/identities", nil).Want(http.StatusOK), `"key";q=3;w=3600`, 1, 2400)
	wantRateLimit(t, replicas[1].Do("GET", "/v1/identities", nil).Want(http.StatusOK), `"key";q=3;w=3600`, 0, 3600)
	for _, w := range replicas {
		wantLimited(t, w.Do("GET", "/v1/identities", nil))
	}

	// "off" lifts even a default that would refuse.
	strict := harness.StartService(t, harness.WithDatabaseURL(first.DatabaseURL), harness.WithEnv("LEADR_REDIS_URL", redis.URL),
		harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "1/h"), harness.WithEnv("LEADR_SUPERADMIN_API_KEY", first.SuperadminKey))
	if _, err := first.Admin().UpdateAPIKey(t.Context(), tenant.Key.ID, client.UpdateAPIKeyRequest{RateLimit: "off"}); err != nil {
		t.Fatal(err)
	}
	sw := harness.Over(t, strict.Client(tenant.Key.Key))
	for range 5 {
		if a := sw.Do("GET", "/v1/identities", nil).Want(http.StatusOK); a.Header.Get("RateLimit") != "" {
			t.Fatalf("a key that is not limited says RateLimit %q", a.Header.Get("RateLimit"))
		}
	}
}

// TestDefaultKeyLimitSparesAStudioServer reproduces finding 11 of issue
// 17: one studio key sending ~600 requests a second (a sync job) got 429s
// for most of them. Under the default limit, 1,000 requests a second from
// one key for 10 s get none: they are sent on that schedule, and when the
// machine falls behind it, in catch-up bursts that stay within it.
func TestDefaultKeyLimitSparesAStudioServer(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_API_KEY", "")) // the default
	tenant := harness.NewTenant(t, svc)
	const (
		perSecond = 1000
		seconds   = 10
		workers   = 32
	)
	transport := &http.Transport{MaxIdleConnsPerHost: workers}
	defer transport.CloseIdleConnections()
	httpc := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	url := svc.URL + "/v1/games/" + tenant.Game.ID
	var next, sent atomic.Int64
	statuses := make([]map[int]int, workers)
	start := time.Now()
	end := start.Add(seconds * time.Second)
	var wg sync.WaitGroup
	for w := range workers {
		statuses[w] = map[int]int{}
		wg.Go(func() {
			for {
				at := start.Add(time.Duration(next.Add(1)-1) * time.Second / perSecond)
				if !at.Before(end) {
					return
				}
				time.Sleep(time.Until(at))
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
				req.Header.Set("leadr-api-key", tenant.Key.Key)
				resp, err := httpc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[w][resp.StatusCode]++
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	all := map[int]int{}
	for _, s := range statuses {
		for code, n := range s {
			all[code] += n
		}
	}
	t.Logf("%d requests in %s (%.0f/s): %v", sent.Load(), took.Round(time.Millisecond), float64(sent.Load())/took.Seconds(), all)
	if all[http.StatusOK] != int(sent.Load()) {
		t.Fatalf("answers %v; want all 200, no 429", all)
	}
}
