package apptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports"
)

func init() { fakes = append(fakes, func(m *Memory) any { return m.SigningKeys() }) }

// SigningKeys is the fake of ports.SigningKeyRepository.
func (m *Memory) SigningKeys() ports.SigningKeyRepository { return (*memSigningKeys)(m) }

type memSigningKeys Memory

type signingKeyTable struct{ rows []ports.StoredSigningKey }

func (r *memSigningKeys) All(context.Context) ([]ports.StoredSigningKey, error) {
	m := (*Memory)(r)
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneKeys(table[signingKeyTable](m, "signing_keys").rows), nil
}

// Update holds the one lock for fn, as the store holds its advisory lock.
func (r *memSigningKeys) Update(ctx context.Context, fn func([]ports.StoredSigningKey) ([]ports.StoredSigningKey, []id.SigningKeyID, error)) error {
	m := (*Memory)(r)
	m.mu.Lock()
	defer m.mu.Unlock()
	t := table[signingKeyTable](m, "signing_keys")
	save, drop, err := fn(cloneKeys(t.rows))
	if err != nil {
		return err
	}
	rows := cloneKeys(t.rows)
	for _, k := range save {
		if i := slices.IndexFunc(rows, func(r ports.StoredSigningKey) bool { return r.ID == k.ID }); i >= 0 {
			rows[i].Sealed, rows[i].SignsFrom, rows[i].RevokedAt = slices.Clone(k.Sealed), k.SignsFrom, k.RevokedAt
		} else {
			rows = append(rows, cloneKeys([]ports.StoredSigningKey{k})...)
		}
	}
	t.rows = slices.DeleteFunc(rows, func(r ports.StoredSigningKey) bool { return slices.Contains(drop, r.ID) })
	return nil
}

// cloneKeys copies keys, in the order they sign.
func cloneKeys(keys []ports.StoredSigningKey) []ports.StoredSigningKey {
	out := slices.Clone(keys)
	for i := range out {
		out[i].Public, out[i].Sealed = slices.Clone(out[i].Public), slices.Clone(out[i].Sealed)
	}
	slices.SortStableFunc(out, func(a, b ports.StoredSigningKey) int {
		if c := a.SignsFrom.Compare(b.SignsFrom); c != 0 {
			return c
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	return out
}

// SigningKey is one key that always signs and verifies, for the tests of
// what issues or checks access tokens.
type SigningKey struct {
	ID  id.SigningKeyID
	Key *ecdsa.PrivateKey
}

var _ ports.SigningKeys = (*SigningKey)(nil)

func NewSigningKey() *SigningKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &SigningKey{ID: id.New[id.SigningKey](), Key: k}
}

func (k *SigningKey) Signer(time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error) {
	return k.ID, k.Key, nil
}

func (k *SigningKey) Verifier(kid id.SigningKeyID, _ time.Time) *ecdsa.PublicKey {
	if kid != k.ID {
		return nil
	}
	return &k.Key.PublicKey
}
