package client_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/leadr-oss/identity/client"
)

// A receiver's handler: it verifies each delivery before it decodes it.
func ExampleWebhookVerifier() {
	// The secret the service showed once, when the webhook was created.
	// (The fixed clock is only there so that the output below is stable;
	// a receiver leaves the option out.)
	verifier, err := client.NewWebhookVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		client.WithWebhookClock(func() time.Time { return time.Unix(1614265330, 0) }))
	if err != nil {
		fmt.Println(err)
		return
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// The body as received: decoding and re-encoding the JSON first
		// would change the bytes that were signed.
		if err := verifier.Verify(r.Header, body); err != nil {
			fmt.Println("refused:", err)
			http.Error(w, "invalid signature", http.StatusBadRequest)
			return
		}
		// webhook-id is the event's ID, the same on every attempt:
		// deliveries come at least once, so skip one already handled.
		fmt.Println("event", r.Header.Get("webhook-id"), string(body))
		w.WriteHeader(http.StatusNoContent)
	})

	deliver := func(body, signature string) int {
		r := httptest.NewRequest(http.MethodPost, "/leadr-webhooks", strings.NewReader(body))
		r.Header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		r.Header.Set("webhook-timestamp", "1614265330")
		r.Header.Set("webhook-signature", signature)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(deliver(`{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="))
	fmt.Println(deliver(`{"test": 2432232315}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="))
	// Output:
	// event msg_p5jXN8AQM9LWM0D4loKWxJek {"test": 2432232314}
	// 204
	// refused: leadr: no webhook signature matches
	// 400
}

// The Standard Webhooks test vector (github.com/standard-webhooks/
// standard-webhooks, libraries/go/webhook_test.go TestWebhookSign; the
// same values in every official library's tests). The signatures the
// libraries' tests use as invalid ones are in TestWebhookVerifierRejects.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func webhookHeader(msgID string, unix int64, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", strconv.FormatInt(unix, 10))
	h.Set("webhook-signature", signature)
	return h
}

func clockAt(unix int64) client.WebhookVerifierOption {
	return client.WithWebhookClock(func() time.Time { return time.Unix(unix, 0) })
}

func newVerifier(t *testing.T, secret string, opts ...client.WebhookVerifierOption) *client.WebhookVerifier {
	t.Helper()
	v, err := client.NewWebhookVerifier(secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWebhookVerifierAcceptsTheVectors(t *testing.T) {
	bare := strings.TrimPrefix(vectorSecret, "whsec_")
	for _, tc := range []struct {
		name, secret, signature string
		header                  func(http.Header)
	}{
		{name: "whsec_ secret", secret: vectorSecret, signature: vectorSignature},
		{name: "bare base64 secret", secret: bare, signature: vectorSignature},
		{name: "secret with a line break after it", secret: vectorSecret + "\n", signature: vectorSignature},
		// From the libraries' "valid multi sig is valid" case.
		{name: "among other signatures and versions", secret: vectorSecret, signature: "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " +
			vectorSignature + " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="},
		// From libraries/go v1.3.0: malformed entries before a valid one.
		{name: "after an entry without a comma", secret: vectorSecret, signature: "v1 " + vectorSignature},
		{name: "after malformed entries", secret: vectorSecret, signature: ",,, v1,not,base64  " + vectorSignature},
		{name: "after an asymmetric signature", secret: vectorSecret, signature: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " + vectorSignature},
		{name: "header names in capitals", secret: vectorSecret, signature: vectorSignature, header: func(h http.Header) {
			for name, values := range h {
				delete(h, name)
				h.Set(strings.ToUpper(name), values[0])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := webhookHeader(vectorMsgID, vectorTimestamp, tc.signature)
			if tc.header != nil {
				tc.header(h)
			}
			v := newVerifier(t, tc.secret, clockAt(vectorTimestamp))
			if err := v.Verify(h, []byte(vectorBody)); err != nil {
				t.Errorf("Verify = %v", err)
			}
		})
	}
}

func TestWebhookVerifierRejects(t *testing.T) {
	type delivery struct {
		secret, msgID, body, signature string
		unix                           int64
	}
	for _, tc := range []struct {
		name   string
		change func(*delivery)
	}{
		{"changed body", func(d *delivery) { d.body = `{"test": 2432232315}` }},
		{"empty body", func(d *delivery) { d.body = "" }},
		{"changed id", func(d *delivery) { d.msgID = "msg_p5jXN8AQM9LWM0D4loKWxJel" }},
		{"changed timestamp", func(d *delivery) { d.unix++ }},
		{"other secret", func(d *delivery) {
			d.secret = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		}},
		// The libraries' own invalid signatures.
		{"another message's signature", func(d *delivery) { d.signature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" }},
		{"last character changed", func(d *delivery) { d.signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=" }},
		{"truncated", func(d *delivery) { d.signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd" }},
		{"partial", func(d *delivery) { d.signature = "v1," }},
		{"another version", func(d *delivery) { d.signature = strings.Replace(vectorSignature, "v1,", "v2,", 1) }},
		{"asymmetric version", func(d *delivery) { d.signature = strings.Replace(vectorSignature, "v1,", "v1a,", 1) }},
		{"trailing data", func(d *delivery) { d.signature = vectorSignature + ",extra" }},
		{"no version", func(d *delivery) { d.signature = strings.TrimPrefix(vectorSignature, "v1,") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := delivery{vectorSecret, vectorMsgID, vectorBody, vectorSignature, vectorTimestamp}
			tc.change(&d)
			v := newVerifier(t, d.secret, clockAt(vectorTimestamp))
			if err := v.Verify(webhookHeader(d.msgID, d.unix, d.signature), []byte(d.body)); !errors.Is(err, client.ErrWebhookSignature) {
				t.Errorf("Verify = %v, want ErrWebhookSignature", err)
			}
		})
	}
}

func TestWebhookVerifierNeedsTheHeaders(t *testing.T) {
	v := newVerifier(t, vectorSecret, clockAt(vectorTimestamp))
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		h := webhookHeader(vectorMsgID, vectorTimestamp, vectorSignature)
		h.Del(name)
		err := v.Verify(h, []byte(vectorBody))
		if !errors.Is(err, client.ErrWebhookHeaders) || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: Verify = %v, want ErrWebhookHeaders naming it", name, err)
		}
	}
	for _, ts := range []string{"1614265330.0", "2021-02-25T15:02:10Z", "1614265330s", "99999999999999999999"} {
		h := webhookHeader(vectorMsgID, vectorTimestamp, vectorSignature)
		h.Set("webhook-timestamp", ts)
		if err := v.Verify(h, []byte(vectorBody)); !errors.Is(err, client.ErrWebhookHeaders) {
			t.Errorf("webhook-timestamp %q: Verify = %v, want ErrWebhookHeaders", ts, err)
		}
	}
	if err := v.Verify(http.Header{}, nil); !errors.Is(err, client.ErrWebhookHeaders) {
		t.Errorf("no headers: Verify = %v, want ErrWebhookHeaders", err)
	}
}

func TestWebhookVerifierTolerance(t *testing.T) {
	h := webhookHeader(vectorMsgID, vectorTimestamp, vectorSignature)
	for _, tc := range []struct {
		name      string
		tolerance time.Duration // 0: the default
		clock     time.Duration // the clock minus the timestamp
		ok        bool
	}{
		{"default, on time", 0, 0, true},
		{"default, 5 minutes late", 0, 5 * time.Minute, true},
		{"default, 5 minutes 1 second late", 0, 5*time.Minute + time.Second, false},
		{"default, 5 minutes early", 0, -5 * time.Minute, true},
		{"default, 5 minutes 1 second early", 0, -5*time.Minute - time.Second, false},
		{"default, a day late", 0, 24 * time.Hour, false},
		{"30 seconds, 30 seconds late", 30 * time.Second, 30 * time.Second, true},
		{"30 seconds, 31 seconds late", 30 * time.Second, 31 * time.Second, false},
		{"30 seconds, 31 seconds early", 30 * time.Second, -31 * time.Second, false},
		{"1 hour, 59 minutes late", time.Hour, 59 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []client.WebhookVerifierOption{client.WithWebhookClock(func() time.Time {
				return time.Unix(vectorTimestamp, 0).Add(tc.clock)
			})}
			if tc.tolerance != 0 {
				opts = append(opts, client.WithWebhookTolerance(tc.tolerance))
			}
			err := newVerifier(t, vectorSecret, opts...).Verify(h, []byte(vectorBody))
			if tc.ok && err != nil {
				t.Errorf("Verify = %v", err)
			}
			if !tc.ok && !errors.Is(err, client.ErrWebhookTimestamp) {
				t.Errorf("Verify = %v, want ErrWebhookTimestamp", err)
			}
		})
	}

	// A stale forgery is a forgery: the time says nothing until the
	// signature holds.
	v := newVerifier(t, vectorSecret, clockAt(vectorTimestamp+3600))
	if err := v.Verify(h, []byte(`{"test": 1}`)); !errors.Is(err, client.ErrWebhookSignature) {
		t.Errorf("a stale, changed delivery: Verify = %v, want ErrWebhookSignature", err)
	}
}

func TestNewWebhookVerifierRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret string
		opts   []client.WebhookVerifierOption
	}{
		{"empty secret", "", nil},
		{"prefix only", "whsec_", nil},
		{"not base64", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w", nil},
		{"URL-safe base64", "whsec_" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), nil},
		{"zero tolerance", vectorSecret, []client.WebhookVerifierOption{client.WithWebhookTolerance(0)}},
		{"negative tolerance", vectorSecret, []client.WebhookVerifierOption{client.WithWebhookTolerance(-time.Minute)}},
		{"no clock", vectorSecret, []client.WebhookVerifierOption{client.WithWebhookClock(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := client.NewWebhookVerifier(tc.secret, tc.opts...)
			if err == nil || v != nil {
				t.Fatalf("NewWebhookVerifier = %v, %v; want an error", v, err)
			}
			if encoded := strings.TrimPrefix(tc.secret, "whsec_"); len(encoded) > 3 && strings.Contains(err.Error(), encoded[:4]) {
				t.Errorf("the error %q quotes the secret", err)
			}
		})
	}
}

// The official Go library signs; this verifier, written apart from it
// and from the service's signer, must accept what it signs.
func TestWebhookVerifierAcceptsTheReferenceLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		key := make([]byte, 1+rng.IntN(64))
		body := make([]byte, rng.IntN(300))
		for _, b := range [][]byte{key, body} {
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
		}
		ref, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			t.Fatal(err)
		}
		msgID, now := "evt_"+strconv.Itoa(i), time.Now()
		sig, err := ref.Sign(msgID, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := webhookHeader(msgID, now.Unix(), sig)
		for _, secret := range []string{
			"whsec_" + base64.StdEncoding.EncodeToString(key),
			base64.StdEncoding.EncodeToString(key),
			"whsec_" + base64.RawStdEncoding.EncodeToString(key),
		} {
			if err := newVerifier(t, secret).Verify(h, body); err != nil {
				t.Fatalf("key %x (%d bytes): Verify = %v", key, len(key), err)
			}
		}
		// (Not the key and a zero byte: HMAC pads short keys with zeros,
		// so that is the same key.)
		key[len(key)-1] ^= 1
		if err := newVerifier(t, "whsec_"+base64.StdEncoding.EncodeToString(key)).Verify(h, body); !errors.Is(err, client.ErrWebhookSignature) {
			t.Fatalf("key %x, one bit changed: Verify = %v, want ErrWebhookSignature", key, err)
		}
	}

	// The Python library's padding cases: secrets that need one and two
	// "=" of padding, given without it.
	for _, bare := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr"} {
		padded := bare + strings.Repeat("=", (4-len(bare)%4)%4)
		ref, err := standardwebhooks.NewWebhook(padded)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		sig, err := ref.Sign(vectorMsgID, now, []byte(vectorBody))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{bare, "whsec_" + bare, padded} {
			if err := newVerifier(t, secret).Verify(webhookHeader(vectorMsgID, now.Unix(), sig), []byte(vectorBody)); err != nil {
				t.Errorf("secret %q: Verify = %v", secret, err)
			}
		}
	}
}

// During a rotation the service sends two signatures, the current
// secret's first: a receiver with either secret accepts.
func TestWebhookVerifierDuringARotation(t *testing.T) {
	secrets := make([]string, 3)
	sigs := make([]string, 3)
	msgID, now, body := "evt_01J0000000000000000000000", time.Now(), []byte(`{"type":"player.banned"}`)
	for i := range secrets {
		key := bytes.Repeat([]byte{byte(i + 1)}, 32)
		secrets[i] = "whsec_" + base64.StdEncoding.EncodeToString(key)
		ref, err := standardwebhooks.NewWebhook(secrets[i])
		if err != nil {
			t.Fatal(err)
		}
		if sigs[i], err = ref.Sign(msgID, now, body); err != nil {
			t.Fatal(err)
		}
	}
	h := webhookHeader(msgID, now.Unix(), sigs[0]+" "+sigs[1])
	for i, secret := range secrets {
		err := newVerifier(t, secret).Verify(h, body)
		if i < 2 && err != nil {
			t.Errorf("secret %d of the two: Verify = %v", i, err)
		}
		if i == 2 && !errors.Is(err, client.ErrWebhookSignature) {
			t.Errorf("a third secret: Verify = %v, want ErrWebhookSignature", err)
		}
	}
}

func TestWebhookVerifierNeverPrintsTheKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rand.UintN(256))
	}
	v := newVerifier(t, "whsec_"+base64.StdEncoding.EncodeToString(key))
	leaks := []string{
		fmt.Sprintf("%x", key[:4]), fmt.Sprintf("%X", key[:4]), strings.Trim(fmt.Sprint(key[:4]), "[]"),
		base64.StdEncoding.EncodeToString(key)[:8], string(key[:4]),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d"} {
		printed := fmt.Sprintf(verb, []any{v}...)
		for _, leak := range leaks {
			if strings.Contains(printed, leak) {
				t.Errorf("%s of a verifier shows the key: %s", verb, printed)
			}
		}
	}
}
