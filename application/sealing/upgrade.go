package sealing

// legacyEncryptionKey named the key that versions before the vault
// generated, stored in plaintext, and sealed Steam keys with when
// LEADR_ENCRYPTION_KEY was not set.
const legacyEncryptionKey = "encryption_key"

// Upgrade converts what a version before the vault stored: secrets in
// plaintext, and Steam keys sealed with LEADR_ENCRYPTION_KEY itself or with
// the plaintext "encryption_key".
type Upgrade struct {
	sealed      map[string][]byte
	legacy      []*Cipher
	credentials *Cipher
}

// Upgrade seals plaintext (the stored secrets by name) under the vault's
// root key, keeping every value, so that API keys, refresh tokens, cursors
// and access tokens made before stay good. configured is the
// LEADR_ENCRYPTION_KEY the previous version ran with, if any. The old
// "encryption_key" is not carried over: a new credentials key replaces it
// and Reseal moves every Steam key under it, so that the plaintext key that
// older backups hold opens nothing sealed from now on.
func (v *Vault) Upgrade(plaintext map[string][]byte, configured []byte) *Upgrade {
	credentials := RandomKey()
	u := &Upgrade{
		sealed:      map[string][]byte{CredentialsKey: v.root.Seal(credentials, []byte(CredentialsKey))},
		credentials: NewCipher(credentials),
	}
	if configured != nil {
		u.legacy = append(u.legacy, NewCipher(configured))
	}
	for name, value := range plaintext {
		if name == legacyEncryptionKey {
			u.legacy = append(u.legacy, NewCipher(value))
			continue
		}
		u.sealed[name] = v.root.Seal(value, []byte(name))
	}
	return u
}

// Sealed are the secrets to store, by name.
func (u *Upgrade) Sealed() map[string][]byte { return u.sealed }

// Reseal turns a credential sealed the old way into one sealed under the
// new credentials key; false when none of the old keys opens it (it was
// sealed under a key changed since, and did not open before either).
func (u *Upgrade) Reseal(sealed, context []byte) ([]byte, bool) {
	for _, c := range u.legacy {
		if plain, err := c.Open(sealed, context); err == nil {
			return u.credentials.Seal(plain, context), true
		}
	}
	return nil, false
}
