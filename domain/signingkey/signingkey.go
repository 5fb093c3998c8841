// Package signingkey is the keys that sign access tokens (ES256, P-256) and
// the rules of their life: exactly one signs at any instant; the next is
// published before it signs, so that a verifier holding a cached copy of
// the published keys already has it; a retired key stays published until
// the last token it signed has expired; a revoked one is unpublished at once.
//
// Every replica derives who signs from the same stored keys and the time,
// so no replica asks another, and the switch from one key to the next
// happens at one instant, the new key's SignsFrom.
package signingkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

const (
	// JWKSMaxAge is how long a verifier may keep the published keys
	// (the Cache-Control max-age of the JWKS).
	JWKSMaxAge = 5 * time.Minute
	// Lead is how long a new key is published before it signs: a verifier
	// that fetched the keys just before it appeared has fetched them again
	// by then, with a minute to spare for clocks and caches on the way.
	Lead = JWKSMaxAge + time.Minute
	// Margin keeps a retired key published a little after its last token
	// expired: verifiers allow a small leeway on `exp`, and clocks differ.
	Margin = time.Minute
	// DefaultRotation is how long a key signs before the next takes over.
	DefaultRotation = 30 * 24 * time.Hour
)

var (
	ErrNotFound = errors.New("no such signing key")
	// ErrNoSigner: no key can sign now. Start-up's Schedule prevents it,
	// and the next maintenance (a minute at most) repairs what clocks far
	// apart may cause: a sign-in meanwhile is told to come back.
	ErrNoSigner = domain.Unavailable("Service temporarily unavailable")
)

// State is where a key is in its life at some instant.
type State string

const (
	Pending State = "pending" // published, signs from SignsFrom on
	Signing State = "signing" // the one key that signs
	Retired State = "retired" // signs no more; published while its tokens live
	Revoked State = "revoked" // unpublished: its tokens are refused
	Expired State = "expired" // retired, and its last token has expired
)

// Key is one signing key. Its private part is there while it may still
// sign (pending or signing) and wiped after: a retired key only verifies.
type Key struct {
	id        id.SigningKeyID
	public    *ecdsa.PublicKey
	private   *ecdsa.PrivateKey
	createdAt time.Time
	signsFrom time.Time
	revokedAt time.Time
	dirty     bool
}

// Generate makes a key published from now that signs from signsFrom on.
func Generate(now, signsFrom time.Time) (*Key, error) {
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a signing key: %w", err)
	}
	return &Key{id: id.New[id.SigningKey](), public: &private.PublicKey, private: private,
		createdAt: now.UTC(), signsFrom: signsFrom.UTC(), dirty: true}, nil
}

// Restore rebuilds a stored key; private is nil once wiped, and revokedAt
// zero while it is not revoked.
func Restore(kid id.SigningKeyID, public *ecdsa.PublicKey, private *ecdsa.PrivateKey, createdAt, signsFrom, revokedAt time.Time) *Key {
	return &Key{id: kid, public: public, private: private, createdAt: createdAt, signsFrom: signsFrom, revokedAt: revokedAt}
}

func (k *Key) ID() id.SigningKeyID        { return k.id }
func (k *Key) Public() *ecdsa.PublicKey   { return k.public }
func (k *Key) Private() *ecdsa.PrivateKey { return k.private }
func (k *Key) CreatedAt() time.Time       { return k.createdAt }
func (k *Key) SignsFrom() time.Time       { return k.signsFrom }
func (k *Key) RevokedAt() time.Time       { return k.revokedAt }
func (k *Key) Revoked() bool              { return !k.revokedAt.IsZero() }

// Schedule is how keys follow each other.
type Schedule struct {
	// Rotation is how long a key signs before the next takes over.
	Rotation time.Duration
	// TokenTTL is the longest an access token lives: a retired key stays
	// published that long (plus Margin) after it stopped signing.
	TokenTTL time.Duration
}

// Ring is every stored key, ordered by when they sign. Its changes are
// remembered for the store: Changed and Dropped.
type Ring struct {
	keys    []*Key
	dropped []id.SigningKeyID
}

func NewRing(keys []*Key) *Ring {
	r := &Ring{keys: slices.Clone(keys)}
	r.sort()
	return r
}

func (r *Ring) sort() {
	slices.SortStableFunc(r.keys, func(a, b *Key) int {
		if c := a.signsFrom.Compare(b.signsFrom); c != 0 {
			return c
		}
		return a.createdAt.Compare(b.createdAt)
	})
}

// Keys are the keys in the order they sign.
func (r *Ring) Keys() []*Key { return r.keys }

// Signer is the key that signs at now: of the keys not revoked, the last
// to have started. Nil only when none has.
func (r *Ring) Signer(now time.Time) *Key {
	var signer *Key
	for _, k := range r.keys {
		if !k.Revoked() && !k.signsFrom.After(now) {
			signer = k
		}
	}
	return signer
}

// pending is the key not revoked that signs after now, if any.
func (r *Ring) pending(now time.Time) *Key {
	for _, k := range r.keys {
		if !k.Revoked() && k.signsFrom.After(now) {
			return k
		}
	}
	return nil
}

// State is where k is at now.
func (r *Ring) State(k *Key, now time.Time, s Schedule) State {
	switch {
	case k.Revoked():
		return Revoked
	case k.signsFrom.After(now):
		return Pending
	case r.Signer(now) == k:
		return Signing
	}
	if retired := r.retiredAt(k); now.Before(retired.Add(s.TokenTTL + Margin)) {
		return Retired
	}
	return Expired
}

// retiredAt is when k stopped signing: when the first key not revoked after
// it started. Only asked of a key that signs no more.
func (r *Ring) retiredAt(k *Key) time.Time {
	for _, next := range r.keys {
		if next != k && !next.Revoked() && next.signsFrom.After(k.signsFrom) {
			return next.signsFrom
		}
	}
	return k.signsFrom
}

// Published are the keys a verifier needs at now: pending, signing, and
// retired ones whose tokens may still live.
func (r *Ring) Published(now time.Time, s Schedule) []*Key {
	var out []*Key
	for _, k := range r.keys {
		switch r.State(k, now, s) {
		case Pending, Signing, Retired:
			out = append(out, k)
		}
	}
	return out
}

// Verifying is the published key named kid, or nil.
func (r *Ring) Verifying(kid id.SigningKeyID, now time.Time, s Schedule) *Key {
	for _, k := range r.keys {
		if k.id == kid {
			switch r.State(k, now, s) {
			case Pending, Signing, Retired:
				return k
			}
			return nil
		}
	}
	return nil
}

// Due reports whether a key must be generated at now, and when it is to
// sign: when there is no signer that can sign (the first start, every key
// revoked, or a replica whose clock ran ahead wiped the signer's private
// part) at once; when the signer's rotation comes within Lead and no key
// is pending, at its rotation, or Lead from now if that is later.
func (r *Ring) Due(now time.Time, s Schedule) (signsFrom time.Time, due bool) {
	signer := r.Signer(now)
	if signer == nil || signer.private == nil {
		return now, true
	}
	if r.pending(now) != nil {
		return time.Time{}, false
	}
	rotateAt := signer.signsFrom.Add(s.Rotation)
	if now.Before(rotateAt.Add(-Lead)) {
		return time.Time{}, false
	}
	return later(rotateAt, now.Add(Lead)), true
}

// Schedule generates the key Due asks for, if any, and returns it.
func (r *Ring) Schedule(now time.Time, s Schedule) (*Key, error) {
	signsFrom, due := r.Due(now, s)
	if !due {
		return nil, nil
	}
	return r.add(now, signsFrom)
}

// Rotate starts a rotation now: the key that signs next, generated to sign
// Lead from now unless one is pending already (created is false then). With
// no signer, the new key signs at once.
func (r *Ring) Rotate(now time.Time) (next *Key, created bool, err error) {
	if p := r.pending(now); p != nil {
		return p, false, nil
	}
	signsFrom := now.Add(Lead)
	if r.Signer(now) == nil {
		signsFrom = now
	}
	next, err = r.add(now, signsFrom)
	return next, err == nil, err
}

// Revoke unpublishes the key named kid at once. When it is the signer, a
// successor signs from now: the pending key, or a new one. Verifiers learn
// of that successor when its unknown kid makes them fetch the keys again.
func (r *Ring) Revoke(kid id.SigningKeyID, now time.Time) (*Key, error) {
	i := slices.IndexFunc(r.keys, func(k *Key) bool { return k.id == kid })
	if i < 0 {
		return nil, ErrNotFound
	}
	k := r.keys[i]
	if k.Revoked() {
		return k, nil
	}
	wasSigner := r.Signer(now) == k
	k.revokedAt, k.private, k.dirty = now.UTC(), nil, true
	if !wasSigner {
		return k, nil
	}
	if p := r.pending(now); p != nil {
		p.signsFrom, p.dirty = now.UTC(), true
		r.sort()
		return k, nil
	}
	_, err := r.add(now, now)
	return k, err
}

// Prune wipes the private part of every key that can sign no more (a
// retired one Lead after it stopped signing: a replica whose clock is ahead
// must not wipe the key that the others still sign with), and drops the
// keys nobody needs: expired ones, and revoked ones once every token they
// could have signed has expired (until then `keys list` shows them).
func (r *Ring) Prune(now time.Time, s Schedule) {
	kept := r.keys[:0]
	for _, k := range r.keys {
		drop, wipe := r.fate(k, now, s)
		if drop {
			r.dropped = append(r.dropped, k.id)
			continue
		}
		if wipe {
			k.private, k.dirty = nil, true
		}
		kept = append(kept, k)
	}
	clear(r.keys[len(kept):])
	r.keys = kept
}

// NeedsWork reports whether Schedule or Prune would change anything at
// now, so that a replica takes the store's lock only then.
func (r *Ring) NeedsWork(now time.Time, s Schedule) bool {
	if _, due := r.Due(now, s); due {
		return true
	}
	for _, k := range r.keys {
		if drop, wipe := r.fate(k, now, s); drop || wipe {
			return true
		}
	}
	return false
}

// fate is what Prune does to k at now: drop it, or wipe its private part.
func (r *Ring) fate(k *Key, now time.Time, s Schedule) (drop, wipe bool) {
	state := r.State(k, now, s)
	drop = state == Expired || state == Revoked && !now.Before(k.revokedAt.Add(s.TokenTTL+Margin))
	wipe = k.private != nil && (state == Revoked || state == Retired && !now.Before(r.retiredAt(k).Add(Lead)))
	return drop, wipe
}

func (r *Ring) add(now, signsFrom time.Time) (*Key, error) {
	k, err := Generate(now, signsFrom)
	if err != nil {
		return nil, err
	}
	r.keys = append(r.keys, k)
	r.sort()
	return k, nil
}

// Changed are the keys added or changed since the ring was made.
func (r *Ring) Changed() []*Key {
	var out []*Key
	for _, k := range r.keys {
		if k.dirty {
			out = append(out, k)
		}
	}
	return out
}

// Dropped are the keys Prune removed.
func (r *Ring) Dropped() []id.SigningKeyID { return r.dropped }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
