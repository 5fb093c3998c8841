package bootstrap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
	"github.com/leadr-oss/identity/test/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// replica is one running service.
type replica struct {
	base   string
	stderr *bytes.Buffer
	app    *fx.App
}

// startB starts the service for a benchmark, with limits far above what
// one client asking as fast as it can reaches: their cost is measured,
// and they refuse nothing.
func startB(b *testing.B) *replica {
	return start(b, pgtest.Empty(b), map[string]string{"LEADR_RATE_LIMIT_API_KEY": "1000000/s"})
}

func start(t testing.TB, dbURL string, vars map[string]string, opts ...fx.Option) *replica {
	t.Helper()
	all := map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_HTTP_ADDR": "127.0.0.1:0", "LEADR_LOG_LEVEL": "warn",
		"LEADR_ENCRYPTION_KEY": testEncryptionKey}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := bootstrap.ParseConfig(env(all))
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{stderr: &bytes.Buffer{}}
	var srv *bootstrap.Server
	r.app = fx.New(append([]fx.Option{bootstrap.Service(cfg, r.stderr), fx.Populate(&srv), fx.NopLogger}, opts...)...)
	if err := r.app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.app.Stop(context.Background()) })
	r.base = "http://" + srv.Addr().String()
	return r
}

var keyPattern = regexp.MustCompile(`ldr_[A-Za-z0-9_-]{43}`)

func (r *replica) call(t *testing.T, method, path, key string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, r.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("leadr-api-key", key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func TestServiceOnAnEmptyDatabase(t *testing.T) {
	dbURL := pgtest.Empty(t)
	first := start(t, dbURL, nil)
	keys := keyPattern.FindAllString(first.stderr.String(), -1)
	if len(keys) != 1 {
		t.Fatalf("start-up printed %d keys, want 1:\n%s", len(keys), first.stderr)
	}
	super := keys[0]

	status, acc := first.call(t, "POST", "/v1/accounts", super, map[string]any{"name": "Acme", "slug": "acme"})
	if status != http.StatusCreated {
		t.Fatalf("create account: %d %v", status, acc)
	}
	status, usr := first.call(t, "POST", "/v1/users", super, map[string]any{"account_id": acc["id"], "email": "dev@acme.example", "display_name": "Dev"})
	if status != http.StatusCreated {
		t.Fatalf("create user: %d %v", status, usr)
	}
	status, key := first.call(t, "POST", "/v1/api-keys", super, map[string]any{"account_id": acc["id"], "user_id": usr["id"], "name": "ci"})
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %v", status, key)
	}
	userKey := key["key"].(string)
	status, game := first.call(t, "POST", "/v1/games", userKey, map[string]any{"name": "Acme Game"})
	if status != http.StatusCreated {
		t.Fatalf("create game: %d %v", status, game)
	}
	for n := range 3 {
		status, _ := first.call(t, "POST", "/v1/identities", userKey, map[string]any{
			"game_id": game["id"], "kind": "DEVICE", "external_key": fmt.Sprintf("device-%04d", n)})
		if status != http.StatusCreated {
			t.Fatalf("create identity: %d", status)
		}
	}

	// A second replica on the same database: no second bootstrap, the same
	// generated pepper (keys work) and cursor secret (cursors work).
	second := start(t, dbURL, nil)
	if keyPattern.MatchString(second.stderr.String()) {
		t.Fatal("a second start printed another key")
	}
	status, page := first.call(t, "GET", "/v1/identities?limit=2", userKey, nil)
	if status != http.StatusOK {
		t.Fatalf("list: %d", status)
	}
	next := page["pagination"].(map[string]any)["next_cursor"].(string)
	status, page = second.call(t, "GET", "/v1/identities?limit=2&cursor="+url.QueryEscape(next), userKey, nil)
	if status != http.StatusOK || len(page["data"].([]any)) != 1 {
		t.Fatalf("a cursor from one replica on the other: %d %v", status, page)
	}
	status, health := second.call(t, "GET", "/v1/health", "", nil)
	if status != http.StatusOK || health["database"] != "connected" {
		t.Fatalf("health: %d %v", status, health)
	}
}

func TestReplicasStartingTogether(t *testing.T) {
	dbURL := pgtest.Empty(t)
	const n = 4
	var wg sync.WaitGroup
	replicas := make([]*replica, n)
	for i := range n {
		wg.Go(func() { replicas[i] = start(t, dbURL, nil) })
	}
	wg.Wait()
	printed := 0
	for _, r := range replicas {
		if r == nil {
			t.FailNow()
		}
		printed += len(keyPattern.FindAllString(r.stderr.String(), -1))
	}
	if printed != 1 {
		t.Fatalf("%d replicas printed a bootstrap key, want exactly 1", printed)
	}
}

func TestConfiguredSuperadminKey(t *testing.T) {
	key := "ldr_" + strings.Repeat("K", 43)
	r := start(t, pgtest.Empty(t), map[string]string{
		"LEADR_SUPERADMIN_API_KEY": key,
		"LEADR_API_KEY_PEPPER":     strings.Repeat("p", 32),
		"LEADR_CURSOR_SECRET":      strings.Repeat("c", 32),
	})
	if strings.Contains(r.stderr.String(), key) || keyPattern.MatchString(r.stderr.String()) {
		t.Fatal("a configured key was printed")
	}
	if status, _ := r.call(t, "GET", "/v1/accounts", key, nil); status != http.StatusOK {
		t.Fatalf("the configured key does not work: %d", status)
	}
}

// holdOne wraps the service's handler: the first request carrying the
// header X-Test-Hold reports that it is being served, then waits, inside the
// handler, until the server's shutdown has begun and the test releases it.
type holdOne struct {
	once     sync.Once
	serving  chan struct{} // closed once the held request is in the handler
	shutdown chan struct{} // closed by http.Server.Shutdown, after it closed the listeners
	release  chan struct{} // closed by the test
}

func (h *holdOne) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test-Hold") != "" {
			h.once.Do(func() {
				// Shutdown runs its hooks only after closing the listeners,
				// so this is the server's own word that it stopped accepting.
				r.Context().Value(http.ServerContextKey).(*http.Server).RegisterOnShutdown(func() { close(h.shutdown) })
				close(h.serving)
				<-h.release
			})
		}
		next.ServeHTTP(w, r)
	})
}

// await fails t if ch is not closed in time, so that a regression fails the
// test instead of hanging it; it is a watchdog, not a synchronisation.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting until %s", what)
	}
}

func TestGracefulShutdown(t *testing.T) {
	hold := &holdOne{serving: make(chan struct{}), shutdown: make(chan struct{}), release: make(chan struct{})}
	r := start(t, pgtest.Empty(t), map[string]string{"LEADR_SHUTDOWN_TIMEOUT": "1m"}, fx.Decorate(hold.wrap))
	key := keyPattern.FindString(r.stderr.String())

	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", r.base+"/v1/accounts", strings.NewReader(`{"name": "In Flight", "slug": "in-flight"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("leadr-api-key", key)
		req.Header.Set("X-Test-Hold", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		a := answer{status: resp.StatusCode}
		a.err = json.NewDecoder(resp.Body).Decode(&a.body)
		answered <- a
	}()
	await(t, hold.serving, "the request is in the handler")

	stopped := make(chan error, 1)
	go func() { stopped <- r.app.Stop(context.Background()) }()
	await(t, hold.shutdown, "the server shuts down")

	// The listener is closed; a new client (no pooled connection) is refused
	// while the held request is still in flight.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Get(r.base + "/v1/health/live"); err == nil {
		resp.Body.Close()
		t.Fatalf("a new connection during the shutdown got %d, want it refused", resp.StatusCode)
	}
	select {
	case err := <-stopped:
		t.Fatalf("the stop returned (%v) with a request in flight", err)
	default:
	}

	// Released, the request runs to its end, against the database too, and
	// only then does the stop complete.
	close(hold.release)
	a := <-answered
	if a.err != nil || a.status != http.StatusCreated || a.body["slug"] != "in-flight" {
		t.Fatalf("the request in flight: %d %v %v, want 201 with the account", a.status, a.body, a.err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if resp, err := fresh.Get(r.base + "/v1/health/live"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still accepts connections after stopping")
	}
}
