package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appwebhook "github.com/leadr-oss/identity/application/webhook"
	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
)

// now is the dispatcher's clock in these tests. It has nanoseconds so that
// the tests see that a signature's timestamp is whole seconds.
var now = time.Date(2026, 12, 7, 18, 0, 0, 750_000_000, time.UTC)

// waitFor bounds how long a test waits for what the dispatcher does
// within a poll or two; it only matters when the test fails.
const waitFor = 5 * time.Second

// fakeCipher seals by prefixing the context, so that a secret sealed for
// one webhook does not open for another.
type fakeCipher struct{}

func (fakeCipher) Seal(plaintext, context []byte) []byte {
	return append([]byte("sealed:"+string(context)+":"), plaintext...)
}

func (fakeCipher) Open(sealed, context []byte) ([]byte, error) {
	plain, ok := bytes.CutPrefix(sealed, []byte("sealed:"+string(context)+":"))
	if !ok {
		return nil, errors.New("message authentication failed")
	}
	return bytes.Clone(plain), nil
}

// fakeQueue holds attempts in memory. Only the methods the dispatcher
// calls are written; the others panic through the nil interface.
type fakeQueue struct {
	ports.DeliveryQueue

	mu      sync.Mutex
	waiting []*ports.Claimed // due, not claimed
	leases  map[id.DeliveryID]time.Time
	done    chan ports.Attempted
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{leases: map[id.DeliveryID]time.Time{}, done: make(chan ports.Attempted, 100)}
}

func (q *fakeQueue) add(cs ...*ports.Claimed) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiting = append(q.waiting, cs...)
}

func (q *fakeQueue) leaseOf(d id.DeliveryID) (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	until, ok := q.leases[d]
	return until, ok
}

func (q *fakeQueue) FanOut(context.Context, int, time.Time) (int, error) { return 0, nil }
func (q *fakeQueue) ReplayStep(context.Context, int, int, time.Time) (int, error) {
	return 0, nil
}

func (q *fakeQueue) Due(_ context.Context, now time.Time, limit int) ([]id.WebhookID, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []id.WebhookID
	for _, c := range q.waiting {
		if w := c.Delivery.WebhookID; !c.Delivery.DueAt.After(now) && !slices.Contains(out, w) && len(out) < limit {
			out = append(out, w)
		}
	}
	return out, nil
}

func (q *fakeQueue) Claim(_ context.Context, w id.WebhookID, now, leaseUntil time.Time, n int) ([]*ports.Claimed, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*ports.Claimed
	q.waiting = slices.DeleteFunc(q.waiting, func(c *ports.Claimed) bool {
		if len(out) == n || c.Delivery.WebhookID != w || c.Delivery.DueAt.After(now) {
			return false
		}
		out = append(out, c)
		q.leases[c.Delivery.ID] = leaseUntil
		return true
	})
	return out, nil
}

func (q *fakeQueue) Complete(_ context.Context, a ports.Attempted) (bool, error) {
	q.done <- a
	return true, nil
}

// completed waits for n attempts to be completed.
func (q *fakeQueue) completed(t *testing.T, n int) []ports.Attempted {
	t.Helper()
	out := make([]ports.Attempted, 0, n)
	timeout := time.After(waitFor)
	for len(out) < n {
		select {
		case a := <-q.done:
			out = append(out, a)
		case <-timeout:
			t.Fatalf("%d attempts completed, want %d", len(out), n)
		}
	}
	return out
}

// sent is one call of the sender.
type sent struct {
	url    string
	header http.Header
	body   []byte
}

// fakeSender records its calls and answers with answer. A send to a URL
// with a gate waits until the gate is closed, whatever its context says,
// as an endpoint that takes its time would.
type fakeSender struct {
	answer func(url string) webhook.Outcome

	mu          sync.Mutex
	gates       map[string]chan struct{}
	calls       []sent
	inFlight    map[string]int
	maxInFlight map[string]int
	total, peak int
	started     chan string
}

func newFakeSender(answer webhook.Outcome) *fakeSender {
	return &fakeSender{
		answer:   func(string) webhook.Outcome { return answer },
		gates:    map[string]chan struct{}{},
		inFlight: map[string]int{}, maxInFlight: map[string]int{},
		started: make(chan string, 100),
	}
}

// hold makes the sends to url wait until the returned function is called.
func (s *fakeSender) hold(url string) (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gates[url] = gate
	s.mu.Unlock()
	return sync.OnceFunc(func() { close(gate) })
}

func (s *fakeSender) Send(_ context.Context, url string, header map[string]string, body []byte) webhook.Outcome {
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	s.mu.Lock()
	s.calls = append(s.calls, sent{url: url, header: h, body: bytes.Clone(body)})
	s.inFlight[url]++
	s.maxInFlight[url] = max(s.maxInFlight[url], s.inFlight[url])
	s.total++
	s.peak = max(s.peak, s.total)
	gate := s.gates[url]
	s.mu.Unlock()
	s.started <- url
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	s.inFlight[url]--
	s.total--
	s.mu.Unlock()
	return s.answer(url)
}

func (s *fakeSender) sent() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *fakeSender) sentTo(url string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.url == url {
			n++
		}
	}
	return n
}

// waitStarted waits until n sends to url have started.
func (s *fakeSender) waitStarted(t *testing.T, url string, n int) {
	t.Helper()
	timeout := time.After(waitFor)
	for s.sentTo(url) < n {
		select {
		case <-s.started:
		case <-timeout:
			t.Fatalf("%d sends to %s started, want %d", s.sentTo(url), url, n)
		}
	}
}

func payload(e *ports.Recorded) ([]byte, error) {
	return []byte(`{"type":"` + string(e.Type) + `","data":{"id":"` + e.ID.String() + `"}}`), nil
}

// endpoint is a webhook to url with its secret, sealed by fakeCipher, and
// the plaintext the API showed for it.
func endpoint(t *testing.T, url string) (*webhook.Webhook, webhook.Secret) {
	t.Helper()
	u, err := webhook.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	types, err := webhook.ParseEventTypes([]string{"identity.*"})
	if err != nil {
		t.Fatal(err)
	}
	secret := webhook.GenerateSecret()
	seal := func(w id.WebhookID) []byte { return fakeCipher{}.Seal(secret.Bytes(), []byte(w.String())) }
	w, err := webhook.New(id.New[id.Account](), u, types, nil, seal, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return w, secret
}

// due is attempt number attempt of a new event to w, due now.
func due(w *webhook.Webhook, attempt int) *ports.Claimed {
	e := &ports.Recorded{
		ID: id.New[id.Event](), Type: "identity.created", AccountID: w.AccountID(), OccurredAt: now.Add(-time.Minute),
		Actor: event.System, Subject: event.Subject{Resource: "identity", ID: id.New[id.Identity]().String()},
	}
	return &ports.Claimed{
		Delivery: webhook.Delivery{
			ID: id.New[id.Delivery](), WebhookID: w.ID(), EventID: e.ID, EventType: e.Type,
			Attempt: attempt, Status: webhook.Pending, DueAt: now, CreatedAt: now,
		},
		LeaseToken: "token",
		Webhook:    w,
		Event:      e,
	}
}

func newDispatcher(q *fakeQueue, s *fakeSender, cfg appwebhook.DispatcherConfig, clock ports.Clock) *appwebhook.Dispatcher {
	return appwebhook.NewDispatcher(q, s, payload, fakeCipher{}, clock, cfg, appwebhook.Observer{})
}

func fixedClock() time.Time { return now }

// run runs d until the test ends, and returns what stops it and waits for it.
func run(t *testing.T, d *appwebhook.Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		d.Run(ctx)
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(waitFor):
			t.Error("Run did not return")
		}
	})
	t.Cleanup(stop)
	return stop
}

func TestDispatcherHoldsNoMoreThanPerEndpointForASlowEndpoint(t *testing.T) {
	q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
	slow, _ := endpoint(t, "https://slow.example/hooks")
	fast, _ := endpoint(t, "https://fast.example/hooks")
	release := s.hold(slow.URL().String())
	for range 5 {
		q.add(due(slow, 1))
	}
	stop := run(t, newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 4, PerEndpoint: 2, Poll: 2 * time.Millisecond}, fixedClock))
	t.Cleanup(release) // before stop, which waits for the sends

	s.waitStarted(t, slow.URL().String(), 2)
	// Due while the slow endpoint holds its share: a free worker takes it.
	q.add(due(fast, 1))
	if got := q.completed(t, 1)[0].Claimed.Webhook; got != fast {
		t.Fatalf("completed an attempt to %s first, want the fast endpoint's", got.URL())
	}
	time.Sleep(20 * time.Millisecond) // polls enough to start more, were they allowed
	if n := s.sentTo(slow.URL().String()); n != 2 {
		t.Errorf("%d sends to the slow endpoint started while 2 were blocked, want 2", n)
	}

	release()
	q.completed(t, 5)
	stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := s.maxInFlight[slow.URL().String()]; got != 2 {
		t.Errorf("at most %d sends in flight to the slow endpoint, want 2", got)
	}
}

func TestDispatcherHoldsNoMoreThanWorkers(t *testing.T) {
	q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
	var releases []func()
	for _, url := range []string{"https://a.example/hooks", "https://b.example/hooks", "https://c.example/hooks"} {
		w, _ := endpoint(t, url)
		releases = append(releases, s.hold(url))
		for range 3 {
			q.add(due(w, 1))
		}
	}
	stop := run(t, newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 4, PerEndpoint: 2, Poll: 2 * time.Millisecond}, fixedClock))
	for _, release := range releases {
		t.Cleanup(release) // before stop, which waits for the sends
	}
	timeout := time.After(waitFor)
	for range 4 {
		select {
		case <-s.started:
		case <-timeout:
			t.Fatalf("%d sends started, want 4", len(s.sent()))
		}
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(s.sent()); n != 4 {
		t.Errorf("%d sends started with 4 workers all blocked, want 4", n)
	}
	for _, release := range releases {
		release()
	}
	q.completed(t, 9)
	stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peak != 4 {
		t.Errorf("at most %d sends in flight, want 4", s.peak)
	}
	for url, n := range s.maxInFlight {
		if n > 2 {
			t.Errorf("%d sends in flight to %s, want at most 2", n, url)
		}
	}
}

func TestDispatcherSchedulesTheNextAttempt(t *testing.T) {
	for _, c := range []struct {
		name    string
		attempt int
		outcome webhook.Outcome
		// next is the wait before the next attempt, counted from the end
		// of this one; 0 for none.
		next time.Duration
	}{
		{"a 500 of the first attempt", 1, webhook.Outcome{ResponseStatus: 500}, 5 * time.Second},
		{"an error of the first attempt", 1, webhook.Outcome{Error: "connection refused"}, 5 * time.Second},
		{"a slow 503", 1, webhook.Outcome{ResponseStatus: 503, Duration: 3 * time.Second}, 5 * time.Second},
		{"a 500 of the third attempt", 3, webhook.Outcome{ResponseStatus: 500}, 30 * time.Minute},
		{"a 500 of the seventh attempt", 7, webhook.Outcome{ResponseStatus: 500}, 10 * time.Hour},
		{"a 500 of the last attempt", webhook.MaxAttempts, webhook.Outcome{ResponseStatus: 500}, 0},
		{"a 410", 1, webhook.Outcome{ResponseStatus: 410}, 0},
		{"a success", 1, webhook.Outcome{ResponseStatus: 204, Duration: time.Second}, 0},
		{"a success of a retry", 4, webhook.Outcome{ResponseStatus: 200}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, s := newFakeQueue(), newFakeSender(c.outcome)
			w, _ := endpoint(t, "https://example.com/hooks")
			claimed := due(w, c.attempt)
			q.add(claimed)
			newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 2, PerEndpoint: 2, Poll: time.Millisecond}, fixedClock).Step(context.Background())

			a := q.completed(t, 1)[0]
			if a.Claimed != claimed || a.Outcome != c.outcome || !a.At.Equal(now) {
				t.Errorf("completed %+v with %+v at %v; want %+v at %v", a.Claimed.Delivery, a.Outcome, a.At, c.outcome, now)
			}
			if c.next == 0 {
				if !a.Next.IsZero() {
					t.Errorf("next attempt at %v, want none", a.Next)
				}
				return
			}
			ended := now.Add(c.outcome.Duration)
			if wait := a.Next.Sub(ended); wait < c.next*8/10 || wait > c.next*12/10 {
				t.Errorf("next attempt %v after this one ended, want %v ± 20%%", wait, c.next)
			}
		})
	}
}

func TestDispatcherSignsDeliveries(t *testing.T) {
	q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
	w, secret := endpoint(t, "https://example.com/hooks")
	claimed := due(w, 1)
	q.add(claimed)
	newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 1, PerEndpoint: 1, Poll: time.Millisecond}, fixedClock).Step(context.Background())
	q.completed(t, 1)

	calls := s.sent()
	if len(calls) != 1 {
		t.Fatalf("%d sends, want 1", len(calls))
	}
	got := calls[0]
	want, _ := payload(claimed.Event)
	if got.url != w.URL().String() || !bytes.Equal(got.body, want) {
		t.Errorf("sent %s to %s, want %s to %s", got.body, got.url, want, w.URL())
	}
	if msgID := got.header.Get("webhook-id"); msgID != claimed.Event.ID.String() {
		t.Errorf("webhook-id %q, want the event's ID %q", msgID, claimed.Event.ID)
	}
	if ts := got.header.Get("webhook-timestamp"); ts != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("webhook-timestamp %q, want %d", ts, now.Unix())
	}
	if sigs := strings.Fields(got.header.Get("webhook-signature")); len(sigs) != 1 {
		t.Errorf("signatures %q, want one", sigs)
	}
	verify(t, secret, got, nil)
	verify(t, webhook.GenerateSecret(), got, client.ErrWebhookSignature)
}

func TestDispatcherSignsWithBothSecretsWhileARotationOverlaps(t *testing.T) {
	w, old := endpoint(t, "https://example.com/hooks")
	current := webhook.GenerateSecret()
	rotated := now.Add(-time.Hour)
	if err := w.RotateSecret(fakeCipher{}.Seal(current.Bytes(), []byte(w.ID().String())), rotated); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		at    time.Time
		sigs  int
		inOld error
	}{
		{"during the overlap", now, 2, nil},
		{"after it", rotated.Add(webhook.RotationOverlap + time.Second), 1, client.ErrWebhookSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
			q.add(due(w, 1))
			clock := func() time.Time { return c.at }
			newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 1, PerEndpoint: 1, Poll: time.Millisecond}, clock).Step(context.Background())
			q.completed(t, 1)
			got := s.sent()[0]
			if sigs := strings.Fields(got.header.Get("webhook-signature")); len(sigs) != c.sigs {
				t.Errorf("signatures %q, want %d", sigs, c.sigs)
			}
			verifyAt(t, c.at, current, got, nil)
			verifyAt(t, c.at, old, got, c.inOld)
		})
	}
}

func verify(t *testing.T, secret webhook.Secret, got sent, want error) {
	t.Helper()
	verifyAt(t, now, secret, got, want)
}

// verifyAt checks a delivery as a receiver whose clock says at would.
func verifyAt(t *testing.T, at time.Time, secret webhook.Secret, got sent, want error) {
	t.Helper()
	v, err := client.NewWebhookVerifier(secret.Reveal(), client.WithWebhookClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(got.header, got.body); !errors.Is(err, want) {
		t.Errorf("Verify = %v, want %v", err, want)
	}
}

func TestDispatcherFailsWhatItCannotSend(t *testing.T) {
	for _, c := range []struct {
		name   string
		breaks func(t *testing.T, c *ports.Claimed)
		// final: no retry can help, and the endpoint is not to blame.
		final bool
	}{
		{"the event is no longer kept", func(_ *testing.T, c *ports.Claimed) { c.Event = nil }, true},
		{"the secret was sealed for another webhook", func(t *testing.T, c *ports.Claimed) {
			// As if a row's secret were copied to another row.
			other, _ := endpoint(t, "https://example.com/hooks")
			snap := c.Webhook.Snapshot()
			snap.Secret = other.SealedSecret()
			c.Webhook = webhook.Rehydrate(snap)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
			w, _ := endpoint(t, "https://example.com/hooks")
			claimed := due(w, 1)
			c.breaks(t, claimed)
			q.add(claimed)
			newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 1, PerEndpoint: 1, Poll: time.Millisecond}, fixedClock).Step(context.Background())

			a := q.completed(t, 1)[0]
			if a.Claimed != claimed || a.Outcome.Error == "" || a.Outcome.Succeeded() {
				t.Errorf("completed with %+v, want a failure with its error", a.Outcome)
			}
			if n := len(s.sent()); n != 0 {
				t.Errorf("%d sends, want none", n)
			}
			if a.NotSent != c.final || a.Next.IsZero() != c.final {
				t.Errorf("NotSent %v, next attempt at %v; want final %v", a.NotSent, a.Next, c.final)
			}
		})
	}
}

func TestDispatcherLeavesAnAttemptCutShortToItsLease(t *testing.T) {
	q, s := newFakeQueue(), newFakeSender(webhook.Outcome{ResponseStatus: 200})
	w, _ := endpoint(t, "https://example.com/hooks")
	release := s.hold(w.URL().String())
	t.Cleanup(release)
	claimed := due(w, 1)
	q.add(claimed)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		newDispatcher(q, s, appwebhook.DispatcherConfig{Workers: 2, PerEndpoint: 2, Poll: 2 * time.Millisecond}, fixedClock).Run(ctx)
	}()
	s.waitStarted(t, w.URL().String(), 1)
	cancel()
	select {
	case <-stopped:
		t.Fatal("Run returned while a send was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	release()
	select {
	case <-stopped:
	case <-time.After(waitFor):
		t.Fatal("Run did not return once the send did")
	}

	select {
	case a := <-q.done:
		t.Errorf("completed with %+v, want it left to its lease", a.Outcome)
	default:
	}
	// The lease outlasts an attempt, so that no replica makes it again
	// while it is in flight, and then runs out, for one to make it again.
	until, ok := q.leaseOf(claimed.Delivery.ID)
	if !ok || until.Sub(now) <= webhook.AttemptTimeout || until.Sub(now) > 2*webhook.AttemptTimeout {
		t.Errorf("leased until %v (%v from now), want a little over %v", until, until.Sub(now), webhook.AttemptTimeout)
	}
}
