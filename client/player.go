package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
//
// A game that keeps its session across restarts gives WithSessionStore and
// later calls ResumePlayer with the refresh token it saved last.
type Player struct {
	c         *Client // without an API key
	sessionID string
	now       func() time.Time
	save      func(SavedSession) // nil: nothing is saved
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
	refreshExpiry   time.Time
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

// SavedSession is what a game keeps to resume its session after a restart
// (see ResumePlayer). Only the latest one is worth keeping: its refresh
// token is single use, and an older one, presented again, revokes the
// session. String and GoString leave the token out, so that printing one
// does not leak it; encoding/json keeps it, since storing it is the point.
type SavedSession struct {
	SessionID    string `json:"session_id"`
	RefreshToken string `json:"refresh_token"`
	// RefreshExpiresAt is when the token expires, by this machine's clock:
	// past it, sign in again rather than resume.
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
}

func (s SavedSession) String() string {
	return fmt.Sprintf("{session %s, refresh token [redacted], expires %s}", s.SessionID, s.RefreshExpiresAt.Format(time.RFC3339))
}

func (s SavedSession) GoString() string { return "client.SavedSession" + s.String() }

// PlayerOption configures a Player. It is not an Option: a store belongs
// to one player's session, and a Client may sign in many.
type PlayerOption func(*Player)

// WithSessionStore has the Player call save with its session whenever its
// refresh token changes: once it holds a session (signed in, given one, or
// resumed) and after every rotation, before the call that refreshed
// returns. save runs synchronously, one call at a time and in order, while
// no other refresh can start, so that what it saved last is always the
// token the service expects; polling the Player instead could miss a
// rotation between a poll and a crash. A rotation the service made is
// never undone, so save has no error to return: a game whose write failed
// has an older token on disk, and resuming with it revokes the session
// (the game signs in again). save must not call the Player.
func WithSessionStore(save func(SavedSession)) PlayerOption {
	return func(p *Player) { p.save = save }
}

// SignIn signs a game client in (POST /v1/client/sessions) with the service
// at baseURL. Of opts, WithHTTPClient and WithHeader apply; an API key is
// never sent. To save the session, sign in with
// New(baseURL, opts...).SignIn(ctx, req, WithSessionStore(save)).
func SignIn(ctx context.Context, baseURL string, req SignInRequest, opts ...Option) (*Player, error) {
	return New(baseURL, opts...).SignIn(ctx, req)
}

// SignIn signs a game client in through c's transport and headers, but not
// its API key: client endpoints take none.
func (c *Client) SignIn(ctx context.Context, req SignInRequest, opts ...PlayerOption) (*Player, error) {
	anon := c.WithAPIKey("")
	sent := time.Now()
	var s SignInResponse
	if _, err := anon.call(ctx, http.MethodPost, "/v1/client/sessions", req, &s); err != nil {
		return nil, err
	}
	return newPlayer(anon, s, sent, opts), nil
}

// Player returns a Player holding a session that was signed in elsewhere:
// the answer of CreateIdentitySession, which a studio's backend hands to
// its game client. Its expiries are counted from now.
//
// Give it a fresh answer only, never one kept from an earlier run: once the
// session has refreshed, the answer's refresh token is spent, and the
// Player's first refresh with it revokes the session. To resume a session,
// save it with WithSessionStore and call ResumePlayer.
func (c *Client) Player(s SignInResponse, opts ...PlayerOption) *Player {
	return newPlayer(c.WithAPIKey(""), s, time.Now(), opts)
}

// ResumePlayer resumes a session saved earlier (see WithSessionStore) with
// the service at baseURL; of opts, WithHTTPClient and WithHeader apply.
// save receives the session from then on, as with WithSessionStore.
func ResumePlayer(ctx context.Context, baseURL, refreshToken string, save func(SavedSession), opts ...Option) (*Player, error) {
	return New(baseURL, opts...).ResumePlayer(ctx, refreshToken, save)
}

// ResumePlayer resumes a session with the refresh token saved last, after
// a restart: it refreshes at once (the access token of the earlier run is
// not kept), hands the rotated token to save, which then receives the
// session as WithSessionStore's save does, and reads the player's identity
// (GET /v1/client/me) so that Identity answers as after SignIn. save is
// required: without it the rotated token would live in this Player only,
// and the session could not be resumed again.
//
// refreshToken must be the latest the session was given. An older one was
// rotated already: the service takes it for a stolen copy, revokes the
// session and answers 401, as it does to the token of a session revoked or
// expired. On a 401, sign in again. If the refresh worked
// but reading the identity did not, save has the new token already, and
// resuming again with it works.
func (c *Client) ResumePlayer(ctx context.Context, refreshToken string, save func(SavedSession)) (*Player, error) {
	if save == nil {
		return nil, errors.New("leadr: ResumePlayer needs a save function for the rotated refresh token")
	}
	// A call given up before it began must not rotate: refresh sends its
	// request whatever becomes of ctx.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	anon := c.WithAPIKey("")
	r, sent, err := exchange(ctx, anon, refreshToken, time.Now)
	if err != nil {
		return nil, err
	}
	p := newPlayer(anon, SignInResponse{SessionID: r.SessionID, AccessToken: r.AccessToken, TokenType: r.TokenType,
		ExpiresIn: r.ExpiresIn, RefreshToken: r.RefreshToken, RefreshExpiresIn: r.RefreshExpiresIn}, sent, []PlayerOption{WithSessionStore(save)})
	if _, err := p.Me(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlayer saves the session at once: no one else has the Player yet, so
// nothing can refresh before it.
func newPlayer(c *Client, s SignInResponse, sent time.Time, opts []PlayerOption) *Player {
	p := &Player{c: c, sessionID: s.SessionID, now: time.Now, refreshing: make(chan struct{}, 1), identity: Identity{Identity: s.Identity}}
	for _, o := range opts {
		o(p)
	}
	p.tokens = playerTokens{access: s.AccessToken, refresh: s.RefreshToken,
		accessExpiry: sent.Add(seconds(s.ExpiresIn)), lifetime: seconds(s.ExpiresIn),
		refreshExpiry: sent.Add(seconds(s.RefreshExpiresIn))}
	p.saveTokens(p.tokens)
	return p
}

// saveTokens hands t to the store, if any. Its callers hold the refresh
// token (p.refreshing) or have not published p, so that saves never
// overtake each other.
func (p *Player) saveTokens(t playerTokens) {
	if p.save != nil {
		p.save(SavedSession{SessionID: p.sessionID, RefreshToken: t.refresh, RefreshExpiresAt: t.refreshExpiry})
	}
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

// Link proves another credential of the player (a device ID, or a Steam
// ticket) and makes its identity one of the player's: it gets a nonce, then
// sends POST /v1/client/me/identities. It reports whether the identity was
// created (false: it was the player's already, or came with a merge). An
// identity of another player is a 409 (its body an IdentityOfOtherPlayer)
// unless req.Merge, which moves every identity of that player into this
// one.
func (p *Player) Link(ctx context.Context, req ClientLinkRequest) (Identity, bool, error) {
	n, err := p.Nonce(ctx)
	if err != nil {
		return Identity{}, false, err
	}
	const path = "/v1/client/me/identities"
	resp, err := p.Do(ctx, http.MethodPost, path, req, NonceHeader, n.NonceValue)
	if err != nil {
		return Identity{}, false, err
	}
	var i Identity
	if err := decode(resp, http.MethodPost, path, &i); err != nil {
		return Identity{}, false, err
	}
	i.ETag = resp.Header.Get("ETag")
	return i, resp.Status == http.StatusCreated, nil
}

// Unlink takes one of the player's other identities out into a new player
// of its own (the session's own identity cannot go), and returns it.
func (p *Player) Unlink(ctx context.Context, identityID string) (Identity, error) {
	n, err := p.Nonce(ctx)
	if err != nil {
		return Identity{}, err
	}
	path := "/v1/client/me/identities/" + url.PathEscape(identityID)
	resp, err := p.Do(ctx, http.MethodDelete, path, nil, NonceHeader, n.NonceValue)
	if err != nil {
		return Identity{}, err
	}
	var i Identity
	if err := decode(resp, http.MethodDelete, path, &i); err != nil {
		return Identity{}, err
	}
	i.ETag = resp.Header.Get("ETag")
	return i, nil
}

// ErrAccountDeleted is what a Player answers once it deleted its account.
var ErrAccountDeleted = errors.New("leadr: the player deleted its account")

// DeleteAccount deletes the player (DELETE /v1/client/me/player), the
// in-app account deletion that app stores require: its identities go and
// its sessions, this one included, are revoked; the studio can restore it
// until PurgeAfter, then it is erased for good. The Player forgets its
// tokens and answers ErrAccountDeleted from then on.
func (p *Player) DeleteAccount(ctx context.Context) (PlayerResponse, error) {
	n, err := p.Nonce(ctx)
	if err != nil {
		return PlayerResponse{}, err
	}
	var deleted PlayerResponse
	if err := p.call(ctx, http.MethodDelete, "/v1/client/me/player", nil, &deleted, NonceHeader, n.NonceValue); err != nil {
		return PlayerResponse{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = playerTokens{}
	p.ended = ErrAccountDeleted
	return deleted, nil
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
	return decode(resp, method, path, out)
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

// AccessToken is the session's access token, refreshed first if it is
// about to expire: for the studio's own services (a leaderboard, a
// matchmaker), which check it with package verifier. Ask for it before each
// call rather than keeping it: it lives minutes. The Player's own calls
// need none of this.
func (p *Player) AccessToken(ctx context.Context) (string, error) {
	token, _, err := p.accessToken(ctx)
	return token, err
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
// session was revoked, reached its maximum age, or its refresh token
// expired or was used twice) ends the Player with that error.
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
	r, sent, err := exchange(ctx, p.c, t.refresh, p.now)
	p.mu.Lock()
	if err != nil {
		if StatusOf(err) == http.StatusUnauthorized {
			p.tokens = playerTokens{}
			p.ended = err
		}
		p.mu.Unlock()
		return err
	}
	// A SignOut while the request was out forgot the tokens for good: the
	// new ones are of a revoked session, not worth keeping or saving.
	if ended := p.ended; ended != nil {
		p.mu.Unlock()
		return ended
	}
	p.tokens = playerTokens{access: r.AccessToken, refresh: r.RefreshToken, accessExpiry: sent.Add(seconds(r.ExpiresIn)),
		lifetime: seconds(r.ExpiresIn), refreshExpiry: sent.Add(seconds(r.RefreshExpiresIn)), generation: t.generation + 1}
	t = p.tokens
	p.mu.Unlock()
	// Outside p.mu, so that a slow save does not hold up calls that need
	// no refresh; still under p.refreshing, so that saves keep their order.
	p.saveTokens(t)
	return nil
}

// exchange rotates refreshToken (POST /v1/client/sessions/refresh) and
// returns the new tokens and when the request was sent, by now. The
// caller's cancellation does not reach the request: once the service has
// rotated the refresh token its answer is the only copy of the new one, and
// the old one, presented again, would revoke the session.
func exchange(ctx context.Context, c *Client, refreshToken string, now func() time.Time) (RefreshResponse, time.Time, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	sent := now()
	var r RefreshResponse
	_, err := c.call(rctx, http.MethodPost, "/v1/client/sessions/refresh", RefreshRequest{RefreshToken: refreshToken}, &r)
	return r, sent, err
}

func (p *Player) setIdentity(i Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.identity = i
}
