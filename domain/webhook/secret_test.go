package webhook_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/leadr-oss/identity/domain/webhook"
)

// The Standard Webhooks test vector, the one every official library checks
// its signing against (github.com/standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go TestWebhookSign, and the same values in
// libraries/python/tests/test_webhooks.py, javascript/src/webhook.test.ts,
// ruby/spec/webhook_spec.rb, php/tests/WebhookTest.php,
// csharp/StandardWebhooks.Tests/WebhookTest.cs and the Java TestScenario).
var vectors = []struct {
	name   string
	secret string
	msgID  string
	unix   int64
	body   string
	want   string
}{
	{
		name:   "libraries sign function",
		secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		msgID:  "msg_p5jXN8AQM9LWM0D4loKWxJek",
		unix:   1614265330,
		body:   `{"test": 2432232314}`,
		want:   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	},
}

func mustParse(t *testing.T, s string) webhook.Secret {
	t.Helper()
	secret, err := webhook.ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestSignReproducesTheStandardWebhooksVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			secret := mustParse(t, v.secret)
			if got := webhook.Sign([]webhook.Secret{secret}, v.msgID, time.Unix(v.unix, 0), []byte(v.body)); got != v.want {
				t.Errorf("Sign = %q, want %q", got, v.want)
			}
			// Only the whole seconds are signed, in any time zone.
			ts := time.Unix(v.unix, 999_999_999).In(time.FixedZone("UTC+14", 14*3600))
			if got := webhook.Sign([]webhook.Secret{secret}, v.msgID, ts, []byte(v.body)); got != v.want {
				t.Errorf("Sign at %v = %q, want %q", ts, got, v.want)
			}
		})
	}
}

// Each part of the signed content changes the signature: a Sign that left
// one out would let it be tampered with.
func TestSignCoversIDTimestampBodyAndSecret(t *testing.T) {
	other := mustParse(t, "whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	for _, v := range vectors {
		secret := mustParse(t, v.secret)
		ts := time.Unix(v.unix, 0)
		for name, got := range map[string]string{
			"body":      webhook.Sign([]webhook.Secret{secret}, v.msgID, ts, []byte(v.body+" ")),
			"empty":     webhook.Sign([]webhook.Secret{secret}, v.msgID, ts, nil),
			"id":        webhook.Sign([]webhook.Secret{secret}, v.msgID+"x", ts, []byte(v.body)),
			"timestamp": webhook.Sign([]webhook.Secret{secret}, v.msgID, ts.Add(time.Second), []byte(v.body)),
			"secret":    webhook.Sign([]webhook.Secret{other}, v.msgID, ts, []byte(v.body)),
		} {
			if got == v.want || !strings.HasPrefix(got, "v1,") {
				t.Errorf("%s: changing the %s gave %q", v.name, name, got)
			}
		}
	}
}

// The official Go library is a second implementation written by others:
// for random keys, ids, times and bodies the two must sign alike.
func TestSignAgreesWithTheReferenceLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		key := make([]byte, 24+rng.IntN(41))
		body := make([]byte, rng.IntN(300))
		for _, b := range [][]byte{key, body} {
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
		}
		secret, err := webhook.SecretFromBytes(key)
		if err != nil {
			t.Fatal(err)
		}
		msgID := "evt_" + strconv.Itoa(i)
		ts := time.Unix(rng.Int64N(4_000_000_000), 0)

		ref, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Sign(msgID, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if got := webhook.Sign([]webhook.Secret{secret}, msgID, ts, body); got != want {
			t.Fatalf("key %x, id %s, ts %d: Sign = %q, the reference library %q", key, msgID, ts.Unix(), got, want)
		}
	}
}

func deliveryHeader(msgID string, ts time.Time, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", signature)
	return h
}

// During a rotation a delivery carries both signatures: a receiver that
// holds either secret accepts it, one that holds neither does not.
func TestSignWithTwoSecretsVerifiesUnderEither(t *testing.T) {
	current, previous, third := webhook.GenerateSecret(), webhook.GenerateSecret(), webhook.GenerateSecret()
	msgID, now, body := "evt_01J0000000000000000000000", time.Now(), []byte(`{"type":"player.banned"}`)

	both := webhook.Sign([]webhook.Secret{current, previous}, msgID, now, body)
	first := webhook.Sign([]webhook.Secret{current}, msgID, now, body)
	second := webhook.Sign([]webhook.Secret{previous}, msgID, now, body)
	if both != first+" "+second {
		t.Fatalf("Sign(current, previous) = %q, want %q", both, first+" "+second)
	}

	for _, tc := range []struct {
		name   string
		secret webhook.Secret
		sig    string
		ok     bool
	}{
		{"current secret, one signature", current, first, true},
		{"current secret, two signatures", current, both, true},
		{"previous secret, two signatures", previous, both, true},
		{"third secret, two signatures", third, both, false},
		{"previous secret, current's signature only", previous, first, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := standardwebhooks.NewWebhook(tc.secret.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			err = ref.Verify(body, deliveryHeader(msgID, now, tc.sig))
			if (err == nil) != tc.ok {
				t.Errorf("the reference library's Verify = %v, want success %v", err, tc.ok)
			}
		})
	}

	// The reference verifier also rejects what was signed for another
	// delivery.
	ref, err := standardwebhooks.NewWebhook(current.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify([]byte(`{"type":"player.unbanned"}`), deliveryHeader(msgID, now, both)); err == nil {
		t.Error("a changed body verified")
	}
	if err := ref.Verify(body, deliveryHeader("evt_other", now, both)); err == nil {
		t.Error("a changed id verified")
	}
	if err := ref.Verify(body, deliveryHeader(msgID, now.Add(-time.Second), both)); err == nil {
		t.Error("a changed timestamp verified")
	}
}

func TestSignWithNoSecretIsEmpty(t *testing.T) {
	if got := webhook.Sign(nil, "evt_1", time.Now(), nil); got != "" {
		t.Errorf("Sign(nil) = %q", got)
	}
}

func TestSignPanicsOnTheZeroSecret(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Sign signed with the zero Secret, that is with an empty key")
		}
	}()
	webhook.Sign([]webhook.Secret{webhook.GenerateSecret(), {}}, "evt_1", time.Now(), nil)
}

func TestGenerateSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := webhook.GenerateSecret()
		if n := len(s.Bytes()); n != 32 {
			t.Fatalf("GenerateSecret made %d bytes, want 32", n)
		}
		revealed := s.Reveal()
		if !strings.HasPrefix(revealed, "whsec_") || len(revealed) != len("whsec_")+44 {
			t.Fatalf("Reveal = %d characters, not whsec_ and the padded base64 of 32 bytes", len(revealed))
		}
		if seen[revealed] {
			t.Fatal("GenerateSecret made the same secret twice")
		}
		seen[revealed] = true
	}
}

func TestParseSecretRoundTrip(t *testing.T) {
	for _, s := range []webhook.Secret{webhook.GenerateSecret(), mustParse(t, vectors[0].secret)} {
		again := mustParse(t, s.Reveal())
		if again.Reveal() != s.Reveal() || !bytes.Equal(again.Bytes(), s.Bytes()) {
			t.Error("ParseSecret(Reveal()) is another secret")
		}
		fromBytes, err := webhook.SecretFromBytes(s.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if fromBytes.Reveal() != s.Reveal() {
			t.Error("SecretFromBytes(Bytes()) is another secret")
		}
	}

	// Padded or not, the same key.
	key := bytes.Repeat([]byte{0xfb}, 25) // 25 bytes: base64 pads with "=="
	padded := "whsec_" + base64.StdEncoding.EncodeToString(key)
	unpadded := "whsec_" + base64.RawStdEncoding.EncodeToString(key)
	if !strings.HasSuffix(padded, "==") {
		t.Fatalf("%q has no padding to leave out", padded)
	}
	for _, s := range []string{padded, unpadded} {
		if got := mustParse(t, s); !bytes.Equal(got.Bytes(), key) || got.Reveal() != padded {
			t.Errorf("ParseSecret(%q) = %x, Reveal %q", s, got.Bytes(), got.Reveal())
		}
	}
}

// nonCanonical sets a padding bit of a padded base64 string: lenient
// decoders read the same key from it, so that one key has two spellings.
func nonCanonical(padded string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.TrimRight(padded, "=")
	i := strings.IndexByte(alphabet, last[len(last)-1])
	return last[:len(last)-1] + string(alphabet[i^1]) + padded[len(last):]
}

func TestParseSecretRefuses(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"prefix only", "whsec_"},
		{"no prefix", b64(bytes.Repeat([]byte("k"), 32))},
		{"another prefix", "whsk_" + b64(bytes.Repeat([]byte("k"), 32))},
		{"URL-safe base64", "whsec_" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32))},
		{"not base64", "whsec_" + strings.Repeat("!", 44)},
		{"line break", "whsec_" + b64(bytes.Repeat([]byte("k"), 24)) + "\n" + b64(bytes.Repeat([]byte("k"), 24))},
		{"wrong padding", "whsec_" + b64(bytes.Repeat([]byte("k"), 32)) + "="},
		{"trailing bits set", "whsec_" + nonCanonical(b64(bytes.Repeat([]byte("k"), 32)))},
		{"23 bytes", "whsec_" + b64(bytes.Repeat([]byte("k"), 23))},
		{"65 bytes", "whsec_" + b64(bytes.Repeat([]byte("k"), 65))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.ParseSecret(tc.in)
			if !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Fatalf("ParseSecret = %v, want ErrInvalidSecret", err)
			}
			encoded := strings.TrimPrefix(tc.in, "whsec_")
			if len(encoded) > 3 && strings.Contains(err.Error(), encoded[:4]) {
				t.Errorf("the error %q quotes the input", err)
			}
		})
	}
	for _, n := range []int{0, 23, 65} {
		if _, err := webhook.SecretFromBytes(make([]byte, n)); !errors.Is(err, webhook.ErrInvalidSecret) {
			t.Errorf("SecretFromBytes(%d bytes) = %v, want ErrInvalidSecret", n, err)
		}
	}
}

// A Secret copies the key in and out: nothing its caller does to a slice
// changes what it signs.
func TestSecretCopiesTheKey(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	s, err := webhook.SecretFromBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	before := webhook.Sign([]webhook.Secret{s}, "evt_1", time.Unix(1, 0), nil)
	key[0] = 2
	s.Bytes()[1] = 2
	if after := webhook.Sign([]webhook.Secret{s}, "evt_1", time.Unix(1, 0), nil); after != before {
		t.Error("changing a slice given to or taken from the Secret changed its key")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := webhook.GenerateSecret()
	key := s.Bytes()
	leaks := map[string]string{
		"whsec_ form":   s.Reveal(),
		"base64":        strings.TrimPrefix(s.Reveal(), "whsec_")[:8],
		"hex":           fmt.Sprintf("%x", key[:4]),
		"HEX":           fmt.Sprintf("%X", key[:4]),
		"decimal bytes": strings.Trim(fmt.Sprint(key[:4]), "[]"),
		"byte list":     fmt.Sprintf("%#v", key[:4])[len("[]byte{"):],
		"octal":         strings.Trim(fmt.Sprintf("%o", key[:4]), "[]"),
		"binary":        strings.Trim(fmt.Sprintf("%08b", key[:2]), "[]"),
		"raw":           string(key[:4]),
	}

	type holder struct{ secret webhook.Secret } // unexported: fmt calls no method of it
	type exported struct{ Secret webhook.Secret }
	values := []any{s, &s, holder{s}, &holder{s}, exported{s}, []webhook.Secret{s}, map[string]webhook.Secret{"k": s}}
	// Passed as a slice, so that vet lets verbs that do not suit a Secret
	// through: fmt then prints what it reaches by reflection.
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%08b"}
	for _, verb := range verbs {
		for _, v := range values {
			printed := fmt.Sprintf(verb, []any{v}...)
			for name, leak := range leaks {
				if strings.Contains(printed, leak) {
					t.Errorf("%s of %T leaks the key as %s: %s", verb, v, name, printed)
				}
			}
		}
	}
	if got := fmt.Sprintf("%v %+v %s %#v", s, s, s, s); got != "[redacted] [redacted] [redacted] [redacted]" {
		t.Errorf("printed %s", got)
	}
	if s.String() != "[redacted]" || s.GoString() != "[redacted]" {
		t.Errorf("String %q, GoString %q", s.String(), s.GoString())
	}
}
