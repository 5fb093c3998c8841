package verifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Why a token is refused. Every refusal wraps exactly one of ErrInvalid,
// ErrExpired or ErrRevoked (ErrUnknownKey wraps ErrInvalid); ErrUnavailable
// means the verifier could not decide. No error ever holds the token or any
// part of it: a token is a credential, and errors end up in logs.
var (
	// ErrInvalid: malformed, unsigned, wrongly signed, of another algorithm,
	// issuer or audience, or with claims missing.
	ErrInvalid = errors.New("verifier: invalid access token")
	// ErrUnknownKey: signed under a key the service does not publish (any
	// more).
	ErrUnknownKey = fmt.Errorf("%w: unknown signing key", ErrInvalid)
	// ErrExpired: past its exp (plus the leeway).
	ErrExpired = errors.New("verifier: access token expired")
	// ErrRevoked: its session was revoked, or its player banned, deleted or
	// merged into another, after it was issued.
	ErrRevoked = errors.New("verifier: access token revoked")
	// ErrUnavailable: the token names a key the verifier does not hold and
	// the key set could not be fetched.
	ErrUnavailable = errors.New("verifier: signing keys unavailable")
)

func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalid, reason) }

const (
	// MaxTokenLen bounds what Parse reads: the service's tokens are a few
	// hundred bytes, and Parse runs before anything is authenticated.
	MaxTokenLen = 4096
	maxKIDLen   = 128
	// maxUnix is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
	maxUnix = 253402300799
)

// One token has one spelling: no padding, no stray bits, so nothing keyed
// on the token string (a cache, a log filter) can be dodged.
var b64 = base64.RawURLEncoding.Strict()

// Token is a parsed access token whose signature is not checked yet.
type Token struct {
	// KID names the key that signed it, in the service's key set.
	KID    string
	Claims Claims

	signingInput string // header.payload, as received
	signature    []byte // r || s
}

// Claims are what an access token says. Times are whole seconds.
type Claims struct {
	Issuer string
	// Audience is the aud claim: one string, or several.
	Audience []string
	// Subject is the identity ID (ide_…).
	Subject   string
	SessionID string
	// PlayerID is empty in tokens issued before players existed.
	PlayerID  string
	AccountID string
	GameID    string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// IdentityID is the identity the token was issued to (its sub).
func (c Claims) IdentityID() string { return c.Subject }

// Parse reads token: its form, its header (ES256 and a kid, nothing else)
// and its claims. It checks neither the signature nor any time: see
// Token.VerifySignature and Claims.Check.
func Parse(token string) (*Token, error) {
	if token == "" || len(token) > MaxTokenLen {
		return nil, invalid("bad length")
	}
	for i := range len(token) {
		if c := token[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return nil, invalid("bad character")
		}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("not three segments")
	}
	header, err1 := b64.DecodeString(parts[0])
	payload, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, invalid("bad base64")
	}
	kid, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if len(sig) != 64 {
		return nil, invalid("bad signature length")
	}
	claims, err := parseClaims(payload)
	if err != nil {
		return nil, err
	}
	return &Token{KID: kid, Claims: claims, signingInput: token[:len(parts[0])+1+len(parts[1])], signature: sig}, nil
}

// Members are looked up by their exact names: encoding/json would match
// "ALG" to an alg field, a token that other libraries read differently.
type object map[string]json.RawMessage

func parseObject(b []byte) (object, error) {
	var o object
	if err := json.Unmarshal(b, &o); err != nil || o == nil {
		return nil, invalid("not a JSON object")
	}
	return o, nil
}

// str reads the string member name into to; absent is fine, another type
// is not.
func (o object) str(name string, to *string) bool {
	raw, ok := o[name]
	return !ok || raw[0] == '"' && json.Unmarshal(raw, to) == nil
}

func parseHeader(b []byte) (kid string, err error) {
	h, err := parseObject(b)
	if err != nil {
		return "", err
	}
	var alg, typ string
	switch {
	// The algorithm is pinned, never taken from the token: "none", HMAC
	// under the public key and the like are refused here.
	case !h.str("alg", &alg) || alg != "ES256":
		return "", invalid("algorithm not ES256")
	case !h.str("typ", &typ) || typ != "" && typ != "JWT":
		return "", invalid("bad typ")
	case h["crit"] != nil:
		return "", invalid("critical header")
	case !h.str("kid", &kid) || kid == "" || len(kid) > maxKIDLen:
		return "", invalid("bad kid")
	}
	return kid, nil
}

func parseClaims(b []byte) (Claims, error) {
	o, err := parseObject(b)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	for name, to := range map[string]*string{"iss": &c.Issuer, "sub": &c.Subject, "sid": &c.SessionID,
		"ply": &c.PlayerID, "acc": &c.AccountID, "gam": &c.GameID} {
		if !o.str(name, to) {
			return Claims{}, invalid("claim " + name + " not a string")
		}
	}
	if raw, ok := o["aud"]; ok {
		var one string
		if raw[0] == '"' && json.Unmarshal(raw, &one) == nil {
			c.Audience = []string{one}
		} else if raw[0] != '[' || json.Unmarshal(raw, &c.Audience) != nil {
			return Claims{}, invalid("claim aud not a string or strings")
		}
	}
	for name, to := range map[string]*time.Time{"iat": &c.IssuedAt, "exp": &c.ExpiresAt} {
		raw, ok := o[name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < 0 || n > maxUnix {
			return Claims{}, invalid("claim " + name + " not whole seconds")
		}
		*to = time.Unix(n, 0).UTC()
	}
	return c, nil
}

// halfOrder is half the order of P-256's group.
var halfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// VerifySignature checks the token's ES256 signature under pub, which must
// be a valid P-256 key.
func (t *Token) VerifySignature(pub *ecdsa.PublicKey) error {
	if pub == nil || pub.Curve != elliptic.P256() {
		return invalid("key not P-256")
	}
	if _, err := pub.Bytes(); err != nil { // not on the curve
		return invalid("bad key")
	}
	digest := sha256.Sum256([]byte(t.signingInput))
	r := new(big.Int).SetBytes(t.signature[:32])
	s := new(big.Int).SetBytes(t.signature[32:])
	// (r, n-s) verifies as (r, s) does: the service signs with the lower
	// of the two, so that a token has one spelling and no other is taken.
	if s.Cmp(halfOrder) > 0 {
		return invalid("signature not in its low-S form")
	}
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return invalid("bad signature")
	}
	return nil
}

// Check checks the claims at now: issuer and audience, every ID claim of
// its kind, iat not ahead of now and exp not behind it, each by at most
// leeway (tolerated clock skew). An expired token is ErrExpired; anything
// else wrong is ErrInvalid.
func (c Claims) Check(now time.Time, issuer, audience string, leeway time.Duration) error {
	switch {
	case c.Issuer == "" || c.Issuer != issuer:
		return invalid("wrong issuer")
	case audience == "" || !slices.Contains(c.Audience, audience):
		return invalid("wrong audience")
	case !isID(c.Subject, "ide_") || !isID(c.SessionID, "ses_") || !isID(c.AccountID, "acc_") ||
		!isID(c.GameID, "gam_") || c.PlayerID != "" && !isID(c.PlayerID, "ply_"):
		return invalid("missing or malformed ID claim")
	case c.IssuedAt.IsZero() || c.ExpiresAt.IsZero():
		return invalid("missing iat or exp")
	case c.IssuedAt.After(now.Add(leeway)):
		return invalid("issued in the future")
	case !now.Before(c.ExpiresAt.Add(leeway)):
		return ErrExpired
	}
	return nil
}

// isID says whether s is prefix followed by a lower-case canonical UUID,
// the form the service writes.
func isID(s, prefix string) bool {
	u, ok := strings.CutPrefix(s, prefix)
	return ok && len(u) == 36 && u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-' &&
		strings.Count(u, "-") == 4 && strings.Trim(u, "0123456789abcdef-") == ""
}
