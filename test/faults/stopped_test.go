package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// recovery is how soon after PostgreSQL accepts connections again every
// kind of request must succeed again (issue 11).
const recovery = 5 * time.Second

// Not parallel, so that its load has the machine to itself: the package's
// other tests run before or after it.
func TestPostgresStoppedUnderLoad(t *testing.T) {
	pg := pgtest.NewStoppable(t)
	// Without the credential caches every request checks its key or token
	// in the database: one that cannot be checked must be unavailable, not
	// refused.
	svc := startService(t, pg.URL, "LEADR_AUTH_CACHE_TTL", "0")
	tenant := harness.NewTenant(t, svc)
	known := newIdentity(t, tenant)
	player := signIn(t, svc, tenant.Game.ID)
	me, admin := svc.Bearer(player.AccessToken), svc.Admin()
	requests := append(identityRequests(tenant, known, func() string { return "load-" + harness.Unique() }),
		request{"client me", http.StatusOK, func(ctx context.Context) (*client.Response, error) {
			return me.Do(ctx, "GET", "/v1/client/me", nil)
		}},
		request{"get account", http.StatusOK, func(ctx context.Context) (*client.Response, error) {
			return admin.Do(ctx, "GET", "/v1/accounts/"+tenant.Account.ID, nil)
		}},
		request{"list sessions", http.StatusOK, func(ctx context.Context) (*client.Response, error) {
			return tenant.Client.Do(ctx, "GET", "/v1/identity-sessions?identity_id="+player.Identity.ID, nil)
		}},
	)

	l := startLoad(t, requests, 4)
	time.Sleep(time.Second)
	stopping := time.Now()
	pg.Stop(t)
	down := time.Now()
	wantHealth(t, svc, http.StatusServiceUnavailable)
	time.Sleep(2 * time.Second)
	restarting := time.Now()
	pg.Start(t)
	up := time.Now()
	recovered := l.recovered(up, len(requests), recovery+answerBound)
	// Recovered means every request succeeds from then on, not one lucky
	// success: a second more of load shows it.
	time.Sleep(time.Second)
	answers := l.halt()

	took := map[string]time.Duration{}
	var steady time.Time // once every kind of request had succeeded again
	for _, r := range requests {
		at, ok := recovered[r.name]
		if !ok {
			t.Errorf("%s: no success within %v of PostgreSQL accepting connections again", r.name, recovery+answerBound)
			continue
		}
		if took[r.name] = at.Sub(up).Round(time.Millisecond); took[r.name] > recovery {
			t.Errorf("%s: first success %v after PostgreSQL accepted connections again, want at most %v", r.name, took[r.name], recovery)
		}
		if at.After(steady) {
			steady = at
		}
	}
	wantHealth(t, svc, http.StatusOK)
	// Each kind of fault is reported once, with its first example: a
	// service failing every request would otherwise print thousands.
	faults := map[string]int{}
	report := func(what string, a answer) {
		if faults[what]++; faults[what] == 1 {
			t.Errorf("%s: %s (the first of its kind)", what, a)
		}
	}
	down503 := map[string]int{}
	var acknowledged []client.Identity
	for _, a := range answers {
		if f := a.fault(); f != "" {
			report(a.name+": "+f, a)
			continue
		}
		switch {
		case a.received.Before(stopping) && !a.succeeded():
			report(a.name+": failed before PostgreSQL stopped", a)
		case a.sent.After(down) && a.received.Before(restarting):
			if a.succeeded() {
				report(a.name+": succeeded while PostgreSQL was down", a)
			} else {
				down503[a.name]++
			}
		case len(recovered) == len(requests) && a.sent.After(steady) && !a.succeeded():
			report(a.name+": failed after the service had recovered", a)
		}
		if a.name == "get-or-create" && a.succeeded() {
			var i client.Identity
			if err := json.Unmarshal(a.resp.Body, &i); err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			acknowledged = append(acknowledged, i)
		}
	}
	if len(faults) > 0 {
		t.Logf("faults, by kind, with their counts: %v", faults)
	}
	t.Logf("%d answers, %d identities created; 503s while PostgreSQL was down: %v; first successes after it was back: %v",
		len(answers), len(acknowledged), down503, took)
	for _, r := range requests {
		if down503[r.name] == 0 {
			t.Errorf("%s: not one 503 while PostgreSQL was down: the test proved nothing of it", r.name)
		}
	}

	stored := map[string]string{}
	for i, err := range tenant.Client.Identities(t.Context(), client.ListIdentitiesParams{GameID: tenant.Game.ID, Limit: 100}) {
		if err != nil {
			t.Fatalf("list identities after the restart: %v", err)
		}
		stored[i.ID] = i.ExternalKey
	}
	for _, i := range acknowledged {
		if stored[i.ID] != i.ExternalKey {
			t.Errorf("identity %s (%s) was acknowledged and is lost", i.ID, i.ExternalKey)
		}
	}
}

// signIn signs a game client in with a new device.
func signIn(t *testing.T, svc *harness.Service, gameID string) client.SignInResponse {
	t.Helper()
	resp, err := svc.Bearer("").Do(t.Context(), "POST", "/v1/client/sessions",
		client.SignInRequest{GameID: gameID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()})
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	var s client.SignInResponse
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func wantHealth(t *testing.T, svc *harness.Service, status int) {
	t.Helper()
	resp, err := svc.Anonymous().Do(t.Context(), "GET", "/v1/health", nil)
	if err != nil || resp.Status != status {
		t.Errorf("health: %v %v, want %d", resp, err, status)
	}
}

// load sends requests, one after another in turn, from a few workers, and
// keeps every answer.
type load struct {
	mu      sync.Mutex
	answers []answer
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startLoad starts the workers; they stop at halt, or when t ends.
func startLoad(t *testing.T, requests []request, workers int) *load {
	ctx, cancel := context.WithCancel(t.Context())
	l := &load{cancel: cancel}
	t.Cleanup(func() { l.halt() })
	for w := range workers {
		l.wg.Go(func() {
			for n := w; ctx.Err() == nil; n++ {
				// Halting lets a request that is on its way end: only a
				// service that hangs leaves it without an answer.
				a := requests[n%len(requests)].do(context.WithoutCancel(ctx))
				l.mu.Lock()
				l.answers = append(l.answers, a)
				l.mu.Unlock()
			}
		})
	}
	return l
}

// recovered waits, at most for wait, until each of n kinds of request has
// succeeded after since, and returns when each first succeeded.
func (l *load) recovered(since time.Time, n int, wait time.Duration) map[string]time.Time {
	first := map[string]time.Time{}
	for deadline := time.Now().Add(wait); len(first) < n && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		l.mu.Lock()
		for _, a := range l.answers {
			if at, seen := first[a.name]; a.sent.After(since) && a.succeeded() && (!seen || a.received.Before(at)) {
				first[a.name] = a.received
			}
		}
		l.mu.Unlock()
	}
	return first
}

// halt stops the workers, lets their last requests end, and returns every
// answer.
func (l *load) halt() []answer {
	l.cancel()
	l.wg.Wait()
	return l.answers
}
