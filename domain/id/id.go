// Package id defines the prefixed identifiers of the service: "<prefix>_<uuid>",
// for example "ide_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21". The type parameter
// ties an ID to its entity, so an account ID cannot be passed where an
// identity ID is expected.
package id

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain"
)

// Entity is implemented by the marker types below; each names its prefix.
type Entity interface {
	Prefix() string
	Noun() string
}

type (
	Account    struct{}
	User       struct{}
	APIKey     struct{}
	Game       struct{}
	Identity   struct{}
	Session    struct{}
	Event      struct{}
	Webhook    struct{}
	Delivery   struct{}
	Player     struct{}
	Ban        struct{}
	SigningKey struct{}
)

func (Account) Prefix() string    { return "acc" }
func (User) Prefix() string       { return "usr" }
func (APIKey) Prefix() string     { return "key" }
func (Game) Prefix() string       { return "gam" }
func (Identity) Prefix() string   { return "ide" }
func (Session) Prefix() string    { return "ses" }
func (Event) Prefix() string      { return "evt" }
func (Webhook) Prefix() string    { return "whk" }
func (Delivery) Prefix() string   { return "dlv" }
func (Player) Prefix() string     { return "ply" }
func (Ban) Prefix() string        { return "ban" }
func (SigningKey) Prefix() string { return "sgk" }

func (Account) Noun() string    { return "account" }
func (User) Noun() string       { return "user" }
func (APIKey) Noun() string     { return "API key" }
func (Game) Noun() string       { return "game" }
func (Identity) Noun() string   { return "identity" }
func (Session) Noun() string    { return "session" }
func (Event) Noun() string      { return "event" }
func (Webhook) Noun() string    { return "webhook" }
func (Delivery) Noun() string   { return "delivery" }
func (Player) Noun() string     { return "player" }
func (Ban) Noun() string        { return "ban" }
func (SigningKey) Noun() string { return "signing key" }

// ID identifies one entity of kind E. The zero value is "no ID".
type ID[E Entity] struct {
	u UUID
}

type (
	AccountID    = ID[Account]
	UserID       = ID[User]
	APIKeyID     = ID[APIKey]
	GameID       = ID[Game]
	IdentityID   = ID[Identity]
	SessionID    = ID[Session]
	EventID      = ID[Event]
	WebhookID    = ID[Webhook]
	DeliveryID   = ID[Delivery]
	PlayerID     = ID[Player]
	BanID        = ID[Ban]
	SigningKeyID = ID[SigningKey]
)

// New returns a fresh ID. New IDs are UUIDv7, so they sort by creation time.
func New[E Entity]() ID[E] {
	return ID[E]{u: newV7(time.Now())}
}

// FromUUID wraps a stored UUID; the prefix is implied by where it was stored.
func FromUUID[E Entity](u UUID) ID[E] {
	return ID[E]{u: u}
}

// Parse reads "<prefix>_<uuid>". Only the canonical 8-4-4-4-12 form is
// accepted, in either case, and never the nil UUID; anything else is an
// Invalid error without a field, because an ID does not know which input it
// was read from: the adapter that read it names the field.
func Parse[E Entity](s string) (ID[E], error) {
	var e E
	want := e.Prefix() + "_"
	rest, ok := strings.CutPrefix(s, want)
	if !ok {
		return ID[E]{}, invalid[E](s)
	}
	u, ok := ParseUUID(rest)
	if !ok || u == (UUID{}) {
		return ID[E]{}, invalid[E](s)
	}
	return ID[E]{u: u}, nil
}

func invalid[E Entity](s string) error {
	var e E
	return domain.Rejected("",
		fmt.Sprintf("Invalid %s ID: expected '%s_' followed by a UUID", e.Noun(), e.Prefix()), s)
}

// String is the canonical, lower-case form; "" for the zero ID.
func (i ID[E]) String() string {
	if i.IsZero() {
		return ""
	}
	var e E
	return e.Prefix() + "_" + i.u.String()
}

// UUID is the bare UUID, for storage.
func (i ID[E]) UUID() UUID { return i.u }

// IsZero reports whether i is "no ID".
func (i ID[E]) IsZero() bool { return i.u == UUID{} }

// Time is when the ID was made (IDs are UUIDv7), to the millisecond.
func (i ID[E]) Time() time.Time { return i.u.Time() }

// FirstAt is the smallest ID made in t's millisecond: the IDs made before it
// sort below it, so a range of IDs is a range of time.
func FirstAt[E Entity](t time.Time) ID[E] { return ID[E]{u: firstV7At(t)} }
