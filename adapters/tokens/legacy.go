package tokens

import (
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/verifier"
)

// Earlier versions signed HS256 tokens with a secret every replica shared,
// for this issuer and audience. Those tokens are accepted until they expire,
// so that an upgrade signs nobody out; none is issued any more.
const (
	legacyIssuer   = "leadr"
	legacyAudience = "leadr-client"
)

// legacy verifies the HS256 tokens of earlier versions.
type legacy struct {
	secret []byte
	// until is when the last of them expires: the upgrade's instant plus
	// the access token TTL. A token claiming a later expiry was not issued
	// before the upgrade, whoever signed it.
	until time.Time
}

// WithLegacySecret accepts the HS256 tokens earlier versions signed with
// secret, expiring by until, and no other HS256 token.
func WithLegacySecret(secret []byte, until time.Time) Option {
	return func(t *Tokens) {
		t.legacy = &legacy{secret: append([]byte(nil), secret...), until: until}
	}
}

type legacyClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	AccountID string `json:"acc"`
	GameID    string `json:"gam"`
	PlayerID  string `json:"ply,omitempty"`
}

func (l *legacy) verify(token string, now time.Time) (ports.AccessClaims, error) {
	if !now.Before(l.until) || token == "" || len(token) > verifier.MaxTokenLen || !compact(token) {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	var c legacyClaims
	_, err := jwt.ParseWithClaims(token, &c, l.key,
		// HS256 pinned: no token chooses its own algorithm.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(legacyIssuer),
		jwt.WithAudience(legacyAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(0),
		// Canonical base64 only: one token has one spelling.
		jwt.WithStrictDecoding(),
	)
	if err != nil || c.ExpiresAt.After(l.until) {
		return ports.AccessClaims{}, session.ErrAccessInvalid
	}
	return accessClaims(verifierClaims(c))
}

func (l *legacy) key(tok *jwt.Token) (any, error) {
	if tok.Method != jwt.SigningMethodHS256 {
		return nil, session.ErrAccessInvalid
	}
	return l.secret, nil
}

// compact reports whether token holds only what a JWS in compact
// serialisation is made of: url-safe base64 and the dots between. Strict
// base64 still skips line breaks, so without this check a token with a
// "\n" in its signature would verify as a second spelling of the same one.
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

func verifierClaims(c legacyClaims) verifier.Claims {
	return verifier.Claims{Issuer: c.Issuer, Audience: c.Audience, Subject: c.Subject, SessionID: c.SessionID, PlayerID: c.PlayerID,
		AccountID: c.AccountID, GameID: c.GameID, ExpiresAt: c.ExpiresAt.Time}
}
