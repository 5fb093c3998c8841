// Package event holds the domain events: one committed change of one
// aggregate, said in the domain's terms. A change records its events in its
// own transaction (the outbox); a slice that must react to another's change
// subscribes to them instead of being called.
package event

import (
	"context"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain/id"
)

// Type names what happened, "<resource>.<verb>": "identity.deleted".
type Type string

// Matches reports whether t is pattern, or starts with its prefix when
// pattern ends in ".*" ("identity.*" matches "identity.created").
func (t Type) Matches(pattern string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasSuffix(prefix, ".") {
		return strings.HasPrefix(string(t), prefix)
	}
	return string(t) == pattern
}

// ActorKind is who made a change.
type ActorKind string

const (
	ActorAPIKey  ActorKind = "api_key"
	ActorSession ActorKind = "session"
	// ActorSystem is the service itself: bootstrap and background jobs.
	ActorSystem ActorKind = "system"
)

// Actor is who made a change: an API key or a session by its ID, or the
// system, which has none.
type Actor struct {
	Kind ActorKind
	ID   string
}

var System = Actor{Kind: ActorSystem}

// Subject is the aggregate that changed: its resource name and its ID.
type Subject struct {
	Resource string
	ID       string
}

// Event is one change of one aggregate.
type Event struct {
	// ID and Actor are set when the event is recorded.
	ID         id.EventID
	Actor      Actor
	Type       Type
	AccountID  id.AccountID
	Subject    Subject
	OccurredAt time.Time
	// Before and After are the aggregate before and after the change
	// (Before is nil when it was created): values no one changes any
	// more. The outbox writes them in the API's shape, which holds no
	// secret, and the changes between them.
	Before, After any
	// ChangesAccess says that the change can alter what a check of a
	// credential decides (a key changed, a session revoked, an identity or
	// a game deleted): replicas forget what they cached of it. A rename
	// cannot; telling every replica of every write would serialise the
	// commits of the database (PostgreSQL's NOTIFY takes a lock until the
	// commit is flushed).
	ChangesAccess bool
}

// Of is the event of subject becoming after, by verb; it changes no
// access (see ChangesAccess).
func Of(verb string, account id.AccountID, subject Subject, at time.Time, before, after any) Event {
	return Event{
		Type:       Type(subject.Resource + "." + verb),
		AccountID:  account,
		Subject:    subject,
		OccurredAt: at,
		Before:     before,
		After:      after,
	}
}

type actorKey struct{}

// WithActor is ctx carrying who acts: the HTTP edge puts the caller there.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf is who acts in ctx: the system when nobody was put there.
func ActorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}
