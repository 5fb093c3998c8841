package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// Hasher computes the stored form of an API key: HMAC-SHA256 under a
// server-side pepper, so a stolen table does not reveal usable keys and
// cannot be brute-forced without the pepper.
type Hasher struct {
	pepper []byte
}

func NewHasher(pepper []byte) Hasher { return Hasher{pepper: pepper} }

func (h Hasher) Hash(plaintext string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(plaintext))
	return m.Sum(nil)
}

// Authenticator implements ports.Authenticator. It keeps no cache: a revoked
// key fails on its very next use, on every replica.
type Authenticator struct {
	repo   ports.TenancyRepository
	hasher Hasher
	now    ports.Clock
}

func NewAuthenticator(repo ports.TenancyRepository, hasher Hasher, now ports.Clock) *Authenticator {
	return &Authenticator{repo: repo, hasher: hasher, now: now}
}

func (a *Authenticator) Authenticate(ctx context.Context, key string) (tenancy.Principal, error) {
	if key == "" {
		return tenancy.Principal{}, tenancy.ErrKeyRequired
	}
	if !tenancy.WellFormedKey(key) {
		return tenancy.Principal{}, tenancy.ErrKeyInvalid
	}
	hash := a.hasher.Hash(key)
	k, u, err := a.repo.Authenticate(ctx, hash)
	if err != nil {
		if domain.CategoryOf(err) == domain.CategoryUnauthenticated {
			return tenancy.Principal{}, err
		}
		return tenancy.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	// The lookup was by hash; compare again in constant time so that the
	// decision never rests on a storage engine's comparison.
	if !hmac.Equal(k.Hash(), hash) || !k.Authenticates(a.now()) {
		return tenancy.Principal{}, tenancy.ErrKeyInvalid
	}
	return tenancy.Principal{KeyID: k.ID(), UserID: u.ID(), AccountID: u.AccountID(), SuperAdmin: u.SuperAdmin()}, nil
}
