// Package ports is the boundary of the application: the interfaces it needs
// from storage and the use cases it offers to drivers such as the HTTP API,
// with the plain types they speak in. Each aggregate has a file of its own;
// this one holds what they share.
package ports

import (
	"context"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
)

// SecretStore keeps generated secrets that every replica must share.
type SecretStore interface {
	// Secret returns the secret stored under name, storing generate() first
	// if there is none. Concurrent callers all get the same value.
	Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error)
}

// Pinger reports whether storage answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Clock is the time source of the use cases.
type Clock func() time.Time

// Authenticator turns a presented API key into a principal, or fails with
// tenancy.ErrKeyRequired or tenancy.ErrKeyInvalid.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (tenancy.Principal, error)
}

// Change names the subject of a committed change that may make a cached
// verdict on a credential wrong: the ID of a key, a session, an identity or
// a game (IDs carry their kind's prefix, so no two kinds share one). The
// zero Change means "anything may have changed".
type Change struct {
	ID string
}

// Changes tells a replica of the changes committed by every replica.
type Changes interface {
	// Subscribe calls fn with every change, from any goroutine, and with
	// the zero Change whenever some may have been missed.
	Subscribe(fn func(Change))
	// Live reports whether changes committed now reach the subscribers
	// within a second. While they do not, nothing cached may be trusted.
	Live() bool
}
