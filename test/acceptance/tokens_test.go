package acceptance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"hash"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/signingkey"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/verifier"
)

const jwksPath = "/.well-known/jwks.json"

var (
	jwkKeys  = []string{"kty", "crv", "kid", "use", "alg", "x", "y"}
	kidShape = regexp.MustCompile(`^sgk_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// frozenClock is a time that moves only when the test moves it, so that
// what the service stamps (iat, exp) is known to the second.
type frozenClock struct{ at atomic.Int64 }

func newFrozenClock() *frozenClock {
	c := &frozenClock{}
	c.at.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *frozenClock) Now() time.Time { return time.Unix(0, c.at.Load()).UTC() }

// publishedKeys reads the JWKS, fails t unless it is exactly what section 12
// of the contract publishes, and returns its keys by kid, and the kids in
// the order served.
func publishedKeys(t *testing.T, svc *harness.Service) (map[string]*ecdsa.PublicKey, []string) {
	t.Helper()
	a := harness.Over(t, svc.Anonymous()).Do("GET", jwksPath, nil)
	if a.Status != http.StatusOK || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s %s", jwksPath, a.Status, a.Header.Get("Content-Type"), a.Body)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Fatalf("JWKS Cache-Control %q", cc)
	}
	wantKeys(t, a, "keys")
	list, ok := a.JSON["keys"].([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("JWKS %s", a.Body)
	}
	keys := map[string]*ecdsa.PublicKey{}
	var kids []string
	for _, item := range list {
		k, ok := item.(map[string]any)
		if !ok || !slices.Equal(sortedKeys(k), slices.Sorted(slices.Values(jwkKeys))) {
			t.Fatalf("a JWK is not exactly %v: %s", jwkKeys, a.Body)
		}
		kid, _ := k["kid"].(string)
		if k["kty"] != "EC" || k["crv"] != "P-256" || k["use"] != "sig" || k["alg"] != "ES256" || !kidShape.MatchString(kid) || keys[kid] != nil {
			t.Fatalf("JWK %v", k)
		}
		point := []byte{4}
		for _, c := range []string{"x", "y"} {
			s, _ := k[c].(string)
			b, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || len(b) != 32 {
				t.Fatalf("JWK %s: %s is not 32 bytes of base64url (%v)", kid, c, err)
			}
			point = append(point, b...)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			t.Fatalf("JWK %s is no point of P-256: %v", kid, err)
		}
		keys[kid] = pub
		kids = append(kids, kid)
	}
	return keys, kids
}

// kidOf is the kid in token's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	header, _, _ := jwtParts(t, token)
	kid, _ := header["kid"].(string)
	return kid
}

// verifiesUnder reports whether token carries a JWS ES256 signature of its
// first two segments under pub (RFC 7518 3.4: R and S, 32 bytes each),
// checked with crypto/ecdsa alone; false when pub is nil.
func verifiesUnder(token string, pub *ecdsa.PublicKey) bool {
	i := strings.LastIndex(token, ".")
	if pub == nil || i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(token[i+1:])
	if err != nil || len(sig) != 64 {
		return false
	}
	digest := sha256.Sum256([]byte(token[:i]))
	return ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// es256 signs header and payload with key as the service does.
func es256(t *testing.T, key *ecdsa.PrivateKey, header, payload map[string]any) string {
	t.Helper()
	in := segment(t, header) + "." + segment(t, payload)
	digest := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s) // the low-S form the service issues and takes
	}
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signingKey opens svc's private key kid as only whoever holds both its
// database and its root key can: tests sign with it the tokens that the
// service must refuse for what they say rather than for their signature.
func signingKey(t *testing.T, svc *harness.Service, kid string) *ecdsa.PrivateKey {
	t.Helper()
	d := dumpOf(t, svc)
	row, ok := d.signingKeys(t)[kid]
	if !ok || row.Private == nil {
		t.Fatalf("no private key %s stored", kid)
	}
	credentials, err := d.vault(rootKeyOf(t, svc)).Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The context application/signingkey seals a key's private part with.
	scalar, err := credentials.Open(row.Private, []byte("signing key "+kid))
	if err != nil {
		t.Fatalf("open the private key %s: %v", kid, err)
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// me is GET /v1/client/me with token.
func me(t *testing.T, svc *harness.Service, token string) harness.Answer {
	t.Helper()
	return bearer(t, svc, token).Do("GET", "/v1/client/me", nil)
}

// legacyClaims are the claims the earlier version put in its HS256 tokens
// for the session s, expiring at exp.
func legacyClaims(s client.SignInResponse, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": "leadr", "aud": []string{"leadr-client"}, "sub": s.Identity.ID, "sid": s.SessionID,
		"ply": s.Identity.PlayerID, "acc": s.Identity.AccountID, "gam": s.Identity.GameID,
		"iat": exp.Add(-15 * time.Minute).Unix(), "exp": exp.Unix()}
}

// hsToken signs claims with golang-jwt, as the earlier version did.
func hsToken(t *testing.T, method jwt.SigningMethod, secret []byte, claims jwt.MapClaims) string {
	t.Helper()
	signed, err := jwt.NewWithClaims(method, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// TestAccessTokenIsES256: an issued access token is an ES256 JWS naming a
// published key, saying exactly what section 12 lists, and verifiable with
// the JWKS alone, which anyone may read.
func TestAccessTokenIsES256(t *testing.T) {
	t.Parallel()
	clock := newFrozenClock()
	const ttl = 10 * time.Minute
	svc := harness.StartService(t, harness.WithClock(clock.Now), harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", ttl.String()))
	tenant := harness.NewTenant(t, svc)
	a := bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": newDevice()})
	s := checkSignIn(t, a, int(ttl.Seconds()), 2592000)
	if !strings.HasPrefix(s.Identity.PlayerID, "ply_") {
		t.Fatalf("signed in as %s", a.Body)
	}
	keys, _ := publishedKeys(t, svc)
	// No credential is needed, and a wrong one changes nothing. The media
	// type is every answer's (section 1).
	harness.Over(t, svc.Client("ldr_"+strings.Repeat("A", 43))).Do("GET", jwksPath, nil).Want(http.StatusOK)

	header, payload, _ := jwtParts(t, s.AccessToken)
	kid, _ := header["kid"].(string)
	if !slices.Equal(sortedKeys(header), []string{"alg", "kid", "typ"}) || header["alg"] != "ES256" || header["typ"] != "JWT" || keys[kid] == nil {
		t.Fatalf("header %v, published %v", header, keys)
	}
	if !verifiesUnder(s.AccessToken, keys[kid]) {
		t.Fatal("the token does not verify under the published key it names")
	}
	view, _ := sessionOf(t, tenant.Client, s.SessionID)
	iat := clock.Now().Unix()
	want := map[string]any{
		"iss": "leadr", "aud": "leadr", "sub": s.Identity.ID, "sid": s.SessionID, "ply": s.Identity.PlayerID,
		"acc": tenant.Account.ID, "gam": tenant.Game.ID, "iat": float64(iat), "exp": float64(iat + int64(ttl.Seconds())),
	}
	if !slices.Equal(sortedKeys(payload), sortedKeys(want)) {
		t.Fatalf("claims %v, want exactly %v", sortedKeys(payload), sortedKeys(want))
	}
	for k, v := range want {
		if payload[k] != v {
			t.Errorf("claim %s is %#v, want %#v", k, payload[k], v)
		}
	}
	if exp := payload["exp"]; exp != float64(view.ExpiresAt.Unix()) {
		t.Errorf("exp %v, the session says its newest token expires at %v", exp, view.ExpiresAt)
	}
	// The package other services verify with reads it alike.
	parsed, err := verifier.Parse(s.AccessToken)
	if err != nil || parsed.KID != kid || parsed.VerifySignature(keys[kid]) != nil || parsed.Claims.Check(clock.Now(), "leadr", "leadr", 0) != nil {
		t.Fatalf("the verifier package refuses the token: %v", err)
	}
	me(t, svc, s.AccessToken).Want(http.StatusOK)

	t.Run("LEADR_TOKEN_ISSUER", func(t *testing.T) {
		const issuer = "https://id.example.test"
		other := harness.StartService(t, harness.WithEnv("LEADR_TOKEN_ISSUER", issuer))
		s := deviceSignIn(t, other, harness.NewTenant(t, other).Game.ID, newDevice())
		header, payload, _ := jwtParts(t, s.AccessToken)
		if payload["iss"] != issuer || payload["aud"] != "leadr" {
			t.Fatalf("claims %v", payload)
		}
		me(t, other, s.AccessToken).Want(http.StatusOK)
		// The configured issuer is the only one: "leadr" is another's.
		key := signingKey(t, other, kidOf(t, s.AccessToken))
		me(t, other, es256(t, key, header, payload)).Want(http.StatusOK)
		wantBearerRefused(t, me(t, other, es256(t, key, header, with(payload, "iss", "leadr"))), accessRefused)
	})
}

// TestAccessTokenRefusals: the algorithm is pinned to ES256 under a
// published key, and the claims are checked: every other token is the
// bearer refusal, and refusing it changes nothing.
func TestAccessTokenRefusals(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	svc := harness.StartService(t, harness.WithClock(clock.Now))
	tenant := harness.NewTenant(t, svc)
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	other := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	before, _ := sessionOf(t, tenant.Client, s.SessionID)
	header, payload, sig := jwtParts(t, s.AccessToken)
	kid, _ := header["kid"].(string)
	keys, _ := publishedKeys(t, svc)
	pub := keys[kid]
	key := signingKey(t, svc, kid)
	// Our own signing of the token as issued is accepted: the refusals
	// below are for what was changed, not for how the tests sign.
	me(t, svc, es256(t, key, header, payload)).Want(http.StatusOK)

	point, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	hs := func(mac func() hash.Hash, alg string, secret []byte) string {
		return signJWT(t, mac, string(secret), with(header, "alg", alg), payload)
	}
	parts := strings.Split(s.AccessToken, ".")
	cases := map[string]string{
		"alg none":                        segment(t, with(header, "alg", "none")) + "." + parts[1] + ".",
		"alg none, signature kept":        segment(t, with(header, "alg", "none")) + "." + parts[1] + "." + sig,
		"HS256 under a random secret":     hs(sha256.New, "HS256", random),
		"HS256 under the JWK's x||y":      hs(sha256.New, "HS256", point[1:]),
		"HS256 under the public point":    hs(sha256.New, "HS256", point),
		"HS256 under the public key, DER": hs(sha256.New, "HS256", der),
		"HS256 under the public key, PEM": hs(sha256.New, "HS256", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"HS512 under the JWK's x||y":      hs(sha512.New, "HS512", point[1:]),
		"RS256, a real RSA signature":     rs256(t, rsaKey, with(header, "alg", "RS256"), payload),
		"ES256 under an unknown kid":      es256(t, key, with(header, "kid", id.New[id.SigningKey]().String()), payload),
		"ES256 without a kid":             es256(t, key, with(header, "kid", nil), payload),
		"ES256 under another P-256 key":   es256(t, stranger, header, payload),
		"ES256, an ASN.1 signature":       asn1ES256(t, key, parts[0]+"."+parts[1]),
		"another issuer":                  es256(t, key, header, with(payload, "iss", "someone-else")),
		"another audience":                es256(t, key, header, with(payload, "aud", "leadr-admin")),
		"the earlier version's audience":  es256(t, key, header, with(payload, "aud", []string{"leadr-client"})),
		"expired, validly signed":         es256(t, key, header, with(payload, "exp", clock.Now().Add(-time.Second).Unix())),
		// A shorter life is one the session could have given: only the
		// signature refuses it.
		"one claim changed, signature kept":        parts[0] + "." + segment(t, with(payload, "exp", payload["exp"].(float64)-60)) + "." + sig,
		"another session's claims, signature kept": parts[0] + "." + strings.Split(other.AccessToken, ".")[1] + "." + sig,
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			wantBearerRefused(t, me(t, svc, token), accessRefused)
		})
	}

	// Nothing above touched the session or its token.
	me(t, svc, s.AccessToken).Want(http.StatusOK)
	if after, _ := sessionOf(t, tenant.Client, s.SessionID); after != before {
		t.Fatalf("the refusals changed the session: %+v, was %+v", after, before)
	}

	t.Run("expired", func(t *testing.T) {
		clock.Skip(before.ExpiresAt.Sub(clock.Now()))
		wantBearerRefused(t, me(t, svc, s.AccessToken), accessRefused)
		// The refresh token outlives it, and gives a working one.
		r := checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
		me(t, svc, r.AccessToken).Want(http.StatusOK)
	})
}

// rs256 signs header and payload with an RSA key (RFC 7518 3.3).
func rs256(t *testing.T, key *rsa.PrivateKey, header, payload map[string]any) string {
	t.Helper()
	in := segment(t, header) + "." + segment(t, payload)
	digest := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// asn1ES256 signs input with key in ASN.1 DER, the encoding of X.509 and
// not of JWS: a second spelling of a valid token.
func asn1ES256(t *testing.T, key *ecdsa.PrivateKey, input string) string {
	t.Helper()
	digest := sha256.Sum256([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestRevokedSigningKey: `leadr keys revoke` unpublishes a key at once; the
// tokens it signed are refused, even one just used, and the clients get
// working tokens of the key that signs instead by refreshing or signing in.
func TestRevokedSigningKey(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	kid := kidOf(t, s.AccessToken)
	me(t, svc, s.AccessToken).Want(http.StatusOK)

	parsed, err := id.Parse[id.SigningKey](kid)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := svc.SigningKeys.Revoke(t.Context(), parsed)
	if err != nil || revoked.ID != parsed || revoked.State != signingkey.Revoked || revoked.RevokedAt.IsZero() {
		t.Fatalf("revoke %s: %+v (%v)", kid, revoked, err)
	}
	wantBearerRefused(t, me(t, svc, s.AccessToken), accessRefused)
	keys, _ := publishedKeys(t, svc)
	if keys[kid] != nil || len(keys) != 1 {
		t.Fatalf("after revoking %s the JWKS publishes %v", kid, keys)
	}

	// Another key signs at once; the session itself was not touched.
	fresh := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	r := checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
	for _, token := range []string{fresh.AccessToken, r.AccessToken} {
		if next := kidOf(t, token); next == kid || keys[next] == nil || !verifiesUnder(token, keys[next]) {
			t.Fatalf("after the revocation a token of %s, published %v", next, keys)
		}
		me(t, svc, token).Want(http.StatusOK)
	}
	list, err := svc.SigningKeys.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]signingkey.State{}
	for _, k := range list {
		states[k.ID.String()] = k.State
	}
	if len(states) != 2 || states[kid] != signingkey.Revoked || states[kidOf(t, fresh.AccessToken)] != signingkey.Signing {
		t.Fatalf("keys list: %+v", list)
	}
	if _, err := svc.SigningKeys.Revoke(t.Context(), id.New[id.SigningKey]()); !errors.Is(err, signingkey.ErrNotFound) {
		t.Fatalf("revoking an unknown key: %v", err)
	}
}

// TestSigningKeyRotation: `leadr keys rotate` publishes the next key at once
// and lets it sign only signingkey.Lead later, when every verifier's cached
// JWKS has it; the retired key's tokens verify until they expire, and it is
// published until then (plus a minute), no longer.
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	svc := harness.StartService(t, harness.WithClock(clock.Now))
	tenant := harness.NewTenant(t, svc)
	old := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	oldKid := kidOf(t, old.AccessToken)

	rotatedAt := clock.Now()
	next, created, err := svc.SigningKeys.Rotate(t.Context())
	if err != nil || !created || next.State != signingkey.Pending || next.ID.String() == oldKid ||
		next.SignsFrom.Before(rotatedAt.Add(signingkey.Lead)) || next.SignsFrom.After(clock.Now().Add(signingkey.Lead)) {
		t.Fatalf("rotate: %+v created=%v (%v)", next, created, err)
	}
	nextKid := next.ID.String()
	if again, created, err := svc.SigningKeys.Rotate(t.Context()); err != nil || created || again.ID != next.ID {
		t.Fatalf("rotating again while a key is pending: %+v created=%v (%v)", again, created, err)
	}
	keys, kids := publishedKeys(t, svc)
	if !slices.Equal(kids, []string{oldKid, nextKid}) {
		t.Fatalf("published %v right after the rotation, want %s then %s", kids, oldKid, nextKid)
	}
	if s := deviceSignIn(t, svc, tenant.Game.ID, newDevice()); kidOf(t, s.AccessToken) != oldKid {
		t.Fatalf("a pending key signs: %s", kidOf(t, s.AccessToken))
	}

	clock.Skip(next.SignsFrom.Sub(clock.Now()))
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	if kidOf(t, s.AccessToken) != nextKid || !verifiesUnder(s.AccessToken, keys[nextKid]) {
		t.Fatalf("at %v the token is signed by %s, want %s", next.SignsFrom, kidOf(t, s.AccessToken), nextKid)
	}
	me(t, svc, s.AccessToken).Want(http.StatusOK)
	me(t, svc, old.AccessToken).Want(http.StatusOK)
	if _, kids := publishedKeys(t, svc); !slices.Equal(kids, []string{oldKid, nextKid}) {
		t.Fatalf("published %v after the switch", kids)
	}

	// The retired key is published until its last token has expired, and a
	// minute more; then no longer.
	unpublished := next.SignsFrom.Add(15*time.Minute + signingkey.Margin)
	clock.Skip(unpublished.Add(-time.Second).Sub(clock.Now()))
	if _, kids := publishedKeys(t, svc); !slices.Contains(kids, oldKid) {
		t.Fatalf("%s is unpublished before its tokens may have expired: %v", oldKid, kids)
	}
	clock.Skip(2 * time.Second)
	if _, kids := publishedKeys(t, svc); !slices.Equal(kids, []string{nextKid}) {
		t.Fatalf("published %v once the retired key's tokens have expired", kids)
	}
}

// TestLegacyHS256Tokens: the HS256 tokens that the earlier version issued
// under its secret, which an upgraded database holds, are accepted until
// they expire, and never past the cut-off fixed at the first start of this
// version (the access TTL and an hour for the rolling upgrade); no other
// HS256 token is, and on a database without that secret none is.
func TestLegacyHS256Tokens(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	fresh := harness.StartService(t, harness.WithClock(clock.Now))
	tenant := harness.NewTenant(t, fresh)
	s := deviceSignIn(t, fresh, tenant.Game.ID, newDevice())
	view, _ := sessionOf(t, tenant.Client, s.SessionID)
	secret := randomSecret()
	token := hsToken(t, jwt.SigningMethodHS256, secret, legacyClaims(s, view.ExpiresAt))

	// A new database has no secret of an earlier version: nothing HS256 is
	// accepted, and none is made.
	wantBearerRefused(t, me(t, fresh, token), accessRefused)
	for _, name := range []string{"access_token_secret", "access_token_secret_until"} {
		if _, ok := dumpOf(t, fresh).secrets[name]; ok {
			t.Fatalf("a new database holds %s", name)
		}
	}
	fresh.Stop(t)

	// The database as an upgrade finds it: the earlier version's secret
	// stored, sealed.
	d := dumpOf(t, fresh)
	if _, err := d.vault(rootKeyOf(t, fresh)).Secret(t.Context(), "access_token_secret", func() []byte { return secret }); err != nil {
		t.Fatal(err)
	}
	upgradedAt := clock.Now()
	start := func() *harness.Service {
		return harness.StartService(t, harness.WithDatabaseURL(fresh.DatabaseURL), harness.WithClock(clock.Now))
	}
	upgraded := start()
	// The cut-off is stored in whole seconds, at the first start.
	cutOff := upgradedAt.Add(15*time.Minute + time.Hour).Truncate(time.Second)
	me(t, upgraded, token).Want(http.StatusOK)
	refused := map[string]string{
		"another secret":          hsToken(t, jwt.SigningMethodHS256, randomSecret(), legacyClaims(s, view.ExpiresAt)),
		"HS512 under the secret":  hsToken(t, jwt.SigningMethodHS512, secret, legacyClaims(s, view.ExpiresAt)),
		"the audience of ES256":   hsToken(t, jwt.SigningMethodHS256, secret, with(legacyClaims(s, view.ExpiresAt), "aud", "leadr")),
		"another issuer":          hsToken(t, jwt.SigningMethodHS256, secret, with(legacyClaims(s, view.ExpiresAt), "iss", "someone-else")),
		"outliving its session's": hsToken(t, jwt.SigningMethodHS256, secret, legacyClaims(s, view.ExpiresAt.Add(time.Second))),
	}
	for name, token := range refused {
		t.Run(name, func(t *testing.T) { wantBearerRefused(t, me(t, upgraded, token), accessRefused) })
	}
	// A refresh gets an ES256 token, as a sign-in does.
	r := checkRefresh(t, refreshWith(t, upgraded, s.RefreshToken), s.SessionID)
	if keys, _ := publishedKeys(t, upgraded); !verifiesUnder(r.AccessToken, keys[kidOf(t, r.AccessToken)]) {
		t.Fatal("a refresh on an upgraded database issued no ES256 token")
	}
	upgraded.Stop(t)

	// An hour later, on a replica started since (the cut-off is stored, not
	// counted from each start), a session whose token expires after the
	// cut-off: its HS256 token is refused for that alone.
	clock.Skip(time.Hour + time.Minute)
	replica := start()
	late := deviceSignIn(t, replica, tenant.Game.ID, newDevice())
	lateView, _ := sessionOf(t, replica.Client(tenant.Key.Key), late.SessionID)
	if !lateView.ExpiresAt.After(cutOff.Add(30 * time.Second)) {
		t.Fatalf("the session expires at %v, not after the cut-off %v", lateView.ExpiresAt, cutOff)
	}
	me(t, replica, hsToken(t, jwt.SigningMethodHS256, secret, legacyClaims(late, cutOff.Add(-time.Second)))).Want(http.StatusOK)
	wantBearerRefused(t, me(t, replica, hsToken(t, jwt.SigningMethodHS256, secret, legacyClaims(late, lateView.ExpiresAt))), accessRefused)
	replica.Stop(t)

	// Past the cut-off a start does not open the window again, and serves
	// as ever.
	clock.Skip(cutOff.Sub(clock.Now()) + time.Minute)
	after := start()
	last := deviceSignIn(t, after, tenant.Game.ID, newDevice())
	me(t, after, last.AccessToken).Want(http.StatusOK)
	lastView, _ := sessionOf(t, after.Client(tenant.Key.Key), last.SessionID)
	wantBearerRefused(t, me(t, after, hsToken(t, jwt.SigningMethodHS256, secret, legacyClaims(last, lastView.ExpiresAt))), accessRefused)
}

// randomSecret is 32 random bytes: a secret as the service generates them.
func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
