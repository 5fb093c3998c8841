package verifier

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Config configures New. Only BaseURL is required.
type Config struct {
	// BaseURL is the identity service's, such as "https://id.example.com":
	// the key set is read from BaseURL/.well-known/jwks.json and the feed
	// from BaseURL/v1/events.
	BaseURL string
	// Issuer and Audience are what tokens must say; both "leadr" by
	// default. Issuer is the service's LEADR_TOKEN_ISSUER.
	Issuer, Audience string
	// Leeway is the clock skew tolerated between the service and this
	// verifier, on iat and exp: 10 s by default. A token is accepted until
	// exp + Leeway.
	Leeway time.Duration
	// HTTPClient makes the requests (a client with a 10 s timeout by
	// default). Redirects are never followed, whatever it says: the feed's
	// API key must not travel to another host.
	HTTPClient *http.Client
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// OnError, when set, hears of every failed fetch of the key set or the
	// feed, from the goroutine that made it. The errors hold no secret.
	OnError func(error)
}

const (
	defaultIssuer = "leadr"
	defaultLeeway = 10 * time.Second
	// requestTimeout bounds every request, whatever the client's timeout.
	requestTimeout = 10 * time.Second
)

// Verifier checks access tokens against the service's published keys. It
// is safe for concurrent use.
type Verifier struct {
	base             *url.URL
	issuer, audience string
	leeway           time.Duration
	client           *http.Client
	now              func() time.Time
	onError          func(error)
	keys             *keyCache
	revoked          revocations
}

// New returns a verifier for the service at cfg.BaseURL. It fetches
// nothing yet: the first Verify (or Refresh) does.
func New(cfg Config) (*Verifier, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" && base.Scheme != "http" || base.Host == "" {
		return nil, errors.New("verifier: BaseURL must be an absolute http(s) URL")
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("verifier: Leeway must not be negative")
	}
	v := &Verifier{base: base, issuer: cmp.Or(cfg.Issuer, defaultIssuer), audience: cmp.Or(cfg.Audience, defaultIssuer),
		leeway: cmp.Or(cfg.Leeway, defaultLeeway), now: cfg.Now, onError: cfg.OnError}
	if v.now == nil {
		v.now = time.Now
	}
	client := http.Client{Timeout: requestTimeout}
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &client
	v.keys = &keyCache{v: v, url: base.JoinPath(".well-known", "jwks.json").String()}
	return v, nil
}

// Verify checks token: its form, its signature under the published key it
// names, its claims at the current time and, when the feed is followed,
// that it was not revoked. It returns the token's claims.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	t, err := Parse(token)
	if err != nil {
		return Claims{}, err
	}
	key, err := v.keys.key(ctx, t.KID)
	if err != nil {
		return Claims{}, err
	}
	if err := t.VerifySignature(key); err != nil {
		return Claims{}, err
	}
	if err := t.Claims.Check(v.now(), v.issuer, v.audience, v.leeway); err != nil {
		return Claims{}, err
	}
	if err := v.revoked.check(&t.Claims); err != nil {
		return Claims{}, err
	}
	return t.Claims, nil
}

// Refresh fetches the key set now (or waits for the fetch under way), so
// that a service can check at start-up that it reaches the identity
// service.
func (v *Verifier) Refresh(ctx context.Context) error {
	v.keys.mu.Lock()
	seen := v.keys.fetches
	v.keys.mu.Unlock()
	return v.keys.refresh(ctx, seen)
}

// Status says how current the verifier's knowledge is.
type Status struct {
	// KeysFetched is when the key set was last fetched; KeysErr is the
	// error of the last attempt, nil when it succeeded. Until a fetch
	// succeeds again, the last good keys are used.
	KeysFetched time.Time
	KeysErr     error
	// Following says that FollowFeed is running. FeedRead is when the
	// feed was last read (zero until the start-up read of the audit log is
	// done): revocations recorded before then are known. FeedErr is the
	// error of the last attempt, nil when it succeeded.
	Following bool
	FeedRead  time.Time
	FeedErr   error
}

// Status is a snapshot of the verifier's state, for health checks and
// metrics.
func (v *Verifier) Status() Status {
	var s Status
	v.keys.mu.Lock()
	s.KeysFetched, s.KeysErr = v.keys.fetched, v.keys.err
	v.keys.mu.Unlock()
	v.revoked.mu.RLock()
	s.Following, s.FeedRead, s.FeedErr = v.revoked.running, v.revoked.read, v.revoked.err
	v.revoked.mu.RUnlock()
	return s
}

func (v *Verifier) report(err error) {
	if v.onError != nil {
		v.onError(err)
	}
}

// statusError is an answer other than 200 OK.
type statusError int

func (s statusError) Error() string { return fmt.Sprintf("status %d", int(s)) }

// get reads u, its body up to limit bytes, sending apiKey when given.
func (v *Verifier) get(ctx context.Context, u, apiKey string, limit int64) (http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if apiKey != "" {
		req.Header.Set("leadr-api-key", apiKey)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, statusError(resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(body)) > limit {
		err = fmt.Errorf("answer longer than %d bytes", limit)
	}
	return resp.Header, body, err
}
