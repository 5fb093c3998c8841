package sealing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/leadr-oss/identity/ports"
)

// CredentialsKey names the generated secret that stored credentials (games'
// Steam Web API keys) are sealed with.
const CredentialsKey = "credentials_key"

// ErrWrongKey: a stored secret does not open with the root key, so it was
// sealed under another one.
var ErrWrongKey = errors.New("the stored secrets do not open with this root key")

// Vault keeps the secrets the service generates sealed under the root key:
// each is stored as it comes out of Seal, bound to its name (the additional
// data), so that a value moved under another name does not open either.
type Vault struct {
	store ports.SecretStore
	root  *Cipher
}

var _ ports.SecretStore = (*Vault)(nil)

// NewVault keeps secrets in store, sealed under rootKey (32 characters or
// more: LEADR_ENCRYPTION_KEY or the content of an SQLite key file).
func NewVault(store ports.SecretStore, rootKey []byte) *Vault {
	return &Vault{store: store, root: newCipher("leadr root key v1", rootKey)}
}

// Secret returns the secret stored under name, storing generate() sealed
// first if there is none. Concurrent callers, on every replica, get the
// same value. A stored value that does not open is ErrWrongKey.
func (v *Vault) Secret(ctx context.Context, name string, generate func() []byte) ([]byte, error) {
	sealed, err := v.store.Secret(ctx, name, func() []byte { return v.root.Seal(generate(), []byte(name)) })
	if err != nil {
		return nil, err
	}
	plain, err := v.root.Open(sealed, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrWrongKey)
	}
	return plain, nil
}

// Credentials returns the cipher of stored credentials, under the
// credentials key: generated once and kept sealed in the vault.
func (v *Vault) Credentials(ctx context.Context) (*Cipher, error) {
	key, err := v.Secret(ctx, CredentialsKey, RandomKey)
	if err != nil {
		return nil, err
	}
	return NewCipher(key), nil
}

// RandomKey returns 32 random bytes: a generated secret.
func RandomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
