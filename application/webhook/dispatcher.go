package webhook

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
)

const (
	// fanOutPage is how many events one fan-out transaction reads;
	// fanOutPages bounds the pages of one step, so that a backlog of
	// events does not starve the attempts already due.
	fanOutPage  = 500
	fanOutPages = 20
	// replayPage and replayBacklog: a replay moves on by a page of events
	// while its endpoint has fewer attempts pending than the backlog.
	replayPage    = 500
	replayBacklog = 1000
	// dueEndpoints bounds the endpoints one step claims for.
	dueEndpoints = 100
	// lease outlasts an attempt, so that an attempt in flight is never
	// claimed again; a replica that dies leaves its attempts to another
	// once it runs out.
	lease = webhook.AttemptTimeout + 5*time.Second
	// storeTimeout bounds each statement of the dispatcher's.
	storeTimeout = 10 * time.Second
)

// DispatcherConfig sizes the dispatcher: Workers attempts at once in
// this replica, at most PerEndpoint of them to one endpoint, so that a slow
// or dead endpoint holds PerEndpoint workers and never the rest.
type DispatcherConfig struct {
	Workers     int
	PerEndpoint int
	// Poll is how often it looks for new events and due attempts.
	Poll time.Duration
}

// Observer hears of each attempt made, for the metrics, and of the
// dispatcher's own failures, for the log.
type Observer struct {
	Attempted func(o webhook.Outcome)
	Failed    func(what string, err error)
}

// Dispatcher delivers the events of the outbox to the endpoints that want
// them. Each replica runs one; they share the work through the queue
// (ports.DeliveryQueue), which gives each attempt to one of them.
type Dispatcher struct {
	queue   ports.DeliveryQueue
	sender  ports.WebhookSender
	payload ports.WebhookPayload
	cipher  ports.Cipher
	now     ports.Clock
	cfg     DispatcherConfig
	observe Observer

	slots    chan struct{}
	wake     chan struct{}
	mu       sync.Mutex
	inFlight map[id.WebhookID]int
	attempts sync.WaitGroup
}

func NewDispatcher(queue ports.DeliveryQueue, sender ports.WebhookSender, payload ports.WebhookPayload, cipher ports.Cipher, now ports.Clock,
	cfg DispatcherConfig, observe Observer) *Dispatcher {
	if observe.Attempted == nil {
		observe.Attempted = func(webhook.Outcome) {}
	}
	if observe.Failed == nil {
		observe.Failed = func(string, error) {}
	}
	return &Dispatcher{
		queue: queue, sender: sender, payload: payload, cipher: cipher, now: now, cfg: cfg, observe: observe,
		slots: make(chan struct{}, cfg.Workers), wake: make(chan struct{}, 1), inFlight: map[id.WebhookID]int{},
	}
}

// Run steps every Poll, and as soon as an attempt ends, until ctx ends;
// then it waits for the attempts in flight (each bounded by
// webhook.AttemptTimeout). An attempt cut short by ctx is not recorded: its
// lease runs out and a replica makes it again.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.attempts.Wait()
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	for full := true; ; {
		if full {
			d.Step(ctx)
		} else {
			d.startDue(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			full = true
		case <-d.wake:
			// An attempt ended: room for the next. New events and replays
			// wait for the tick, so that a busy queue is not read for them
			// after every attempt.
			full = false
		}
	}
}

// Step fans new events out, moves replays on, and starts the attempts due
// that this replica has room for.
func (d *Dispatcher) Step(ctx context.Context) {
	for range fanOutPages {
		if ctx.Err() != nil {
			return // stopping: no new work
		}
		n, err := withTimeout(ctx, func(ctx context.Context) (int, error) { return d.queue.FanOut(ctx, fanOutPage, d.now()) })
		if err != nil {
			d.observe.Failed("fan out events", err)
			break
		}
		if n < fanOutPage {
			break
		}
	}
	if _, err := withTimeout(ctx, func(ctx context.Context) (int, error) {
		return d.queue.ReplayStep(ctx, replayPage, replayBacklog, d.now())
	}); err != nil {
		d.observe.Failed("replay events", err)
	}
	d.startDue(ctx)
}

// startDue starts the attempts due that this replica has room for.
func (d *Dispatcher) startDue(ctx context.Context) {
	if len(d.slots) == cap(d.slots) || ctx.Err() != nil {
		return
	}
	due, err := withTimeout(ctx, func(ctx context.Context) ([]id.WebhookID, error) { return d.queue.Due(ctx, d.now(), dueEndpoints) })
	if err != nil {
		d.observe.Failed("find due deliveries", err)
		return
	}
	for _, w := range due {
		if ctx.Err() != nil {
			return // stopping: claim nothing more
		}
		free := cap(d.slots) - len(d.slots)
		d.mu.Lock()
		room := min(d.cfg.PerEndpoint-d.inFlight[w], free)
		d.mu.Unlock()
		if room <= 0 {
			continue
		}
		now := d.now()
		claimed, err := withTimeout(ctx, func(ctx context.Context) ([]*ports.Claimed, error) {
			return d.queue.Claim(ctx, w, now, now.Add(lease), room)
		})
		if err != nil {
			d.observe.Failed("claim deliveries", err)
			continue
		}
		for _, c := range claimed {
			d.start(ctx, c)
		}
	}
}

func (d *Dispatcher) start(ctx context.Context, c *ports.Claimed) {
	w := c.Delivery.WebhookID
	d.slots <- struct{}{}
	d.mu.Lock()
	d.inFlight[w]++
	d.mu.Unlock()
	d.attempts.Go(func() {
		defer func() {
			d.mu.Lock()
			if d.inFlight[w]--; d.inFlight[w] == 0 {
				delete(d.inFlight, w)
			}
			d.mu.Unlock()
			<-d.slots
			select {
			case d.wake <- struct{}{}:
			default:
			}
		}()
		d.attempt(ctx, c)
	})
}

// attempt makes one attempt and records it. A failure that is not 410
// schedules the next attempt, unless it was the last.
func (d *Dispatcher) attempt(ctx context.Context, c *ports.Claimed) {
	at := d.now()
	a := ports.Attempted{Claimed: c, At: at}
	if c.Event == nil {
		// Gone for good (past LEADR_EVENT_RETENTION): no retry brings it back.
		a.Outcome, a.NotSent = webhook.Outcome{Error: "the event is no longer kept"}, true
	} else {
		a.Outcome = d.send(ctx, c, at)
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the attempt is made again
	}
	o := a.Outcome
	if !a.NotSent && !o.Succeeded() && o.ResponseStatus != 410 {
		a.Next, _ = webhook.NextAttempt(c.Delivery.Attempt, at.Add(o.Duration), rand.Float64())
	}
	// Recorded even as the service stops: the attempt was made.
	if _, err := withTimeout(ctx, func(ctx context.Context) (bool, error) { return d.queue.Complete(ctx, a) }); err != nil {
		d.observe.Failed("record a delivery", err)
	}
	d.observe.Attempted(o)
}

func (d *Dispatcher) send(ctx context.Context, c *ports.Claimed, at time.Time) webhook.Outcome {
	body, err := d.payload(c.Event)
	if err != nil {
		return webhook.Outcome{Error: "the event could not be encoded"}
	}
	sealed := c.Webhook.Secrets(at)
	secrets := make([]webhook.Secret, 0, len(sealed))
	for _, s := range sealed {
		plain, err := d.cipher.Open(s, []byte(c.Webhook.ID().String()))
		if err != nil {
			return webhook.Outcome{Error: "the endpoint's secret does not open with this service's key"}
		}
		secret, err := webhook.SecretFromBytes(plain)
		if err != nil {
			return webhook.Outcome{Error: "the endpoint's secret is not a webhook secret"}
		}
		secrets = append(secrets, secret)
	}
	msgID := c.Event.ID.String()
	header := map[string]string{
		"webhook-id":        msgID,
		"webhook-timestamp": strconv.FormatInt(at.Unix(), 10),
		"webhook-signature": webhook.Sign(secrets, msgID, at, body),
	}
	return d.sender.Send(ctx, c.Webhook.URL().String(), header, body)
}

// withTimeout runs a statement of the dispatcher's to its end, within
// storeTimeout, even when ctx ends meanwhile: a stop waits for it rather
// than cancel it. A cancelled statement sends PostgreSQL a cancel request,
// and PgBouncer 1.18 dies of one that arrives as its server connection is
// being released ("server_proto: server in bad state"), which the pass
// through PgBouncer hit as every service under test stopped its dispatcher.
func withTimeout[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	return fn(ctx)
}
