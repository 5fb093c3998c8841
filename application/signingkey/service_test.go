package signingkey_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/sealing"
	appsigningkey "github.com/leadr-oss/identity/application/signingkey"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/ports"
)

var schedule = signingkey.Schedule{Rotation: 30 * 24 * time.Hour, TokenTTL: 15 * time.Minute}

// clock is a movable clock shared by the replicas of a test.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := new(clock)
	c.t.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time        { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) add(d time.Duration)   { c.t.Add(int64(d)) }
func (c *clock) Now() func() time.Time { return c.now }

// countingRepo counts the Updates that reach the store.
type countingRepo struct {
	ports.SigningKeyRepository
	updates atomic.Int32
}

func (r *countingRepo) Update(ctx context.Context, fn func([]ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error)) error {
	r.updates.Add(1)
	return r.SigningKeyRepository.Update(ctx, fn)
}

var cipher = sealing.NewCipher([]byte("a root key for the signing keys test"))

func replica(repo ports.SigningKeyRepository, c *clock) *appsigningkey.Service {
	return appsigningkey.NewService(appsigningkey.Deps{Keys: repo, Cipher: cipher, Now: c.Now(), Schedule: schedule})
}

func TestTheFirstStartMakesTheSigningKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	repo := &countingRepo{SigningKeyRepository: apptest.NewMemory().SigningKeys()}
	svc := replica(repo, c)
	if _, _, err := svc.Signer(c.now()); !errors.Is(err, signingkey.ErrNoSigner) {
		t.Fatalf("a signer before the keys were loaded: %v", err)
	}
	if err := svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	kid, key, err := svc.Signer(c.now())
	if err != nil || key == nil {
		t.Fatalf("no signer after the first start: %v", err)
	}
	if pub := svc.Verifier(kid, c.now()); pub == nil || !pub.Equal(&key.PublicKey) {
		t.Fatal("the signing key does not verify its own tokens")
	}
	if p := svc.Published(); len(p) != 1 || p[0].ID != kid {
		t.Fatalf("published = %v", p)
	}
	// Nothing due: no replica takes the store's lock.
	before := repo.updates.Load()
	for range 3 {
		if err := svc.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if repo.updates.Load() != before {
		t.Fatalf("Maintain with nothing due changed the store %d times", repo.updates.Load()-before)
	}
}

// The private key is stored sealed, bound to its key: the stored bytes are
// not the scalar, another root key opens nothing, and a sealed key moved to
// another row does not open either.
func TestPrivateKeysAreSealed(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	mem := apptest.NewMemory()
	svc := replica(mem.SigningKeys(), c)
	if err := svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	_, key, _ := svc.Signer(c.now())
	scalar, _ := key.Bytes()
	stored, _ := mem.SigningKeys().All(ctx)
	if len(stored) != 2 {
		t.Fatalf("%d keys stored", len(stored))
	}
	for _, k := range stored {
		if len(k.Sealed) == 0 || bytes.Contains(k.Sealed, scalar) {
			t.Fatalf("key %s stored without its private part sealed", k.ID)
		}
	}

	wrong := appsigningkey.NewService(appsigningkey.Deps{Keys: mem.SigningKeys(), Cipher: sealing.NewCipher([]byte("another root key, not the right one")),
		Now: c.Now(), Schedule: schedule})
	if err := wrong.Load(ctx); err == nil {
		t.Fatal("keys sealed under one root key opened under another")
	} else if bytes.Contains([]byte(err.Error()), scalar) {
		t.Fatal("the error holds the key")
	}

	swapped := mem.SigningKeys()
	if err := swapped.Update(ctx, func(keys []ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		keys[0].Sealed, keys[1].Sealed = keys[1].Sealed, keys[0].Sealed
		return keys, nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := replica(swapped, c).Load(ctx); err == nil {
		t.Fatal("sealed private keys swapped between two keys opened")
	}
}

// Replicas starting together on a new database make one key between them,
// and every one of them signs with it.
func TestReplicasAgreeOnOneKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	repo := apptest.NewMemory().SigningKeys()
	replicas := make([]*appsigningkey.Service, 8)
	var wg sync.WaitGroup
	for i := range replicas {
		replicas[i] = replica(repo, c)
		wg.Go(func() {
			if err := replicas[i].Maintain(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stored, _ := repo.All(ctx)
	if len(stored) != 1 {
		t.Fatalf("%d replicas starting at once made %d keys", len(replicas), len(stored))
	}
	for _, r := range replicas {
		if kid, _, err := r.Signer(c.now()); err != nil || kid != stored[0].ID {
			t.Fatalf("a replica signs with %v (%v), not the one key %v", kid, err, stored[0].ID)
		}
	}
}

// The operator's rotation: the next key is published at once on every
// replica that loads, signs Lead later, and the old one verifies until its
// last token expired; then its private part goes, then the key.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	repo := &countingRepo{SigningKeyRepository: apptest.NewMemory().SigningKeys()}
	a, b := replica(repo, c), replica(repo, c)
	for _, r := range []*appsigningkey.Service{a, b} {
		if err := r.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old, _, _ := a.Signer(c.now())
	next, created, err := a.Rotate(ctx)
	if err != nil || !created || next.State != signingkey.Pending || !next.SignsFrom.Equal(c.now().Add(signingkey.Lead)) {
		t.Fatalf("rotate = %+v, %v, %v", next, created, err)
	}
	if again, created, _ := a.Rotate(ctx); created || again.ID != next.ID {
		t.Fatal("a second rotation while one is pending made another key")
	}
	if err := b.Load(ctx); err != nil { // as the store's notification makes it
		t.Fatal(err)
	}
	for _, r := range []*appsigningkey.Service{a, b} {
		if kid, _, _ := r.Signer(c.now()); kid != old {
			t.Fatal("the next key signs before Lead")
		}
		if r.Verifier(next.ID, c.now()) == nil || len(r.Published()) != 2 {
			t.Fatal("the next key is not published at once")
		}
	}

	c.add(signingkey.Lead)
	for _, r := range []*appsigningkey.Service{a, b} {
		if kid, _, _ := r.Signer(c.now()); kid != next.ID {
			t.Fatal("the next key does not sign after Lead")
		}
		if r.Verifier(old, c.now()) == nil {
			t.Fatal("the retired key stopped verifying at once")
		}
	}
	c.add(signingkey.Lead)
	if err := a.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ := repo.All(ctx)
	for _, k := range stored {
		if k.ID == old && k.Sealed != nil {
			t.Fatal("the retired key's private part is still stored")
		}
	}

	c.add(schedule.TokenTTL + signingkey.Margin - signingkey.Lead)
	if b.Verifier(old, c.now()) != nil {
		t.Fatal("the retired key verifies after its last token expired")
	}
	if err := b.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, _ = repo.All(ctx); len(stored) != 1 || stored[0].ID != next.ID {
		t.Fatalf("after its tokens expired the old key is still stored: %v", stored)
	}
	list, err := b.List(ctx)
	if err != nil || len(list) != 1 || list[0].State != signingkey.Signing {
		t.Fatalf("list = %+v, %v", list, err)
	}
}

func TestScheduledRotation(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	svc := replica(apptest.NewMemory().SigningKeys(), c)
	if err := svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	first, _, _ := svc.Signer(c.now())
	c.add(schedule.Rotation - signingkey.Lead)
	if err := svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if p := svc.Published(); len(p) != 2 {
		t.Fatalf("Lead before the rotation %d keys are published, want 2", len(p))
	}
	c.add(signingkey.Lead)
	if kid, _, _ := svc.Signer(c.now()); kid == first {
		t.Fatal("the first key still signs after the rotation")
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	svc := replica(apptest.NewMemory().SigningKeys(), c)
	if err := svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	old, _, _ := svc.Signer(c.now())
	info, err := svc.Revoke(ctx, old)
	if err != nil || info.State != signingkey.Revoked {
		t.Fatalf("revoke = %+v, %v", info, err)
	}
	kid, key, err := svc.Signer(c.now())
	if err != nil || kid == old || key == nil {
		t.Fatalf("after the signer was revoked, %v signs (%v)", kid, err)
	}
	if svc.Verifier(old, c.now()) != nil {
		t.Fatal("a revoked key still verifies")
	}
	for _, p := range svc.Published() {
		if p.ID == old {
			t.Fatal("a revoked key is published")
		}
	}
	if _, err := svc.Revoke(ctx, id.New[id.SigningKey]()); !errors.Is(err, signingkey.ErrNotFound) {
		t.Fatalf("revoking an unknown key: %v", err)
	}
}
