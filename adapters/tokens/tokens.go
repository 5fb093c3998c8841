// Package tokens signs and verifies the access tokens of client sessions:
// JWTs (RFC 7519) signed with ES256 under the one signing key that signs at
// the time (ports.SigningKeys), so that any service verifies them with the
// published public keys and none but this one can mint them. The token
// format is read by the verifier package, the one reading of it that other
// services use too.
package tokens

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/verifier"
)

const (
	// Audience is on every token and required on every token verified.
	Audience = "leadr"
	// DefaultIssuer is `iss` unless LEADR_TOKEN_ISSUER names another.
	DefaultIssuer = "leadr"
	// clockSkew is how far ahead of this replica's clock another replica's
	// `iat` may be: a token is verified by replicas other than its issuer.
	clockSkew = 5 * time.Second
)

// Tokens implements ports.AccessTokens.
type Tokens struct {
	keys   ports.SigningKeys
	issuer string
	legacy *legacy
	now    func() time.Time
}

var _ ports.AccessTokens = (*Tokens)(nil)

// Option configures New.
type Option func(*Tokens)

// WithClock sets the clock that stamps `iat` and picks the signing key
// (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(t *Tokens) { t.now = now }
}

// New returns tokens signed with the key keys says signs at the time, and
// verified with the keys it publishes, issued by issuer.
func New(keys ports.SigningKeys, issuer string, opts ...Option) *Tokens {
	t := &Tokens{keys: keys, issuer: issuer, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// claims is the token's payload, in the contract's order. The IDs are the
// prefixed strings of the API, so a token read by a person says what it is
// about.
type claims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
	PlayerID  string `json:"ply,omitempty"`
	AccountID string `json:"acc"`
	GameID    string `json:"gam"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Issue signs a token for c. Its expiry is c.ExpiresAt truncated to the
// second (JWT times are whole seconds), so a token never outlives what its
// session recorded.
func (t *Tokens) Issue(c ports.AccessClaims) (string, error) {
	if c.SessionID.IsZero() || c.IdentityID.IsZero() || c.AccountID.IsZero() || c.GameID.IsZero() || c.ExpiresAt.IsZero() {
		// Verify would refuse such a token: fail here, where the bug is.
		return "", errors.New("tokens: access claims need a session, identity, account, game and expiry")
	}
	now := t.now()
	kid, key, err := t.keys.Signer(now)
	if err != nil {
		return "", fmt.Errorf("tokens: %w", err)
	}
	h, err := json.Marshal(header{Alg: "ES256", Kid: kid.String(), Typ: "JWT"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims{
		Issuer: t.issuer, Audience: Audience, Subject: c.IdentityID.String(), SessionID: c.SessionID.String(),
		PlayerID: c.PlayerID.String(), AccountID: c.AccountID.String(), GameID: c.GameID.String(),
		IssuedAt: now.Unix(), ExpiresAt: c.ExpiresAt.Unix(),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(h))+enc.EncodedLen(len(p))+1+enc.EncodedLen(64)+1)
	input = enc.AppendEncode(input, h)
	input = append(input, '.')
	input = enc.AppendEncode(input, p)
	sig, err := sign(key, input)
	if err != nil {
		return "", err
	}
	input = append(input, '.')
	return string(enc.AppendEncode(input, sig)), nil
}

// sign is the JWS ES256 signature of input (RFC 7518 section 3.4): R and S,
// 32 big-endian bytes each.
func sign(key *ecdsa.PrivateKey, input []byte) ([]byte, error) {
	digest := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("tokens: signing: %w", err)
	}
	// The low-S form, the one verifier.Token.VerifySignature takes: the
	// other, n-s, would spell the same token another way.
	if n := key.Curve.Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// Verify checks token at now and returns what it says. Every failure is
// session.ErrAccessInvalid and nothing else: why a token was refused helps
// whoever forges one, and the token itself is a credential that must not
// reach a log through an error.
func (t *Tokens) Verify(token string, now time.Time) (ports.AccessClaims, error) {
	parsed, err := verifier.Parse(token)
	if err != nil {
		if t.legacy != nil {
			return t.legacy.verify(token, now)
		}
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	kid, err := id.Parse[id.SigningKey](parsed.KID)
	if err != nil {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	key := t.keys.Verifier(kid, now)
	if key == nil || parsed.VerifySignature(key) != nil || parsed.Claims.Check(now, t.issuer, Audience, clockSkew) != nil ||
		// No leeway after `exp`: it would only lengthen every token's life
		// beyond the TTL the operator chose.
		!now.Before(parsed.Claims.ExpiresAt) {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	claims, err := accessClaims(parsed.Claims)
	if err != nil {
		return ports.AccessClaims{}, err
	}
	claims.KeyID = kid
	return claims, nil
}

// Trusted reports whether tokens signed by key still verify at now: it is
// still published. The zero key stands for the earlier version's HS256
// tokens, trusted until their cut-off.
func (t *Tokens) Trusted(key id.SigningKeyID, now time.Time) bool {
	if key.IsZero() {
		return t.legacy != nil && now.Before(t.legacy.until)
	}
	return t.keys.Verifier(key, now) != nil
}

// accessClaims reads the IDs of verified claims.
func accessClaims(c verifier.Claims) (ports.AccessClaims, error) {
	identityID, err1 := id.Parse[id.Identity](c.Subject)
	sessionID, err2 := id.Parse[id.Session](c.SessionID)
	accountID, err3 := id.Parse[id.Account](c.AccountID)
	gameID, err4 := id.Parse[id.Game](c.GameID)
	var playerID id.PlayerID
	var err5 error
	if c.PlayerID != "" {
		playerID, err5 = id.Parse[id.Player](c.PlayerID)
	}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	return ports.AccessClaims{
		SessionID: sessionID, IdentityID: identityID, AccountID: accountID, GameID: gameID, PlayerID: playerID,
		ExpiresAt: c.ExpiresAt.UTC(),
	}, nil
}
