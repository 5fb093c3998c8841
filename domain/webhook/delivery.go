package webhook

import (
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

// AttemptTimeout is how long an endpoint has to answer 2xx.
const AttemptTimeout = 15 * time.Second

// retryAfter is the wait before each retry: after the first attempt fails,
// 5 s; after the seventh, 10 h; after the eighth, none (given up).
var retryAfter = [...]time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// MaxAttempts is how many times an event is tried before it is given up.
const MaxAttempts = len(retryAfter) + 1

// NextAttempt is when attempt+1 is due after attempt failed at `at`, and
// false when attempt was the last. jitter, in [0, 1), spreads the retries
// of many events that failed at once over ±20% of the wait, so that an
// endpoint that comes back is not hit by all of them in one second.
func NextAttempt(attempt int, at time.Time, jitter float64) (time.Time, bool) {
	if attempt < 1 || attempt > len(retryAfter) {
		return time.Time{}, false
	}
	wait := retryAfter[attempt-1]
	return at.Add(time.Duration(float64(wait) * (0.8 + 0.4*jitter))), true
}

// DeliveryStatus is where an attempt stands.
type DeliveryStatus string

const (
	Pending   DeliveryStatus = "pending"
	Succeeded DeliveryStatus = "succeeded"
	Failed    DeliveryStatus = "failed"
)

// Outcome is what an attempt came to: the endpoint's status code (0 when
// it gave none) or the error that stopped it.
type Outcome struct {
	ResponseStatus int
	// Error says why the attempt failed without an answer; it never holds
	// the URL, a header or a secret.
	Error    string
	Duration time.Duration
}

// Succeeded: a 2xx, in time.
func (o Outcome) Succeeded() bool {
	return o.Error == "" && o.ResponseStatus >= 200 && o.ResponseStatus < 300
}

// Delivery is one attempt to deliver one event to one endpoint: the
// delivery log is these, newest first. A pending one is due at DueAt.
type Delivery struct {
	ID        id.DeliveryID
	WebhookID id.WebhookID
	EventID   id.EventID
	EventType event.Type
	Attempt   int
	Status    DeliveryStatus
	Outcome   Outcome
	DueAt     time.Time
	CreatedAt time.Time
}
