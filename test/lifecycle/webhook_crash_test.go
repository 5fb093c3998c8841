package lifecycle

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

// lease is how long a claimed attempt stays its replica's
// (application/webhook's lease): the attempt of a replica that died is
// made again once it runs out, and not before.
const lease = webhook.AttemptTimeout + 5*time.Second

// TestWebhookDeliveredAfterACrash: the process is killed (SIGKILL, no
// shutdown) while an endpoint holds its attempt unanswered. The queue is
// the database, so the binary started again on it makes the attempt once
// the dead one's lease runs out: the endpoint gets the same event again,
// same webhook-id, signed, and the log shows the attempt succeeded
// (contract section 10: at least once, durable across restarts).
func TestWebhookDeliveredAfterACrash(t *testing.T) {
	t.Parallel() // it waits out a lease: the other tests need not wait for it
	bin := buildBinary(t)
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		deliveredAfterACrash(t, bin, pgtest.FreshURL(t))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		deliveredAfterACrash(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "leadr.db"))
	})
}

// delivery is a request the receiver got.
type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
}

// stallingReceiver is an endpoint on the loopback that holds its first
// request unanswered until the test ends, and answers 200 to the others.
// It passes on every request as it arrives.
func stallingReceiver(t *testing.T) (url string, got <-chan delivery) {
	t.Helper()
	ch := make(chan delivery, 10)
	release := make(chan struct{})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- delivery{at: time.Now(), header: r.Header.Clone(), body: body}
		if n.Add(1) == 1 {
			// The sender's death closes the connection, which ends r's
			// context; until then the attempt is in flight.
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	// Cleanups run last first: the held request lets go, then Close,
	// which waits for it, returns.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL, ch
}

func deliveredAfterACrash(t *testing.T, bin, dbURL string) {
	superKey := tenancy.GenerateKey()
	env := []string{"LEADR_DATABASE_URL=" + dbURL, "LEADR_SUPERADMIN_API_KEY=" + superKey, "LEADR_LOG_LEVEL=info",
		"LEADR_WEBHOOK_ALLOW_PRIVATE=true"}
	if strings.HasPrefix(dbURL, "postgres") { // SQLite makes its key file beside the database
		env = append(env, "LEADR_ENCRYPTION_KEY="+harness.EncryptionKey)
	}
	p := startBinary(t, bin, env)
	admin := client.New(p.base, client.WithAPIKey(superKey))
	acc := harness.NewAccount(t, admin)
	key := harness.NewAPIKey(t, admin, acc.ID, harness.NewUser(t, admin, acc.ID).ID)
	tenant := client.New(p.base, client.WithAPIKey(key.Key))

	url, got := stallingReceiver(t)
	w, err := tenant.CreateWebhook(t.Context(), client.CreateWebhookRequest{URL: url, EventTypes: []string{"game.*"}})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	verifier, err := client.NewWebhookVerifier(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	game := harness.NewGame(t, tenant, client.CreateGameRequest{})

	var first delivery
	select {
	case first = <-got:
	case <-time.After(30 * time.Second):
		t.Fatalf("no delivery of the game's event within 30 s\n%s", p.stderr())
	}
	eventID := wantGameCreated(t, first, game.ID)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	p = startBinary(t, bin, env)
	var again delivery
	select {
	case again = <-got:
	case <-time.After(2 * lease):
		t.Fatalf("the event was not delivered again within %s of the crash\n%s", 2*lease, p.stderr())
	}
	if id := wantGameCreated(t, again, game.ID); id != eventID {
		t.Errorf("delivered again with webhook-id %s, first with %s", id, eventID)
	}
	if err := verifier.Verify(again.header, again.body); err != nil {
		t.Errorf("the delivery after the restart does not verify: %v", err)
	}
	// The dead process's lease held the attempt: a replica that took it
	// sooner would also take attempts that live replicas have in flight.
	// The attempt was claimed a moment before it reached the receiver;
	// the slack covers that moment.
	gap := again.at.Sub(first.at)
	if gap < lease-5*time.Second {
		t.Errorf("delivered again %s after the first try, within the %s lease", gap, lease)
	}
	t.Logf("delivered again %s after the first try", gap.Round(time.Millisecond))

	// The attempt that finished is the one the dead process began.
	tenant = client.New(p.base, client.WithAPIKey(key.Key))
	var log []client.Delivery
	for deadline := time.Now().Add(10 * time.Second); ; {
		page, err := tenant.ListDeliveries(t.Context(), w.ID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if log = page.Data; len(log) > 0 && log[0].Status != "pending" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery log still shows no outcome: %+v", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := log[0]; len(log) != 1 || d.EventID != eventID || d.Attempt != 1 || d.Status != "succeeded" ||
		d.ResponseStatus == nil || *d.ResponseStatus != http.StatusOK {
		t.Errorf("delivery log %+v, want attempt 1 of %s succeeded with 200", log, eventID)
	}
	select {
	case more := <-got:
		t.Errorf("a third delivery: %s %s", more.header.Get("webhook-id"), more.body)
	default:
	}
	p.stop(t)
}

// wantGameCreated checks that d delivers the game.created event of game,
// and returns its webhook-id.
func wantGameCreated(t *testing.T, d delivery, game string) string {
	t.Helper()
	var m client.WebhookMessage
	if err := json.Unmarshal(d.body, &m); err != nil {
		t.Fatalf("delivery body %q: %v", d.body, err)
	}
	id := d.header.Get("webhook-id")
	if m.Type != "game.created" || m.Data.Subject.ID != game || m.Data.ID != id {
		t.Fatalf("delivered %s with webhook-id %q", d.body, id)
	}
	return id
}
