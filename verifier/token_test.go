package verifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"hash"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hmacToken is a token of claims signed with HMAC under secret: what an
// attacker makes of a verifier that lets the token choose its algorithm.
func hmacToken(alg string, h func() hash.Hash, secret []byte, claims map[string]any) string {
	input := segment(map[string]any{"alg": alg, "kid": "k1", "typ": "JWT"}) + "." + segment(claims)
	m := hmac.New(h, secret)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

// nonCanonical changes the last character of a base64 segment so that
// it decodes to the same bytes under a lenient decoder.
func nonCanonical(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

func TestVerifyRefuses(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	leeway := e.v.leeway
	point, _ := e.key.PublicKey.Bytes()
	jwkJSON, _ := json.Marshal(publicJWK("k1", e.key))
	withHeader := func(h map[string]any) func() string {
		return func() string { return signES256(e.key, h, e.claims()) }
	}
	without := func(claim string) func() string {
		return func() string { return e.token(func(c map[string]any) { delete(c, claim) }) }
	}
	with := func(claim string, v any) func() string {
		return func() string { return e.token(func(c map[string]any) { c[claim] = v }) }
	}
	segments := func(edit func(s []string) []string) func() string {
		return func() string { return strings.Join(edit(strings.Split(e.token(nil), ".")), ".") }
	}
	cases := []struct {
		name   string
		token  func() string
		want   error
		reason string // in the error, so that the case fails for the reason it names
	}{
		{"alg none", func() string {
			return segment(map[string]any{"alg": "none", "kid": "k1", "typ": "JWT"}) + "." + segment(e.claims()) + "."
		}, ErrInvalid, "algorithm"},
		{"HS256 under a secret", func() string { return hmacToken("HS256", sha256.New, []byte("secret"), e.claims()) }, ErrInvalid, "algorithm"},
		{"HS256 under the public key's x||y", func() string { return hmacToken("HS256", sha256.New, point[1:], e.claims()) }, ErrInvalid, "algorithm"},
		{"HS256 under the public key's point", func() string { return hmacToken("HS256", sha256.New, point, e.claims()) }, ErrInvalid, "algorithm"},
		{"HS256 under the public JWK", func() string { return hmacToken("HS256", sha256.New, jwkJSON, e.claims()) }, ErrInvalid, "algorithm"},
		{"HS512 under x||y (a signature of the right length)", func() string { return hmacToken("HS512", sha512.New, point[1:], e.claims()) }, ErrInvalid, "algorithm"},
		{"RS256", withHeader(map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"PS256", withHeader(map[string]any{"alg": "PS256", "kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"ES384", withHeader(map[string]any{"alg": "ES384", "kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"es256 in lower case", withHeader(map[string]any{"alg": "es256", "kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"ALG in upper case", withHeader(map[string]any{"ALG": "ES256", "kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"no alg", withHeader(map[string]any{"kid": "k1", "typ": "JWT"}), ErrInvalid, "algorithm"},
		{"crit", withHeader(map[string]any{"alg": "ES256", "kid": "k1", "typ": "JWT", "crit": []string{"exp"}}), ErrInvalid, "critical"},
		{"typ not JWT", withHeader(map[string]any{"alg": "ES256", "kid": "k1", "typ": "at+jwt"}), ErrInvalid, "typ"},
		{"no kid", withHeader(map[string]any{"alg": "ES256", "typ": "JWT"}), ErrInvalid, "kid"},
		{"kid too long", withHeader(header(strings.Repeat("k", maxKIDLen+1))), ErrInvalid, "kid"},
		{"kid not a string", withHeader(map[string]any{"alg": "ES256", "kid": 1, "typ": "JWT"}), ErrInvalid, "kid"},
		{"unknown kid", withHeader(header("k2")), ErrUnknownKey, "unknown signing key"},
		{"another key under a published kid", func() string { return signES256(newKey(t), header("k1"), e.claims()) }, ErrInvalid, "signature"},
		{"payload tampered with", segments(func(s []string) []string {
			var c map[string]any
			raw, _ := b64.DecodeString(s[1])
			_ = json.Unmarshal(raw, &c)
			c["ply"] = newID("ply_")
			s[1] = segment(c)
			return s
		}), ErrInvalid, "signature"},
		{"header tampered with", segments(func(s []string) []string {
			s[0] = segment(map[string]any{"alg": "ES256", "kid": "k1"})
			return s
		}), ErrInvalid, "signature"},
		{"signature not canonical base64", segments(func(s []string) []string {
			s[2] = nonCanonical(s[2])
			return s
		}), ErrInvalid, "base64"},
		{"padding", func() string { return e.token(nil) + "==" }, ErrInvalid, "character"},
		{"white space", func() string { return " " + e.token(nil) }, ErrInvalid, "character"},
		{"a line break", segments(func(s []string) []string {
			s[1] = s[1][:4] + "\n" + s[1][4:]
			return s
		}), ErrInvalid, "character"},
		{"four segments", func() string { return e.token(nil) + ".e30" }, ErrInvalid, "segments"},
		{"two segments", segments(func(s []string) []string { return s[:2] }), ErrInvalid, "segments"},
		{"empty", func() string { return "" }, ErrInvalid, "length"},
		{"over 4096 bytes", with("pad", strings.Repeat("p", MaxTokenLen)), ErrInvalid, "length"},
		{"claims not an object", segments(func(s []string) []string {
			s[1] = segment([]string{"leadr"})
			return s
		}), ErrInvalid, "object"},
		{"expired", with("exp", now.Add(-leeway).Unix()), ErrExpired, "expired"},
		{"no exp", without("exp"), ErrInvalid, "exp"},
		{"exp not whole seconds", with("exp", 1.5), ErrInvalid, "whole seconds"},
		{"exp a string", with("exp", "2100000000"), ErrInvalid, "whole seconds"},
		{"no iat", without("iat"), ErrInvalid, "iat"},
		{"issued in the future", with("iat", now.Add(leeway+time.Second).Unix()), ErrInvalid, "future"},
		{"another issuer", with("iss", "leadr-staging"), ErrInvalid, "issuer"},
		{"no issuer", without("iss"), ErrInvalid, "issuer"},
		{"another audience", with("aud", "leadr-client"), ErrInvalid, "audience"},
		{"audiences without ours", with("aud", []string{"a", "b"}), ErrInvalid, "audience"},
		{"no audience", without("aud"), ErrInvalid, "audience"},
		{"audience a number", with("aud", 1), ErrInvalid, "aud"},
		{"no sub", without("sub"), ErrInvalid, "ID claim"},
		{"no sid", without("sid"), ErrInvalid, "ID claim"},
		{"no acc", without("acc"), ErrInvalid, "ID claim"},
		{"no gam", without("gam"), ErrInvalid, "ID claim"},
		{"sub not an identity", with("sub", newID("usr_")), ErrInvalid, "ID claim"},
		{"sid not a session", with("sid", newID("ide_")), ErrInvalid, "ID claim"},
		{"acc not an account", with("acc", newID("gam_")), ErrInvalid, "ID claim"},
		{"gam not a game", with("gam", newID("acc_")), ErrInvalid, "ID claim"},
		{"ply not a player", with("ply", newID("ide_")), ErrInvalid, "ID claim"},
		{"sid not a uuid", with("sid", "ses_123"), ErrInvalid, "ID claim"},
		{"sid in upper case", with("sid", strings.ToUpper(newID("SES_"))), ErrInvalid, "ID claim"},
		{"sid a number", with("sid", 7), ErrInvalid, "sid"},
		{"ply null", with("ply", nil), ErrInvalid, "ply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := c.token()
			_, err := e.v.Verify(t.Context(), token)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("got %v, want %v (%s)", err, c.want, c.reason)
			}
			for _, s := range strings.Split(token, ".") {
				if len(s) >= 16 && strings.Contains(err.Error(), s) {
					t.Fatalf("the error %q holds part of the token", err)
				}
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	cases := []struct {
		name   string
		header map[string]any
		edit   func(c map[string]any)
	}{
		{"as the service issues it", header("k1"), nil},
		{"without a player (issued before players)", header("k1"), func(c map[string]any) { delete(c, "ply") }},
		{"without typ", map[string]any{"alg": "ES256", "kid": "k1"}, nil},
		{"an audience among others", header("k1"), func(c map[string]any) { c["aud"] = []string{"other", "leadr"} }},
		{"expiring within the leeway", header("k1"), func(c map[string]any) { c["exp"] = now.Add(-e.v.leeway + time.Second).Unix() }},
		{"issued ahead by the leeway", header("k1"), func(c map[string]any) { c["iat"] = now.Add(e.v.leeway).Unix() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims := e.claims()
			if c.edit != nil {
				c.edit(claims)
			}
			got, err := e.v.Verify(t.Context(), signES256(e.key, c.header, claims))
			if err != nil {
				t.Fatal(err)
			}
			want := Claims{Issuer: "leadr", Audience: []string{"leadr"}, Subject: claims["sub"].(string),
				SessionID: claims["sid"].(string), AccountID: accountID, GameID: claims["gam"].(string),
				IssuedAt: time.Unix(claims["iat"].(int64), 0).UTC(), ExpiresAt: time.Unix(claims["exp"].(int64), 0).UTC()}
			if ply, ok := claims["ply"].(string); ok {
				want.PlayerID = ply
			}
			if aud, ok := claims["aud"].([]string); ok {
				want.Audience = aud
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			if got.IdentityID() != want.Subject {
				t.Fatalf("IdentityID %q, want %q", got.IdentityID(), want.Subject)
			}
		})
	}
}

// The low level, as the identity service uses it: no network.
func TestParseVerifySignatureCheck(t *testing.T) {
	e := newEnv(t)
	token := e.token(nil)
	tok, err := Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.KID != "k1" {
		t.Fatalf("kid %q", tok.KID)
	}
	if err := tok.VerifySignature(&e.key.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifySignature(&newKey(t).PublicKey); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another key: %v", err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifySignature(&p384.PublicKey); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a P-384 key: %v", err)
	}
	if err := tok.VerifySignature(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no key: %v", err)
	}
	now := e.clock.Now()
	if err := tok.Claims.Check(now, "leadr", "leadr", 0); err != nil {
		t.Fatal(err)
	}
	if err := tok.Claims.Check(now.Add(15*time.Minute), "leadr", "leadr", 0); !errors.Is(err, ErrExpired) {
		t.Fatalf("at exp without leeway: %v", err)
	}
	if err := tok.Claims.Check(now, "leadr-eu", "leadr", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another installation's issuer: %v", err)
	}
	if err := tok.Claims.Check(now, "leadr", "", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no audience asked for: %v", err)
	}
}
