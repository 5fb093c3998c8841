package scale

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go/network"

	"github.com/leadr-oss/identity/build/ha"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/leadrcontainer"
)

// Each replica drains for longer than HAProxy takes to see it unready
// (build/ha/haproxy.cfg: a check every second, out after two failures);
// its restart may take up to rollBound on a loaded machine. The load goes
// on for a while before and after the restarts.
const (
	rollingWorkers = 6
	drain          = 3 * time.Second
	rollBound      = time.Minute
	steady         = time.Second
)

// TestRollingRestart: three replicas behind HAProxy (build/ha/haproxy.cfg,
// as docker-compose.ha.yml runs it), on PostgreSQL behind PgBouncer,
// restarted one after another under a steady mixed load, each with
// SIGTERM: its readiness fails first, HAProxy stops sending it requests
// while it still serves them, then it stops, starts again and HAProxy takes
// it back. No request is lost: every answer is a 2xx (not even a 503),
// every acknowledged write is found.
func TestRollingRestart(t *testing.T) {
	service, postgresImage := leadrcontainer.TestImages(t)
	pgbouncerImage := leadrcontainer.Image(t, leadrcontainer.EnvPgBouncerImage, "")
	haproxyImage := leadrcontainer.Image(t, leadrcontainer.EnvHAProxyImage, "haproxy:2.6")
	ctx := t.Context()
	pooled, err := leadrcontainer.RunPooled(ctx, postgresImage, pgbouncerImage, leadrcontainer.PooledConfig{
		PgBouncer: leadrcontainer.PgBouncerConfig{ConnectQuery: leadrcontainer.BoundsQuery(requestTimeout)},
	})
	t.Cleanup(func() {
		if err := pooled.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	key := tenancy.GenerateKey()
	var replicas []*leadrcontainer.Container
	for i := range 3 {
		replicas = append(replicas, runReplica(t, service, pooled.Network, fmt.Sprintf("leadr-%d", i+1),
			pooled.NetworkURL(leadrcontainer.PooledUser), key,
			leadrcontainer.WithConfig("LEADR_SHUTDOWN_DRAIN", drain.String())))
	}
	balancer, err := leadrcontainer.RunHAProxyWith(ctx, haproxyImage, ha.HAProxy, network.WithNetwork(nil, pooled.Network))
	t.Cleanup(func() {
		if balancer != nil {
			_ = balancer.Terminate(context.Background())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range replicas {
		awaitUp(t, balancer, i+1)
	}
	base, err := balancer.BaseURL(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tr := newTraffic(t, base, key)
	tr.start(rollingWorkers)
	time.Sleep(steady)
	for i, r := range replicas {
		began := time.Now()
		timeout := rollBound // SIGTERM, then SIGKILL if it has not stopped by then
		if err := r.Stop(ctx, &timeout); err != nil {
			tr.finish()
			t.Fatalf("stop leadr-%d: %v", i+1, err)
		}
		stopped := time.Since(began)
		if inspect, err := r.Inspect(ctx); err != nil || inspect.State.ExitCode != 0 {
			tr.finish()
			t.Fatalf("leadr-%d did not stop cleanly: %+v %v", i+1, inspect, err)
		}
		if err := r.Start(ctx); err != nil { // and waits until it serves
			tr.finish()
			t.Fatalf("start leadr-%d: %v", i+1, err)
		}
		started := time.Since(began)
		awaitUp(t, balancer, i+1)
		t.Logf("leadr-%d: stopped in %.2fs (drain %v), serving again at %.2fs, in HAProxy again at %.2fs",
			i+1, stopped.Seconds(), drain, started.Seconds(), time.Since(began).Seconds())
	}
	time.Sleep(steady)
	tr.finish()

	tr.report(t, time.Time{})
	tr.reportReplicas(t)
	checkNoneRetried(t, balancer)
	tr.checkAnswers(t)
	tr.checkAllSucceeded(t)
	tr.checkWrites(t, time.Time{})
}

// checkNoneRetried prints what HAProxy counted of each replica, and fails
// t unless every request reached the replica HAProxy first chose: a
// replica gone from under HAProxy (no drain) shows as connection errors,
// retries and redispatches, which HAProxy hides from clients at the cost
// of seconds, and which it could not hide from a longer outage.
func checkNoneRetried(t *testing.T, h *leadrcontainer.HAProxy) {
	t.Helper()
	servers, err := h.Servers(t.Context(), "leadr")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, name := range slices.Sorted(maps.Keys(servers)) {
		s := servers[name]
		t.Logf("HAProxy, %s: %s sessions, %s connection errors, %s response errors, %s retries, %s redispatches, %s failed checks",
			name, s["stot"], s["econ"], s["eresp"], s["wretr"], s["wredis"], s["chkfail"])
		for _, c := range []string{"econ", "eresp", "wretr", "wredis"} {
			n, _ := strconv.Atoi(s[c])
			failed += n
		}
	}
	if failed > 0 {
		t.Errorf("HAProxy failed to reach the replica it chose %d times (connection or response errors, retries, redispatches)", failed)
	}
}

// awaitUp waits until HAProxy sends requests to replica again.
func awaitUp(t *testing.T, h *leadrcontainer.HAProxy, replica int) {
	t.Helper()
	name := fmt.Sprintf("leadr-%d", replica)
	deadline := time.Now().Add(rollBound)
	for {
		servers, err := h.Servers(t.Context(), "leadr")
		if err == nil && servers[name]["status"] == "UP" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy does not have %s up after %v: %v %v", name, rollBound, servers[name]["status"], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reportReplicas prints how many answers each replica gave, as HAProxy
// names them.
func (tr *traffic) reportReplicas(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	by := map[string]int{}
	for _, a := range tr.answers {
		by[a.replica]++
	}
	t.Logf("answers by replica: %s", counts(by))
}

// checkAllSucceeded fails t unless every request was answered 2xx.
func (tr *traffic) checkAllSucceeded(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	failed := map[int]int{}
	for _, a := range tr.answers {
		if a.status < 200 || a.status >= 300 {
			failed[a.status]++
		}
	}
	if len(failed) > 0 {
		t.Errorf("requests not answered 2xx, by status (0: no answer): %s", counts(failed))
	}
	if len(tr.answers) == 0 {
		t.Error("no request was sent")
	}
}
