package tokens_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

var (
	// A fixed clock far from the wall clock: Verify must use the time it is
	// given, never time.Now.
	now = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)
	// key signs every test's tokens: generating one per test costs little,
	// but the fuzz corpus needs one kid across runs (see fixedKey).
	key = fixedKey()
	// legacySecret is what an earlier version signed HS256 tokens with.
	legacySecret = []byte("0123456789abcdef0123456789abcdef")
	// legacyUntil is when its tokens end.
	legacyUntil = now.Add(time.Hour)
)

// fixedKey is a P-256 key and kid that are the same on every run, so that
// the committed fuzz corpus holds tokens this issuer really signed.
func fixedKey() *apptest.SigningKey {
	d := sha256.Sum256([]byte("leadr tokens test key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic(err)
	}
	kid, err := id.Parse[id.SigningKey]("sgk_0192f7e4-8a52-7c3b-9d2a-6f1e0b9c4d25")
	if err != nil {
		panic(err)
	}
	return &apptest.SigningKey{ID: kid, Key: k}
}

func newTokens(opts ...tokens.Option) *tokens.Tokens {
	return tokens.New(key, tokens.DefaultIssuer, append([]tokens.Option{tokens.WithClock(func() time.Time { return now })}, opts...)...)
}

func sampleClaims() ports.AccessClaims {
	return ports.AccessClaims{
		SessionID:  id.New[id.Session](),
		IdentityID: id.New[id.Identity](),
		AccountID:  id.New[id.Account](),
		GameID:     id.New[id.Game](),
		PlayerID:   id.New[id.Player](),
		ExpiresAt:  now.Add(15 * time.Minute),
	}
}

// payload is what Issue puts in a token, for hand-made tokens.
func payload(c ports.AccessClaims) map[string]any {
	p := map[string]any{
		"iss": tokens.DefaultIssuer,
		"aud": tokens.Audience,
		"sub": c.IdentityID.String(),
		"sid": c.SessionID.String(),
		"acc": c.AccountID.String(),
		"gam": c.GameID.String(),
		"exp": c.ExpiresAt.Unix(),
		"iat": now.Unix(),
	}
	if !c.PlayerID.IsZero() {
		p["ply"] = c.PlayerID.String()
	}
	return p
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func es256() map[string]any {
	return map[string]any{"alg": "ES256", "kid": key.ID.String(), "typ": "JWT"}
}

// esSigned signs header and claims with k as ES256 does (R||S), without the
// code under test, so that the tests do not trust what they test.
func esSigned(t testing.TB, header, claims map[string]any, k *ecdsa.PrivateKey) string {
	t.Helper()
	signing := segment(t, header) + "." + segment(t, claims)
	return signing + "." + esSignature(t, signing, k)
}

func esSignature(t testing.TB, signing string, k *ecdsa.PrivateKey) string {
	t.Helper()
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s) // the low-S form the service issues and takes
	}
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.RawURLEncoding.EncodeToString(sig)
}

// macSigned signs header and claims with HMAC over h, or leaves the
// signature empty when h is nil.
func macSigned(t testing.TB, header, claims map[string]any, h func() hash.Hash, secret []byte) string {
	t.Helper()
	signing := segment(t, header) + "." + segment(t, claims)
	if h == nil {
		return signing + "."
	}
	mac := hmac.New(h, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func decodeSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	want := sampleClaims()
	want.ExpiresAt = want.ExpiresAt.Add(123456 * time.Microsecond) // JWT times are whole seconds

	token, err := tk.Issue(want)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	got, err := tk.Verify(token, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.SessionID != want.SessionID || got.IdentityID != want.IdentityID || got.PlayerID != want.PlayerID ||
		got.AccountID != want.AccountID || got.GameID != want.GameID {
		t.Errorf("Verify = %+v, want the IDs of %+v", got, want)
	}
	if wantExp := want.ExpiresAt.Truncate(time.Second); !got.ExpiresAt.Equal(wantExp) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC", got.ExpiresAt, wantExp)
	}
	// Valid until the instant of exp, at any clock the caller gives, and
	// on a replica whose clock is a little behind the issuer's.
	for _, at := range []time.Time{want.ExpiresAt.Truncate(time.Second).Add(-time.Nanosecond), now.Add(-4 * time.Second)} {
		if _, err := tk.Verify(token, at); err != nil {
			t.Errorf("Verify at %v: %v", at, err)
		}
	}
}

func TestIssuedShape(t *testing.T) {
	t.Parallel()
	c := sampleClaims()
	token, err := tokens.New(key, "https://id.example.com", tokens.WithClock(func() time.Time { return now })).Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	h := decodeSegment(t, token, 0)
	if len(h) != 3 || h["alg"] != "ES256" || h["kid"] != key.ID.String() || h["typ"] != "JWT" {
		t.Errorf("header = %v, want alg ES256, our kid, typ JWT", h)
	}
	p := decodeSegment(t, token, 1)
	want := map[string]any{
		"iss": "https://id.example.com", "aud": "leadr", "sub": c.IdentityID.String(), "sid": c.SessionID.String(),
		"ply": c.PlayerID.String(), "acc": c.AccountID.String(), "gam": c.GameID.String(),
		"iat": float64(now.Unix()), "exp": float64(c.ExpiresAt.Unix()),
	}
	if len(p) != len(want) {
		t.Errorf("claims = %v, want exactly %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("claim %s = %v, want %v", k, p[k], v)
		}
	}
	// The signature is R||S under our key, checked with crypto/ecdsa alone.
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %d bytes (%v)", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&key.Key.PublicKey, digest[:], bigInt(sig[:32]), bigInt(sig[32:])) {
		t.Error("the signature does not verify with the public key")
	}
	// Another issuer's tokens are not ours.
	if _, err := newTokens().Verify(token, now); err != session.ErrAccessInvalid {
		t.Errorf("a token of issuer https://id.example.com verified as leadr's: %v", err)
	}
}

func TestIssueRefusesIncompleteClaims(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	for name, clear := range map[string]func(*ports.AccessClaims){
		"session":  func(c *ports.AccessClaims) { c.SessionID = id.SessionID{} },
		"identity": func(c *ports.AccessClaims) { c.IdentityID = id.IdentityID{} },
		"account":  func(c *ports.AccessClaims) { c.AccountID = id.AccountID{} },
		"game":     func(c *ports.AccessClaims) { c.GameID = id.GameID{} },
		"expiry":   func(c *ports.AccessClaims) { c.ExpiresAt = time.Time{} },
	} {
		c := sampleClaims()
		clear(&c)
		if token, err := tk.Issue(c); err == nil {
			t.Errorf("Issue without %s = %q, want an error", name, token)
		}
	}
}

// noSigner is a store of keys where none signs.
type noSigner struct{ *apptest.SigningKey }

func (noSigner) Signer(time.Time) (id.SigningKeyID, *ecdsa.PrivateKey, error) {
	return id.SigningKeyID{}, nil, errNoSigner
}

var errNoSigner = errors.New("no signer")

func TestIssueWithoutASigner(t *testing.T) {
	t.Parallel()
	if token, err := tokens.New(noSigner{key}, tokens.DefaultIssuer).Issue(sampleClaims()); err == nil || token != "" {
		t.Fatalf("Issue with no signing key = %q, %v", token, err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	tk := newTokens(tokens.WithLegacySecret(legacySecret, legacyUntil))
	c := sampleClaims()
	good, err := tk.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	with := func(edit func(map[string]any)) map[string]any {
		p := payload(c)
		edit(p)
		return p
	}
	signed := func(p map[string]any) string { return esSigned(t, es256(), p, key.Key) }
	withHeader := func(edit func(map[string]any)) map[string]any {
		h := es256()
		edit(h)
		return h
	}
	// The hand-made control must pass, or the cases below prove nothing.
	if _, err := tk.Verify(signed(payload(c)), now); err != nil {
		t.Fatalf("hand-made ES256 token refused: %v", err)
	}

	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := func() string {
		signing := segment(t, map[string]any{"alg": "RS256", "kid": key.ID.String(), "typ": "JWT"}) + "." + segment(t, payload(c))
		digest := sha256.Sum256([]byte(signing))
		sig, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	point, err := key.Key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	otherAccount := with(func(p map[string]any) { p["acc"] = id.New[id.Account]().String() })
	flipped := []byte(parts[2])
	flipped[3] ^= 0x01
	legacy := func(p map[string]any) map[string]any {
		p["aud"] = []string{"leadr-client"}
		return p
	}
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}

	tests := []struct {
		name  string
		token string
		at    time.Time
	}{
		{"tampered payload", parts[0] + "." + segment(t, otherAccount) + "." + parts[2], now},
		{"tampered header", segment(t, withHeader(func(h map[string]any) { h["typ"] = "JWS" })) + "." + parts[1] + "." + parts[2], now},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipped), now},
		{"the signature's other spelling (n-s)", parts[0] + "." + parts[1] + "." + highS(t, parts[2]), now},
		{"signature removed", parts[0] + "." + parts[1] + ".", now},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(signed(otherAccount), ".")[2], now},
		{"another P-256 key under our kid", esSigned(t, es256(), payload(c), stranger), now},
		{"unknown kid", esSigned(t, withHeader(func(h map[string]any) { h["kid"] = id.New[id.SigningKey]().String() }), payload(c), key.Key), now},
		{"kid of another kind", esSigned(t, withHeader(func(h map[string]any) { h["kid"] = c.SessionID.String() }), payload(c), key.Key), now},
		{"no kid", esSigned(t, withHeader(func(h map[string]any) { delete(h, "kid") }), payload(c), key.Key), now},
		{"alg none, no signature", macSigned(t, map[string]any{"alg": "none", "kid": key.ID.String()}, payload(c), nil, nil), now},
		{"alg none, our signature kept", segment(t, withHeader(func(h map[string]any) { h["alg"] = "none" })) + "." + parts[1] + "." + parts[2], now},
		{"alg missing", esSigned(t, withHeader(func(h map[string]any) { delete(h, "alg") }), payload(c), key.Key), now},
		{"ES384 header", esSigned(t, withHeader(func(h map[string]any) { h["alg"] = "ES384" }), payload(c), key.Key), now},
		{"RS256", rs256(), now},
		// Key confusion: an HMAC whose key is the public key's bytes.
		{"HS256 under the public key's point", macSigned(t, withHeader(func(h map[string]any) { h["alg"] = "HS256" }), payload(c), sha256.New, point), now},
		{"HS256 under the public x||y", macSigned(t, withHeader(func(h map[string]any) { h["alg"] = "HS256" }), payload(c), sha256.New, point[1:]), now},
		{"HS256 under any secret", macSigned(t, hs, legacy(payload(c)), sha256.New, []byte("fedcba9876543210fedcba9876543210")), now},
		{"HS512 under the old secret", macSigned(t, map[string]any{"alg": "HS512"}, legacy(payload(c)), sha512.New, legacySecret), now},
		{"HS256 under the old secret, for the new audience", macSigned(t, hs, payload(c), sha256.New, legacySecret), now},
		{"HS256 under the old secret, expiring after the cut-off", macSigned(t, hs, legacy(with(func(p map[string]any) { p["exp"] = legacyUntil.Add(time.Second).Unix() })), sha256.New, legacySecret), now},
		{"HS256 under the old secret, after the cut-off", macSigned(t, hs, legacy(payload(c)), sha256.New, legacySecret), legacyUntil},
		{"expired (at exp)", good, c.ExpiresAt},
		{"expired (after exp)", good, c.ExpiresAt.Add(time.Hour)},
		{"issued in the future", signed(with(func(p map[string]any) { p["iat"] = now.Add(time.Minute).Unix() })), now},
		{"wrong issuer", signed(with(func(p map[string]any) { p["iss"] = "someone-else" })), now},
		{"no issuer", signed(with(func(p map[string]any) { delete(p, "iss") })), now},
		{"wrong audience", signed(with(func(p map[string]any) { p["aud"] = "leadr-client" })), now},
		{"no audience", signed(with(func(p map[string]any) { delete(p, "aud") })), now},
		{"no exp", signed(with(func(p map[string]any) { delete(p, "exp") })), now},
		{"exp as a string", signed(with(func(p map[string]any) { p["exp"] = "2099-01-01" })), now},
		{"no sub", signed(with(func(p map[string]any) { delete(p, "sub") })), now},
		{"no sid", signed(with(func(p map[string]any) { delete(p, "sid") })), now},
		{"no acc", signed(with(func(p map[string]any) { delete(p, "acc") })), now},
		{"no gam", signed(with(func(p map[string]any) { delete(p, "gam") })), now},
		{"sub of another kind", signed(with(func(p map[string]any) { p["sub"] = c.AccountID.String() })), now},
		{"ply of another kind", signed(with(func(p map[string]any) { p["ply"] = c.AccountID.String() })), now},
		{"nil uuid", signed(with(func(p map[string]any) { p["gam"] = "gam_00000000-0000-0000-0000-000000000000" })), now},
		{"id as a number", signed(with(func(p map[string]any) { p["sid"] = 42 })), now},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], now},
		{"empty", "", now},
		{"garbage", "not a token", now},
		{"four parts", good + ".x", now},
		{"bearer prefix left on", "Bearer " + good, now},
		{"whitespace around", " " + good + "\n", now},
		{"huge", strings.Repeat("A", 1<<16) + "." + parts[1] + "." + parts[2], now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tk.Verify(tt.token, tt.at)
			// The very sentinel, unwrapped: no reason travels with it.
			if err != session.ErrAccessInvalid {
				t.Fatalf("Verify = %+v, %v; want session.ErrAccessInvalid", got, err)
			}
			if got != (ports.AccessClaims{}) {
				t.Errorf("refused token still gave claims %+v", got)
			}
		})
	}
}

// The HS256 tokens of the earlier version verify until the cut-off, and
// only where the service was given the old secret.
func TestLegacyTokens(t *testing.T) {
	t.Parallel()
	c := sampleClaims()
	c.PlayerID = id.PlayerID{} // earlier tokens had no player
	old := macSigned(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{
		"iss": "leadr", "aud": []string{"leadr-client"}, "sub": c.IdentityID.String(), "sid": c.SessionID.String(),
		"acc": c.AccountID.String(), "gam": c.GameID.String(), "exp": c.ExpiresAt.Unix(), "iat": now.Unix(),
	}, sha256.New, legacySecret)

	got, err := newTokens(tokens.WithLegacySecret(legacySecret, legacyUntil)).Verify(old, now)
	if err != nil || got.SessionID != c.SessionID || got.IdentityID != c.IdentityID || !got.PlayerID.IsZero() {
		t.Fatalf("an earlier version's token = %+v, %v", got, err)
	}
	if _, err := newTokens().Verify(old, now); err != session.ErrAccessInvalid {
		t.Errorf("without the old secret an HS256 token verified: %v", err)
	}
	if _, err := newTokens(tokens.WithLegacySecret(legacySecret, legacyUntil)).Verify(old, c.ExpiresAt); err != session.ErrAccessInvalid {
		t.Errorf("an earlier version's token verified at its exp: %v", err)
	}
}

// The clock is the caller's: a token issued for a time the wall clock has
// long passed is still valid at that time, and one valid by the wall clock
// is refused at a later `now`.
func TestVerifyUsesTheGivenClock(t *testing.T) {
	t.Parallel()
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	tk := tokens.New(key, tokens.DefaultIssuer, tokens.WithClock(func() time.Time { return past.Add(-time.Hour) }))
	c := sampleClaims()
	c.ExpiresAt = past
	old, err := tk.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(old, past.Add(-time.Second)); err != nil {
		t.Errorf("Verify at a past now: %v", err)
	}
	if _, err := tk.Verify(old, time.Now()); err != session.ErrAccessInvalid {
		t.Errorf("Verify of an old token by the wall clock = %v, want ErrAccessInvalid", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	tk := newTokens()
	token, err := tk.Issue(sampleClaims())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Verify(token, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	tk := newTokens()
	c := sampleClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}

func bigInt(b []byte) *big.Int { return new(big.Int).SetBytes(b) }

// highS is signature in the form the service never issues: (r, n-s), which
// crypto/ecdsa verifies as (r, s).
func highS(t *testing.T, signature string) string {
	t.Helper()
	sig, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %d bytes: %v", len(sig), err)
	}
	n := elliptic.P256().Params().N
	s := bigInt(sig[32:])
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		t.Fatal("the service issued a high-S signature")
	}
	s.Sub(n, s).FillBytes(sig[32:])
	return base64.RawURLEncoding.EncodeToString(sig)
}
