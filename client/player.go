package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ErrSignedOut is what a Player answers once it signed out.
var ErrSignedOut = errors.New("leadr: the player signed out")

// refreshTimeout bounds a refresh, which the caller's context cannot cancel
// (see Player.refresh).
const refreshTimeout = 30 * time.Second

// Player is a game client signed in as one identity: it holds its
// session's tokens, sends the access token to the client endpoints
// (/v1/client/…) and refreshes it by itself, shortly before it expires and
// once more if the service refuses it. It sends no API key. It is safe for
// concurrent use; of the calls that find the token due, one refreshes and
// the others wait for it, because a refresh token is single use.
//
//	p, err := client.SignIn(ctx, "https://leadr.example", client.SignInRequest{
//		GameID: game, Kind: client.KindDevice, ExternalKey: deviceID})
//	…
//	me, err := p.Rename(ctx, "Ada")
type Player struct {
	c         *Client // without an API key
	sessionID string
	now       func() time.Time
	// refreshing holds one token while a refresh runs: a channel rather
	// than a mutex, so that waiting for it honours the caller's context.
	refreshing chan struct{}

	mu       sync.Mutex
	tokens   playerTokens
	identity Identity
	// ended is why the Player cannot call any more: ErrSignedOut, or the
	// refusal of its refresh token (the session was revoked or expired).
	ended error
}

// playerTokens are a session's current tokens and when they expire by the
// Player's own clock (expires_in counted from when the request was sent, so
// that the service's clock and the time in transit do not matter).
type playerTokens struct {
	access, refresh string
	accessExpiry    time.Time
	lifetime        time.Duration
	// generation counts refreshes: a caller that waited for another's
	// refresh sees it changed and uses the new token instead of refreshing
	// again.
	generation uint64
}

// due reports whether the access token should be refreshed before use: a
// little before it expires (half its lifetime, at most a minute), so that a
// request on its way does not arrive with a token that just expired.
func (t playerTokens) due(now time.Time) bool {
	margin := min(t.lifetime/2, time.Minute)
	return !now.Before(t.accessExpiry.Add(-margin))
}

// SignIn signs a game client in (POST /v1/client/sessions) with the service
// at baseURL. Of opts, WithHTTPClient and WithHeader apply; an API key is
// never sent.
func SignIn(ctx context.Context, baseURL string, req SignInRequest, opts ...Option) (*Player, error) {
	return New(baseURL, opts...).SignIn(ctx, req)
}

// SignIn signs a game client in through c's transport and headers, but not
// its API key: client endpoints take none.
func (c *Client) SignIn(ctx context.Context, req SignInRequest) (*Player, error) {
	anon := c.WithAPIKey("")
	sent := time.Now()
	var s SignInResponse
	if _, err := anon.call(ctx, http.MethodPost, "/v1/client/sessions", req, &s); err != nil {
		return nil, err
	}
	return newPlayer(anon, s, sent), nil
}

// Player returns a Player holding a session that was signed in elsewhere:
// the answer of CreateIdentitySession, which a studio's backend hands to
// its game client. Its expiries are counted from now.
func (c *Client) Player(s SignInResponse) *Player {
	return newPlayer(c.WithAPIKey(""), s, time.Now())
}

func newPlayer(c *Client, s SignInResponse, sent time.Time) *Player {
	p := &Player{c: c, sessionID: s.SessionID, now: time.Now, refreshing: make(chan struct{}, 1), identity: s.Identity}
	p.tokens = playerTokens{access: s.AccessToken, refresh: s.RefreshToken,
		accessExpiry: sent.Add(seconds(s.ExpiresIn)), lifetime: seconds(s.ExpiresIn)}
	return p
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// String and GoString leave the tokens out, so that printing a Player does
// not leak them.
func (p *Player) String() string {
	return "client.Player{session " + p.sessionID + ", tokens [redacted]}"
}

func (p *Player) GoString() string { return p.String() }

// SessionID is the player's session, as the admin endpoints name it.
func (p *Player) SessionID() string { return p.sessionID }

// Identity is the player's identity as last received: at sign-in, or from
// the latest Me or Rename.
func (p *Player) Identity() Identity {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.identity
}

// Me reads the player's identity (GET /v1/client/me).
func (p *Player) Me(ctx context.Context) (Identity, error) {
	var i Identity
	if err := p.call(ctx, http.MethodGet, "/v1/client/me", nil, &i); err != nil {
		return Identity{}, err
	}
	p.setIdentity(i)
	return i, nil
}

// Nonce gets a single-use nonce of the session (GET /v1/client/nonce), for
// an endpoint that wants one in the header NonceHeader; Rename gets its own.
func (p *Player) Nonce(ctx context.Context) (Nonce, error) {
	var n Nonce
	err := p.call(ctx, http.MethodGet, "/v1/client/nonce", nil, &n)
	return n, err
}

// Rename changes the player's display name: it gets a nonce, then sends it
// with PATCH /v1/client/me.
func (p *Player) Rename(ctx context.Context, displayName string) (Identity, error) {
	n, err := p.Nonce(ctx)
	if err != nil {
		return Identity{}, err
	}
	var i Identity
	if err := p.call(ctx, http.MethodPatch, "/v1/client/me", UpdateMeRequest{DisplayName: displayName}, &i, NonceHeader, n.NonceValue); err != nil {
		return Identity{}, err
	}
	p.setIdentity(i)
	return i, nil
}

// SignOut revokes the session (DELETE /v1/client/sessions/current) and
// forgets its tokens; the Player answers ErrSignedOut from then on. A
// session that already ended (signed out, revoked, expired) counts as
// signed out. After any other
// failure (the service unreachable) the Player keeps its tokens, so that
// SignOut can be tried again.
func (p *Player) SignOut(ctx context.Context) error {
	p.mu.Lock()
	ended := p.ended
	p.mu.Unlock()
	if ended != nil {
		return nil
	}
	err := p.call(ctx, http.MethodDelete, "/v1/client/sessions/current", nil, nil)
	if err != nil && StatusOf(err) != http.StatusUnauthorized {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = playerTokens{}
	p.ended = ErrSignedOut
	return nil
}

// Do sends a request to a client endpoint with the access token (and
// headers, as name, value pairs), refreshing it as other calls do, and
// returns the answer whatever its status. body is sent as Client.Do sends
// it. A request is sent again at most once: after a 401 that refused its
// access token, with a refreshed one.
func (p *Player) Do(ctx context.Context, method, path string, body any, headers ...string) (*Response, error) {
	retried := false
	for {
		token, generation, err := p.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := p.bearer(token, headers).Do(ctx, method, path, body)
		if err != nil {
			return nil, err
		}
		// Only the bearer check's 401s carry WWW-Authenticate: a refused
		// Steam ticket is a 401 too, and no refresh would change it.
		if resp.Status != http.StatusUnauthorized || retried || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			return resp, nil
		}
		retried = true
		if err := p.refresh(ctx, generation); err != nil {
			return nil, err
		}
	}
}

func (p *Player) call(ctx context.Context, method, path string, body, out any, headers ...string) error {
	resp, err := p.Do(ctx, method, path, body, headers...)
	if err != nil {
		return err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return asError(resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("leadr: decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// bearer is the Player's client sending token and headers.
func (p *Player) bearer(token string, headers []string) *Client {
	c := p.c.WithAPIKey("")
	c.header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		c.header.Set(headers[i], headers[i+1])
	}
	return c
}

// accessToken returns a token that is not due, refreshing it first if it
// is, and the generation it belongs to.
func (p *Player) accessToken(ctx context.Context) (string, uint64, error) {
	p.mu.Lock()
	t, ended := p.tokens, p.ended
	p.mu.Unlock()
	if ended != nil {
		return "", 0, ended
	}
	if !t.due(p.now()) {
		return t.access, t.generation, nil
	}
	if err := p.refresh(ctx, t.generation); err != nil {
		return "", 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Used even if due again at once: a service whose tokens live under a
	// second must still be usable.
	return p.tokens.access, p.tokens.generation, p.ended
}

// refresh exchanges the refresh token for new tokens unless another call
// did so since the caller read generation seen. A refusal (401: the
// session was revoked, or its refresh token expired or was used twice) ends
// the Player with that error.
func (p *Player) refresh(ctx context.Context, seen uint64) error {
	select {
	case p.refreshing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.refreshing }()
	p.mu.Lock()
	t, ended := p.tokens, p.ended
	p.mu.Unlock()
	if ended != nil {
		return ended
	}
	if t.generation != seen {
		return nil
	}
	// The caller's cancellation does not reach the request: once the
	// service has rotated the refresh token its answer is the only copy of
	// the new one, and the old one, presented again, would revoke the
	// session.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	sent := p.now()
	var r RefreshResponse
	_, err := p.c.call(rctx, http.MethodPost, "/v1/client/sessions/refresh", RefreshRequest{RefreshToken: t.refresh}, &r)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if StatusOf(err) == http.StatusUnauthorized {
			p.tokens = playerTokens{}
			p.ended = err
		}
		return err
	}
	p.tokens = playerTokens{access: r.AccessToken, refresh: r.RefreshToken, accessExpiry: sent.Add(seconds(r.ExpiresIn)),
		lifetime: seconds(r.ExpiresIn), generation: t.generation + 1}
	return nil
}

func (p *Player) setIdentity(i Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.identity = i
}
