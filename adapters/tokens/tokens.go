// Package tokens signs and verifies the access tokens of client sessions:
// JWTs (RFC 7519) signed with HS256 under a secret every replica shares, so
// any replica verifies what another issued without asking the database.
package tokens

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

const (
	// Issuer and Audience are set on every token and required on every
	// token verified: a JWT some other service signs for its own clients,
	// under a secret that happens to leak or be reused, is still not ours.
	Issuer   = "leadr"
	Audience = "leadr-client"

	// MinSecretLen is RFC 7518's floor for HS256 (section 3.2: a key at
	// least as long as the hash output). A shorter secret can be recovered
	// offline from any one token by brute force.
	MinSecretLen = 32

	// maxTokenLen bounds what Verify decodes. Our tokens are a few hundred
	// bytes; anything much longer is not one of them, and Verify is on every
	// client request's path before any authentication.
	maxTokenLen = 4096
)

// HS256 is the only algorithm, on both sides. Pinning it on verification is
// what stops a token from choosing its own algorithm ("none", or an
// asymmetric one whose public key would be taken for our secret).
var methods = []string{jwt.SigningMethodHS256.Alg()}

// Tokens implements ports.AccessTokens.
type Tokens struct {
	secret []byte
	now    func() time.Time
}

var _ ports.AccessTokens = (*Tokens)(nil)

// Option configures New.
type Option func(*Tokens)

// WithClock sets the clock that stamps `iat` on issued tokens (time.Now by
// default). Issue takes no time of its own, and a test's clock that is
// behind the wall clock would otherwise issue tokens "from the future".
func WithClock(now func() time.Time) Option {
	return func(t *Tokens) { t.now = now }
}

// New returns tokens signed with secret, which every replica must share. The
// secret is copied: a caller reusing its buffer cannot change it later.
//
// A secret shorter than MinSecretLen panics, as regexp.MustCompile does on a
// bad pattern: configuration is validated before wiring (bootstrap refuses
// such a LEADR_ACCESS_TOKEN_SECRET), so only a programming error gets here,
// and signing with a weak key is not something to carry on with.
func New(secret []byte, opts ...Option) *Tokens {
	if len(secret) < MinSecretLen {
		panic(fmt.Sprintf("tokens: the access token secret must be at least %d bytes, got %d", MinSecretLen, len(secret)))
	}
	t := &Tokens{secret: append([]byte(nil), secret...), now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// claims is the token's payload. The IDs are the prefixed strings of the
// API, so a token read by a person (or jwt.io) says what it is about.
type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	AccountID string `json:"acc"`
	GameID    string `json:"gam"`
	// PlayerID is absent from tokens issued before players existed.
	PlayerID string `json:"ply,omitempty"`
}

// Issue signs a token for c. Its expiry is c.ExpiresAt truncated to the
// second (JWT times are whole seconds), so a token never outlives what its
// session recorded.
func (t *Tokens) Issue(c ports.AccessClaims) (string, error) {
	if c.SessionID.IsZero() || c.IdentityID.IsZero() || c.AccountID.IsZero() || c.GameID.IsZero() || c.ExpiresAt.IsZero() {
		// Verify would refuse such a token: fail here, where the bug is.
		return "", errors.New("tokens: access claims need a session, identity, account, game and expiry")
	}
	payload := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.IdentityID.String(),
			Audience:  jwt.ClaimStrings{Audience},
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			IssuedAt:  jwt.NewNumericDate(t.now()),
		},
		SessionID: c.SessionID.String(),
		AccountID: c.AccountID.String(),
		GameID:    c.GameID.String(),
	}
	if !c.PlayerID.IsZero() {
		payload.PlayerID = c.PlayerID.String()
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, payload)
	s, err := tok.SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("tokens: signing: %w", err)
	}
	return s, nil
}

// Verify checks token at now and returns what it says. Every failure is
// session.ErrAccessInvalid and nothing else: why a token was refused helps
// whoever forges one, and the token itself is a credential that must not
// reach a log through an error.
func (t *Tokens) Verify(token string, now time.Time) (ports.AccessClaims, error) {
	if token == "" || len(token) > maxTokenLen || !compact(token) {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, t.key,
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		// No grace after `exp`: a leeway would only lengthen every token's
		// life beyond the TTL the operator chose.
		jwt.WithLeeway(0),
		// Canonical base64 only: one token has one spelling, so nothing that
		// keys on the token string (a cache, a log filter) can be dodged.
		jwt.WithStrictDecoding(),
		// `iat` is informative only: checking it against another replica's
		// clock would refuse fresh tokens whenever that clock is a little
		// behind the issuer's. `exp` is what bounds a token.
	)
	if err != nil {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
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
		SessionID:  sessionID,
		IdentityID: identityID,
		AccountID:  accountID,
		GameID:     gameID,
		PlayerID:   playerID,
		ExpiresAt:  c.ExpiresAt.UTC(),
	}, nil
}

// compact reports whether token holds only what a JWS in compact
// serialisation is made of: url-safe base64 and the dots between. Strict
// base64 still skips line breaks, so without this check a token with a
// "\n" or "\r\n" in its signature would verify as a second spelling of
// the same token.
func compact(token string) bool {
	for i := 0; i < len(token); i++ {
		switch b := token[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}

// key hands the parser our secret, for HS256 only. WithValidMethods already
// refuses every other algorithm; this check keeps that true even if the
// options above are ever edited.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if tok.Method != jwt.SigningMethodHS256 {
		return nil, session.ErrAccessInvalid
	}
	return t.secret, nil
}
