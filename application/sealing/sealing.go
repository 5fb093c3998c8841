// Package sealing encrypts the secrets the service stores (a game's Steam
// Web API key) with AES-256-GCM under a key every replica shares. With the
// key configured (LEADR_ENCRYPTION_KEY), a copy of the database alone does
// not give them away; a generated key is kept in the database itself and
// protects only against reading the games table alone.
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
func NewCipher(secret []byte) *Cipher {
	key := sha256.Sum256(append([]byte("leadr sealing v1\x00"), secret...))
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
