package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// fakeSessions is the client endpoints reduced to what a Player relies on:
// tokens that expire by the wall clock, single-use refresh tokens (reuse
// is counted and, as the service does, revokes the session) and nonces. It lets the tests below control
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
	signedOut, revoked          bool
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
		case f.refuseRefresh || f.signedOut || f.revoked:
			answer(http.StatusUnauthorized, map[string]string{"detail": "Invalid or expired refresh token"})
		case f.used[token]:
			f.reuses++
			f.revoked = true
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
	if !ok || !known || !time.Now().Before(expiry) || f.refuseAccess || f.signedOut || f.revoked {
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

// AccessToken, for the studio's own services, is the token the Player
// uses, refreshed when due as its own calls would.
func TestPlayerAccessToken(t *testing.T) {
	f := newFakeSessions(t, 2)
	p := f.signIn(t)
	first, err := p.AccessToken(t.Context())
	if err != nil || first != "access-1" {
		t.Fatalf("AccessToken = %q, %v", first, err)
	}
	time.Sleep(1100 * time.Millisecond)
	second, err := p.AccessToken(t.Context())
	if refreshes, _, _ := f.counts(); err != nil || second == first || refreshes != 1 {
		t.Fatalf("a due token gave %q (%v) after %d refreshes", second, err, refreshes)
	}
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	if token, err := p.AccessToken(t.Context()); err == nil || token != "" {
		t.Fatalf("after sign-out AccessToken = %q, %v", token, err)
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
	saved := client.SavedSession{SessionID: "ses_1", RefreshToken: "secret-refresh", RefreshExpiresAt: time.Now()}
	nested := struct{ S client.SavedSession }{saved}
	if out := fmt.Sprintf("%v %+v %#v %s %v %+v", saved, saved, saved, saved, nested, nested); strings.Contains(out, "secret") || !strings.Contains(out, "ses_1") {
		t.Fatalf("printed: %s", out)
	}
	// Stored, it keeps the token: storing it is what it is for.
	if b, err := json.Marshal(saved); err != nil || !strings.Contains(string(b), `"refresh_token":"secret-refresh"`) {
		t.Fatalf("encoded: %s %v", b, err)
	}
}

// savedSessions is a game's disk: what a Player saved, in order.
type savedSessions struct {
	mu    sync.Mutex
	saved []client.SavedSession
}

func (s *savedSessions) save(saved client.SavedSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = append(s.saved, saved)
}

// tokens are the refresh tokens saved so far.
func (s *savedSessions) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tokens []string
	for _, saved := range s.saved {
		tokens = append(tokens, saved.RefreshToken)
	}
	return tokens
}

// last is what a game restarting now would read.
func (s *savedSessions) last(t *testing.T) client.SavedSession {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) == 0 {
		t.Fatal("nothing saved")
	}
	return s.saved[len(s.saved)-1]
}

func (f *fakeSessions) current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refresh
}

// Every refresh token the fake hands out is saved before the call that
// got it returns, once, in order: at sign-in, on a due token, on a refused
// one, and once for many calls that found it due together.
func TestPlayerSavesEveryRotation(t *testing.T) {
	f := newFakeSessions(t, 2)
	var disk savedSessions
	before := time.Now()
	p, err := client.New(f.srv.URL).SignIn(t.Context(), client.SignInRequest{GameID: "gam_1", Kind: client.KindDevice, ExternalKey: "device-0001"},
		client.WithSessionStore(disk.save))
	if err != nil {
		t.Fatal(err)
	}
	first := disk.last(t)
	if got := disk.tokens(); len(got) != 1 || first.SessionID != "ses_1" || first.RefreshToken != "refresh-1" ||
		first.RefreshExpiresAt.Before(before.Add(time.Hour)) || first.RefreshExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Fatalf("saved at sign-in: %v %+v", got, first)
	}

	time.Sleep(1100 * time.Millisecond)
	f.set(func(f *fakeSessions) { f.refreshDelay = 100 * time.Millisecond })
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := p.Me(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f.set(func(f *fakeSessions) { f.refreshDelay = 0 })
	if got := disk.tokens(); len(got) != 2 || got[1] != "refresh-2" || got[1] != f.current() {
		t.Fatalf("saved %v, the service expects %s", got, f.current())
	}

	f.set(func(f *fakeSessions) { clear(f.access) })
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := disk.tokens(); len(got) != 3 || got[2] != f.current() {
		t.Fatalf("after a refusal: saved %v, the service expects %s", got, f.current())
	}
	if refreshes, reuses, _ := f.counts(); refreshes != 2 || reuses != 0 {
		t.Fatalf("%d refreshes, %d reuses", refreshes, reuses)
	}
	if err := p.SignOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := disk.tokens(); len(got) != 3 {
		t.Fatalf("saved after sign-out: %v", got)
	}

	// A session handed over by a studio's backend is saved at once too.
	var handed savedSessions
	client.New(f.srv.URL).Player(client.SignInResponse{SessionID: "ses_2", AccessToken: "a", ExpiresIn: 900, RefreshToken: "given", RefreshExpiresIn: 60},
		client.WithSessionStore(handed.save))
	if got := handed.last(t); got.SessionID != "ses_2" || got.RefreshToken != "given" {
		t.Fatalf("saved %+v", got)
	}
}

// A game restarts with the token it saved last and carries on in the same
// session; restarting with an older one revokes the session, as the
// service does with a token presented twice.
func TestResumePlayer(t *testing.T) {
	f := newFakeSessions(t, 2)
	var disk savedSessions
	p, err := client.New(f.srv.URL).SignIn(t.Context(), client.SignInRequest{GameID: "gam_1", Kind: client.KindDevice, ExternalKey: "device-0001"},
		client.WithSessionStore(disk.save))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Rename(t.Context(), "Ada"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	stale := disk.last(t) // refresh-2; the resume below rotates it

	// The restart: p is gone without signing out.
	resumed, err := client.ResumePlayer(t.Context(), f.srv.URL, stale.RefreshToken, disk.save)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.SessionID() != "ses_1" || resumed.Identity().ID != "ide_1" || *resumed.Identity().DisplayName != "Ada" {
		t.Fatalf("resumed %s %+v", resumed.SessionID(), resumed.Identity())
	}
	if got := disk.tokens(); len(got) != 3 || got[2] != f.current() {
		t.Fatalf("saved %v, the service expects %s", got, f.current())
	}
	if _, err := resumed.Rename(t.Context(), "Ada L."); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := resumed.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if refreshes, reuses, refused := f.counts(); refreshes != 3 || reuses != 0 || refused != 0 || disk.last(t).RefreshToken != f.current() {
		t.Fatalf("%d refreshes, %d reuses, %d refusals; saved %v", refreshes, reuses, refused, disk.tokens())
	}

	// A game restarting with a token it should have replaced.
	var other savedSessions
	_, err = client.New(f.srv.URL).ResumePlayer(t.Context(), stale.RefreshToken, other.save)
	if client.StatusOf(err) != http.StatusUnauthorized || len(other.tokens()) != 0 {
		t.Fatalf("resumed with a rotated token: %v, saved %v", err, other.tokens())
	}
	if _, reuses, _ := f.counts(); reuses != 1 {
		t.Fatalf("%d reuses", reuses)
	}
	// The session is revoked: its latest token and its Player fail too.
	if _, err := client.ResumePlayer(t.Context(), f.srv.URL, disk.last(t).RefreshToken, other.save); client.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("resumed a revoked session: %v", err)
	}
	if _, err := resumed.Me(t.Context()); client.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("the player of a revoked session: %v", err)
	}
	if len(other.tokens()) != 0 {
		t.Fatalf("saved %v", other.tokens())
	}
}

func TestResumePlayerRefusesToLoseTheToken(t *testing.T) {
	f := newFakeSessions(t, 900)
	p := f.signIn(t)
	c := client.New(f.srv.URL)
	if _, err := c.ResumePlayer(t.Context(), "refresh-1", nil); err == nil {
		t.Fatal("resumed with nowhere to save the rotated token")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var disk savedSessions
	if _, err := c.ResumePlayer(ctx, "refresh-1", disk.save); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled resume: %v", err)
	}
	if refreshes, _, _ := f.counts(); refreshes != 0 || len(disk.tokens()) != 0 {
		t.Fatalf("%d refreshes, saved %v", refreshes, disk.tokens())
	}
	// The token was never presented: the signed-in Player still refreshes.
	f.set(func(f *fakeSessions) { clear(f.access) })
	if _, err := p.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Save and resume against the real service: a game signs in, keeps every
// token it is given, restarts from what it saved and goes on in the same
// session; a copy of the game restarting from an older token gets a 401
// and revokes the session for both.
func TestResumePlayerAgainstTheService(t *testing.T) {
	svc := harness.StartService(t, harness.WithDatabaseURL("sqlite:"+filepath.Join(t.TempDir(), "leadr.db")),
		harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", "4s"))
	tenant := harness.NewTenant(t, svc)
	ctx := t.Context()
	var disk savedSessions
	p, err := svc.Anonymous().SignIn(ctx, client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: "device-" + harness.Unique()},
		client.WithSessionStore(disk.save))
	if err != nil {
		t.Fatal(err)
	}
	if s := disk.last(t); s.SessionID != p.SessionID() || s.RefreshToken == "" || time.Until(s.RefreshExpiresAt) < time.Hour {
		t.Fatalf("saved at sign-in: %v", s)
	}
	if _, err := p.Rename(ctx, "Ada"); err != nil {
		t.Fatal(err)
	}
	// Past the half of its access token's life: the next call rotates.
	time.Sleep(2100 * time.Millisecond)
	if _, err := p.Me(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := disk.tokens()
	if len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Fatalf("saved %d tokens, want the sign-in's and the rotation's", len(tokens))
	}

	// The restart, through the client that checks every answer against
	// the OpenAPI document.
	resumed, err := svc.Anonymous().ResumePlayer(ctx, disk.last(t).RefreshToken, disk.save)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.SessionID() != p.SessionID() || resumed.Identity().ID != p.Identity().ID || *resumed.Identity().DisplayName != "Ada" {
		t.Fatalf("resumed %s %+v", resumed.SessionID(), resumed.Identity())
	}
	if me, err := resumed.Rename(ctx, "Ada L."); err != nil || *me.DisplayName != "Ada L." {
		t.Fatalf("rename after the restart: %+v %v", me, err)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := resumed.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(disk.tokens()); n != 4 {
		t.Fatalf("saved %d tokens, want two more: the resume's and a rotation's", n)
	}
	// A second restart from what was saved last works as the first did.
	again, err := svc.Anonymous().ResumePlayer(ctx, disk.last(t).RefreshToken, disk.save)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := tenant.Client.GetIdentitySession(ctx, p.SessionID()); err != nil || s.RevokedAt != nil {
		t.Fatalf("the session after two restarts: %+v %v", s, err)
	}

	// Restarting from an older token: 401, and the session is revoked.
	var copied savedSessions
	_, err = client.ResumePlayer(ctx, svc.URL, tokens[1], copied.save)
	if client.StatusOf(err) != http.StatusUnauthorized || len(copied.tokens()) != 0 {
		t.Fatalf("resumed with a rotated token: %v, saved %d", err, len(copied.tokens()))
	}
	if s, err := tenant.Client.GetIdentitySession(ctx, p.SessionID()); err != nil || s.RevokedAt == nil {
		t.Fatalf("the session after a rotated token came back: %+v %v", s, err)
	}
	if _, err := svc.Anonymous().ResumePlayer(ctx, disk.last(t).RefreshToken, copied.save); client.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("resumed a revoked session with its latest token: %v", err)
	}
	if _, err := again.Me(ctx); client.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("the player of a revoked session: %v", err)
	}
}
