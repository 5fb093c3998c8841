package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	secretPrefix = "whsec_"
	// secretSize is what GenerateSecret makes: the contract promises
	// 32 random bytes.
	secretSize = 32
	// Keys as short as the Standard Webhooks test vectors' (24 bytes) are
	// accepted so that the vectors can be checked; more than a SHA-256
	// block (64 bytes) would be hashed down by HMAC and adds nothing.
	minSecretSize = 24
	maxSecretSize = 64
)

// ErrInvalidSecret is why ParseSecret or SecretFromBytes refused. Its text
// never holds the input: that may be a secret, or most of one.
var ErrInvalidSecret = errors.New("invalid webhook secret")

// Secret is the key an endpoint's deliveries are signed with. Printing it
// never shows the key, so that a stray log line cannot leak it: %v and %s
// give "[redacted]"; Reveal gives the whsec_ form that the API shows once.
type Secret struct {
	// A function, because fmt prints whatever it reaches by reflection (a
	// Secret in another struct's unexported field, under any verb, through
	// pointers too) but a function only as its address.
	key func() []byte
}

// GenerateSecret returns a new secret of 32 bytes from crypto/rand.
func GenerateSecret() Secret {
	key := make([]byte, secretSize)
	// crypto/rand.Read never returns an error: it crashes the program
	// rather than hand out a predictable key.
	_, _ = rand.Read(key)
	return Secret{key: func() []byte { return key }}
}

// ParseSecret reads the whsec_ form: "whsec_" and the key in standard
// base64, padded or not. The key must be 24 to 64 bytes.
func ParseSecret(s string) (Secret, error) {
	encoded, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf(`%w: it does not start with "whsec_"`, ErrInvalidSecret)
	}
	// The decoders skip line breaks; refusing them keeps one key to one
	// spelling.
	if strings.ContainsAny(encoded, "\r\n") {
		return Secret{}, fmt.Errorf("%w: it is not standard base64", ErrInvalidSecret)
	}
	enc := base64.RawStdEncoding
	if strings.HasSuffix(encoded, "=") {
		enc = base64.StdEncoding
	}
	key, err := enc.Strict().DecodeString(encoded)
	if err != nil {
		// err quotes the offending byte and its offset: not returned.
		return Secret{}, fmt.Errorf("%w: it is not standard base64", ErrInvalidSecret)
	}
	return SecretFromBytes(key)
}

// SecretFromBytes makes a secret of the key b (24 to 64 bytes), as Bytes
// gave it; b is copied.
func SecretFromBytes(b []byte) (Secret, error) {
	if len(b) < minSecretSize || len(b) > maxSecretSize {
		return Secret{}, fmt.Errorf("%w: the key must be %d to %d bytes", ErrInvalidSecret, minSecretSize, maxSecretSize)
	}
	key := append([]byte(nil), b...)
	return Secret{key: func() []byte { return key }}, nil
}

// Reveal returns the whsec_ form, the one the API shows.
func (s Secret) Reveal() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(s.raw())
}

// Bytes returns a copy of the key, for sealing at rest.
func (s Secret) Bytes() []byte { return append([]byte(nil), s.raw()...) }

func (s Secret) raw() []byte {
	if s.key == nil {
		return nil
	}
	return s.key()
}

// String hides the key; see Reveal.
func (Secret) String() string { return "[redacted]" }

// GoString hides the key from %#v.
func (Secret) GoString() string { return "[redacted]" }

// Sign returns the webhook-signature header of a delivery: "v1," and the
// base64 HMAC-SHA256 of "<msgID>.<unix seconds of ts>.<body>" under each
// secret, space-separated, in the order given (the current secret first
// during a rotation). It panics on the zero Secret, which has no key: a
// signature under the empty key would verify for anyone.
func Sign(secrets []Secret, msgID string, ts time.Time, body []byte) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		if s.key == nil {
			panic("webhook: Sign with the zero Secret")
		}
		mac := hmac.New(sha256.New, s.key())
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(unix))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " ")
}
