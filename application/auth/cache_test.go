package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/credcache"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/ports"
)

// countingTenancy counts the key lookups that reach the repository.
type countingTenancy struct {
	ports.TenancyRepository
	lookups int
}

func (c *countingTenancy) Authenticate(ctx context.Context, hash []byte) (*tenancy.APIKey, *tenancy.User, error) {
	c.lookups++
	return c.TenancyRepository.Authenticate(ctx, hash)
}

func TestCachedKeys(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	repo := &countingTenancy{TenancyRepository: e.mem.Tenancy()}
	changes := new(apptest.Changes)
	authn := auth.NewAuthenticator(repo, e.hasher, e.clock.Now).
		WithCache(credcache.Options{Changes: changes, TTL: time.Minute, Max: 100})
	key, k, _ := e.issue(t, "acme", false, e.clock.Now().Add(time.Hour))
	authenticate := func(wantLookups int, wantErr error) {
		t.Helper()
		_, err := authn.Authenticate(e.ctx, key)
		if err != wantErr || repo.lookups != wantLookups {
			t.Fatalf("err %v after %d lookups; want %v after %d", err, repo.lookups, wantErr, wantLookups)
		}
	}

	authenticate(1, nil)
	authenticate(1, nil) // verified once, then served from the cache
	changes.Send(ports.Change{ID: "key_another"})
	authenticate(1, nil)

	if _, err := e.mem.Tenancy().UpdateAPIKey(e.ctx, k.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
		_, err := k.SetStatus(tenancy.KeyRevoked, e.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	changes.Send(ports.Change{ID: k.ID().String()})
	authenticate(2, tenancy.ErrKeyInvalid)
	authenticate(3, tenancy.ErrKeyInvalid) // refusals are not cached

	// A cached key that expires is refused on time, with no change sent.
	expiring, _, _ := e.issue(t, "expiring", false, e.clock.Now().Add(time.Second))
	key = expiring
	authenticate(4, nil)
	authenticate(4, nil)
	e.clock.now = e.clock.now.Add(time.Second)
	authenticate(5, tenancy.ErrKeyInvalid)
}

// TestCachedKeyTakesItsNewLimit: the principal carries the key's own rate
// limit, so a cached one is forgotten when the limit changes, like a
// revocation.
func TestCachedKeyTakesItsNewLimit(t *testing.T) {
	t.Parallel()
	e := newAuthEnv()
	changes := new(apptest.Changes)
	authn := auth.NewAuthenticator(e.mem.Tenancy(), e.hasher, e.clock.Now).
		WithCache(credcache.Options{Changes: changes, TTL: time.Minute, Max: 100})
	key, k, _ := e.issue(t, "acme", false, time.Time{})
	if p, err := authn.Authenticate(e.ctx, key); err != nil || !p.RateLimit.IsDefault() {
		t.Fatalf("%+v, %v; want the default limit", p, err)
	}
	limit, _ := tenancy.ParseRateLimit("7/m")
	if _, err := e.mem.Tenancy().UpdateAPIKey(e.ctx, k.ID(), func(k *tenancy.APIKey, _ *tenancy.User) error {
		k.SetRateLimit(limit, e.clock.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	changes.Send(ports.Change{ID: k.ID().String()})
	if p, err := authn.Authenticate(e.ctx, key); err != nil || p.RateLimit != limit {
		t.Fatalf("%+v, %v; want the limit 7/m", p, err)
	}
}
