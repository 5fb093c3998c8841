package acceptance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// received is one request a receiver got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on the loopback: it keeps what it gets
// and answers what answer says (200 when nil).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) int
	more   chan struct{}
}

func newReceiver(t testing.TB, answer func(n int, r received) int) *receiver {
	t.Helper()
	rc := &receiver{answer: answer, more: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{at: time.Now(), header: r.Header.Clone(), body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		n := len(rc.got)
		rc.mu.Unlock()
		rc.more <- struct{}{}
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, got)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wait returns the first n requests, failing after within.
func (rc *receiver) wait(t testing.TB, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.After(within)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]received(nil), rc.got[:n]...)
			rc.mu.Unlock()
			return out
		}
		have := len(rc.got)
		rc.mu.Unlock()
		select {
		case <-rc.more:
		case <-deadline:
			t.Fatalf("the receiver got %d requests within %s, want %d", have, within, n)
		}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// message is a delivery's body.
type message struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      event  `json:"data"`
}

func decodeMessage(t *testing.T, r received) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("delivery body %q: %v", r.body, err)
	}
	return m
}

// shiftedClock is the system's clock moved on by what a test skips.
type shiftedClock struct{ by atomic.Int64 }

func (c *shiftedClock) Now() time.Time       { return time.Now().Add(time.Duration(c.by.Load())) }
func (c *shiftedClock) Skip(d time.Duration) { c.by.Add(int64(d)) }

func allowPrivate() harness.Option { return harness.WithEnv("LEADR_WEBHOOK_ALLOW_PRIVATE", "true") }

func newWebhook(t *testing.T, c *client.Client, url string, types ...string) client.CreatedWebhook {
	t.Helper()
	w, err := c.CreateWebhook(context.Background(), client.CreateWebhookRequest{URL: url, EventTypes: types})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w
}

func verify(t *testing.T, secret string, r received, now func() time.Time) error {
	t.Helper()
	v, err := client.NewWebhookVerifier(secret, client.WithWebhookClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(r.header, r.body)
}

func TestWebhookDeliversSignedEvents(t *testing.T) {
	t.Parallel()
	s := harness.StartService(t, allowPrivate())
	tenant := harness.NewTenant(t, s)
	c := tenant.Client
	rc := newReceiver(t, nil)
	w := newWebhook(t, c, rc.srv.URL+"/hook?token=abc", "game.*")
	if !strings.HasPrefix(w.Secret, "whsec_") || w.Status != "enabled" {
		t.Fatalf("created %+v", w)
	}

	g := harness.NewGame(t, c, client.CreateGameRequest{Name: "Hooked"})
	got := rc.wait(t, 1, 10*time.Second)[0]
	m := decodeMessage(t, got)
	if m.Type != "game.created" || m.Data.Type != "game.created" || m.Data.Subject.ID != g.ID || m.Data.Data["name"] != "Hooked" {
		t.Fatalf("delivered %s", got.body)
	}
	if id := got.header.Get("webhook-id"); id != m.Data.ID || !strings.HasPrefix(id, "evt_") {
		t.Fatalf("webhook-id %q, event %q", id, m.Data.ID)
	}
	if err := verify(t, w.Secret, got, time.Now); err != nil {
		t.Fatalf("signature: %v (header %q)", err, got.header.Get("webhook-signature"))
	}
	other := newWebhook(t, c, rc.srv.URL, "identity.*")
	if err := verify(t, other.Secret, got, time.Now); err == nil {
		t.Fatal("another endpoint's secret verifies the delivery")
	}

	// The log shows the attempt; the secret is in no answer but the first,
	// nor in any event.
	log := waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool { return len(ds) == 1 && ds[0].Status == "succeeded" })
	if d := log[0]; d.EventID != m.Data.ID || d.Attempt != 1 || d.ResponseStatus == nil || *d.ResponseStatus != 200 || d.Error != nil || d.DurationMS == nil {
		t.Fatalf("delivery log %+v", d)
	}
	metrics := scrape(t, s)
	for _, want := range []string{`leadr_webhook_deliveries_total{outcome="succeeded"} 1`, `leadr_webhook_attempt_duration_seconds_count 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	for _, path := range []string{"/v1/webhooks/" + w.ID, "/v1/webhooks", "/v1/events?type=webhook.*", "/v1/webhooks/" + w.ID + "/deliveries"} {
		a := harness.Over(t, c).Do("GET", path, nil).Want(http.StatusOK)
		if strings.Contains(string(a.Body), strings.TrimPrefix(w.Secret, "whsec_")) {
			t.Fatalf("GET %s holds the secret: %s", path, a.Body)
		}
	}
}

// waitDeliveries polls the delivery log until done says it is complete.
func waitDeliveries(t *testing.T, c *client.Client, webhookID string, done func([]client.Delivery) bool) []client.Delivery {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		page, err := c.ListDeliveries(context.Background(), webhookID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if done(page.Data) {
			return page.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log %+v", page.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWebhookRetryKeepsItsID(t *testing.T) {
	t.Parallel()
	clock := new(shiftedClock)
	s := harness.StartService(t, allowPrivate(), harness.WithClock(clock.Now))
	c := harness.NewTenant(t, s).Client
	rc := newReceiver(t, func(n int, _ received) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	w := newWebhook(t, c, rc.srv.URL, "game.created")
	harness.NewGame(t, c, client.CreateGameRequest{Name: "Retried"})
	rc.wait(t, 1, 10*time.Second)
	log := waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool { return len(ds) == 2 })
	retry, first := log[0], log[1]
	if first.Status != "failed" || first.Attempt != 1 || first.ResponseStatus == nil || *first.ResponseStatus != 500 ||
		retry.Status != "pending" || retry.Attempt != 2 || retry.EventID != first.EventID || retry.ResponseStatus != nil || retry.DurationMS != nil {
		t.Fatalf("after a 500 the log is %+v", log)
	}
	metrics := scrape(t, s)
	for _, want := range []string{`leadr_webhook_deliveries_total{outcome="failed"} 1`, `leadr_webhook_oldest_pending_seconds{webhook_id="` + w.ID + `"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	clock.Skip(6 * time.Second) // past the first retry's 5 s ± 20%
	got := rc.wait(t, 2, 10*time.Second)
	if a, b := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"); a != b || a != first.EventID {
		t.Fatalf("webhook-id %q, then %q, for event %s", a, b, first.EventID)
	}
	if string(got[0].body) != string(got[1].body) {
		t.Fatalf("the retry's body differs:\n%s\n%s", got[0].body, got[1].body)
	}
	if err := verify(t, w.Secret, got[1], clock.Now); err != nil {
		t.Fatalf("the retry's signature: %v", err)
	}
	waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool {
		return len(ds) == 2 && ds[0].Status == "succeeded" && ds[0].Attempt == 2
	})
}

func TestWebhookDisabledBy410(t *testing.T) {
	t.Parallel()
	s := harness.StartService(t, allowPrivate())
	c := harness.NewTenant(t, s).Client
	rc := newReceiver(t, func(int, received) int { return http.StatusGone })
	w := newWebhook(t, c, rc.srv.URL, "game.*")
	harness.NewGame(t, c, client.CreateGameRequest{Name: "Gone"})
	rc.wait(t, 1, 10*time.Second)
	log := waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool { return len(ds) > 0 && ds[0].Status != "pending" })
	if len(log) != 1 || log[0].Status != "failed" || *log[0].ResponseStatus != 410 {
		t.Fatalf("log %+v: want one failed attempt and no retry", log)
	}
	got := waitWebhook(t, c, w.ID, func(w client.Webhook) bool { return w.Status == "disabled" })
	if got.DisabledReason == "" {
		t.Fatalf("disabled without a reason: %+v", got)
	}
	disabled := decode[client.Page[event]](t, harness.Over(t, c).Do("GET", "/v1/events?type=webhook.disabled&subject_id="+w.ID, nil).Want(http.StatusOK)).Data
	if len(disabled) != 1 || disabled[0].Actor.Type != "system" || disabled[0].Data["disabled_reason"] != got.DisabledReason {
		t.Fatalf("webhook.disabled events %+v", disabled)
	}
	// Disabled, it is sent nothing more.
	harness.NewGame(t, c, client.CreateGameRequest{Name: "Unsent"})
	time.Sleep(time.Second)
	if n := rc.count(); n != 1 {
		t.Fatalf("a disabled endpoint got %d requests", n)
	}
	// Enabled again, it gets events made since.
	if _, err := c.UpdateWebhook(context.Background(), w.ID, client.UpdateWebhookRequest{Status: ptrTo("enabled")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetWebhook(context.Background(), w.ID); got.Status != "enabled" || got.DisabledReason != "" {
		t.Fatalf("enabled again: %+v", got)
	}
}

func TestWebhookDisabledAfterFiveDaysOfFailures(t *testing.T) {
	t.Parallel()
	clock := new(shiftedClock)
	s := harness.StartService(t, allowPrivate(), harness.WithClock(clock.Now))
	c := harness.NewTenant(t, s).Client
	rc := newReceiver(t, func(int, received) int { return http.StatusServiceUnavailable })
	w := newWebhook(t, c, rc.srv.URL, "game.*")
	harness.NewGame(t, c, client.CreateGameRequest{Name: "Failing"})
	waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool { return len(ds) == 2 })
	if got, _ := c.GetWebhook(context.Background(), w.ID); got.Status != "enabled" {
		t.Fatalf("one failure disabled it: %+v", got)
	}
	clock.Skip(5*24*time.Hour + time.Minute)
	got := waitWebhook(t, c, w.ID, func(w client.Webhook) bool { return w.Status == "disabled" })
	if !strings.Contains(got.DisabledReason, "5 days") {
		t.Fatalf("disabled for %q", got.DisabledReason)
	}
}

func waitWebhook(t *testing.T, c *client.Client, id string, done func(client.Webhook) bool) client.Webhook {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		w, err := c.GetWebhook(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if done(w) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook %+v", w)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestWebhookReplay(t *testing.T) {
	t.Parallel()
	s := harness.StartService(t, allowPrivate())
	c := harness.NewTenant(t, s).Client
	rc := newReceiver(t, nil)
	before := time.Now()
	w := newWebhook(t, c, rc.srv.URL, "game.created")
	harness.NewGame(t, c, client.CreateGameRequest{Name: "Replayed"})
	first := rc.wait(t, 1, 10*time.Second)[0]
	eventID := first.header.Get("webhook-id")

	if err := c.ReplayEvent(context.Background(), w.ID, eventID); err != nil {
		t.Fatal(err)
	}
	if err := c.ReplaySince(context.Background(), w.ID, before); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, 3, 10*time.Second)
	for _, r := range got[1:] {
		if r.header.Get("webhook-id") != eventID || string(r.body) != string(first.body) {
			t.Fatalf("replayed %s %s, want %s %s", r.header.Get("webhook-id"), r.body, eventID, first.body)
		}
		if err := verify(t, w.Secret, r, time.Now); err != nil {
			t.Fatalf("replay's signature: %v", err)
		}
	}
	// The tenant's other events (its webhook's creation) are not of its types.
	time.Sleep(500 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("after the replays the receiver has %d requests, want 3", n)
	}

	wire := harness.Over(t, c)
	path := "/v1/webhooks/" + w.ID + "/replay"
	wire.Do("POST", path, map[string]any{"event_id": "evt_0195f2a0-0000-7000-8000-000000000000"}).Want(http.StatusNotFound, "Event not found")
	wire.Do("POST", path, map[string]any{}).Problem("missing", "body", "event_id")
	wire.Do("POST", path, map[string]any{"event_id": eventID, "since": "2026-01-01T00:00:00Z"}).Want(http.StatusUnprocessableEntity)
	// Another tenant's event is not found; another tenant cannot replay.
	otherTenant := harness.NewTenant(t, s)
	otherEvent := decode[client.Page[event]](t, harness.Over(t, otherTenant.Client).Do("GET", "/v1/events?limit=1", nil).Want(http.StatusOK)).Data[0]
	wire.Do("POST", path, map[string]any{"event_id": otherEvent.ID}).Want(http.StatusNotFound, "Event not found")
	harness.Over(t, otherTenant.Client).Do("POST", path, map[string]any{"event_id": eventID}).Want(http.StatusForbidden)
}

func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	clock := new(shiftedClock)
	s := harness.StartService(t, allowPrivate(), harness.WithClock(clock.Now))
	c := harness.NewTenant(t, s).Client
	rc := newReceiver(t, nil)
	old := newWebhook(t, c, rc.srv.URL, "game.created")
	rotated, err := c.RotateWebhookSecret(context.Background(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.ID != old.ID {
		t.Fatalf("rotated %+v", rotated)
	}

	harness.NewGame(t, c, client.CreateGameRequest{Name: "Overlap"})
	during := rc.wait(t, 1, 10*time.Second)[0]
	if sigs := strings.Fields(during.header.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("during the overlap: signatures %q", sigs)
	}
	for name, secret := range map[string]string{"old": old.Secret, "new": rotated.Secret} {
		if err := verify(t, secret, during, clock.Now); err != nil {
			t.Fatalf("during the overlap the %s secret does not verify: %v", name, err)
		}
	}

	clock.Skip(24*time.Hour + time.Minute)
	harness.NewGame(t, c, client.CreateGameRequest{Name: "After"})
	after := rc.wait(t, 2, 10*time.Second)[1]
	if sigs := strings.Fields(after.header.Get("webhook-signature")); len(sigs) != 1 {
		t.Fatalf("after the overlap: signatures %q", sigs)
	}
	if err := verify(t, rotated.Secret, after, clock.Now); err != nil {
		t.Fatalf("after the overlap the new secret does not verify: %v", err)
	}
	if err := verify(t, old.Secret, after, clock.Now); err == nil {
		t.Fatal("after the overlap the old secret still verifies")
	}
	rotations := decode[client.Page[event]](t, harness.Over(t, c).Do("GET", "/v1/events?type=webhook.secret_rotated", nil).Want(http.StatusOK)).Data
	if len(rotations) != 1 || rotations[0].Subject.ID != old.ID {
		t.Fatalf("webhook.secret_rotated events %+v", rotations)
	}
}

// A slow endpoint holds LEADR_WEBHOOK_PER_ENDPOINT workers of its own and
// no more: another endpoint's deliveries go on as if it were not there. Not
// parallel: the feed waits for every transaction of the server, and the
// bound is about this service alone.
func TestSlowWebhookDelaysNoOther(t *testing.T) {
	s := harness.StartService(t, allowPrivate())
	c := harness.NewTenant(t, s).Client
	release := make(chan struct{})
	slow := newReceiver(t, func(int, received) int { <-release; return http.StatusOK })
	t.Cleanup(func() { close(release) })
	fast := newReceiver(t, nil)
	newWebhook(t, c, slow.srv.URL, "game.created")
	newWebhook(t, c, fast.srv.URL, "game.created")

	const games = 8 // twice what the slow endpoint may hold at once
	made := make([]time.Time, games)
	for i := range games {
		harness.NewGame(t, c, client.CreateGameRequest{})
		made[i] = time.Now()
		time.Sleep(50 * time.Millisecond)
	}
	got := fast.wait(t, games, 10*time.Second)
	for i, r := range got {
		if delay := r.at.Sub(made[i]); delay > time.Second {
			t.Errorf("event %d reached the fast endpoint %s after it was made", i, delay)
		}
	}
	if n := slow.count(); n == 0 || n > 4 {
		t.Fatalf("the slow endpoint holds %d requests, want 1–4 (LEADR_WEBHOOK_PER_ENDPOINT)", n)
	}
}

// rebinding answers a public address for a name the first time it is
// asked, and the loopback ever after: DNS rebinding.
type rebinding struct{ asked atomic.Int32 }

func (r *rebinding) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	if r.asked.Add(1) == 1 {
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

func TestWebhookURLsAreChecked(t *testing.T) {
	t.Parallel()
	resolver := new(rebinding)
	s := harness.StartService(t, harness.WithResolver(resolver))
	c := harness.NewTenant(t, s).Client
	wire := harness.Over(t, c)
	for _, u := range []string{
		"http://hooks.example.com/", "ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "/relative",
		"https://127.0.0.1/", "https://127.8.9.10/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/",
		"https://10.1.2.3/", "https://172.16.0.1/", "https://192.168.1.1/", "https://100.64.0.1/",
		"https://169.254.169.254/latest/meta-data", "https://[fe80::1]/", "https://[fd00::1]/", "https://[fc00::1]/",
		"https://224.0.0.1/", "https://[ff02::1]/", "https://0.0.0.0/", "https://[::]/", "https://255.255.255.255/",
		"https://[64:ff9b::7f00:1]/", "https://localhost/", "https://2130706433/", "https://0x7f.1/",
	} {
		p := wire.Do("POST", "/v1/webhooks", map[string]any{"url": u, "event_types": []string{"game.*"}}).Problem("value_error", "body", "url")
		if p["input"] != u {
			t.Errorf("%s: input %v", u, p["input"])
		}
	}
	if resolver.asked.Load() != 0 {
		t.Fatalf("refusing literal addresses resolved %d names", resolver.asked.Load())
	}

	// A name that resolves to a public address passes; when it resolves
	// to the loopback at delivery, the attempt is refused on the address
	// dialled, and the receiver on the loopback hears nothing.
	rc := newReceiver(t, nil)
	port := rc.srv.URL[strings.LastIndex(rc.srv.URL, ":")+1:]
	w := newWebhook(t, c, "https://hooks.example.com:"+port+"/hook?token=s3cr3t", "game.*")
	harness.NewGame(t, c, client.CreateGameRequest{})
	log := waitDeliveries(t, c, w.ID, func(ds []client.Delivery) bool { return len(ds) > 0 && ds[len(ds)-1].Status == "failed" })
	first := log[len(log)-1]
	if first.Error == nil || !strings.Contains(*first.Error, "not allowed") || first.ResponseStatus != nil || strings.Contains(*first.Error, "s3cr3t") {
		t.Fatalf("the rebound attempt: %+v (error %v)", first, first.Error)
	}
	if n := rc.count(); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	// PATCHing the URL is checked alike.
	wire.Do("PATCH", "/v1/webhooks/"+w.ID, map[string]any{"url": "https://[::1]:8443/"}).Problem("value_error", "body", "url")
}

func TestWebhookResource(t *testing.T) {
	t.Parallel()
	s := harness.StartService(t, allowPrivate())
	tenant := harness.NewTenant(t, s)
	c := tenant.Client
	wire := harness.Over(t, c)
	ctx := context.Background()

	a := wire.Do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/a", "event_types": []string{"identity.*", "game.deleted", "identity.*"}, "description": "CRM"}).Want(http.StatusCreated)
	id := a.Str("id")
	if a.Header.Get("Location") != "/v1/webhooks/"+id || a.JSON["account_id"] != tenant.Account.ID || a.JSON["status"] != "enabled" {
		t.Fatalf("created %s", a.Body)
	}
	if types, _ := json.Marshal(a.JSON["event_types"]); string(types) != `["identity.*","game.deleted"]` {
		t.Fatalf("event_types %s", types)
	}
	got, err := c.GetWebhook(ctx, id)
	if err != nil || got.URL != "http://127.0.0.1:9/a" || got.Description == nil || *got.Description != "CRM" {
		t.Fatalf("get: %+v %v", got, err)
	}

	// Validation: every problem at once, nothing written.
	wire.Do("POST", "/v1/webhooks", map[string]any{"url": 5, "event_types": "game.*"}).Problem("string_type", "body", "url")
	wire.Do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1/", "event_types": []string{}}).Problem("value_error", "body", "event_types")
	wire.Do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1/", "event_types": []string{"*"}}).Problem("value_error", "body", "event_types")
	wire.Do("POST", "/v1/webhooks", map[string]any{"event_types": []string{"game.*"}}).Problem("missing", "body", "url")
	wire.Do("POST", "/v1/webhooks", map[string]any{"url": "http://127.0.0.1/", "event_types": []string{"game.*"}, "description": strings.Repeat("x", 501)}).Want(http.StatusUnprocessableEntity)
	if page, _ := c.ListWebhooks(ctx, client.ListWebhooksParams{}); len(page.Data) != 1 {
		t.Fatalf("after refused creations the list has %d webhooks", len(page.Data))
	}

	// Update: only what is given.
	upd := wire.Do("PATCH", "/v1/webhooks/"+id, map[string]any{"event_types": []string{"player.banned"}, "description": nil, "status": "disabled"}).Want(http.StatusOK)
	if upd.JSON["description"] != nil || upd.JSON["status"] != "disabled" || upd.JSON["url"] != "http://127.0.0.1:9/a" {
		t.Fatalf("updated %s", upd.Body)
	}
	wire.Do("PATCH", "/v1/webhooks/"+id, map[string]any{"status": "paused"}).Problem("value_error", "body", "status")

	// Another tenant sees nothing of it, and cannot touch it.
	other := harness.Over(t, harness.NewTenant(t, s).Client)
	other.Do("GET", "/v1/webhooks/"+id, nil).Want(http.StatusForbidden)
	other.Do("PATCH", "/v1/webhooks/"+id, map[string]any{"status": "enabled"}).Want(http.StatusForbidden)
	other.Do("POST", "/v1/webhooks/"+id+"/rotate-secret", nil).Want(http.StatusForbidden)
	other.Do("GET", "/v1/webhooks/"+id+"/deliveries", nil).Want(http.StatusForbidden)
	other.Do("POST", "/v1/webhooks", map[string]any{"account_id": tenant.Account.ID, "url": "http://127.0.0.1/", "event_types": []string{"game.*"}}).Want(http.StatusForbidden)
	if page := decode[client.Page[client.Webhook]](t, other.Do("GET", "/v1/webhooks", nil).Want(http.StatusOK)); len(page.Data) != 0 {
		t.Fatalf("another tenant lists %+v", page.Data)
	}
	if got, _ := c.GetWebhook(ctx, id); got.Status != "disabled" {
		t.Fatalf("another tenant's refused PATCH changed it: %+v", got)
	}

	// Delete: 204, then gone for every call.
	if d := wire.Do("DELETE", "/v1/webhooks/"+id, nil); d.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", d.Status, d.Body)
	}
	wire.Do("GET", "/v1/webhooks/"+id, nil).Want(http.StatusNotFound, "Webhook not found")
	wire.Do("DELETE", "/v1/webhooks/"+id, nil).Want(http.StatusNotFound, "Webhook not found")
	wire.Do("POST", "/v1/webhooks/"+id+"/rotate-secret", nil).Want(http.StatusNotFound, "Webhook not found")
	types := map[string]bool{}
	for _, e := range decode[client.Page[event]](t, wire.Do("GET", "/v1/events?type=webhook.*&subject_id="+id, nil).Want(http.StatusOK)).Data {
		types[e.Type] = true
	}
	for _, want := range []string{"webhook.created", "webhook.disabled", "webhook.deleted"} {
		if !types[want] {
			t.Errorf("no %s event among %v", want, types)
		}
	}
}

func scrape(t *testing.T, s *harness.Service) string {
	t.Helper()
	resp, err := http.Get(s.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
