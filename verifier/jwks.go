package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	maxJWKSBytes = 1 << 20
	maxKeys      = 100
	// minRefetch spaces the fetches that tokens can cause: a token names
	// any kid it likes, and a flood of made-up kids must not become a
	// flood of fetches. A failed fetch is retried no sooner either.
	minRefetch = 10 * time.Second
	// How long a key set is kept when its answer says nothing usable
	// (no Cache-Control, no-store, no-cache), and at most.
	defaultMaxAge = time.Minute
	maxMaxAge     = time.Hour
)

// keyCache holds the service's key set.
type keyCache struct {
	v   *Verifier
	url string

	mu       sync.Mutex
	keys     map[string]*ecdsa.PublicKey // the last good set
	fetched  time.Time                   // when it was fetched
	fresh    time.Time                   // until when no fetch is due
	tried    time.Time                   // when the last fetch began
	err      error                       // of the last fetch
	inflight chan struct{}               // closed when the fetch under way ends
	// fetches counts the fetches that ended: a caller that found a fetch
	// due takes the one that ended since, rather than starting another.
	fetches uint64
}

// key is the key named kid. The set is fetched again when it is stale, or
// when kid is unknown and the last fetch is minRefetch old. Only a caller
// whose kid is unknown waits for the fetch: one whose key is held goes on
// with it while the set is fetched in the background, so that a slow or
// unreachable service delays no request whose key is known.
func (c *keyCache) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	c.mu.Lock()
	now := c.v.now()
	held, ok := c.keys[kid]
	stale := !now.Before(c.fresh)
	due := stale || !ok && now.Sub(c.tried) >= minRefetch
	seen := c.fetches
	c.mu.Unlock()
	if ok && stale {
		c.refreshInBackground(seen)
		return held, nil
	}
	if due {
		if err := c.refresh(ctx, seen); ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil // from the last good set, even when a refetch failed
	}
	if c.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, c.err)
	}
	return nil, ErrUnknownKey
}

// refreshInBackground starts a fetch unless one is under way or ended
// since the caller saw seen fetches; it waits for nothing.
func (c *keyCache) refreshInBackground(seen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight == nil && c.fetches == seen {
		done := make(chan struct{})
		c.inflight, c.tried = done, c.v.now()
		go c.fetch(context.Background(), done)
	}
}

// refresh fetches the set, or waits for the fetch under way, or takes the
// one that ended since the caller saw seen fetches: concurrent callers
// share one. The fetch is not the caller's, so a caller that gives up does
// not cancel it for the others.
func (c *keyCache) refresh(ctx context.Context, seen uint64) error {
	c.mu.Lock()
	done := c.inflight
	if done == nil && c.fetches != seen {
		defer c.mu.Unlock()
		return c.err
	}
	if done == nil {
		done = make(chan struct{})
		c.inflight, c.tried = done, c.v.now()
		go c.fetch(context.WithoutCancel(ctx), done)
	}
	c.mu.Unlock()
	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *keyCache) fetch(ctx context.Context, done chan struct{}) {
	keys, maxAge, err := c.get(ctx)
	c.mu.Lock()
	now := c.v.now()
	c.err, c.inflight = err, nil
	c.fetches++
	if err != nil {
		c.fresh = now.Add(minRefetch)
	} else {
		c.keys, c.fetched, c.fresh = keys, now, now.Add(maxAge)
	}
	c.mu.Unlock()
	close(done)
	if err != nil {
		c.v.report(err)
	}
}

func (c *keyCache) get(ctx context.Context) (map[string]*ecdsa.PublicKey, time.Duration, error) {
	header, body, err := c.v.get(ctx, c.url, "", maxJWKSBytes)
	var keys map[string]*ecdsa.PublicKey
	if err == nil {
		keys, err = parseKeySet(body)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: fetch the key set: %w", err)
	}
	return keys, cacheFor(header), nil
}

// cacheFor is how long an answer with header may be kept: its max-age,
// within [minRefetch, maxMaxAge].
func cacheFor(header http.Header) time.Duration {
	d := defaultMaxAge
	for _, dir := range strings.Split(strings.Join(header.Values("Cache-Control"), ","), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return defaultMaxAge
		case "max-age":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				d = time.Duration(min(n, int(maxMaxAge/time.Second))) * time.Second
			}
		}
	}
	return min(max(d, minRefetch), maxMaxAge)
}

// jwk is a member of a key set. D is only looked at: a key set that
// holds a private part is broken, and its key is not used.
type jwk struct {
	Kty string          `json:"kty"`
	Crv string          `json:"crv"`
	Kid string          `json:"kid"`
	Use string          `json:"use"`
	Alg string          `json:"alg"`
	X   string          `json:"x"`
	Y   string          `json:"y"`
	D   json.RawMessage `json:"d"`
}

// parseKeySet reads a JWKS. Keys other than EC P-256 signing keys for
// ES256 are skipped rather than refused, so that a key type the service
// adds one day does not break the verifiers already deployed; so are
// malformed ones and those off the curve. When a kid repeats, the first
// wins.
func parseKeySet(body []byte) (map[string]*ecdsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil {
		return nil, errors.New("not a JSON web key set")
	}
	if len(set.Keys) > maxKeys {
		return nil, fmt.Errorf("more than %d keys", maxKeys)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil || k.Kty != "EC" || k.Crv != "P-256" || k.D != nil ||
			k.Kid == "" || len(k.Kid) > maxKIDLen || k.Use != "" && k.Use != "sig" || k.Alg != "" && k.Alg != "ES256" {
			continue
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			continue
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if _, seen := keys[k.Kid]; err == nil && !seen {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}
