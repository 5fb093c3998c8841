package ports

import (
	"context"
	"crypto/ecdsa"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
)

// StoredSigningKey is a signing key as stored: its private part sealed
// (under the credentials cipher, bound to the key's ID), nil once wiped.
type StoredSigningKey struct {
	ID        id.SigningKeyID
	Public    []byte // the uncompressed P-256 point
	Sealed    []byte
	CreatedAt time.Time
	SignsFrom time.Time
	RevokedAt time.Time // zero while not revoked
}

// SigningKeyRepository stores the signing keys every replica shares.
type SigningKeyRepository interface {
	// All returns every stored key, in the order they sign.
	All(ctx context.Context) ([]StoredSigningKey, error)
	// Update runs fn on every stored key while no other replica's Update
	// runs, then stores what fn saves and deletes what it drops, all or
	// nothing, and tells every replica (a Change with the ID of each key).
	Update(ctx context.Context, fn func(keys []StoredSigningKey) (save []StoredSigningKey, drop []id.SigningKeyID, err error)) error
}

// SigningKeys are the loaded keys the access tokens are signed and
// verified with.
type SigningKeys interface {
	// Signer is the one key that signs at now (signingkey.ErrNoSigner).
	Signer(now time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error)
	// Verifier is the published key named kid at now, or nil.
	Verifier(kid id.SigningKeyID, now time.Time) *ecdsa.PublicKey
}

// SigningKeyInfo is what an operator sees of a key: never its private part.
type SigningKeyInfo struct {
	ID        id.SigningKeyID
	State     signingkey.State
	CreatedAt time.Time
	SignsFrom time.Time
	RevokedAt time.Time
}

// SigningKeyAdmin is what the operator's commands and the JWKS endpoint do.
type SigningKeyAdmin interface {
	// Rotate starts a rotation: the next key, published now, signs after
	// signingkey.Lead; created is false when one was pending already.
	Rotate(ctx context.Context) (next SigningKeyInfo, created bool, err error)
	// Revoke unpublishes a key at once (signingkey.ErrNotFound).
	Revoke(ctx context.Context, kid id.SigningKeyID) (SigningKeyInfo, error)
	List(ctx context.Context) ([]SigningKeyInfo, error)
	// Published are the keys verifiers need now, in the order they sign.
	Published() []PublishedKey
}

// PublishedKey is a key of the JWKS.
type PublishedKey struct {
	ID     id.SigningKeyID
	Public *ecdsa.PublicKey
}
