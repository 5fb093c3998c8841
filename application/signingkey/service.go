// Package signingkey keeps the keys that sign access tokens: loaded in
// memory on every replica (a sign-in or a verification asks no database),
// rotated on schedule, and rotated or revoked by the operator.
package signingkey

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/ports"
)

// Deps are what the service works with.
type Deps struct {
	Keys     ports.SigningKeyRepository
	Cipher   ports.Cipher
	Now      ports.Clock
	Schedule signingkey.Schedule
}

// Service implements ports.SigningKeys and ports.SigningKeyAdmin.
type Service struct {
	d      Deps
	loadMu sync.Mutex
	ring   atomic.Pointer[signingkey.Ring]
}

var (
	_ ports.SigningKeys     = (*Service)(nil)
	_ ports.SigningKeyAdmin = (*Service)(nil)
)

func NewService(d Deps) *Service { return &Service{d: d} }

// Load reads the stored keys into memory. Replicas call it when another
// changed them, and Maintain after every change of its own.
func (s *Service) Load(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	stored, err := s.d.Keys.All(ctx)
	if err != nil {
		return err
	}
	ring, err := s.restore(stored)
	if err != nil {
		return err
	}
	s.ring.Store(ring)
	return nil
}

// Maintain loads the keys and, when the schedule asks for it, makes the
// next key or wipes and drops the ones done with, under the store's lock:
// of replicas doing it at once, the first makes the change and the others
// find nothing left to do. Start-up calls it before serving, so that a key
// signs from the first request.
func (s *Service) Maintain(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return err
	}
	if !s.ring.Load().NeedsWork(s.d.Now(), s.d.Schedule) {
		return nil
	}
	return s.update(ctx, func(r *signingkey.Ring, now time.Time) error {
		if _, err := r.Schedule(now, s.d.Schedule); err != nil {
			return err
		}
		r.Prune(now, s.d.Schedule)
		return nil
	})
}

func (s *Service) Rotate(ctx context.Context) (ports.SigningKeyInfo, bool, error) {
	var next *signingkey.Key
	var created bool
	var info ports.SigningKeyInfo
	err := s.update(ctx, func(r *signingkey.Ring, now time.Time) (err error) {
		next, created, err = r.Rotate(now)
		if err == nil {
			info = s.info(r, next, now)
		}
		return err
	})
	return info, created, err
}

func (s *Service) Revoke(ctx context.Context, kid id.SigningKeyID) (ports.SigningKeyInfo, error) {
	var info ports.SigningKeyInfo
	err := s.update(ctx, func(r *signingkey.Ring, now time.Time) error {
		k, err := r.Revoke(kid, now)
		if err == nil {
			info = s.info(r, k, now)
		}
		return err
	})
	return info, err
}

func (s *Service) List(ctx context.Context) ([]ports.SigningKeyInfo, error) {
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	r, now := s.ring.Load(), s.d.Now()
	out := make([]ports.SigningKeyInfo, 0, len(r.Keys()))
	for _, k := range r.Keys() {
		out = append(out, s.info(r, k, now))
	}
	return out, nil
}

func (s *Service) info(r *signingkey.Ring, k *signingkey.Key, now time.Time) ports.SigningKeyInfo {
	return ports.SigningKeyInfo{ID: k.ID(), State: r.State(k, now, s.d.Schedule),
		CreatedAt: k.CreatedAt(), SignsFrom: k.SignsFrom(), RevokedAt: k.RevokedAt()}
}

// update changes the stored keys with fn under the store's lock, then loads
// them: this replica acts on its own change at once, the others when the
// store tells them.
func (s *Service) update(ctx context.Context, fn func(r *signingkey.Ring, now time.Time) error) error {
	err := s.d.Keys.Update(ctx, func(stored []ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error) {
		r, err := s.restore(stored)
		if err != nil {
			return nil, nil, err
		}
		if err := fn(r, s.d.Now()); err != nil {
			return nil, nil, err
		}
		changed := r.Changed()
		save := make([]ports.StoredSigningKey, len(changed))
		for i, k := range changed {
			if save[i], err = s.seal(k); err != nil {
				return nil, nil, err
			}
		}
		return save, r.Dropped(), nil
	})
	if err != nil {
		return err
	}
	return s.Load(ctx)
}

// Signer is the key that signs at now, from memory.
func (s *Service) Signer(now time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error) {
	r := s.ring.Load()
	if r == nil {
		return id.SigningKeyID{}, nil, signingkey.ErrNoSigner
	}
	k := r.Signer(now)
	if k == nil || k.Private() == nil {
		return id.SigningKeyID{}, nil, signingkey.ErrNoSigner
	}
	return k.ID(), k.Private(), nil
}

// Verifier is the published key named kid at now, from memory.
func (s *Service) Verifier(kid id.SigningKeyID, now time.Time) *ecdsa.PublicKey {
	r := s.ring.Load()
	if r == nil {
		return nil
	}
	if k := r.Verifying(kid, now, s.d.Schedule); k != nil {
		return k.Public()
	}
	return nil
}

// sealContext binds a sealed private key to its key: moved to another
// row, it does not open.
func sealContext(kid id.SigningKeyID) []byte { return []byte("signing key " + kid.String()) }

func (s *Service) seal(k *signingkey.Key) (ports.StoredSigningKey, error) {
	public, err := k.Public().Bytes()
	if err != nil {
		return ports.StoredSigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	out := ports.StoredSigningKey{ID: k.ID(), Public: public, CreatedAt: k.CreatedAt(), SignsFrom: k.SignsFrom(), RevokedAt: k.RevokedAt()}
	if k.Private() != nil {
		scalar, err := k.Private().Bytes()
		if err != nil {
			return ports.StoredSigningKey{}, fmt.Errorf("encode signing key: %w", err)
		}
		out.Sealed = s.d.Cipher.Seal(scalar, sealContext(k.ID()))
		clear(scalar)
	}
	return out, nil
}

// errUnreadableKey: a stored key does not parse or open. Its content is
// never in the error.
var errUnreadableKey = errors.New("a stored signing key does not open with this root key, or is damaged")

func (s *Service) restore(stored []ports.StoredSigningKey) (*signingkey.Ring, error) {
	keys := make([]*signingkey.Key, 0, len(stored))
	for _, st := range stored {
		public, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), st.Public)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.ID, errUnreadableKey)
		}
		var private *ecdsa.PrivateKey
		if st.Sealed != nil {
			scalar, err := s.d.Cipher.Open(st.Sealed, sealContext(st.ID))
			if err == nil {
				private, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
				clear(scalar)
			}
			if err != nil || !private.PublicKey.Equal(public) {
				return nil, fmt.Errorf("%s: %w", st.ID, errUnreadableKey)
			}
		}
		keys = append(keys, signingkey.Restore(st.ID, public, private, st.CreatedAt, st.SignsFrom, st.RevokedAt))
	}
	return signingkey.NewRing(keys), nil
}

// Published are the keys a verifier needs now: pending, signing, and
// retired ones whose tokens may still live.
func (s *Service) Published() []ports.PublishedKey {
	r := s.ring.Load()
	if r == nil {
		return nil
	}
	keys := r.Published(s.d.Now(), s.d.Schedule)
	out := make([]ports.PublishedKey, len(keys))
	for i, k := range keys {
		out[i] = ports.PublishedKey{ID: k.ID(), Public: k.Public()}
	}
	return out
}
