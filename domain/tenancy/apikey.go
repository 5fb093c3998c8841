package tenancy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
)

var (
	ErrKeyRequired    = domain.Unauthenticated("API key required")
	ErrKeyInvalid     = domain.Unauthenticated("Invalid or expired API key")
	ErrAPIKeyNotFound = domain.NotFound("API key not found")
	ErrAPIKeyAccess   = domain.Forbidden("You do not have access to this API key's account")
	// ErrKeyRevoked is returned when a revoked key is asked to become active again.
	ErrKeyRevoked = domain.Conflict("API key is revoked; a revoked key cannot be reactivated")
)

// Plaintext API keys are "ldr_" and 43 url-safe base64 characters (32 random
// bytes). The first KeyPrefixLen characters are not secret and are kept for
// display.
const (
	KeyScheme    = "ldr_"
	keyBodyLen   = 43
	KeyPrefixLen = 14
)

// maxYear bounds expiry dates: RFC 3339, and so every client, ends there.
const maxYear = 9999

// GenerateKey returns a fresh plaintext key.
func GenerateKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return KeyScheme + base64.RawURLEncoding.EncodeToString(b)
}

// WellFormedKey reports whether s has the shape of a key. A malformed key is
// rejected without looking anything up.
func WellFormedKey(s string) bool {
	body, ok := strings.CutPrefix(s, KeyScheme)
	if !ok || len(body) != keyBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeyStatus is a closed set: KeyActive or KeyRevoked.
type KeyStatus struct{ name string }

var (
	KeyActive  = KeyStatus{"active"}
	KeyRevoked = KeyStatus{"revoked"}
)

func ParseKeyStatus(s string) (KeyStatus, error) {
	switch s {
	case KeyActive.name:
		return KeyActive, nil
	case KeyRevoked.name:
		return KeyRevoked, nil
	}
	return KeyStatus{}, domain.NotOneOf("status", []string{KeyActive.name, KeyRevoked.name}, s)
}

func (s KeyStatus) String() string { return s.name }

// APIKey is a user's credential. Only a keyed hash of the plaintext is kept.
type APIKey struct {
	id        id.APIKeyID
	accountID id.AccountID
	userID    id.UserID
	name      string
	prefix    string
	hash      []byte
	status    KeyStatus
	expiresAt time.Time // zero: never
	rateLimit RateLimit
	createdAt time.Time
	updatedAt time.Time
}

// NewAPIKey records a key for a user of an account. hash is the keyed hash of
// plaintext, computed by the caller, which alone knows the pepper.
func NewAPIKey(accountID id.AccountID, userID id.UserID, name, plaintext string, hash []byte, expiresAt, now time.Time) (*APIKey, error) {
	if !WellFormedKey(plaintext) || len(hash) == 0 {
		// Keys come from GenerateKey or checked configuration, never a client.
		return nil, errors.New("tenancy: malformed API key or empty hash")
	}
	var problems []error
	if accountID.IsZero() {
		problems = append(problems, domain.Missing("account_id"))
	}
	if userID.IsZero() {
		problems = append(problems, domain.Missing("user_id"))
	}
	name, err := cleanText("name", name, 1, 100)
	problems = append(problems, err)
	now = domain.Timestamp(now)
	if !expiresAt.IsZero() {
		expiresAt = domain.Timestamp(expiresAt)
		switch {
		case !expiresAt.After(now):
			problems = append(problems, domain.Rejected("expires_at", "expires_at must be in the future",
				expiresAt.Format(time.RFC3339Nano)))
		case expiresAt.Year() > maxYear:
			problems = append(problems, domain.Rejected("expires_at", "expires_at must be before the year 10000",
				expiresAt.Format(time.RFC3339Nano)))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return &APIKey{
		id: id.New[id.APIKey](), accountID: accountID, userID: userID, name: name,
		prefix: plaintext[:KeyPrefixLen], hash: hash, status: KeyActive,
		expiresAt: expiresAt, createdAt: now, updatedAt: now,
	}, nil
}

// Authenticates reports whether the key may still be used at now.
func (k *APIKey) Authenticates(now time.Time) bool {
	return k.status == KeyActive && (k.expiresAt.IsZero() || now.Before(k.expiresAt))
}

// SetStatus revokes or (a no-op) keeps a key active. Revocation is final. It
// reports whether anything changed.
func (k *APIKey) SetStatus(s KeyStatus, now time.Time) (bool, error) {
	switch {
	case s == k.status:
		return false, nil
	case s == KeyActive:
		return false, ErrKeyRevoked
	}
	k.status = s
	k.updatedAt = domain.Timestamp(now)
	return true, nil
}

// SetRateLimit gives the key a limit of its own, or the default back (the
// zero RateLimit). It reports whether anything changed.
func (k *APIKey) SetRateLimit(l RateLimit, now time.Time) bool {
	if l == k.rateLimit {
		return false
	}
	k.rateLimit = l
	k.updatedAt = domain.Timestamp(now)
	return true
}

// APIKeySnapshot is a key's state as a store keeps it.
type APIKeySnapshot struct {
	ID        id.APIKeyID
	AccountID id.AccountID
	UserID    id.UserID
	Name      string
	Prefix    string
	Hash      []byte
	Status    KeyStatus
	ExpiresAt time.Time
	RateLimit RateLimit
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RehydrateAPIKey is for store adapters only; it trusts its input.
func RehydrateAPIKey(s APIKeySnapshot) *APIKey {
	k := &APIKey{
		id: s.ID, accountID: s.AccountID, userID: s.UserID, name: s.Name, prefix: s.Prefix,
		hash: s.Hash, status: s.Status, rateLimit: s.RateLimit, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC(),
	}
	if !s.ExpiresAt.IsZero() {
		k.expiresAt = s.ExpiresAt.UTC()
	}
	return k
}

func (k *APIKey) Snapshot() APIKeySnapshot {
	return APIKeySnapshot{
		ID: k.id, AccountID: k.accountID, UserID: k.userID, Name: k.name, Prefix: k.prefix,
		Hash: bytes.Clone(k.hash), Status: k.status, ExpiresAt: k.expiresAt, RateLimit: k.rateLimit, CreatedAt: k.createdAt, UpdatedAt: k.updatedAt,
	}
}

func (k *APIKey) ID() id.APIKeyID         { return k.id }
func (k *APIKey) AccountID() id.AccountID { return k.accountID }
func (k *APIKey) UserID() id.UserID       { return k.userID }
func (k *APIKey) Name() string            { return k.name }
func (k *APIKey) Prefix() string          { return k.prefix }
func (k *APIKey) Hash() []byte            { return bytes.Clone(k.hash) }
func (k *APIKey) Status() KeyStatus       { return k.status }
func (k *APIKey) ExpiresAt() time.Time    { return k.expiresAt }
func (k *APIKey) RateLimit() RateLimit    { return k.rateLimit }
func (k *APIKey) CreatedAt() time.Time    { return k.createdAt }
func (k *APIKey) UpdatedAt() time.Time    { return k.updatedAt }

// Principal is an authenticated caller: the key it used, who it acts as,
// and the key's own rate limit (zero: the default).
type Principal struct {
	KeyID      id.APIKeyID
	UserID     id.UserID
	AccountID  id.AccountID
	SuperAdmin bool
	RateLimit  RateLimit
}
