package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The reasons Verify refuses a delivery; its errors wrap one of them.
var (
	// ErrWebhookSignature: no v1 signature of the delivery matches the
	// secret. The body, the id or the timestamp was changed, or it was
	// signed with another secret.
	ErrWebhookSignature = errors.New("leadr: no webhook signature matches")
	// ErrWebhookTimestamp: the delivery is signed, but its timestamp is
	// outside the tolerance: a replay, or a clock that is off.
	ErrWebhookTimestamp = errors.New("leadr: webhook timestamp outside the tolerance")
	// ErrWebhookHeaders: webhook-id, webhook-timestamp or
	// webhook-signature is missing, or the timestamp is not unix seconds.
	ErrWebhookHeaders = errors.New("leadr: webhook headers missing or malformed")
)

// WebhookVerifier checks the Standard Webhooks signature of the deliveries
// of one webhook. It is safe for concurrent use.
type WebhookVerifier struct {
	// The key lives only in this closure: fmt prints a function as its
	// address, so printing a verifier (%+v) shows no key.
	newMAC    func() hash.Hash
	tolerance time.Duration
	now       func() time.Time
}

// WebhookVerifierOption configures a WebhookVerifier.
type WebhookVerifierOption func(*WebhookVerifier)

// WithWebhookTolerance sets how far a delivery's timestamp may be from
// the clock, before or after it (default 5 minutes). Deliveries older
// than that are refused as replays.
func WithWebhookTolerance(d time.Duration) WebhookVerifierOption {
	return func(v *WebhookVerifier) { v.tolerance = d }
}

// WithWebhookClock replaces time.Now.
func WithWebhookClock(now func() time.Time) WebhookVerifierOption {
	return func(v *WebhookVerifier) { v.now = now }
}

// NewWebhookVerifier returns a verifier for the secret the service showed
// when the webhook was created or its secret rotated: "whsec_" and the
// key in standard base64. The bare base64 key is accepted too, as the
// Standard Webhooks libraries accept it. During a rotation a delivery is
// signed with both secrets, so a verifier of either accepts it.
func NewWebhookVerifier(secret string, opts ...WebhookVerifierOption) (*WebhookVerifier, error) {
	encoded := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_")
	enc := base64.RawStdEncoding
	if strings.HasSuffix(encoded, "=") {
		enc = base64.StdEncoding
	}
	key, err := enc.DecodeString(encoded)
	if err != nil || len(key) == 0 {
		// Neither the secret nor the decoder's error (which quotes a
		// byte of it) goes into the message.
		return nil, errors.New(`leadr: the webhook secret is not "whsec_" and standard base64`)
	}
	v := &WebhookVerifier{
		newMAC:    func() hash.Hash { return hmac.New(sha256.New, key) },
		tolerance: 5 * time.Minute,
		now:       time.Now,
	}
	for _, o := range opts {
		o(v)
	}
	if v.tolerance <= 0 {
		return nil, errors.New("leadr: the webhook timestamp tolerance must be positive")
	}
	if v.now == nil {
		return nil, errors.New("leadr: the webhook clock is nil")
	}
	return v, nil
}

// Verify checks a delivery: its headers h (webhook-id, webhook-timestamp,
// webhook-signature) and its body exactly as received, before any JSON
// decoding, which would not give back the same bytes. It passes when any
// v1 signature of the header matches; signatures of other schemes (v1a,
// …) are skipped. The webhook-id is the event's ID, the same on every
// attempt: a receiver skips an id it has already handled.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) error {
	var missing []string
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if h.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no %s", ErrWebhookHeaders, strings.Join(missing, ", "))
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not unix seconds", ErrWebhookHeaders)
	}

	// The signature is checked before the time, so that
	// ErrWebhookTimestamp means a delivery of the service that came too
	// late or too early, never a forgery.
	mac := v.newMAC()
	// The timestamp is signed as received: re-formatting it would accept
	// other spellings ("+1614265330") of a signed one.
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	matched := false
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && hmac.Equal([]byte(sig), want) {
			matched = true
			break
		}
	}
	if !matched {
		return ErrWebhookSignature
	}

	now := v.now()
	at := time.Unix(unix, 0)
	if age := now.Sub(at); age > v.tolerance {
		return fmt.Errorf("%w: sent %s ago", ErrWebhookTimestamp, age.Truncate(time.Second))
	}
	if ahead := at.Sub(now); ahead > v.tolerance {
		return fmt.Errorf("%w: sent %s ahead of this clock", ErrWebhookTimestamp, ahead.Truncate(time.Second))
	}
	return nil
}
