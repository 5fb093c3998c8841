// Package scale runs the service's image the way deployments at scale run
// it: several replicas behind a load balancer, on PostgreSQL behind
// PgBouncer in transaction pooling mode, in containers on a private
// network, and prints what each run found.
package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/leadrcontainer"
)

// Each replica's pool holds up to replicaConns client connections, and
// PgBouncer gives the database poolSize server connections in all: the two
// replicas are as many connections as three replicas of the default pool
// (20), served by far fewer, so that transactions of different clients
// share server connections all the time.
const (
	replicaConns   = 30
	poolSize       = 8
	requestTimeout = 5 * time.Second // LEADR_REQUEST_TIMEOUT's default
	loadFor        = 10 * time.Second
	workers        = 16
)

// TestReplicasThroughPgBouncer: two replicas migrate one empty database at
// the same start through PgBouncer in transaction mode, then serve a mixed
// load through HAProxy; every request is answered (a 503 at worst, never a
// 500), every acknowledged write is found, the change feed is live on each
// replica, and statements are bounded although no client may send the
// bounds through PgBouncer.
func TestReplicasThroughPgBouncer(t *testing.T) {
	service, postgresImage := leadrcontainer.TestImages(t)
	pgbouncerImage := leadrcontainer.Image(t, leadrcontainer.EnvPgBouncerImage, "")
	haproxyImage := leadrcontainer.Image(t, leadrcontainer.EnvHAProxyImage, "haproxy:2.6")
	ctx := t.Context()

	pooled, err := leadrcontainer.RunPooled(ctx, postgresImage, pgbouncerImage, leadrcontainer.PooledConfig{
		PgBouncer: leadrcontainer.PgBouncerConfig{ConnectQuery: leadrcontainer.BoundsQuery(requestTimeout), PoolSize: poolSize},
	})
	t.Cleanup(func() {
		if err := pooled.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Both replicas start at once on the empty database: both migrate it.
	key := tenancy.GenerateKey()
	replicas := make([]*leadrcontainer.Container, 2)
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			replicas[i], errs[i] = leadrcontainer.Run(ctx, service,
				network.WithNetwork([]string{fmt.Sprintf("leadr-%d", i+1)}, pooled.Network),
				leadrcontainer.WithDatabaseURL(pooled.NetworkURL(leadrcontainer.PooledUser)),
				leadrcontainer.WithSuperadminKey(key),
				leadrcontainer.WithEncryptionKey(encryptionKey),
				leadrcontainer.WithConfig("LEADR_DB_MAX_OPEN_CONNS", fmt.Sprint(replicaConns)),
				// The load is the database's: no rate limit stands in its way
				// (every client has the balancer's address, too).
				leadrcontainer.WithConfig("LEADR_RATE_LIMIT_API_KEY", "off"),
				leadrcontainer.WithConfig("LEADR_RATE_LIMIT_SESSION", "off"),
				leadrcontainer.WithConfig("LEADR_RATE_LIMIT_CLIENT_IP", "off"),
				leadrcontainer.WithConfig("LEADR_RATE_LIMIT_SIGN_UP", "off"))
		})
	}
	wg.Wait()
	for i, r := range replicas {
		t.Cleanup(func() {
			if r != nil {
				_ = r.Terminate(context.Background())
			}
		})
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i+1, errs[i])
		}
	}
	hostURL, err := pooled.URL(ctx, leadrcontainer.PooledUser)
	if err != nil {
		t.Fatal(err)
	}
	direct := connectDirect(t, hostURL)
	t.Log("two replicas started at once on an empty database:")
	checkMigratedOnce(t, direct)
	for i, r := range replicas {
		metrics, err := r.MetricsURL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waitFeedLive(t, metrics, i+1)
	}

	balancer, err := leadrcontainer.RunHAProxy(ctx, haproxyImage, []string{"leadr-1:8080", "leadr-2:8080"},
		network.WithNetwork(nil, pooled.Network))
	t.Cleanup(func() {
		if balancer != nil {
			_ = balancer.Terminate(context.Background())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := balancer.BaseURL(ctx)
	if err != nil {
		t.Fatal(err)
	}

	l := newLoad(t, base, key)
	l.run(t, loadFor)
	l.report(t, pooled.PgBouncer)
	l.check(t)

	t.Run("statements are bounded behind PgBouncer", func(t *testing.T) {
		checkBounded(t, hostURL)
	})
	t.Run("migrators racing on an empty database take turns", func(t *testing.T) {
		checkMigratorsTakeTurns(t, direct, hostURL)
	})
}

// connectDirect connects to PostgreSQL itself (the direct address of a
// pooled URL), as the test's own eyes on the database.
func connectDirect(t *testing.T, pooledURL string) *pgx.Conn {
	t.Helper()
	u, err := url.Parse(pooledURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host, u.RawQuery = u.Query().Get("direct"), "sslmode=disable"
	conn, err := pgx.Connect(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// checkMigratedOnce: every migration is recorded once, though replicas ran
// them at the same start.
func checkMigratedOnce(t *testing.T, db *pgx.Conn) {
	t.Helper()
	want, err := store.Migrations(false)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(t.Context(), "SELECT name FROM bun_migrations ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range want.Sorted() {
		names = append(names, m.Name)
	}
	if !slices.Equal(got, names) {
		t.Fatalf("migrations recorded %v, want each of %v once", got, names)
	}
	t.Logf("%d migrations applied, each once", len(got))
}

// checkMigratorsTakeTurns: migrators started together on an empty database
// through PgBouncer all succeed, each migration is recorded once, and no
// advisory lock is left behind on a server connection. (A session's lock
// taken through a transaction pooler stays on whichever server connection
// took it, and its unlock goes to another.)
func checkMigratorsTakeTurns(t *testing.T, direct *pgx.Conn, pooledURL string) {
	ctx := t.Context()
	if _, err := direct.Exec(ctx, "CREATE DATABASE race"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pooledURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/race"
	const migrators = 6
	errs := make([]error, migrators)
	var wg sync.WaitGroup
	for i := range migrators {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			db, err := store.Open(u.String(), store.PoolOptions{MaxOpenConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			m, err := store.NewMigrator(db)
			if err == nil {
				_, err = m.Up(ctx)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i+1, err)
		}
	}
	t.Logf("%d migrators started together through PgBouncer:", migrators)
	race := connectDirect(t, u.String())
	checkMigratedOnce(t, race)
	var held int
	if err := race.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "+
		"(SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held > 0 {
		t.Fatalf("%d advisory locks are still held after the migrations", held)
	}
}

// waitFeedLive waits until a replica's change feed, on its direct
// connection, is live: it caches credentials. metrics is the URL of its
// metrics, on its private listener.
func waitFeedLive(t *testing.T, metrics string, replica int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, err := get(metrics)
		if strings.Contains(body, "\nleadr_change_feed_live 1\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d: the change feed is not live after 30s (%v)", replica, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// checkBounded: through PgBouncer, a pool bounded as the service's is
// gets its bounds from PgBouncer's server connections (the service sends
// none), a statement longer than them is ended by PostgreSQL, and a pool
// that needs tighter bounds than those refuses to connect.
func checkBounded(t *testing.T, pooledURL string) {
	ctx := t.Context()
	bounded := store.PoolOptions{MaxOpenConns: 1, StatementTimeout: requestTimeout * 4 / 5, LockTimeout: requestTimeout / 2}
	db, err := store.Open(pooledURL, bounded)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Bun().ExecContext(ctx, "SELECT pg_sleep(?)", (requestTimeout*4/5).Seconds()+1)
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("a statement longer than statement_timeout: %v, want a statement timeout (57014)", err)
	}
	tighter := bounded
	tighter.StatementTimeout = time.Second
	strict, err := store.Open(pooledURL, tighter)
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if err := strict.Bun().PingContext(ctx); err == nil || !strings.Contains(err.Error(), "statement_timeout is 4000ms") {
		t.Fatalf("a pool that needs statement_timeout at most 1s connected through PgBouncer's 4s: %v", err)
	}
}

// load is a mixed load of reads and writes through the balancer.
type load struct {
	admin, tenant *client.Client
	game          string
	// created are the identities whose creation was acknowledged (201).
	mu       sync.Mutex
	created  []string
	statuses map[int]int
	failures []string // operations that got no answer, or a wrong one
	seq      atomic.Int64
}

func newLoad(t *testing.T, base, superadmin string) *load {
	t.Helper()
	l := &load{statuses: map[int]int{}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: countStatuses{l, http.DefaultTransport}}
	l.admin = client.New(base, client.WithAPIKey(superadmin), client.WithHTTPClient(hc))
	ctx := t.Context()
	acc, err := l.admin.CreateAccount(ctx, client.CreateAccountRequest{Name: "Scale", Slug: "scale"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := l.admin.CreateUser(ctx, client.CreateUserRequest{AccountID: acc.ID, Email: "ops@scale.example", DisplayName: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := l.admin.CreateAPIKey(ctx, client.CreateAPIKeyRequest{AccountID: acc.ID, UserID: u.ID, Name: "load"})
	if err != nil {
		t.Fatal(err)
	}
	l.tenant = l.admin.WithAPIKey(k.Key)
	g, err := l.tenant.CreateGame(ctx, client.CreateGameRequest{Name: "Scale Game"})
	if err != nil {
		t.Fatal(err)
	}
	l.game = g.ID
	return l
}

// countStatuses counts the answers of every request by status.
type countStatuses struct {
	l    *load
	next http.RoundTripper
}

func (c countStatuses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	status := 0 // no answer
	if err == nil {
		status = resp.StatusCode
	}
	c.l.mu.Lock()
	c.l.statuses[status]++
	c.l.mu.Unlock()
	return resp, err
}

// run sends the load from workers until d has passed. Each worker loops
// over an operation of each kind: a write (a new identity, or a rename), a
// point read, a page, and a player's sign-in and first call.
func (l *load) run(t *testing.T, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				l.step(t.Context())
			}
		})
	}
	wg.Wait()
}

func (l *load) step(ctx context.Context) {
	n := l.seq.Add(1)
	id, created, err := l.tenant.CreateIdentity(ctx, client.CreateIdentityRequest{GameID: l.game, Kind: client.KindDevice,
		ExternalKey: fmt.Sprintf("device-scale-%08d", n)})
	l.expect("create", err)
	if err == nil && created {
		l.mu.Lock()
		l.created = append(l.created, id.ID)
		l.mu.Unlock()
	}
	if err == nil {
		_, err = l.tenant.GetIdentity(ctx, id.ID)
		l.expect("read", err)
		name := fmt.Sprintf("Player %d", n)
		_, err = l.tenant.UpdateIdentity(ctx, id.ID, client.UpdateIdentityRequest{DisplayName: &name})
		l.expect("rename", err)
	}
	_, err = l.tenant.ListIdentities(ctx, client.ListIdentitiesParams{GameID: l.game, Limit: 20})
	l.expect("list", err)
	p, err := l.tenant.SignIn(ctx, client.SignInRequest{GameID: l.game, Kind: client.KindDevice,
		ExternalKey: fmt.Sprintf("device-scale-player-%04d", n%200)})
	l.expect("sign-in", err)
	if err == nil {
		_, err = p.Me(ctx)
		l.expect("me", err)
	}
}

// expect records an operation that failed with anything but a 503, which
// a database fault may answer: a 500, say, or no answer at all.
func (l *load) expect(op string, err error) {
	if err == nil || client.StatusOf(err) == http.StatusServiceUnavailable {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf("%s: %v", op, err))
}

// report prints the answers by status and PgBouncer's view of the pool.
func (l *load) report(t *testing.T, pgb *leadrcontainer.PgBouncer) {
	t.Helper()
	l.mu.Lock()
	codes := slices.Sorted(maps.Keys(l.statuses))
	var parts []string
	total := 0
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", c, l.statuses[c]))
		total += l.statuses[c]
	}
	l.mu.Unlock()
	t.Logf("%d requests in %v through HAProxy to 2 replicas (%d workers); answers by status: %s",
		total, loadFor, workers, strings.Join(parts, ", "))
	stats, err := pgb.Show(t.Context(), "STATS")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s["database"] == leadrcontainer.PooledUser {
			t.Logf("PgBouncer: %s transactions, %s queries on at most %d server connections", s["total_xact_count"], s["total_query_count"], poolSize)
		}
	}
	clients, err := pgb.Show(t.Context(), "CLIENTS")
	if err != nil {
		t.Fatal(err)
	}
	servers, err := pgb.Show(t.Context(), "SERVERS")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PgBouncer now: %d client connections, %d server connections", len(clients), len(servers))
}

// check fails t for every wrong answer, and unless every acknowledged
// creation is found.
func (l *load) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	failures, created := l.failures, slices.Clone(l.created)
	l.mu.Unlock()
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	if len(created) == 0 {
		t.Fatal("no creation was acknowledged")
	}
	found := map[string]bool{}
	for i, err := range l.tenant.Identities(t.Context(), client.ListIdentitiesParams{GameID: l.game, Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		found[i.ID] = true
	}
	missing := 0
	for _, id := range created {
		if !found[id] {
			missing++
		}
	}
	t.Logf("writes: %d identities created and acknowledged, %d found, %d missing", len(created), len(created)-missing, missing)
	if missing > 0 {
		t.Errorf("%d acknowledged identities are missing", missing)
	}
}
