package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
)

// fakeSessions is the client endpoints reduced to what a Player relies on:
// tokens that expire by the wall clock, single-use refresh tokens (reuse
// is counted, not forgiven) and nonces. It lets the tests below control
// what the real service would not let them: when tokens stop working and
// how long a refresh takes.
type fakeSessions struct {
	t   *testing.T
	srv *httptest.Server
	ttl int // expires_in, seconds

	mu        sync.Mutex
	access    map[string]time.Time // token → expiry
	refresh   string
	used      map[string]bool
	nonce     string
	name      string
	n         int
	refreshes int
	reuses    int
	refused   int // 401s of the bearer check
	apiKeys   int // requests that carried an API key
	// refuseAccess makes the bearer check refuse every token; refuseRefresh
	// refuses refreshes, as for a revoked session.
	refuseAccess, refuseRefresh bool
	refreshDelay                time.Duration
	signedOut                   bool
}

func newFakeSessions(t *testing.T, ttl int) *fakeSessions {
	f := &fakeSessions{t: t, ttl: ttl, access: map[string]time.Time{}, used: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSessions) tokens() map[string]any {
	f.n++
	access, refresh := fmt.Sprint("access-", f.n), fmt.Sprint("refresh-", f.n)
	f.access[access] = time.Now().Add(time.Duration(f.ttl) * time.Second)
	f.refresh = refresh
	return map[string]any{"session_id": "ses_1", "access_token": access, "token_type": "Bearer", "expires_in": f.ttl,
		"refresh_token": refresh, "refresh_expires_in": 3600}
}

func (f *fakeSessions) identity() map[string]any {
	return map[string]any{"id": "ide_1", "kind": "DEVICE", "external_key": "device-0001", "display_name": f.name}
}

func (f *fakeSessions) serve(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, body any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	if r.Method == http.MethodPost && r.URL.Path == "/v1/client/sessions/refresh" {
		f.mu.Lock()
		delay := f.refreshDelay
		f.mu.Unlock()
		time.Sleep(delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("leadr-api-key") != "" {
		f.apiKeys++
	}
	route := r.Method + " " + r.URL.Path
	switch route {
	case "POST /v1/client/sessions":
		t := f.tokens()
		t["identity"] = f.identity()
		answer(http.StatusCreated, t)
		return
	case "POST /v1/client/sessions/refresh":
		token, _ := body["refresh_token"].(string)
		switch {
		case f.refuseRefresh || f.signedOut:
			answer(http.StatusUnauthorized, map[string]string{"detail": "Invalid or expired refresh token"})
		case f.used[token]:
			f.reuses++
			answer(http.StatusUnauthorized, map[string]string{"detail": "Invalid or expired refresh token"})
		case token != f.refresh:
			answer(http.StatusUnauthorized, map[string]string{"detail": "Invalid or expired refresh token"})
		default:
			f.used[token] = true
			f.refreshes++
			answer(http.StatusOK, f.tokens())
		}
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	expiry, known := f.access[token]
	if !ok || !known || !time.Now().Before(expiry) || f.refuseAccess || f.signedOut {
		f.refused++
		w.Header().Set("WWW-Authenticate", "Bearer")
		answer(http.StatusUnauthorized, map[string]string{"detail": "Invalid or expired access token"})
		return
	}
	switch route {
	case "GET /v1/client/me":
		answer(http.StatusOK, f.identity())
	case "GET /v1/client/nonce":
		f.nonce = fmt.Sprint("nonce-", f.n)
		answer(http.StatusOK, map[string]any{"nonce_value": f.nonce, "expires_at": time.Now().Add(time.Minute)})
	case "PATCH /v1/client/me":
		if n := r.Header.Get(client.NonceHeader); n == "" || n != f.nonce {
			answer(http.StatusPreconditionFailed, map[string]string{"detail": "Invalid nonce"})
			return
		}
		f.nonce = ""
		f.name, _ = body["display_name"].(string)
		answer(http.StatusOK, f.identity())
	case "DELETE /v1/client/sessions/current":
		f.signedOut = true
		w.WriteHeader(http.StatusNoContent)
	default:
		answer(http.StatusNotFound, map[string]string{"detail": "Not Found"})
	}
}

// counts returns refreshes, reuses and bearer refusals so far.
func (f *fakeSessions) counts() (refreshes, reuses, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes, f.reuses, f.refused
}

func (f *fakeSessions) set(fn func(f *fakeSessions)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSessions) signIn(t *testing.T, opts ...client.Option) *client.Player {
	t.Helper()
	p, err := client.SignIn(t.Context(), f.srv.URL, client.SignInRequest{GameID: "gam_1", Kind: client.KindDevice, ExternalKey: "device-0001"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlayerRefreshesBeforeTheAccessTokenExpires(t *testing.T) {
	f := newFakeSessions(t, 2) // refreshed a second before it expires
	p := f.signIn(t)
	if p.SessionID() != "ses_1" || p.Identity().ID != "ide_1" {
		t.Fatalf("player %s %+v", p.SessionID(), p.Identity())
	}
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, _, _ := f.counts(); refreshes != 0 {
		t.Fatalf("%d refreshes of a fresh token", refreshes)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, reuses, refused := f.counts(); refreshes != 1 || reuses != 0 || refused != 0 {
		t.Fatalf("%d refreshes, %d reuses, %d refusals: want the token refreshed before it was refused", refreshes, reuses, refused)
	}
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, _, _ := f.counts(); refreshes != 1 {
		t.Fatalf("%d refreshes: the new token was refreshed at once", refreshes)
	}
}

func TestPlayerRefreshesOnceWhenItsTokenIsRefused(t *testing.T) {
	f := newFakeSessions(t, 900)
	p := f.signIn(t)
	// The service refuses the token long before the Player expected.
	f.set(func(f *fakeSessions) { clear(f.access) })
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, _, refused := f.counts(); refreshes != 1 || refused != 1 {
		t.Fatalf("%d refreshes, %d refusals", refreshes, refused)
	}
	// Refused again after the refresh: the answer is the 401, not a loop.
	f.set(func(f *fakeSessions) { f.refuseAccess = true })
	_, err := p.Me(t.Context())
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Detail != "Invalid or expired access token" {
		t.Fatalf("%v", err)
	}
	if refreshes, _, refused := f.counts(); refreshes != 2 || refused != 3 {
		t.Fatalf("%d refreshes, %d refusals: want one retry", refreshes, refused)
	}
}

// Of many calls that find the token due at once, one refreshes: a refresh
// token is single use, and a second use would revoke the session.
func TestPlayerRefreshesOneAtATime(t *testing.T) {
	f := newFakeSessions(t, 2)
	p := f.signIn(t)
	f.set(func(f *fakeSessions) { f.refreshDelay = 200 * time.Millisecond })
	time.Sleep(1100 * time.Millisecond)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 20 {
		wg.Go(func() {
			if _, err := p.Me(context.Background()); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if refreshes, reuses, refused := f.counts(); refreshes != 1 || reuses != 0 || refused != 0 || failed.Load() != 0 {
		t.Fatalf("%d refreshes, %d reuses, %d refusals, %d failures", refreshes, reuses, refused, failed.Load())
	}
}

// A caller giving up mid-refresh does not lose the new tokens: the service
// already rotated the old one.
func TestPlayerRefreshOutlivesItsCaller(t *testing.T) {
	f := newFakeSessions(t, 2)
	p := f.signIn(t)
	f.set(func(f *fakeSessions) { f.refreshDelay = 300 * time.Millisecond })
	time.Sleep(1100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Me(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cancelled call: %v", err)
	}
	time.Sleep(350 * time.Millisecond) // the refresh is done on the service's side
	f.set(func(f *fakeSessions) { f.refreshDelay = 0 })
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, reuses, _ := f.counts(); refreshes != 1 || reuses != 0 {
		t.Fatalf("%d refreshes, %d reuses", refreshes, reuses)
	}
}

func TestPlayerRenameSendsANonce(t *testing.T) {
	f := newFakeSessions(t, 900)
	p := f.signIn(t)
	i, err := p.Rename(t.Context(), "Ada")
	if err != nil || i.DisplayName == nil || *i.DisplayName != "Ada" || *p.Identity().DisplayName != "Ada" {
		t.Fatalf("%+v %v", i, err)
	}
	n, err := p.Nonce(t.Context())
	if err != nil || n.NonceValue == "" || n.ExpiresAt.IsZero() {
		t.Fatalf("%+v %v", n, err)
	}
}

func TestPlayerSignOut(t *testing.T) {
	f := newFakeSessions(t, 900)
	p := f.signIn(t)
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, before := f.counts()
	if _, err := p.Me(t.Context()); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("after sign-out: %v", err)
	}
	if _, _, after := f.counts(); after != before {
		t.Fatal("a signed-out player still calls")
	}
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
	if _, err := client.New("http://127.0.0.1:1").Player(client.SignInResponse{AccessToken: "x", ExpiresIn: 900}).Me(t.Context()); err == nil || client.StatusOf(err) != 0 {
		t.Fatalf("an unreachable service: %v", err)
	}
}

// A session the service ended (revoked, or its refresh token expired)
// ends the Player: its calls fail at once with the refusal.
func TestPlayerEndsWithItsSession(t *testing.T) {
	f := newFakeSessions(t, 900)
	p := f.signIn(t)
	f.set(func(f *fakeSessions) { f.refuseAccess, f.refuseRefresh = true, true })
	_, err := p.Me(t.Context())
	if e := (*client.Error)(nil); !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Detail != "Invalid or expired refresh token" {
		t.Fatalf("%v", err)
	}
	_, _, before := f.counts()
	if _, err2 := p.Me(t.Context()); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("the second call: %v", err2)
	}
	if _, _, after := f.counts(); after != before {
		t.Fatal("an ended player still calls")
	}
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatalf("signing out of an ended session: %v", err)
	}
}

func TestPlayerSendsNoAPIKeyAndPrintsNoToken(t *testing.T) {
	f := newFakeSessions(t, 900)
	c := client.New(f.srv.URL, client.WithAPIKey("ldr_secret"))
	p, err := c.SignIn(t.Context(), client.SignInRequest{GameID: "gam_1", Kind: client.KindDevice, ExternalKey: "device-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Rename(t.Context(), "Ada"); err != nil {
		t.Fatal(err)
	}
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	keys := f.apiKeys
	f.mu.Unlock()
	if keys != 0 {
		t.Fatalf("%d requests of the player carried the API key", keys)
	}
	s := client.SignInResponse{SessionID: "ses_1", AccessToken: "secret-access", RefreshToken: "secret-refresh"}
	r := client.RefreshResponse{SessionID: "ses_1", AccessToken: "secret-access", RefreshToken: "secret-refresh"}
	if out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", s, s, s, s, r, r, r); strings.Contains(out, "secret") {
		t.Fatalf("printed: %s", out)
	}
	if out := fmt.Sprintf("%v %+v %#v", p, p, p); strings.Contains(out, "access-") || strings.Contains(out, "refresh-") {
		t.Fatalf("printed: %s", out)
	}
}
