package tokens_test

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
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
// issued for them is the same on every run but for its signature.
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
	pid, err := id.Parse[id.Player]("ply_0192f7e4-8a4f-7c3b-9d2a-6f1e0b9c4d22")
	parse(err)
	return ports.AccessClaims{SessionID: sid, IdentityID: iid, AccountID: aid, GameID: gid, PlayerID: pid, ExpiresAt: now.Add(15 * time.Minute)}
}

// maxOffset bounds how far from now a fuzzed clock goes: a century.
const maxOffset = 100 * 365 * 24 * 3600

// at is the clock a fuzzed offset (in seconds) gives Verify.
func at(offset int64) time.Time {
	return now.Add(time.Duration(offset%maxOffset) * time.Second)
}

// FuzzVerify presents arbitrary text as an access token, at a clock the
// fuzzer moves around the seeds' issue time, to a verifier that also
// accepts an earlier version's HS256 tokens. Verify never panics; it fails
// only with session.ErrAccessInvalid itself, and with no claims; and it
// accepts only what was signed with our key (an ES256 signature that
// crypto/ecdsa verifies under our kid) or with the old secret (HS256), and
// claims that say what Verify returns and have not expired.
//
// The seeds are a real token and what an attacker makes of one: alg none,
// other algorithms, another key, expired, truncated, extra segments, huge.
func FuzzVerify(f *testing.F) {
	tk := newTokens(tokens.WithLegacySecret(legacySecret, legacyUntil))
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
	parts := strings.Split(good, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 0x01
		return string(b)
	}
	hdr := func(alg string) string { return segment(f, map[string]any{"alg": alg, "kid": key.ID.String()}) }
	mac := func(signing string, secret []byte) string {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	old := payload(c)
	old["aud"] = []string{"leadr-client"}
	seeds := []string{
		good,
		expired,
		macSigned(f, map[string]any{"alg": "HS256", "typ": "JWT"}, old, sha256.New, legacySecret),
		hdr("none") + "." + parts[1] + "." + parts[2],
		hdr("none") + "." + parts[1] + ".",
		hdr("HS256") + "." + parts[1] + "." + mac(hdr("HS256")+"."+parts[1], legacySecret),
		hdr("ES384") + "." + parts[1] + "." + parts[2],
		hdr("ES256") + "." + parts[1] + "." + parts[2], // the same header, spelled otherwise: a new signature
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		parts[0] + ".." + parts[2],
		good + ".", good + ".x", parts[0] + "." + good,
		good[:len(good)-1], good[:len(good)/2],
		flip(good, 0), flip(good, len(parts[0])+5), flip(good, len(good)-1),
		parts[0] + "=." + parts[1] + "." + parts[2], good + "=",
		strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/"),
		"Bearer " + good, " " + good, good + "\n", good + "\x00",
		parts[0] + "." + strings.Split(expired, ".")[1] + "." + parts[2],
		strings.Repeat("A", 1<<13) + "." + parts[1] + "." + parts[2],
		"", ".", "..", "a.b.c", "eyJ.eyJ.eyJ", "\xff.\xfe.\xfd", "e30.e30.e30",
	}
	for _, s := range seeds {
		f.Add(s, int64(0))
	}
	f.Add(good, int64(15*60-1))
	f.Add(good, int64(15*60))
	f.Add(good, int64(math.MaxInt64))

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
		header, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
		if err != nil {
			t.Fatalf("Verify accepted %q with a header of bad base64: %v", token, err)
		}
		if !signedByUs(parts) && parts[2] != mac(parts[0]+"."+parts[1], legacySecret) {
			t.Fatalf("Verify accepted %q, signed by neither our key nor the old secret", token)
		}
		checkAccepted(t, token, header, parts[1], when, got)
	})
}

// signedByUs reports whether crypto/ecdsa verifies the token's signature
// under our public key.
func signedByUs(parts []string) bool {
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return false
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return ecdsa.Verify(&key.Key.PublicKey, digest[:], bigInt(sig[:32]), bigInt(sig[32:]))
}

// FuzzVerifySigned signs arbitrary header and claims with our key, as only
// the issuer can, and verifies the token. This reaches what a forger never
// does: the checks after the signature. Verify never panics and fails only
// with ErrAccessInvalid; it accepts only an ES256 header naming our key and
// claims from our issuer for our audience, unexpired, naming a session,
// identity, account and game; and what it returns, issued again, verifies
// to the same claims.
func FuzzVerifySigned(f *testing.F) {
	tk := newTokens()
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
	es := string(mustJSON(f, es256()))
	for _, s := range []struct{ header, claims string }{
		{es, claims(func(map[string]any) {})},
		{es, claims(func(m map[string]any) { m["aud"] = []string{"other", "leadr"} })},
		{es, claims(func(m map[string]any) { m["aud"] = []string{"leadr-client"} })},
		{es, claims(func(m map[string]any) { m["aud"] = []any{"leadr", 1} })},
		{es, claims(func(m map[string]any) { m["aud"] = nil })},
		{es, claims(func(m map[string]any) { m["iss"] = "LEADR" })},
		{es, claims(func(m map[string]any) { delete(m, "iss"); m["ISS"] = "leadr" })},
		{es, claims(func(m map[string]any) { m["exp"] = float64(now.Unix()) + 0.5 })},
		{es, claims(func(m map[string]any) { m["exp"] = now.Unix() })},
		{es, claims(func(m map[string]any) { m["exp"] = 1e300 })},
		{es, claims(func(m map[string]any) { m["exp"] = -1 })},
		{es, claims(func(m map[string]any) { m["exp"] = nil })},
		{es, claims(func(m map[string]any) { m["iat"] = now.Unix() + 3600 })},
		{es, claims(func(m map[string]any) { m["iat"] = "yesterday" })},
		{es, claims(func(m map[string]any) { delete(m, "iat") })},
		{es, claims(func(m map[string]any) { m["sub"] = strings.ToUpper(c.IdentityID.String()) })},
		{es, claims(func(m map[string]any) { m["sub"] = c.AccountID.String() })},
		{es, claims(func(m map[string]any) { m["ply"] = "" })},
		{es, claims(func(m map[string]any) { m["sid"] = 42 })},
		{es, claims(func(m map[string]any) { delete(m, "acc") })},
		{es, `{"iss":"leadr","iss":"other"}`},
		{`{"alg":"ES256","alg":"none","kid":"` + key.ID.String() + `"}`, claims(func(map[string]any) {})},
		{`{"alg":"ES256","kid":"` + key.ID.String() + `","crit":["exp"]}`, claims(func(map[string]any) {})},
		{`{"alg":"ES256","kid":"` + strings.ToUpper(key.ID.String()) + `"}`, claims(func(map[string]any) {})},
		{`{"alg":"es256","kid":"` + key.ID.String() + `"}`, claims(func(map[string]any) {})},
		{`{"alg":"ES256"}`, claims(func(map[string]any) {})},
		{`{}`, claims(func(map[string]any) {})},
		{`[]`, `[]`}, {`null`, `null`}, {``, ``}, {es, `{}`}, {es, "\xff"},
		{es, claims(func(map[string]any) {}) + " "},
	} {
		f.Add(s.header, s.claims, int64(0))
	}
	f.Add(string(h), string(p), int64(15*60-1))
	f.Add(string(h), string(p), int64(15*60))

	f.Fuzz(func(t *testing.T, header, claims string, offset int64) {
		when := at(offset)
		signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		token := signing + "." + esSignature(t, signing, key.Key)

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
		if back, err := tk.Verify(again, when); err != nil || back != got {
			t.Fatalf("Verify(Issue(%+v)) = %+v, %v", got, back, err)
		}
	})
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// checkAccepted checks a token Verify accepted at when with the claims got:
// an ES256 header naming our key (or an earlier version's HS256), and
// claims that say what got says and hold at when.
func checkAccepted(t *testing.T, token string, header []byte, claimsSegment string, when time.Time, got ports.AccessClaims) {
	t.Helper()
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatalf("Verify accepted %q with header %q: %v", token, header, err)
	}
	legacy := h["alg"] == "HS256"
	if !legacy && (h["alg"] != "ES256" || h["kid"] != key.ID.String()) {
		t.Fatalf("Verify accepted %q with header %q: not ES256 under our kid", token, header)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(claimsSegment)
	if err != nil {
		t.Fatalf("Verify accepted %q with claims of bad base64: %v", token, err)
	}
	var cl struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp *float64        `json:"exp"`
		Sub string          `json:"sub"`
		Sid string          `json:"sid"`
		Acc string          `json:"acc"`
		Gam string          `json:"gam"`
	}
	if err := json.Unmarshal(raw, &cl); err != nil {
		t.Fatalf("Verify accepted %q with claims %q that do not decode: %v", token, raw, err)
	}
	if cl.Iss != tokens.DefaultIssuer {
		t.Fatalf("Verify accepted %q of issuer %q", token, cl.Iss)
	}
	var auds []string
	var one string
	if json.Unmarshal(cl.Aud, &one) == nil {
		auds = []string{one}
	} else if err := json.Unmarshal(cl.Aud, &auds); err != nil {
		t.Fatalf("Verify accepted %q with audience %s", token, cl.Aud)
	}
	want := tokens.Audience
	if legacy {
		want = "leadr-client"
	}
	hasAud := false
	for _, a := range auds {
		hasAud = hasAud || a == want
	}
	if !hasAud {
		t.Fatalf("Verify accepted %q for audience %s", token, cl.Aud)
	}
	if cl.Exp == nil || *cl.Exp <= float64(when.Unix()) || !got.ExpiresAt.After(when) || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("Verify accepted %q at %v: exp %v, ExpiresAt %v", token, when, cl.Exp, got.ExpiresAt)
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
// must not verify as a second spelling of the same token.
func TestVerifyRefusesLineBreaks(t *testing.T) {
	t.Parallel()
	tk := newTokens()
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
