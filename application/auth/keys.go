package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/leadr-oss/identity/application/credcache"
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

// Authenticator implements ports.Authenticator.
type Authenticator struct {
	repo   ports.TenancyRepository
	hasher Hasher
	now    ports.Clock
	cache  *credcache.Cache[verifiedKey]
}

// verifiedKey is what a lookup found; the key is checked again at every use,
// so that one expiring while cached fails on time.
type verifiedKey struct {
	key       *tenancy.APIKey
	principal tenancy.Principal
}

func NewAuthenticator(repo ports.TenancyRepository, hasher Hasher, now ports.Clock) *Authenticator {
	return &Authenticator{repo: repo, hasher: hasher, now: now}
}

// WithCache keeps verified keys in process, so that most requests read no
// key from the database. A key revoked on any replica is forgotten when the
// change reaches this one (at once for this replica's own writes).
func (a *Authenticator) WithCache(o credcache.Options) *Authenticator {
	c := *a
	c.cache = credcache.New[verifiedKey](o)
	return &c
}

// CacheCounts are the key lookups served from the cache and the others.
func (a *Authenticator) CacheCounts() (hits, misses uint64) { return a.cache.Counts() }

func (a *Authenticator) Authenticate(ctx context.Context, key string) (tenancy.Principal, error) {
	if key == "" {
		return tenancy.Principal{}, tenancy.ErrKeyRequired
	}
	if !tenancy.WellFormedKey(key) {
		return tenancy.Principal{}, tenancy.ErrKeyInvalid
	}
	hash, now := a.hasher.Hash(key), a.now()
	v, ok, ticket := a.cache.Get(string(hash), now)
	if ok && v.key.Authenticates(now) {
		return v.principal, nil
	}
	k, u, err := a.repo.Authenticate(ctx, hash)
	if err != nil {
		if domain.CategoryOf(err) == domain.CategoryUnauthenticated {
			return tenancy.Principal{}, err
		}
		return tenancy.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	// The lookup was by hash; compare again in constant time so that the
	// decision never rests on a storage engine's comparison.
	if !hmac.Equal(k.Hash(), hash) || !k.Authenticates(now) {
		return tenancy.Principal{}, tenancy.ErrKeyInvalid
	}
	p := tenancy.Principal{KeyID: k.ID(), UserID: u.ID(), AccountID: u.AccountID(), SuperAdmin: u.SuperAdmin(), RateLimit: k.RateLimit()}
	a.cache.Put(ticket, string(hash), verifiedKey{key: k, principal: p}, now, time.Time{},
		ports.Change{ID: k.ID().String()})
	return p, nil
}
