// Package sealing encrypts what the service stores secret, with AES-256-GCM,
// in two levels (envelope encryption). The root key, LEADR_ENCRYPTION_KEY
// or the key file beside an SQLite database, is never stored in the
// database; it seals the secrets the service generates (the Vault): the
// API-key pepper, the cursor and access-token secrets, and the credentials
// key, which in turn seals stored credentials such as games' Steam Web API
// keys. A copy of the database without the root key opens none of them.
//
// Changing the root key is therefore a re-wrap: open each of the few stored
// secrets with the old root and seal it under the new one, in one
// transaction; every game's sealed Steam key stays as it is, since the
// credentials key it is sealed under does not change.
package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"

	"github.com/leadr-oss/identity/ports"
)

// version leads every sealed value, so that a later key or algorithm can be
// told apart from this one.
const version byte = 1

var errOpen = errors.New("sealing: the value does not open with this key and context")

// Cipher implements ports.Cipher.
type Cipher struct {
	aead cipher.AEAD
}

var _ ports.Cipher = (*Cipher)(nil)

// NewCipher derives the AES-256 key from secret (any length; 32 bytes or
// more of randomness are expected).
func NewCipher(secret []byte) *Cipher { return newCipher("leadr sealing v1", secret) }

// newCipher derives the AES-256 key from secret for one use, label: the
// same secret gives unrelated keys under two labels.
func newCipher(label string, secret []byte) *Cipher {
	key := sha256.Sum256(append([]byte(label+"\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Cipher{aead: aead}
}

// Seal encrypts plaintext; context (e.g. the owner's ID) is authenticated
// with it, so a sealed value moved to another owner no longer opens.
func (c *Cipher) Seal(plaintext, context []byte) []byte {
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{version}, nonce...)
	return c.aead.Seal(out, nonce, plaintext, context)
}

func (c *Cipher) Open(sealed, context []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return nil, errOpen
	}
	plain, err := c.aead.Open(nil, sealed[1:1+n], sealed[1+n:], context)
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}
