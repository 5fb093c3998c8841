package tokens_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	// A fixed clock far from the wall clock: Verify must use the time it is
	// given, never time.Now.
	now = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)
)

func newTokens(t testing.TB, s []byte) *tokens.Tokens {
	t.Helper()
	return tokens.New(s, tokens.WithClock(func() time.Time { return now }))
}

func sampleClaims() ports.AccessClaims {
	return ports.AccessClaims{
		SessionID:  id.New[id.Session](),
		IdentityID: id.New[id.Identity](),
		AccountID:  id.New[id.Account](),
		GameID:     id.New[id.Game](),
		ExpiresAt:  now.Add(15 * time.Minute),
	}
}

// payload is what Issue puts in a token, for hand-made tokens.
func payload(c ports.AccessClaims) map[string]any {
	return map[string]any{
		"iss": tokens.Issuer,
		"aud": []string{tokens.Audience},
		"sub": c.IdentityID.String(),
		"sid": c.SessionID.String(),
		"acc": c.AccountID.String(),
		"gam": c.GameID.String(),
		"exp": c.ExpiresAt.Unix(),
		"iat": now.Unix(),
	}
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// handMade signs header and claims with HMAC over h, or leaves the
// signature empty when h is nil; it does not use the JWT library, so the
// tests do not trust what they test.
func handMade(t testing.TB, header, claims map[string]any, h func() hash.Hash, key []byte) string {
	t.Helper()
	signing := segment(t, header) + "." + segment(t, claims)
	if h == nil {
		return signing + "."
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func hs256() map[string]any { return map[string]any{"alg": "HS256", "typ": "JWT"} }

func decodePayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
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
	tk := newTokens(t, secret)
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
	if got.SessionID != want.SessionID || got.IdentityID != want.IdentityID ||
		got.AccountID != want.AccountID || got.GameID != want.GameID {
		t.Errorf("Verify = %+v, want the IDs of %+v", got, want)
	}
	if wantExp := want.ExpiresAt.Truncate(time.Second); !got.ExpiresAt.Equal(wantExp) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC", got.ExpiresAt, wantExp)
	}

	// Valid until the second before exp, at any clock the caller gives.
	if _, err := tk.Verify(token, want.ExpiresAt.Truncate(time.Second).Add(-time.Nanosecond)); err != nil {
		t.Errorf("Verify just before exp: %v", err)
	}
}

func TestIssuedShape(t *testing.T) {
	t.Parallel()
	c := sampleClaims()
	token, err := newTokens(t, secret).Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(header)
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil || h["alg"] != "HS256" {
		t.Errorf("header = %s, want alg HS256", raw)
	}
	p := decodePayload(t, token)
	wantStr := map[string]string{
		"iss": "leadr", "sub": c.IdentityID.String(), "sid": c.SessionID.String(),
		"acc": c.AccountID.String(), "gam": c.GameID.String(),
	}
	for k, v := range wantStr {
		if p[k] != v {
			t.Errorf("claim %s = %v, want %q", k, p[k], v)
		}
	}
	if aud, ok := p["aud"].([]any); !ok || len(aud) != 1 || aud[0] != "leadr-client" {
		t.Errorf("aud = %v, want [leadr-client]", p["aud"])
	}
	if p["exp"] != float64(c.ExpiresAt.Unix()) {
		t.Errorf("exp = %v, want %d", p["exp"], c.ExpiresAt.Unix())
	}
	if p["iat"] != float64(now.Unix()) {
		t.Errorf("iat = %v, want %d (the clock of WithClock)", p["iat"], now.Unix())
	}
}

func TestReplicasShareTheSecret(t *testing.T) {
	t.Parallel()
	buf := bytes.Clone(secret)
	a := newTokens(t, buf)
	b := newTokens(t, secret)
	token, err := a.Issue(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	clear(buf) // New copied it
	if _, err := b.Verify(token, now); err != nil {
		t.Errorf("another replica refused the token: %v", err)
	}
	if _, err := a.Verify(token, now); err != nil {
		t.Errorf("the issuer refused its token after its caller reused the secret's buffer: %v", err)
	}
}

func TestNewRefusesShortSecret(t *testing.T) {
	t.Parallel()
	for _, s := range [][]byte{nil, {}, []byte("short"), secret[:tokens.MinSecretLen-1]} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "at least 32 bytes") {
					t.Errorf("New(%d bytes) panicked with %q, want a panic about the length", len(s), msg)
				}
				if len(s) > 0 && strings.Contains(msg, string(s)) {
					t.Errorf("the panic repeats the secret: %q", msg)
				}
			}()
			tokens.New(s)
		}()
	}
	// MinSecretLen itself is enough.
	tokens.New(secret[:tokens.MinSecretLen])
}

func TestIssueRefusesIncompleteClaims(t *testing.T) {
	t.Parallel()
	tk := newTokens(t, secret)
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

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	tk := newTokens(t, secret)
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
	signed := func(p map[string]any) string { return handMade(t, hs256(), p, sha256.New, secret) }

	// The hand-made control must pass, or the cases below prove nothing.
	if _, err := tk.Verify(signed(payload(c)), now); err != nil {
		t.Fatalf("hand-made HS256 token refused: %v", err)
	}

	otherAccount := with(func(p map[string]any) { p["acc"] = id.New[id.Account]().String() })
	flipped := []byte(parts[2])
	flipped[3] ^= 0x01

	tests := []struct {
		name  string
		token string
		at    time.Time
	}{
		{"tampered payload", parts[0] + "." + segment(t, otherAccount) + "." + parts[2], now},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flipped), now},
		{"signature removed", parts[0] + "." + parts[1] + ".", now},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(signed(otherAccount), ".")[2], now},
		{"alg none, no signature", handMade(t, map[string]any{"alg": "none", "typ": "JWT"}, payload(c), nil, nil), now},
		{"alg none, our signature kept", segment(t, map[string]any{"alg": "none"}) + "." + parts[1] + "." + parts[2], now},
		{"alg None", handMade(t, map[string]any{"alg": "None"}, payload(c), nil, nil), now},
		{"alg missing", handMade(t, map[string]any{"typ": "JWT"}, payload(c), sha256.New, secret), now},
		{"another secret", handMade(t, hs256(), payload(c), sha256.New, []byte("fedcba9876543210fedcba9876543210")), now},
		{"HS512 with our secret", handMade(t, map[string]any{"alg": "HS512", "typ": "JWT"}, payload(c), sha512.New, secret), now},
		{"HS384 with our secret", handMade(t, map[string]any{"alg": "HS384", "typ": "JWT"}, payload(c), sha512.New384, secret), now},
		// Algorithm confusion: an RS256 header over an HMAC made with what a
		// naive verifier would take as the public key.
		{"RS256 header", handMade(t, map[string]any{"alg": "RS256", "typ": "JWT"}, payload(c), sha256.New, secret), now},
		{"expired (at exp)", good, c.ExpiresAt},
		{"expired (after exp)", good, c.ExpiresAt.Add(time.Hour)},
		{"not yet valid (nbf)", signed(with(func(p map[string]any) { p["nbf"] = now.Add(time.Minute).Unix() })), now},
		{"wrong issuer", signed(with(func(p map[string]any) { p["iss"] = "someone-else" })), now},
		{"no issuer", signed(with(func(p map[string]any) { delete(p, "iss") })), now},
		{"wrong audience", signed(with(func(p map[string]any) { p["aud"] = []string{"leadr-admin"} })), now},
		{"audience as wrong string", signed(with(func(p map[string]any) { p["aud"] = "leadr" })), now},
		{"no audience", signed(with(func(p map[string]any) { delete(p, "aud") })), now},
		{"no exp", signed(with(func(p map[string]any) { delete(p, "exp") })), now},
		{"exp as a string", signed(with(func(p map[string]any) { p["exp"] = "2099-01-01" })), now},
		{"no sub", signed(with(func(p map[string]any) { delete(p, "sub") })), now},
		{"no sid", signed(with(func(p map[string]any) { delete(p, "sid") })), now},
		{"no acc", signed(with(func(p map[string]any) { delete(p, "acc") })), now},
		{"no gam", signed(with(func(p map[string]any) { delete(p, "gam") })), now},
		{"sub of another kind", signed(with(func(p map[string]any) { p["sub"] = c.AccountID.String() })), now},
		{"sid of another kind", signed(with(func(p map[string]any) { p["sid"] = c.IdentityID.String() })), now},
		{"nil uuid", signed(with(func(p map[string]any) { p["gam"] = "gam_00000000-0000-0000-0000-000000000000" })), now},
		{"bare uuid", signed(with(func(p map[string]any) { p["acc"] = strings.TrimPrefix(c.AccountID.String(), "acc_") })), now},
		{"id as a number", signed(with(func(p map[string]any) { p["sid"] = 42 })), now},
		{"payload not an object", handMade(t, hs256(), nil, sha256.New, secret), now},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], now},
		{"empty", "", now},
		{"garbage", "not a token", now},
		{"two dots", "..", now},
		{"three parts of garbage", "a.b.c", now},
		{"four parts", good + ".x", now},
		{"bearer prefix left on", "Bearer " + good, now},
		{"whitespace around", " " + good + "\n", now},
		{"base64 of junk", "eyJ.eyJ.eyJ", now},
		{"non-ASCII", "é.ü.ß", now},
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

// The clock is the caller's: a token issued for a time the wall clock has
// long passed is still valid at that time, and one valid by the wall clock
// is refused at a later `now`.
func TestVerifyUsesTheGivenClock(t *testing.T) {
	t.Parallel()
	tk := newTokens(t, secret)
	c := sampleClaims()
	c.ExpiresAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	old, err := tk.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(old, c.ExpiresAt.Add(-time.Second)); err != nil {
		t.Errorf("Verify at a past now: %v", err)
	}
	c.ExpiresAt = time.Now().Add(time.Hour)
	fresh, err := tk.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(fresh, c.ExpiresAt.Add(time.Second)); err != session.ErrAccessInvalid {
		t.Errorf("Verify after exp by the given clock = %v, want ErrAccessInvalid", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	tk := newTokens(b, secret)
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
	tk := newTokens(b, secret)
	c := sampleClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}
