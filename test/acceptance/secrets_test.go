package acceptance

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/steamfake"
)

// logSink keeps what the service logs.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

var (
	jwtPattern    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	apiKeyPattern = regexp.MustCompile(`ldr_[A-Za-z0-9_-]{43}`)
	secretPattern = regexp.MustCompile(`whsec_[A-Za-z0-9+/]{20,}`)
)

// TestSecretsNeverLogged runs sign-in, refresh, nonces, Steam and the admin
// endpoints, succeeding and failing, on a service logging at debug level,
// and looks for every credential it handed out or was handed in its logs.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	const accessSecret = "access-token-secret-that-must-never-be-logged-42"
	logs := &logSink{}
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithLogWriter(logs), harness.WithEnv("LEADR_LOG_LEVEL", "debug"),
		harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()), harness.WithEnv("LEADR_ACCESS_TOKEN_SECRET", accessSecret), allowPrivate())
	tenant := harness.NewTenant(t, svc)
	webAPIKey := steamKey()
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(webAPIKey)})
	otherKey := steamKey()
	if _, err := tenant.Client.UpdateGame(t.Context(), tenant.Game.ID, client.UpdateGameRequest{SteamAppID: ptr("570"), SteamWebAPIKey: ptr(otherKey)}); err != nil {
		t.Fatal(err)
	}
	fake.ExpectKey("480", webAPIKey)
	const (
		ticket        = "00c0ffee00c0ffee00c0ffee"
		bannedTicket  = "0badc0de0badc0de"
		refusedTicket = "0dead0dead0dead0"
	)
	fake.Ticket(ticket, steamfake.Player{SteamID: steamfake.SteamID64(4242)})
	fake.Ticket(bannedTicket, steamfake.Player{SteamID: steamfake.SteamID64(4243), PublisherBanned: true})
	fake.Refuse(refusedTicket, 101)

	secrets := map[string]string{
		"superadmin key":        svc.SuperadminKey,
		"tenant key":            tenant.Key.Key,
		"Steam Web API key":     webAPIKey,
		"another Steam key":     otherKey,
		"access token secret":   accessSecret,
		"Steam ticket":          ticket,
		"banned Steam ticket":   bannedTicket,
		"refused Steam ticket":  refusedTicket,
		"invalid refresh token": "not-a-refresh-token-but-secret-all-the-same",
	}
	keep := func(what, v string) {
		secrets[what] = v
		if parts := strings.Split(v, "."); len(parts) == 3 {
			secrets[what+" (signature)"] = parts[2]
		}
	}
	anon := bearer(t, svc, "")

	// Device sign-in, me, nonce, rename, refresh, reuse.
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	keep("access token", s.AccessToken)
	keep("refresh token", s.RefreshToken)
	bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	// The configured secret is the earlier version's: its HS256 tokens are
	// accepted, and neither they nor it are logged.
	view, _ := sessionOf(t, tenant.Client, s.SessionID)
	legacy := hsToken(t, jwt.SigningMethodHS256, []byte(accessSecret), legacyClaims(s, view.ExpiresAt))
	keep("HS256 token of the earlier version", legacy)
	bearer(t, svc, legacy).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	scalar, err := signingKey(t, svc, kidOf(t, s.AccessToken)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for what, enc := range map[string]func([]byte) string{"hex": hex.EncodeToString, "base64url": base64.RawURLEncoding.EncodeToString, "base64": base64.StdEncoding.EncodeToString} {
		secrets["private signing key ("+what+")"] = enc(scalar)
	}
	publishedKeys(t, svc) // read under debug logging too: no private part may reach a log
	n := decode[client.Nonce](t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK))
	keep("nonce", n.NonceValue)
	bearer(t, svc, s.AccessToken, client.NonceHeader, n.NonceValue).Do("PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}).Want(http.StatusOK)
	bearer(t, svc, s.AccessToken, client.NonceHeader, n.NonceValue).Do("PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}).
		Want(http.StatusPreconditionFailed, "Nonce already used")
	unused := decode[client.Nonce](t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK))
	keep("nonce refused for a bad name", unused.NonceValue)
	bearer(t, svc, s.AccessToken, client.NonceHeader, unused.NonceValue).Do("PATCH", "/v1/client/me", map[string]any{"display_name": ""}).
		Want(http.StatusUnprocessableEntity)
	r := checkRefresh(t, refreshWith(t, svc, s.RefreshToken), s.SessionID)
	keep("refreshed access token", r.AccessToken)
	keep("refreshed refresh token", r.RefreshToken)
	refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	refreshWith(t, svc, secrets["invalid refresh token"]).Want(http.StatusUnauthorized, refreshRefused)
	anon.Do("POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": 42}).Want(http.StatusUnprocessableEntity)
	wantBearerRefused(t, bearer(t, svc, r.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)

	// Tampered and misplaced credentials.
	forged := signJWT(t, sha256.New, "a-forger-secret-a-forger-secret-a-forger-secret", map[string]any{"alg": "HS256", "typ": "JWT"},
		map[string]any{"sub": s.Identity.ID, "sid": s.SessionID})
	keep("forged token", forged)
	wantBearerRefused(t, bearer(t, svc, forged).Do("GET", "/v1/client/me", nil), accessRefused)
	wantBearerRefused(t, bearer(t, svc, tenant.Key.Key).Do("GET", "/v1/client/me", nil), accessRefused)
	harness.Over(t, svc.Client(s.AccessToken)).Do("GET", "/v1/identities", nil).Want(http.StatusUnauthorized, "Invalid or expired API key")
	harness.Over(t, svc.Bearer(s.AccessToken)).Do("GET", "/v1/identities", nil).Want(http.StatusUnauthorized, "API key required")

	// Steam: vouched, refused, banned, a key Steam refuses, Steam down, a
	// ticket that is not one.
	st := checkSignIn(t, anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "STEAM", "steam_ticket": ticket}))
	keep("Steam access token", st.AccessToken)
	keep("Steam refresh token", st.RefreshToken)
	steam := func(game, t string) harness.Answer {
		return anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "STEAM", "steam_ticket": t})
	}
	steam(g.ID, refusedTicket).Want(http.StatusUnauthorized, "Invalid Steam ticket")
	steam(g.ID, bannedTicket).Want(http.StatusForbidden, "Steam account is banned")
	steam(tenant.Game.ID, ticket).Want(http.StatusServiceUnavailable, "Steam is unavailable") // its key is not the one Steam expects
	fake.Fail(http.StatusBadGateway)
	steam(g.ID, ticket).Want(http.StatusServiceUnavailable, "Steam is unavailable")
	fake.Fail(0)
	steam(g.ID, "zz"+ticket).Want(http.StatusUnprocessableEntity)
	if reqs := fake.Requests(); len(reqs) == 0 || reqs[0].Key != webAPIKey {
		t.Fatalf("Steam was asked %+v", reqs)
	}

	// The admin side.
	custom := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: tenant.Game.ID, Kind: client.KindCustom, ExternalKey: "custom-" + harness.Unique()})
	studio := checkSignIn(t, harness.Over(t, tenant.Client).Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": custom.ID}))
	keep("studio access token", studio.AccessToken)
	keep("studio refresh token", studio.RefreshToken)
	harness.Over(t, tenant.Client).Do("GET", "/v1/identity-sessions", nil).Want(http.StatusOK)
	harness.Over(t, tenant.Client).Do("DELETE", "/v1/identity-sessions/"+studio.SessionID, nil).Want(http.StatusOK)
	if out := bearer(t, svc, st.AccessToken).Do("DELETE", "/v1/client/sessions/current", nil); out.Status != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", out.Status, out.Body)
	}

	// Webhooks: created, rotated, delivered to, failing; their secrets are
	// in no log, event or delivery log.
	rc := newReceiver(t, func(n int, _ received) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hook := newWebhook(t, tenant.Client, rc.srv.URL, "game.*")
	rotated, err := tenant.Client.RotateWebhookSecret(t.Context(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]string{"webhook secret": hook.Secret, "rotated webhook secret": rotated.Secret} {
		secrets[what] = v
		secrets[what+" (key)"] = strings.TrimPrefix(v, "whsec_")
	}
	harness.NewGame(t, tenant.Client, client.CreateGameRequest{Name: "Hooked"})
	rc.wait(t, 1, 10*time.Second)
	deliveries := harness.Over(t, tenant.Client).Do("GET", "/v1/webhooks/"+hook.ID+"/deliveries", nil).Want(http.StatusOK)
	for what, v := range secrets {
		if strings.Contains(string(deliveries.Body), v) {
			t.Errorf("the %s is in the delivery log", what)
		}
	}

	// Every event the scenario recorded, in every account, as a superadmin
	// reads them: none may hold a secret either.
	recorded, events := followFeed(t, svc.Admin(), "")
	if len(recorded) < 15 {
		t.Fatalf("%d events recorded", len(recorded))
	}
	for what, v := range secrets {
		if strings.Contains(events, v) || strings.Contains(strings.ToLower(events), strings.ToLower(v)) {
			t.Errorf("the %s is in an event", what)
		}
	}
	for _, p := range []*regexp.Regexp{jwtPattern, apiKeyPattern, secretPattern} {
		if m := p.FindString(events); m != "" {
			t.Errorf("an event holds a credential-shaped %q", m)
		}
	}

	text := logs.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	requests := 0
	for _, l := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil {
			t.Fatalf("a log line is not JSON: %q", l)
		}
		if entry["msg"] == "request" {
			requests++
		}
	}
	// The logs were captured: one access-log line per request at least.
	if requests < 30 {
		t.Fatalf("%d request lines in %d lines of logs", requests, len(lines))
	}
	for what, v := range secrets {
		if v == "" {
			t.Fatalf("no %s to look for", what)
		}
		if strings.Contains(text, v) || strings.Contains(strings.ToLower(text), strings.ToLower(v)) {
			t.Errorf("the %s is in the logs", what)
		}
	}
	for _, p := range []*regexp.Regexp{jwtPattern, apiKeyPattern, secretPattern} {
		if m := p.FindString(text); m != "" {
			t.Errorf("the logs hold a credential-shaped %q", m)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", text)
	}
}
