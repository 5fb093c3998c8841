package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports/paging"
)

// WebhookSchema is what webhook lists sort by.
var WebhookSchema = paging.NewSchema("webhooks", "created_at:desc,id:asc",
	paging.Field[*webhook.Webhook]{Name: "id", Type: paging.UUID, Value: func(w *webhook.Webhook) any { return w.ID().UUID() }},
	paging.Field[*webhook.Webhook]{Name: "created_at", Type: paging.Time, Value: func(w *webhook.Webhook) any { return w.CreatedAt() }},
	paging.Field[*webhook.Webhook]{Name: "updated_at", Type: paging.Time, Value: func(w *webhook.Webhook) any { return w.UpdatedAt() }},
)

// DeliverySchema is the delivery log's order: newest first. IDs are made
// when an attempt is scheduled (UUIDv7), so they sort as created_at does.
var DeliverySchema = paging.NewSchema("webhook_deliveries", "id:desc",
	paging.Field[*webhook.Delivery]{Name: "id", Type: paging.UUID, Value: func(d *webhook.Delivery) any { return d.ID.UUID() }},
)

// WebhookFilter narrows a list of live webhooks; zero fields do not filter.
type WebhookFilter struct {
	AccountID id.AccountID
}

// WebhookRepository stores Webhook aggregates. Deleted webhooks are
// invisible to every method: Get and Update answer webhook.ErrNotFound.
type WebhookRepository interface {
	// Create stores a new webhook: tenancy.ErrAccountNotFound when its
	// account does not exist.
	Create(ctx context.Context, w *webhook.Webhook) error
	Get(ctx context.Context, id id.WebhookID) (*webhook.Webhook, error)
	// Update has the contract of IdentityRepository.Update.
	Update(ctx context.Context, id id.WebhookID, fn func(*webhook.Webhook) error) (*webhook.Webhook, error)
	List(ctx context.Context, f WebhookFilter, req paging.Request) (paging.Result[*webhook.Webhook], error)
}

// Replay is what a replay sends again: one event, or every event since a
// time (inclusive) up to the request.
type Replay struct {
	EventID id.EventID
	Since   time.Time
	Until   time.Time
}

// Claimed is a due attempt that this replica alone makes until LeaseUntil,
// with what it needs: its endpoint and its event (nil when the event is
// no longer kept).
type Claimed struct {
	Delivery   webhook.Delivery
	LeaseToken string
	Webhook    *webhook.Webhook
	Event      *Recorded
}

// Attempted is what became of a claimed attempt; Next is when the next
// attempt is due (zero: none).
type Attempted struct {
	Claimed *Claimed
	Outcome webhook.Outcome
	At      time.Time
	Next    time.Time
	// NotSent: the attempt failed before it reached the endpoint (its event
	// is no longer kept), which says nothing of the endpoint's health.
	NotSent bool
}

// DeliveryQueue is the durable queue of deliveries, shared by replicas:
// attempts are rows, each made by one replica at a time under a lease.
type DeliveryQueue interface {
	// FanOut reads up to limit events of the change feed after the place
	// it stopped at last time, schedules an attempt for each endpoint that
	// wants one, and moves its place on, in one transaction; it says how
	// many events it read. Replicas that fan out at once skip each other.
	FanOut(ctx context.Context, limit int, now time.Time) (int, error)
	// Replay schedules the events r names again for endpoint w, in one
	// transaction; an event that is no event of w's account, or no longer
	// kept, is event.ErrUnknownPosition. A replay since a time is worked
	// through by ReplayStep, a batch at a time.
	Replay(ctx context.Context, w *webhook.Webhook, r Replay, now time.Time) error
	// ReplayStep moves the replays in progress on by up to limit events
	// each, while their endpoint has fewer than backlog attempts pending;
	// it says how many attempts it scheduled.
	ReplayStep(ctx context.Context, limit, backlog int, now time.Time) (int, error)
	// Due lists up to limit endpoints that have attempts due at now, most
	// overdue first.
	Due(ctx context.Context, now time.Time, limit int) ([]id.WebhookID, error)
	// Claim leases up to n due attempts of endpoint w until leaseUntil:
	// no other replica claims them before then.
	Claim(ctx context.Context, w id.WebhookID, now, leaseUntil time.Time, n int) ([]*Claimed, error)
	// Complete records an attempt's outcome and schedules the next, if
	// any, in one transaction; false when the lease was lost (another
	// replica has the attempt now), in which case nothing is written.
	Complete(ctx context.Context, a Attempted) (bool, error)
	// List is the delivery log of endpoint w, newest first.
	List(ctx context.Context, w id.WebhookID, req paging.Request) (paging.Result[*webhook.Delivery], error)
	// Pending is, for each live endpoint with attempts pending, when the
	// oldest of their events was made.
	Pending(ctx context.Context) (map[id.WebhookID]time.Time, error)
	// Purge deletes the attempts scheduled before t, pending ones too (their
	// events are past the same retention), and says how many.
	Purge(ctx context.Context, before time.Time) (int, error)
}

// WebhookURLs checks an endpoint's URL against what the deployment
// allows: https only, and no address that is not public, unless
// LEADR_WEBHOOK_ALLOW_PRIVATE. It answers a domain error of "url" (422).
type WebhookURLs interface {
	CheckURL(ctx context.Context, u webhook.URL) error
}

// WebhookSender makes one attempt: a POST of body with header to url,
// within webhook.AttemptTimeout, to an allowed address only, following no
// redirect.
type WebhookSender interface {
	Send(ctx context.Context, url string, header map[string]string, body []byte) webhook.Outcome
}

// WebhookPayload writes the body of a delivery of e, in the API's shape.
type WebhookPayload func(e *Recorded) ([]byte, error)

type CreateWebhook struct {
	AccountID   id.AccountID
	URL         string
	EventTypes  []string
	Description *string
}

type GetWebhook struct {
	ID        id.WebhookID
	AccountID id.AccountID
}

type ListWebhooks struct {
	AccountID id.AccountID
	Page      paging.Params
}

type UpdateWebhook struct {
	ID          id.WebhookID
	AccountID   id.AccountID
	URL         *string
	EventTypes  []string // nil: unchanged
	Description Setting
	Status      *string
	Delete      bool
}

type ListDeliveries struct {
	WebhookID id.WebhookID
	AccountID id.AccountID
	Page      paging.Params
}

type ReplayWebhook struct {
	WebhookID id.WebhookID
	AccountID id.AccountID
	EventID   id.EventID
	Since     time.Time
}

// NewSecret is a webhook with the plaintext of its new secret, which is
// in this answer only.
type NewSecret struct {
	Webhook *webhook.Webhook
	Secret  string
}

// Webhooks is the webhook API.
type Webhooks interface {
	Create(ctx context.Context, p tenancy.Principal, c CreateWebhook) (NewSecret, error)
	Get(ctx context.Context, p tenancy.Principal, q GetWebhook) (*webhook.Webhook, error)
	List(ctx context.Context, p tenancy.Principal, q ListWebhooks) (paging.Page[*webhook.Webhook], error)
	Update(ctx context.Context, p tenancy.Principal, c UpdateWebhook) (*webhook.Webhook, error)
	RotateSecret(ctx context.Context, p tenancy.Principal, q GetWebhook) (NewSecret, error)
	Deliveries(ctx context.Context, p tenancy.Principal, q ListDeliveries) (paging.Page[*webhook.Delivery], error)
	Replay(ctx context.Context, p tenancy.Principal, c ReplayWebhook) error
}
