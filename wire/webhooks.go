package wire

import "time"

// Webhook is an endpoint that the account's events are POSTed to, signed
// to the Standard Webhooks spec. Its secret is in the answers of creation
// and rotation only (CreatedWebhook).
type Webhook struct {
	ID          string   `json:"id" pattern:"^whk_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	AccountID   string   `json:"account_id" pattern:"^acc_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	URL         string   `json:"url" maxLength:"2048"`
	EventTypes  []string `json:"event_types" minItems:"1" maxItems:"50"`
	Description *string  `json:"description" maxLength:"500"`
	Status      string   `json:"status" enum:"enabled,disabled"`
	// DisabledReason says why the service disabled the endpoint (410, or
	// five days of failures); absent otherwise.
	DisabledReason string    `json:"disabled_reason,omitempty" description:"Why the service disabled the endpoint: it answered 410, or every delivery failed for 5 days. Absent when enabled, or disabled by a caller."`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// CreatedWebhook is a webhook with its secret, which is never shown again.
type CreatedWebhook struct {
	Webhook
	Secret string `json:"secret" pattern:"^whsec_[A-Za-z0-9+/]{43}=$" description:"whsec_ and the base64 of 32 random bytes: the HMAC-SHA256 key of webhook-signature. In this answer only."`
}

// CreateWebhookRequest is the body of POST /v1/webhooks. AccountID may be
// left out by a regular key (its own account); a superadmin must give it.
type CreateWebhookRequest struct {
	AccountID   string   `json:"account_id,omitempty" description:"Regular keys: default their own account. Superadmins: required."`
	URL         string   `json:"url" description:"https:// only, and never an address that is not public (loopback, private, link-local, …), checked again at every delivery; LEADR_WEBHOOK_ALLOW_PRIVATE=true lifts both rules. No credentials, no fragment."`
	EventTypes  []string `json:"event_types" description:"1–50 event types, each '<resource>.<verb>' or '<resource>.*'."`
	Description *string  `json:"description,omitempty" description:"At most 500 characters."`
}

// UpdateWebhookRequest is the body of PATCH /v1/webhooks/{id}: only the
// fields given change; description null clears it.
type UpdateWebhookRequest struct {
	URL         *string  `json:"url,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"`
	Description *string  `json:"description,omitempty"`
	Status      *string  `json:"status,omitempty" enum:"enabled,disabled" description:"enabled also forgets the failures that count towards disabling it."`
}

// Delivery is one attempt to deliver one event to one endpoint.
type Delivery struct {
	ID             string    `json:"id" pattern:"^dlv_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"`
	EventID        string    `json:"event_id" description:"Also the webhook-id header of every attempt at this event."`
	EventType      string    `json:"event_type"`
	Attempt        int       `json:"attempt" minimum:"1" maximum:"8"`
	Status         string    `json:"status" enum:"succeeded,failed,pending"`
	ResponseStatus *int      `json:"response_status" description:"The endpoint's status code; null when it gave none, or the attempt is pending."`
	Error          *string   `json:"error" description:"Why the attempt failed without an answer (timed out, refused, not an allowed address, …); null otherwise."`
	DurationMS     *int      `json:"duration_ms" description:"How long the attempt took; null while pending."`
	CreatedAt      time.Time `json:"created_at" description:"When the attempt was scheduled."`
}

// ReplayRequest is the body of POST /v1/webhooks/{id}/replay: one event
// by its ID, or every event since a time.
type ReplayRequest struct {
	EventID string  `json:"event_id,omitempty" description:"One event of the webhook's account, delivered again whatever its type."`
	Since   *string `json:"since,omitempty" description:"RFC 3339: every event of the webhook's account since then, up to now, that its event types match."`
}

// WebhookMessage is the body of every delivery.
type WebhookMessage struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Event     `json:"data"`
}

// ReplayAccepted is the answer of a replay: the events are scheduled, and
// reach the endpoint as it takes them.
type ReplayAccepted struct {
	Status string `json:"status" enum:"accepted"`
}
