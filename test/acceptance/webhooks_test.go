package acceptance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

func newReceiver(t *testing.T, answer func(n int, r received) int) *receiver {
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
func (rc *receiver) wait(t *testing.T, n int, within time.Duration) []received {
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
