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

func startB(b *testing.B) *replica { return start(b, pgtest.Empty(b), nil) }

func start(t testing.TB, dbURL string, vars map[string]string, opts ...fx.Option) *replica {
	t.Helper()
	all := map[string]string{"LEADR_DATABASE_URL": dbURL, "LEADR_HTTP_ADDR": "127.0.0.1:0", "LEADR_LOG_LEVEL": "warn"}
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
	for n := range 3 {
		status, _ := first.call(t, "POST", "/v1/identities", userKey, map[string]any{
			"game_id": "gam_0195f2a0-0000-7000-8000-000000000001", "kind": "DEVICE", "external_key": fmt.Sprintf("device-%04d", n)})
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

func TestGracefulShutdown(t *testing.T) {
	r := start(t, pgtest.Empty(t), map[string]string{"LEADR_SHUTDOWN_TIMEOUT": "5s"})
	// A request whose body arrives slowly is in flight when the stop begins.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", r.base+"/v1/identities", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("leadr-api-key", keyPattern.FindString(r.stderr.String()))
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	_, _ = pw.Write([]byte(`{"kind":`))
	time.Sleep(200 * time.Millisecond) // let the server start on the request
	stopped := make(chan error, 1)
	go func() { stopped <- r.app.Stop(context.Background()) }()
	time.Sleep(200 * time.Millisecond)
	_, _ = pw.Write([]byte(`"DEVICE"}`))
	pw.Close()
	if status := <-done; status != http.StatusUnprocessableEntity {
		t.Fatalf("the request in flight got %d, want its answer (422)", status)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(r.base + "/v1/health/live"); err == nil {
		t.Fatal("the server still accepts connections after stopping")
	}
}
