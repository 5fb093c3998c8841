package portstest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

func init() {
	register("SigningKeys", func(t *testing.T, s Stores) {
		t.Run("stored as given", func(t *testing.T) { signingKeysStoredAsGiven(t, s.Fresh(t)) })
		t.Run("a failed update changes nothing", func(t *testing.T) { signingKeysFailedUpdate(t, s.Fresh(t)) })
		t.Run("updates take turns", func(t *testing.T) { signingKeysTakeTurns(t, s.Fresh(t)) })
	})
}

func (e Env) SigningKeys() ports.SigningKeyRepository {
	return repository[ports.SigningKeyRepository](e)
}

func storedKey(i int) ports.StoredSigningKey {
	at := t0.Add(time.Duration(i) * time.Hour)
	return ports.StoredSigningKey{ID: id.New[id.SigningKey](), Public: bytes.Repeat([]byte{byte(i + 1)}, 65),
		Sealed: bytes.Repeat([]byte{byte(i + 100)}, 60), CreatedAt: at, SignsFrom: at.Add(6 * time.Minute)}
}

func sameKeys(t *testing.T, got, want []ports.StoredSigningKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys stored, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !bytes.Equal(g.Public, w.Public) || !bytes.Equal(g.Sealed, w.Sealed) || (g.Sealed == nil) != (w.Sealed == nil) ||
			!g.CreatedAt.Equal(w.CreatedAt) || !g.SignsFrom.Equal(w.SignsFrom) || !g.RevokedAt.Equal(w.RevokedAt) {
			t.Fatalf("key %d stored as %+v, want %+v", i, g, w)
		}
	}
}

func signingKeysStoredAsGiven(t *testing.T, e Env) {
	repo := e.SigningKeys()
	if keys, err := repo.All(ctx(t)); err != nil || len(keys) != 0 {
		t.Fatalf("a new store holds %v, %v", keys, err)
	}
	a, b := storedKey(0), storedKey(1)
	must(t, repo.Update(ctx(t), func(keys []ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		return []ports.StoredSigningKey{b, a}, nil, nil
	}))
	all, err := repo.All(ctx(t))
	must(t, err)
	sameKeys(t, all, []ports.StoredSigningKey{a, b}) // in the order they sign

	// What a change may change: the private part (wiped), when it signs,
	// its revocation; never its public part. Another key goes.
	before := a
	a.Sealed, a.RevokedAt, a.SignsFrom = nil, t0.Add(48*time.Hour), t0.Add(-time.Hour)
	changed := a
	changed.Public = []byte("a key's public part never changes")
	must(t, repo.Update(ctx(t), func(keys []ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		sameKeys(t, keys, []ports.StoredSigningKey{before, b})
		return []ports.StoredSigningKey{changed}, []id.SigningKeyID{b.ID}, nil
	}))
	all, err = repo.All(ctx(t))
	must(t, err)
	sameKeys(t, all, []ports.StoredSigningKey{a})
}

func signingKeysFailedUpdate(t *testing.T, e Env) {
	repo := e.SigningKeys()
	a := storedKey(0)
	must(t, repo.Update(ctx(t), func([]ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		return []ports.StoredSigningKey{a}, nil, nil
	}))
	boom := errors.New("boom")
	err := repo.Update(ctx(t), func([]ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		return []ports.StoredSigningKey{storedKey(1)}, []id.SigningKeyID{a.ID}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	all, err := repo.All(ctx(t))
	must(t, err)
	sameKeys(t, all, []ports.StoredSigningKey{a})
}

// Replicas that see a key due at the same moment each run "make one if
// there is none": Update's turns leave exactly one.
func signingKeysTakeTurns(t *testing.T, e Env) {
	repo := e.SigningKeys()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := repo.Update(ctx(t), func(keys []ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
				if len(keys) > 0 {
					return nil, nil, nil
				}
				return []ports.StoredSigningKey{storedKey(i)}, nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if all, err := repo.All(ctx(t)); err != nil || len(all) != 1 {
		t.Fatalf("concurrent updates left %d keys (%v), want 1", len(all), err)
	}
}
