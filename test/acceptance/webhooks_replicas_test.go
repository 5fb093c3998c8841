package acceptance

import (
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// replicaEvents is how many events the replicas deliver between them:
// enough that both claim attempts of the endpoint at once, since each
// claims at most LEADR_WEBHOOK_PER_ENDPOINT (4) at a time.
const replicaEvents = 30

// TestWebhookTwoReplicasMakeEachAttemptOnce: replicas share the delivery
// queue (contract section 10: "each attempt made by one replica"), so an
// event reaches the endpoint once per attempt however the replicas
// interleave their claims, and the log has one row per attempt.
func TestWebhookTwoReplicasMakeEachAttemptOnce(t *testing.T) {
	t.Parallel()
	t.Run("every first attempt succeeds", func(t *testing.T) {
		t.Parallel()
		replicasDeliverOnce(t, false)
	})
	// The retry is scheduled by whichever replica recorded the failure and
	// may be made by the other: still once.
	t.Run("every first attempt fails", func(t *testing.T) {
		t.Parallel()
		replicasDeliverOnce(t, true)
	})
}

// webhookReplicas starts two services on one PostgreSQL database, with
// opts, as twoReplicas does: an SQLite file serves one process, so the
// suite's SQLite pass runs this on PostgreSQL too.
func webhookReplicas(t *testing.T, opts ...harness.Option) [2]*harness.Service {
	t.Helper()
	one := harness.StartService(t, append([]harness.Option{harness.WithDatabaseURL(pgtest.Empty(t))}, opts...)...)
	two := harness.StartService(t, append([]harness.Option{harness.WithDatabaseURL(one.DatabaseURL)}, opts...)...)
	return [2]*harness.Service{one, two}
}

func replicasDeliverOnce(t *testing.T, failFirst bool) {
	// The clock both replicas read, so that the retry's wait of about 5 s
	// can be skipped on both at once.
	clock := &shiftedClock{}
	replicas := webhookReplicas(t, allowPrivate(), harness.WithClock(clock.Now))
	tenant := harness.NewTenant(t, replicas[0])

	var mu sync.Mutex
	tried := map[string]bool{} // webhook-ids the receiver has seen
	rc := newReceiver(t, func(_ int, r received) int {
		mu.Lock()
		defer mu.Unlock()
		id := r.header.Get("webhook-id")
		first := !tried[id]
		tried[id] = true
		if failFirst && first {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	w := newWebhook(t, tenant.Client, rc.srv.URL, "game.*")

	// Created through both replicas at once, so that their events commit
	// interleaved and both replicas fan out and claim.
	games := map[string]bool{}
	var wg sync.WaitGroup
	const writers = 6
	for i := range writers {
		c := replicas[i%2].Client(tenant.Key.Key)
		wg.Go(func() {
			for range replicaEvents / writers {
				// Not harness.NewGame: t.Fatal ends the test's goroutine only.
				g, err := c.CreateGame(t.Context(), client.CreateGameRequest{Name: "Game " + harness.Unique(), Slug: "game-" + harness.Unique()})
				if err != nil {
					t.Errorf("create game: %v", err)
					return
				}
				mu.Lock()
				games[g.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	attempts := 1
	if failFirst {
		attempts = 2
		// Every first attempt recorded, and so its retry scheduled: only
		// then does one skip take every retry past its due time (5 s, +20%).
		// (An attempt whose outcome was not recorded stays pending, leased,
		// for 20 s, and is then made again: past this wait.)
		waitDeliveries(t, tenant.Client, w.ID, func(ds []client.Delivery) bool {
			failed := 0
			for _, d := range ds {
				if d.Attempt == 1 && d.Status == "failed" {
					failed++
				}
			}
			return failed == replicaEvents
		})
		clock.Skip(10 * time.Second)
	}
	want := replicaEvents * attempts
	got := rc.wait(t, want, 30*time.Second)
	log := waitDeliveries(t, tenant.Client, w.ID, func(ds []client.Delivery) bool {
		return len(ds) >= want && tally(ds, "pending") == 0
	})
	// A duplicate would be a request of a claim that lost its lease, which
	// the log does not show: give it a few polls to arrive.
	time.Sleep(time.Second)
	if n := rc.count(); n != want {
		t.Errorf("the receiver got %d requests, want %d", n, want)
	}

	delivered := map[string]int{} // webhook-id → requests
	for _, r := range got {
		m := decodeMessage(t, r)
		id := r.header.Get("webhook-id")
		if id != m.Data.ID || m.Type != "game.created" || !games[m.Data.Subject.ID] {
			t.Errorf("delivered %s with webhook-id %q", r.body, id)
		}
		if err := verify(t, w.Secret, r, clock.Now); err != nil {
			t.Errorf("signature of %s: %v", id, err)
		}
		delivered[id]++
	}
	if len(delivered) != replicaEvents {
		t.Errorf("%d events delivered, want %d", len(delivered), replicaEvents)
	}
	for id, n := range delivered {
		if n != attempts {
			t.Errorf("event %s arrived %d times, want %d", id, n, attempts)
		}
	}

	if len(log) != want {
		t.Errorf("the delivery log has %d rows, want %d", len(log), want)
	}
	rows := map[string]map[int]int{} // event → attempt → rows
	for _, d := range log {
		if rows[d.EventID] == nil {
			rows[d.EventID] = map[int]int{}
		}
		if rows[d.EventID][d.Attempt]++; rows[d.EventID][d.Attempt] > 1 {
			t.Errorf("attempt %d of %s is in the log twice", d.Attempt, d.EventID)
		}
		wantStatus, wantCode := "succeeded", http.StatusOK
		if d.Attempt < attempts {
			wantStatus, wantCode = "failed", http.StatusInternalServerError
		}
		if d.Attempt > attempts || d.Status != wantStatus || d.ResponseStatus == nil || *d.ResponseStatus != wantCode {
			t.Errorf("delivery log row %+v, want attempt %d of %d %s with %d", d, d.Attempt, attempts, wantStatus, wantCode)
		}
		if delivered[d.EventID] == 0 {
			t.Errorf("the log has event %s, which the receiver never got", d.EventID)
		}
	}

	// Every attempt made is counted where it was made, recorded or not.
	made := [2]int{attemptsMade(t, replicas[0]), attemptsMade(t, replicas[1])}
	if made[0]+made[1] != want {
		t.Errorf("the replicas made %d and %d attempts, want %d in all", made[0], made[1], want)
	}
	t.Logf("the replicas made %d and %d attempts", made[0], made[1])
}

// tally counts the rows of the delivery log in status.
func tally(ds []client.Delivery, status string) int {
	n := 0
	for _, d := range ds {
		if d.Status == status {
			n++
		}
	}
	return n
}

var deliveriesTotal = regexp.MustCompile(`(?m)^leadr_webhook_deliveries_total\{outcome="[a-z]+"\} (\d+)$`)

// attemptsMade reads from a replica's /metrics how many attempts it made,
// whatever their outcome.
func attemptsMade(t *testing.T, svc *harness.Service) int {
	t.Helper()
	n := 0
	for _, m := range deliveriesTotal.FindAllStringSubmatch(scrape(t, svc), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}
