package tokens_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/tokens"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/session"
	"github.com/leadr-oss/identity/ports"
)

// fixedClaims are the claims of the seed tokens: fixed, so that a token
// issued for them is the same on every run and the committed corpus holds
// real tokens of this issuer.
func fixedClaims(tb testing.TB) ports.AccessClaims {
	tb.Helper()
	parse := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	sid, err := id.Parse[id.Session]("ses_0192f7e4-8a4e-7c3b-9d2a-6f1e0b9c4d21")
	parse(err)
	iid, err := id.Parse[id.Identity]("ide_0192f7e4-8a4f-7c3b-9d2a-6f1e0b9c4d22")
	parse(err)
	aid, err := id.Parse[id.Account]("acc_0192f7e4-8a50-7c3b-9d2a-6f1e0b9c4d23")
	parse(err)
	gid, err := id.Parse[id.Game]("gam_0192f7e4-8a51-7c3b-9d2a-6f1e0b9c4d24")
	parse(err)
	return ports.AccessClaims{SessionID: sid, IdentityID: iid, AccountID: aid, GameID: gid, ExpiresAt: now.Add(15 * time.Minute)}
}

// maxOffset bounds how far from now a fuzzed clock goes: a century.
const maxOffset = 100 * 365 * 24 * 3600

// at is the clock a fuzzed offset (in seconds) gives Verify.
func at(offset int64) time.Time {
	return now.Add(time.Duration(offset%maxOffset) * time.Second)
}

// FuzzVerify presents arbitrary text as an access token, at a clock the
// fuzzer moves around the seeds' issue time. Verify never panics; it fails
// only with session.ErrAccessInvalid itself, and with no claims; and it
// accepts only what our issuer signed: three segments whose third is the
// HMAC-SHA256 of the first two under our secret, an HS256 header, and
// claims that say what Verify returns and have not expired.
//
// The seeds are a real token and what an attacker makes of one: alg none,
// other algorithms, another key, expired, truncated, extra segments, huge.
func FuzzVerify(f *testing.F) {
	tk := newTokens(f, secret)
	c := fixedClaims(f)
	good, err := tk.Issue(c)
	if err != nil {
		f.Fatal(err)
	}
	expiredClaims := c
	expiredClaims.ExpiresAt = now.Add(-time.Second)
	expired, err := tk.Issue(expiredClaims)
	if err != nil {
		f.Fatal(err)
	}
	other, err := newTokens(f, []byte("fedcba9876543210fedcba9876543210")).Issue(c)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 0x01
		return string(b)
	}
	hdr := func(alg string) string { return segment(f, map[string]any{"alg": alg, "typ": "JWT"}) }
	mac := func(signing string, key []byte) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(signing))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	seeds := []string{
		good,
		handMade(f, hs256(), payload(c), sha256.New, secret),
		expired,
		other,
		handMade(f, map[string]any{"alg": "none", "typ": "JWT"}, payload(c), nil, nil),
		hdr("none") + "." + parts[1] + "." + parts[2],
		hdr("none") + "." + parts[1] + ".",
		hdr("None") + "." + parts[1] + ".",
		hdr("NONE") + "." + parts[1] + ".",
		hdr("HS256") + "." + parts[1] + "." + parts[2], // the same header, spelled otherwise: a new signature
		hdr("HS512") + "." + parts[1] + "." + parts[2],
		handMade(f, map[string]any{"alg": "HS512", "typ": "JWT"}, payload(c), sha512.New, secret),
		handMade(f, map[string]any{"alg": "HS384", "typ": "JWT"}, payload(c), sha512.New384, secret),
		handMade(f, map[string]any{"alg": "RS256", "typ": "JWT"}, payload(c), sha256.New, secret),
		handMade(f, map[string]any{"alg": "ES256", "typ": "JWT"}, payload(c), sha256.New, secret),
		handMade(f, map[string]any{"alg": "EdDSA", "typ": "JWT"}, payload(c), sha256.New, secret),
		handMade(f, map[string]any{"typ": "JWT"}, payload(c), sha256.New, secret),
		handMade(f, map[string]any{"alg": "HS256", "kid": "../../etc/passwd", "jku": "https://evil.example/jwks"}, payload(c), sha256.New, []byte("attacker")),
		parts[0] + "." + parts[1] + "." + mac(parts[0]+"."+parts[1], []byte("attacker key of 32 bytes length!")),
		parts[0] + "." + parts[1] + "." + mac(parts[0]+"."+parts[1], nil),
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		parts[0] + ".." + parts[2],
		"." + parts[1] + "." + parts[2],
		good + ".", good + ".x", good + "." + parts[2], parts[0] + "." + good,
		good[:len(good)-1], good[:len(good)-2], good[:len(good)/2], good[:len(parts[0])], good[:1],
		flip(good, 0), flip(good, len(parts[0])+5), flip(good, len(good)-1), flip(good, len(good)-2),
		parts[0] + "=." + parts[1] + "." + parts[2], good + "=", good + "==",
		strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/"),
		"Bearer " + good, "bearer " + good, " " + good, good + "\n", good + "\x00", strings.ToUpper(good),
		parts[0] + "." + parts[1] + "." + strings.Split(other, ".")[2],
		parts[0] + "." + strings.Split(expired, ".")[1] + "." + parts[2],
		strings.Repeat("A", 1<<13) + "." + parts[1] + "." + parts[2],
		good + strings.Repeat(".", 4096-len(good)),
		good + strings.Repeat(".", 4097-len(good)),
		"", ".", "..", "...", "a.b.c", "eyJ.eyJ.eyJ", "é.ü.ß", "\xff.\xfe.\xfd", "null.null.null",
		"e30.e30.", "e30.e30.e30", "W10.W10.", // {} and [] as header and claims
	}
	for _, s := range seeds {
		f.Add(s, int64(0))
	}
	f.Add(good, int64(15*60-1))
	f.Add(good, int64(15*60))
	f.Add(good, int64(-15*60))
	f.Add(expired, int64(-2))
	f.Add(good, int64(math.MaxInt64))
	f.Add(good, int64(math.MinInt64))

	f.Fuzz(func(t *testing.T, token string, offset int64) {
		when := at(offset)
		got, err := tk.Verify(token, when)
		if err != nil {
			if err != session.ErrAccessInvalid {
				t.Fatalf("Verify(%q): %T %v, want session.ErrAccessInvalid itself", token, err, err)
			}
			if got != (ports.AccessClaims{}) {
				t.Fatalf("Verify(%q) refused the token but gave claims %+v", token, got)
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 || len(token) > 4096 {
			t.Fatalf("Verify accepted %q: %d segments, %d bytes", token, len(parts), len(token))
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(parts[0] + "." + parts[1]))
		if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); parts[2] != want {
			t.Fatalf("Verify accepted %q, whose signature is not ours (%q)", token, want)
		}
		header, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
		if err != nil {
			t.Fatalf("Verify accepted %q with a header of bad base64: %v", token, err)
		}
		checkAccepted(t, token, header, parts[1], when, got)
	})
}

// FuzzVerifySigned signs arbitrary header and claims with our secret, as
// only the issuer (or a leaked secret) can, and verifies the token. This
// reaches what a forger never does: the checks after the signature. Verify
// never panics and fails only with ErrAccessInvalid; it accepts only an
// HS256 header and claims from our issuer for our audience, unexpired,
// already valid, naming a session, identity, account and game; and what it
// returns, issued again, verifies to the same claims.
func FuzzVerifySigned(f *testing.F) {
	tk := newTokens(f, secret)
	c := fixedClaims(f)
	good, err := tk.Issue(c)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	f.Add(string(h), string(p), int64(0))
	claims := func(edit func(map[string]any)) string {
		m := payload(c)
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return string(b)
	}
	hs := `{"alg":"HS256","typ":"JWT"}`
	for _, s := range []struct{ header, claims string }{
		{hs, claims(func(map[string]any) {})},
		{`{"alg":"HS256"}`, claims(func(m map[string]any) { m["aud"] = "leadr-client" })},
		{hs, claims(func(m map[string]any) { m["aud"] = []string{"other", "leadr-client"} })},
		{hs, claims(func(m map[string]any) { m["aud"] = []string{"leadr-admin"} })},
		{hs, claims(func(m map[string]any) { m["aud"] = []any{"leadr-client", 1} })},
		{hs, claims(func(m map[string]any) { m["aud"] = nil })},
		{hs, claims(func(m map[string]any) { m["iss"] = "LEADR" })},
		{hs, claims(func(m map[string]any) { delete(m, "iss"); m["ISS"] = "leadr" })},
		{hs, claims(func(m map[string]any) { m["exp"] = float64(now.Unix()) + 0.5 })},
		{hs, claims(func(m map[string]any) { m["exp"] = float64(now.Unix()) + 1.5 })},
		{hs, claims(func(m map[string]any) { m["exp"] = now.Unix() })},
		{hs, claims(func(m map[string]any) { m["exp"] = 1e300 })},
		{hs, claims(func(m map[string]any) { m["exp"] = 1e19 })},
		{hs, claims(func(m map[string]any) { m["exp"] = -1 })},
		{hs, claims(func(m map[string]any) { m["exp"] = "2099-01-01" })},
		{hs, claims(func(m map[string]any) { m["exp"] = nil })},
		{hs, claims(func(m map[string]any) { delete(m, "exp") })},
		{hs, claims(func(m map[string]any) { m["nbf"] = now.Unix() })},
		{hs, claims(func(m map[string]any) { m["nbf"] = now.Unix() + 1 })},
		{hs, claims(func(m map[string]any) { m["iat"] = now.Unix() + 3600 })},
		{hs, claims(func(m map[string]any) { m["iat"] = "yesterday" })},
		{hs, claims(func(m map[string]any) { m["sub"] = strings.ToUpper(c.IdentityID.String()) })},
		{hs, claims(func(m map[string]any) { m["sub"] = "IDE_" + c.IdentityID.UUID().String() })},
		{hs, claims(func(m map[string]any) { m["sub"] = c.AccountID.String() })},
		{hs, claims(func(m map[string]any) { m["gam"] = "gam_00000000-0000-0000-0000-000000000000" })},
		{hs, claims(func(m map[string]any) { m["sid"] = 42 })},
		{hs, claims(func(m map[string]any) { delete(m, "acc") })},
		{hs, `{"iss":"leadr","iss":"other"}`},
		{`{"alg":"HS256","alg":"none"}`, claims(func(map[string]any) {})},
		{`{"alg":"none","alg":"HS256"}`, claims(func(map[string]any) {})},
		{`{"alg":"none"}`, claims(func(map[string]any) {})},
		{`{"alg":"HS512"}`, claims(func(map[string]any) {})},
		{`{"alg":"hs256"}`, claims(func(map[string]any) {})},
		{`{"alg":["HS256"]}`, claims(func(map[string]any) {})},
		{`{"alg":"HS256","crit":["exp"],"b64":false}`, claims(func(map[string]any) {})},
		{`{}`, claims(func(map[string]any) {})},
		{`[]`, `[]`}, {`null`, `null`}, {``, ``}, {hs, `{}`}, {hs, `"leadr"`}, {hs, "\xff"},
		{hs, claims(func(map[string]any) {}) + " "},
		{hs, claims(func(map[string]any) {}) + "{}"},
	} {
		f.Add(s.header, s.claims, int64(0))
	}
	f.Add(string(h), string(p), int64(15*60-1))
	f.Add(string(h), string(p), int64(15*60))

	f.Fuzz(func(t *testing.T, header, claims string, offset int64) {
		when := at(offset)
		signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		token := signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))

		got, err := tk.Verify(token, when)
		if err != nil {
			if err != session.ErrAccessInvalid {
				t.Fatalf("Verify(header %q, claims %q): %T %v, want session.ErrAccessInvalid itself", header, claims, err, err)
			}
			if got != (ports.AccessClaims{}) {
				t.Fatalf("Verify(header %q, claims %q) refused the token but gave claims %+v", header, claims, got)
			}
			return
		}
		checkAccepted(t, token, []byte(header), base64.RawURLEncoding.EncodeToString([]byte(claims)), when, got)

		// Issued again, the claims verify to themselves.
		if y := got.ExpiresAt.Year(); y < 1970 || y > 9999 {
			return // JWT's NumericDate has no such times to give back
		}
		again, err := tk.Issue(got)
		if err != nil {
			t.Fatalf("Issue(%+v), the claims Verify gave: %v", got, err)
		}
		back, err := tk.Verify(again, when)
		if err != nil || back != got {
			t.Fatalf("Verify(Issue(%+v)) = %+v, %v", got, back, err)
		}
	})
}

// checkAccepted checks a token Verify accepted at when with the claims got:
// an HS256 header, and claims that say what got says and hold at when.
func checkAccepted(t *testing.T, token string, header []byte, claimsSegment string, when time.Time, got ports.AccessClaims) {
	t.Helper()
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil || h["alg"] != "HS256" {
		t.Fatalf("Verify accepted %q with header %q (%v): not HS256", token, header, err)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(claimsSegment)
	if err != nil {
		t.Fatalf("Verify accepted %q with claims of bad base64: %v", token, err)
	}
	var cl struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp *float64        `json:"exp"`
		Nbf *float64        `json:"nbf"`
		Sub string          `json:"sub"`
		Sid string          `json:"sid"`
		Acc string          `json:"acc"`
		Gam string          `json:"gam"`
	}
	if err := json.Unmarshal(raw, &cl); err != nil {
		t.Fatalf("Verify accepted %q with claims %q that do not decode: %v", token, raw, err)
	}
	if cl.Iss != tokens.Issuer {
		t.Fatalf("Verify accepted %q of issuer %q", token, cl.Iss)
	}
	var auds []string
	var one string
	if json.Unmarshal(cl.Aud, &one) == nil {
		auds = []string{one}
	} else if err := json.Unmarshal(cl.Aud, &auds); err != nil {
		t.Fatalf("Verify accepted %q with audience %s", token, cl.Aud)
	}
	hasAud := false
	for _, a := range auds {
		hasAud = hasAud || a == tokens.Audience
	}
	if !hasAud {
		t.Fatalf("Verify accepted %q for audience %s", token, cl.Aud)
	}
	if cl.Exp == nil || *cl.Exp <= float64(when.Unix()) || !got.ExpiresAt.After(when) || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("Verify accepted %q at %v: exp %v, ExpiresAt %v", token, when, cl.Exp, got.ExpiresAt)
	}
	if cl.Nbf != nil && math.Abs(*cl.Nbf) < 1e15 && math.Floor(*cl.Nbf) > float64(when.Unix()) {
		t.Fatalf("Verify accepted %q at %v, before its nbf %v", token, when, *cl.Nbf)
	}
	for _, x := range []struct {
		claim string
		want  interface{ String() string }
		parse func(string) (string, error)
	}{
		{cl.Sub, got.IdentityID, func(s string) (string, error) { v, err := id.Parse[id.Identity](s); return v.String(), err }},
		{cl.Sid, got.SessionID, func(s string) (string, error) { v, err := id.Parse[id.Session](s); return v.String(), err }},
		{cl.Acc, got.AccountID, func(s string) (string, error) { v, err := id.Parse[id.Account](s); return v.String(), err }},
		{cl.Gam, got.GameID, func(s string) (string, error) { v, err := id.Parse[id.Game](s); return v.String(), err }},
	} {
		v, err := x.parse(x.claim)
		if err != nil || v != x.want.String() || v == "" {
			t.Fatalf("Verify accepted %q: claim %q gave %v (%v)", token, x.claim, x.want, err)
		}
	}
}

// Strict base64 still skips line breaks: a token with one in its signature
// verified as a second spelling of the same token, though Verify promises
// one spelling per token. Found by FuzzVerify.
func TestVerifyRefusesLineBreaks(t *testing.T) {
	t.Parallel()
	tk := newTokens(t, secret)
	good, err := tk.Issue(fixedClaims(t))
	if err != nil {
		t.Fatal(err)
	}
	sig := strings.LastIndexByte(good, '.') + 1
	for _, token := range []string{
		good + "\n", good + "\r\n", good + "\r",
		good[:sig+5] + "\n" + good[sig+5:], good[:sig+5] + "\r\n" + good[sig+5:],
		good[:sig] + "\n" + good[sig:],
	} {
		if got, err := tk.Verify(token, now); err != session.ErrAccessInvalid {
			t.Errorf("Verify(%q) = %+v, %v; want session.ErrAccessInvalid", token, got, err)
		}
	}
	if _, err := tk.Verify(good, now); err != nil {
		t.Fatalf("the token itself: %v", err)
	}
}
