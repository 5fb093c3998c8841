// Package webhook is the Webhook aggregate: an endpoint of one account that
// the service POSTs the account's events to, signed to the Standard
// Webhooks spec, and the record of each attempt to deliver one.
package webhook

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrNotFound  = domain.NotFound("Webhook not found")
	ErrForbidden = domain.Forbidden("You do not have access to this webhook's account")
	ErrDeleted   = domain.Conflict("Webhook is deleted")
)

const (
	// RotationOverlap is how long the secret a rotation replaced still
	// signs, beside the new one, so that receivers can switch over.
	RotationOverlap = 24 * time.Hour
	// FailingLimit is how long an endpoint may fail, without a success
	// between, before it is disabled.
	FailingLimit = 5 * 24 * time.Hour

	maxURLLength         = 2048
	maxEventTypes        = 50
	maxDescriptionLength = 500
)

// Status is whether an endpoint is sent events.
type Status string

const (
	Enabled  Status = "enabled"
	Disabled Status = "disabled"
)

// ParseStatus reads "enabled" or "disabled".
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case Enabled, Disabled:
		return Status(s), nil
	}
	return "", domain.Rejected("status", "Input should be 'enabled' or 'disabled'", s)
}

// URL is where deliveries go: an absolute http(s) URL without credentials
// or fragment. Whether its scheme and address are allowed is the
// deployment's call (LEADR_WEBHOOK_ALLOW_PRIVATE), checked apart.
type URL struct{ value string }

func ParseURL(raw string) (URL, error) {
	if len(raw) > maxURLLength {
		return URL{}, domain.TooLong("url", maxURLLength, raw)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return URL{}, domain.Rejected("url", "URL must be an absolute https:// URL", raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return URL{}, domain.Rejected("url", "URL must be an https:// URL", raw)
	case u.User != nil:
		return URL{}, domain.Rejected("url", "URL must not carry credentials: deliveries are signed instead", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return URL{}, domain.Rejected("url", "URL must not have a fragment", raw)
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return URL{}, domain.Rejected("url", "URL must not contain spaces or control characters", raw)
	}
	return URL{value: raw}, nil
}

func (u URL) String() string { return u.value }
func (u URL) IsZero() bool   { return u.value == "" }

var eventTypePattern = regexp.MustCompile(`^[a-z_]+\.([a-z_]+|\*)$`)

// EventTypes are the types an endpoint is sent: exact ("player.banned") or
// a whole resource ("identity.*"), at least one, in the order given, each
// once.
type EventTypes struct{ patterns []string }

func ParseEventTypes(raw []string) (EventTypes, error) {
	switch {
	case len(raw) == 0:
		return EventTypes{}, domain.Rejected("event_types", "List should have at least 1 item after validation, not 0", raw)
	case len(raw) > maxEventTypes:
		return EventTypes{}, domain.Rejected("event_types", fmt.Sprintf("List should have at most %d items, not %d", maxEventTypes, len(raw)), raw)
	}
	out := make([]string, 0, len(raw))
	for _, p := range raw {
		if !eventTypePattern.MatchString(p) {
			return EventTypes{}, domain.Rejected("event_types", "Each event type must be '<resource>.<verb>' or '<resource>.*' of a-z and _", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return EventTypes{patterns: out}, nil
}

func (t EventTypes) Patterns() []string { return slices.Clone(t.patterns) }

// Match reports whether an event of type typ is one of t.
func (t EventTypes) Match(typ event.Type) bool {
	return slices.ContainsFunc(t.patterns, typ.Matches)
}

// ParseDescription reads a description: at most 500 characters, no
// control characters but newlines and tabs.
func ParseDescription(s string) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", domain.Rejected("description", "Description must be UTF-8 text", s)
	case utf8.RuneCountInString(s) > maxDescriptionLength:
		return "", domain.TooLong("description", maxDescriptionLength, s)
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f }):
		return "", domain.Rejected("description", "Description must not contain control characters", s)
	}
	return s, nil
}

// Webhook is the aggregate root. Its account never changes; the rest can,
// until it is deleted, which is final and forgets its secrets.
type Webhook struct {
	id          id.WebhookID
	accountID   id.AccountID
	url         URL
	eventTypes  EventTypes
	description *string
	status      Status
	// disabledReason says why the service disabled the endpoint; "" when
	// enabled or disabled by a caller.
	disabledReason string
	// secret and previousSecret are sealed by the application: the domain
	// never holds a plaintext secret. previousSecret signs until
	// previousUntil.
	secret         []byte
	previousSecret []byte
	previousUntil  time.Time
	// failingSince is the first failed attempt since the last success:
	// bookkeeping of the deliveries, no change of the endpoint's.
	failingSince time.Time
	createdAt    time.Time
	updatedAt    time.Time
	deletedAt    time.Time
}

// New creates an enabled endpoint; seal returns its first secret, sealed
// for the new webhook's ID.
func New(accountID id.AccountID, u URL, types EventTypes, description *string, seal func(id.WebhookID) []byte, now time.Time) (*Webhook, error) {
	switch {
	case accountID.IsZero():
		return nil, domain.Missing("account_id")
	case u.IsZero():
		return nil, domain.Missing("url")
	case len(types.patterns) == 0:
		return nil, domain.Missing("event_types")
	}
	now = domain.Timestamp(now)
	w := &Webhook{
		id: id.New[id.Webhook](), accountID: accountID, url: u, eventTypes: types,
		status: Enabled, createdAt: now, updatedAt: now,
	}
	if description != nil {
		d := *description
		w.description = &d
	}
	w.secret = seal(w.id)
	return w, nil
}

// Snapshot is a webhook's whole state as a store keeps it.
type Snapshot struct {
	ID             id.WebhookID
	AccountID      id.AccountID
	URL            string
	EventTypes     []string
	Description    *string
	Status         Status
	DisabledReason string
	Secret         []byte // sealed
	PreviousSecret []byte // sealed; nil for none
	PreviousUntil  time.Time
	FailingSince   time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      time.Time
}

// Rehydrate rebuilds a webhook from a store's snapshot. It is for store
// adapters only: it trusts the snapshot, which was valid when written.
func Rehydrate(s Snapshot) *Webhook {
	w := &Webhook{
		id: s.ID, accountID: s.AccountID, url: URL{value: s.URL}, eventTypes: EventTypes{patterns: slices.Clone(s.EventTypes)},
		status: s.Status, disabledReason: s.DisabledReason,
		secret: bytes.Clone(s.Secret), previousSecret: bytes.Clone(s.PreviousSecret),
		createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
	}
	if s.Description != nil {
		d := *s.Description
		w.description = &d
	}
	for to, from := range map[*time.Time]time.Time{&w.previousUntil: s.PreviousUntil, &w.failingSince: s.FailingSince, &w.deletedAt: s.DeletedAt} {
		if !from.IsZero() {
			*to = from.UTC()
		}
	}
	return w
}

// Snapshot returns the webhook's state for a store to write.
func (w *Webhook) Snapshot() Snapshot {
	s := Snapshot{
		ID: w.id, AccountID: w.accountID, URL: w.url.value, EventTypes: w.eventTypes.Patterns(),
		Status: w.status, DisabledReason: w.disabledReason,
		Secret: bytes.Clone(w.secret), PreviousSecret: bytes.Clone(w.previousSecret), PreviousUntil: w.previousUntil,
		FailingSince: w.failingSince, CreatedAt: w.createdAt, UpdatedAt: w.updatedAt, DeletedAt: w.deletedAt,
	}
	if w.description != nil {
		d := *w.description
		s.Description = &d
	}
	return s
}

// Change is what an update asks of a webhook; nil fields stay as they are.
type Change struct {
	URL        *URL
	EventTypes *EventTypes
	// Description set to a nil *string clears it.
	Description **string
	Status      *Status
}

// Apply makes the changes and reports whether anything changed; only a
// change advances updated_at. Enabling an endpoint forgets its failures, so
// that it gets five days again.
func (w *Webhook) Apply(c Change, now time.Time) (bool, error) {
	if w.IsDeleted() {
		return false, ErrDeleted
	}
	before := w.Snapshot()
	if c.URL != nil {
		w.url = *c.URL
	}
	if c.EventTypes != nil {
		w.eventTypes = *c.EventTypes
	}
	if c.Description != nil {
		w.description = *c.Description
	}
	if c.Status != nil && *c.Status != w.status {
		w.status = *c.Status
		w.disabledReason = ""
		w.failingSince = time.Time{}
	}
	after := w.Snapshot()
	changed := before.URL != after.URL || !slices.Equal(before.EventTypes, after.EventTypes) ||
		!equalText(before.Description, after.Description) || before.Status != after.Status
	if changed {
		w.updatedAt = domain.Timestamp(now)
	}
	return changed, nil
}

func equalText(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// RotateSecret makes sealed the secret; the one it replaces keeps signing
// for RotationOverlap.
func (w *Webhook) RotateSecret(sealed []byte, now time.Time) error {
	if w.IsDeleted() {
		return ErrDeleted
	}
	now = domain.Timestamp(now)
	w.previousSecret, w.previousUntil = w.secret, now.Add(RotationOverlap)
	w.secret = bytes.Clone(sealed)
	w.updatedAt = now
	return nil
}

// Secrets are the sealed secrets that sign a delivery made at now: the
// current one first, then the one a rotation replaced, for its overlap.
func (w *Webhook) Secrets(now time.Time) [][]byte {
	if len(w.secret) == 0 {
		return nil // deleted
	}
	out := [][]byte{bytes.Clone(w.secret)}
	if len(w.previousSecret) > 0 && now.Before(w.previousUntil) {
		out = append(out, bytes.Clone(w.previousSecret))
	}
	return out
}

// Disable stops deliveries for reason, the service's own; a disabled
// endpoint stays as it is.
func (w *Webhook) Disable(reason string, now time.Time) {
	if w.IsDeleted() || w.status == Disabled {
		return
	}
	w.status, w.disabledReason = Disabled, reason
	w.updatedAt = domain.Timestamp(now)
}

// Reasons the service disables an endpoint.
const (
	ReasonGone    = "The endpoint answered 410 Gone"
	ReasonFailing = "Every delivery failed for 5 days"
)

// RecordAttempt notes the outcome of an attempt made at `at`, and disables
// the endpoint when the outcome says so: at once on 410, or when it has
// failed for FailingLimit without a success between.
func (w *Webhook) RecordAttempt(o Outcome, at time.Time) {
	if w.IsDeleted() {
		return
	}
	switch {
	case o.Succeeded():
		w.failingSince = time.Time{}
		return
	case w.failingSince.IsZero():
		w.failingSince = domain.Timestamp(at)
	}
	switch {
	case o.ResponseStatus == 410:
		w.Disable(ReasonGone, at)
	case domain.Timestamp(at).Sub(w.failingSince) >= FailingLimit:
		w.Disable(ReasonFailing, at)
	}
}

// Delete deletes the webhook for good and forgets its secrets.
func (w *Webhook) Delete(now time.Time) error {
	if w.IsDeleted() {
		return ErrDeleted
	}
	now = domain.Timestamp(now)
	w.deletedAt, w.updatedAt = now, now
	w.secret, w.previousSecret, w.previousUntil = nil, nil, time.Time{}
	return nil
}

// Wants reports whether an event of type typ, made at `at`, is sent to
// the endpoint: one of its types, made since the endpoint exists.
func (w *Webhook) Wants(typ event.Type, at time.Time) bool {
	return w.status == Enabled && !w.IsDeleted() && !at.Before(w.createdAt) && w.eventTypes.Match(typ)
}

func (w *Webhook) ID() id.WebhookID         { return w.id }
func (w *Webhook) AccountID() id.AccountID  { return w.accountID }
func (w *Webhook) URL() URL                 { return w.url }
func (w *Webhook) EventTypes() EventTypes   { return w.eventTypes }
func (w *Webhook) Status() Status           { return w.status }
func (w *Webhook) DisabledReason() string   { return w.disabledReason }
func (w *Webhook) FailingSince() time.Time  { return w.failingSince }
func (w *Webhook) CreatedAt() time.Time     { return w.createdAt }
func (w *Webhook) UpdatedAt() time.Time     { return w.updatedAt }
func (w *Webhook) IsDeleted() bool          { return !w.deletedAt.IsZero() }
func (w *Webhook) SealedSecret() []byte     { return bytes.Clone(w.secret) }
func (w *Webhook) PreviousUntil() time.Time { return w.previousUntil }

// Description is nil when there is none.
func (w *Webhook) Description() *string {
	if w.description == nil {
		return nil
	}
	d := *w.description
	return &d
}
