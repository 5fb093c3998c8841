package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports/paging"
)

// Recorded is an event as the outbox keeps it, its data already in the
// API's shape.
type Recorded struct {
	ID         id.EventID
	Type       event.Type
	AccountID  id.AccountID
	OccurredAt time.Time
	Actor      event.Actor
	Subject    event.Subject
	// Data is JSON: the resource after the change and, when it was
	// changed, "changes" (field → [before, after]).
	Data []byte
}

// EventEncoder writes an event's data (see Recorded.Data) in the API's
// shape, which holds no secret.
type EventEncoder func(event.Event) ([]byte, error)

// Subscriber reacts to the events whose type matches one of Types (exact,
// or a prefix ending in ".*") inside the transaction that records them: its
// writes commit or roll back with the change, and an error rolls back both.
// A slice registers one to hear of another's changes instead of being
// called by it.
type Subscriber struct {
	Name   string
	Types  []string
	Handle func(ctx context.Context, e event.Event) error
}

// Outbox is where a slice subscribes to the events every change records.
type Outbox interface {
	// Subscribe adds s for the transactions that record events from now
	// on; unsubscribe takes it away again.
	Subscribe(s Subscriber) (unsubscribe func())
}

// Wants reports whether s reacts to events of type t.
func (s Subscriber) Wants(t event.Type) bool {
	for _, p := range s.Types {
		if t.Matches(p) {
			return true
		}
	}
	return false
}

// EventSchema is what the audit log sorts by.
var EventSchema = paging.NewSchema("events", "occurred_at:desc,id:asc",
	paging.Field[*Recorded]{Name: "id", Type: paging.UUID, Value: func(e *Recorded) any { return e.ID.UUID() }},
	paging.Field[*Recorded]{Name: "occurred_at", Type: paging.Time, Value: func(e *Recorded) any { return e.OccurredAt }},
)

// EventFilter narrows events; zero fields do not filter.
type EventFilter struct {
	AccountID id.AccountID
	// Type is exact, or a prefix ending in ".*".
	Type      string
	SubjectID string
	ActorID   string
}

// EventRepository reads the outbox that every repository writes.
type EventRepository interface {
	List(ctx context.Context, f EventFilter, req paging.Request) (paging.Result[*Recorded], error)
	// Feed returns up to limit events of f, oldest first in the feed's
	// one total order, after the event after (zero: from the first):
	// only events whose place in that order is final, so that none can
	// appear later behind one returned. An after that is no event of
	// f.AccountID (when given) is event.ErrUnknownPosition.
	Feed(ctx context.Context, f EventFilter, after id.EventID, limit int) ([]*Recorded, error)
	// Purge deletes the events recorded before t and says how many.
	Purge(ctx context.Context, before time.Time) (int, error)
}

type ListEvents struct {
	AccountID id.AccountID
	Type      *string
	SubjectID *string
	ActorID   *string
	Page      paging.Params
}

type FeedEvents struct {
	AccountID id.AccountID
	Type      *string
	After     id.EventID
	Limit     int
}

// Feed is a page of the change feed; NextAfter is where to go on from
// (zero only when no event was ever seen).
type Feed struct {
	Events    []*Recorded
	NextAfter id.EventID
}

// Events is the audit log and the change feed.
type Events interface {
	List(ctx context.Context, p tenancy.Principal, q ListEvents) (paging.Page[*Recorded], error)
	Feed(ctx context.Context, p tenancy.Principal, q FeedEvents) (Feed, error)
}
