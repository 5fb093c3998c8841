package acceptance

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/steamfake"
)

// The exact keys of the answers of section 7 and 8 of the contract.
var (
	signInKeys  = []string{"session_id", "identity", "access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
	refreshKeys = []string{"session_id", "access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
	sessionKeys = []string{"id", "identity_id", "account_id", "game_id", "expires_at", "refresh_expires_at", "revoked_at", "created_at", "updated_at"}
	nonceKeys   = []string{"nonce_value", "expires_at"}
)

const (
	refreshRefused = "Invalid or expired refresh token"
	accessRefused  = "Invalid or expired access token"
	accessRequired = "Access token required"
)

// wantKeys fails t unless the body's keys are exactly keys.
func wantKeys(t *testing.T, a harness.Answer, keys ...string) {
	t.Helper()
	var got []string
	for k := range a.JSON {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v: %s", got, want, a.Body)
	}
}

// decode reads an answer's body into a T.
func decode[T any](t *testing.T, a harness.Answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", a.Body, err)
	}
	return v
}

// bearer is a Wire sending the access token token (none when empty) and
// headers, as name, value pairs, and no API key.
func bearer(t *testing.T, svc *harness.Service, token string, headers ...string) harness.Wire {
	t.Helper()
	var opts []client.Option
	for i := 0; i+1 < len(headers); i += 2 {
		opts = append(opts, client.WithHeader(headers[i], headers[i+1]))
	}
	return harness.Over(t, svc.Bearer(token, opts...))
}

// wantBearerRefused fails t unless a is the bearer check's 401 with detail
// and WWW-Authenticate: Bearer.
func wantBearerRefused(t *testing.T, a harness.Answer, detail string) {
	t.Helper()
	a.Want(http.StatusUnauthorized, detail)
	if h := a.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Fatalf("%d %s: WWW-Authenticate %q, want Bearer", a.Status, a.Body, h)
	}
}

// checkSignIn checks a 201 holding a new session, as the contract writes
// it, with the default lifetimes unless others are given, and decodes it.
func checkSignIn(t *testing.T, a harness.Answer, lifetimes ...int) client.SignInResponse {
	t.Helper()
	a.Want(http.StatusCreated)
	wantKeys(t, a, signInKeys...)
	access, refresh := 900, 2592000
	if len(lifetimes) == 2 {
		access, refresh = lifetimes[0], lifetimes[1]
	}
	s := decode[client.SignInResponse](t, a)
	if !strings.HasPrefix(s.SessionID, "ses_") || s.TokenType != "Bearer" || s.ExpiresIn != access || s.RefreshExpiresIn != refresh ||
		s.AccessToken == "" || s.RefreshToken == "" || s.AccessToken == s.RefreshToken || !strings.HasPrefix(s.Identity.ID, "ide_") {
		t.Fatalf("sign-in answer: %s", a.Body)
	}
	if ttl, ok := a.JSON["expires_in"].(float64); !ok || ttl != float64(access) {
		t.Fatalf("expires_in is %v", a.JSON["expires_in"])
	}
	if a.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("an answer holding tokens has Cache-Control %q", a.Header.Get("Cache-Control"))
	}
	if loc := a.Header.Get("Location"); loc != "/v1/identity-sessions/"+s.SessionID {
		t.Fatalf("Location %q", loc)
	}
	return s
}

// signIn signs a game client in, anonymously, and checks the answer.
func signIn(t *testing.T, svc *harness.Service, body map[string]any) client.SignInResponse {
	t.Helper()
	return checkSignIn(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions", body))
}

func deviceSignIn(t *testing.T, svc *harness.Service, game, device string) client.SignInResponse {
	t.Helper()
	return signIn(t, svc, map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device})
}

func newDevice() string { return "device-" + harness.Unique() }

func refreshWith(t *testing.T, svc *harness.Service, token string) harness.Answer {
	t.Helper()
	return bearer(t, svc, "").Do("POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": token})
}

func checkRefresh(t *testing.T, a harness.Answer, sessionID string) client.RefreshResponse {
	t.Helper()
	a.Want(http.StatusOK)
	wantKeys(t, a, refreshKeys...)
	r := decode[client.RefreshResponse](t, a)
	if r.SessionID != sessionID || r.TokenType != "Bearer" || r.ExpiresIn != 900 || r.RefreshExpiresIn != 2592000 ||
		r.AccessToken == "" || r.RefreshToken == "" {
		t.Fatalf("refresh answer: %s", a.Body)
	}
	if a.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("an answer holding tokens has Cache-Control %q", a.Header.Get("Cache-Control"))
	}
	return r
}

// sessionOf reads a session through the admin endpoint and checks its shape.
func sessionOf(t *testing.T, c *client.Client, id string) (client.IdentitySession, harness.Answer) {
	t.Helper()
	a := harness.Over(t, c).Do("GET", "/v1/identity-sessions/"+id, nil).Want(http.StatusOK)
	wantKeys(t, a, sessionKeys...)
	return decode[client.IdentitySession](t, a), a
}

func near(got, want time.Time, slack time.Duration) bool {
	d := got.Sub(want)
	return d > -slack && d < slack
}

func TestSessionFlow(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	game := tenant.Game.ID
	device := newDevice()

	start := time.Now()
	first := signIn(t, svc, map[string]any{"game_id": game, "kind": "DEVICE", "external_key": device, "display_name": " Ada "})
	if i := first.Identity; i.Kind != client.KindDevice || i.ExternalKey != device || i.GameID != game || i.AccountID != tenant.Account.ID ||
		i.DisplayName == nil || *i.DisplayName != "Ada" {
		t.Fatalf("identity %+v", i)
	}
	// The identity is the one POST /v1/identities gets.
	if got, created, err := tenant.Client.CreateIdentity(t.Context(), client.CreateIdentityRequest{GameID: game, Kind: client.KindDevice, ExternalKey: device}); err != nil || created || got.ID != first.Identity.ID {
		t.Fatalf("the signed-in identity is not the account's: %+v created=%v (%v)", got, created, err)
	}
	player := bearer(t, svc, first.AccessToken)

	// me
	me := player.Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	if got := decode[client.Identity](t, me); got.ID != first.Identity.ID || got.ExternalKey != device {
		t.Fatalf("me: %s", me.Body)
	}
	if other := harness.Over(t, tenant.Client).Do("GET", "/v1/identities/"+first.Identity.ID, nil).Want(http.StatusOK); !slices.Equal(sortedKeys(me.JSON), sortedKeys(other.JSON)) {
		t.Fatalf("me %s is not an IdentityResponse like %s", me.Body, other.Body)
	}

	// nonce, then rename with it
	n := player.Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK)
	wantKeys(t, n, nonceKeys...)
	nonce := decode[client.Nonce](t, n)
	if nonce.NonceValue == "" || !near(nonce.ExpiresAt, time.Now().Add(60*time.Second), 5*time.Second) {
		t.Fatalf("nonce %s", n.Body)
	}
	renamed := bearer(t, svc, first.AccessToken, client.NonceHeader, nonce.NonceValue).
		Do("PATCH", "/v1/client/me", map[string]any{"display_name": "  Ada L. "}).Want(http.StatusOK)
	if got := decode[client.Identity](t, renamed); got.ID != first.Identity.ID || got.DisplayName == nil || *got.DisplayName != "Ada L." {
		t.Fatalf("renamed: %s", renamed.Body)
	}
	if got, err := tenant.Client.GetIdentity(t.Context(), first.Identity.ID); err != nil || got.DisplayName == nil || *got.DisplayName != "Ada L." {
		t.Fatalf("the studio sees %+v (%v)", got, err)
	}

	// The admin view of the new session.
	before, _ := sessionOf(t, tenant.Client, first.SessionID)
	if before.IdentityID != first.Identity.ID || before.AccountID != tenant.Account.ID || before.GameID != game || before.RevokedAt != nil ||
		!near(before.CreatedAt, start, time.Minute) || !near(before.ExpiresAt, before.CreatedAt.Add(15*time.Minute), 2*time.Second) ||
		!near(before.RefreshExpiresAt, before.CreatedAt.Add(720*time.Hour), 2*time.Second) {
		t.Fatalf("session %+v", before)
	}

	// refresh: new tokens, no identity; the presented token stops working.
	time.Sleep(1100 * time.Millisecond) // the new access token's expiry is later by whole seconds
	r := checkRefresh(t, refreshWith(t, svc, first.RefreshToken), first.SessionID)
	if r.RefreshToken == first.RefreshToken || r.AccessToken == first.AccessToken {
		t.Fatal("a refresh handed out the same tokens")
	}
	bearer(t, svc, r.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	if after, _ := sessionOf(t, tenant.Client, first.SessionID); !after.ExpiresAt.After(before.ExpiresAt) || !after.UpdatedAt.After(before.UpdatedAt) || after.RevokedAt != nil {
		t.Fatalf("after a refresh the session is %+v, was %+v", after, before)
	}

	// The old refresh token is refused, and presenting it revoked the
	// session: the newest tokens stop working too.
	refreshWith(t, svc, first.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	refreshWith(t, svc, r.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	wantBearerRefused(t, bearer(t, svc, r.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
	wantBearerRefused(t, bearer(t, svc, first.AccessToken).Do("GET", "/v1/client/nonce", nil), accessRefused)

	// The admin lists it, revoked.
	page := harness.Over(t, tenant.Client).Do("GET", "/v1/identity-sessions?account_id="+tenant.Account.ID+"&identity_id="+first.Identity.ID, nil).Want(http.StatusOK)
	listed := decode[client.Page[client.IdentitySession]](t, page)
	if len(listed.Data) != 1 || listed.Data[0].ID != first.SessionID || listed.Data[0].RevokedAt == nil ||
		!near(*listed.Data[0].RevokedAt, time.Now(), time.Minute) {
		t.Fatalf("listed %s", page.Body)
	}
	for _, item := range page.JSON["data"].([]any) {
		if got := sortedKeys(item.(map[string]any)); !slices.Equal(got, slices.Sorted(slices.Values(sessionKeys))) {
			t.Fatalf("a listed session has keys %v", got)
		}
	}

	// Signing in again with the device ID: the same identity, a new session.
	second := deviceSignIn(t, svc, game, device)
	if second.Identity.ID != first.Identity.ID || second.SessionID == first.SessionID || second.Identity.DisplayName == nil || *second.Identity.DisplayName != "Ada L." {
		t.Fatalf("second sign-in: %v %+v", second, second.Identity)
	}
	bearer(t, svc, second.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	for _, q := range []client.ListIdentitySessionsParams{{IdentityID: first.Identity.ID}, {AccountID: tenant.Account.ID}, {}} {
		var got []string
		for s, err := range tenant.Client.IdentitySessions(t.Context(), q) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s.ID)
		}
		// The newest first.
		if !slices.Equal(got, []string{second.SessionID, first.SessionID}) {
			t.Fatalf("sessions %+v: %v", q, got)
		}
	}

	// The admin revokes it: 200 with revoked_at, again 200 unchanged.
	revoked := harness.Over(t, tenant.Client).Do("DELETE", "/v1/identity-sessions/"+second.SessionID, nil).Want(http.StatusOK)
	wantKeys(t, revoked, sessionKeys...)
	if s := decode[client.IdentitySession](t, revoked); s.ID != second.SessionID || s.RevokedAt == nil {
		t.Fatalf("revoked: %s", revoked.Body)
	}
	time.Sleep(5 * time.Millisecond)
	if again := harness.Over(t, tenant.Client).Do("DELETE", "/v1/identity-sessions/"+second.SessionID, nil).Want(http.StatusOK); string(again.Body) != string(revoked.Body) {
		t.Fatalf("revoked again: %s, was %s", again.Body, revoked.Body)
	}
	if _, got := sessionOf(t, tenant.Client, second.SessionID); string(got.Body) != string(revoked.Body) {
		t.Fatalf("read after revocation: %s, was %s", got.Body, revoked.Body)
	}
	wantBearerRefused(t, bearer(t, svc, second.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
	refreshWith(t, svc, second.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)

	t.Run("sign out", func(t *testing.T) {
		s := deviceSignIn(t, svc, game, device)
		out := bearer(t, svc, s.AccessToken).Do("DELETE", "/v1/client/sessions/current", nil)
		if out.Status != http.StatusNoContent || len(out.Body) != 0 {
			t.Fatalf("sign out: %d %s", out.Status, out.Body)
		}
		wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
		wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("DELETE", "/v1/client/sessions/current", nil), accessRefused)
		refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
		if got, _ := sessionOf(t, tenant.Client, s.SessionID); got.RevokedAt == nil {
			t.Fatalf("signed out, the session is %+v", got)
		}
	})

	t.Run("the typed Player", func(t *testing.T) {
		p, err := svc.Anonymous().SignIn(t.Context(), client.SignInRequest{GameID: game, Kind: client.KindDevice, ExternalKey: device})
		if err != nil {
			t.Fatal(err)
		}
		if p.Identity().ID != first.Identity.ID || !strings.HasPrefix(p.SessionID(), "ses_") {
			t.Fatalf("player %s %+v", p.SessionID(), p.Identity())
		}
		if i, err := p.Me(t.Context()); err != nil || i.ID != first.Identity.ID {
			t.Fatalf("me %+v (%v)", i, err)
		}
		if i, err := p.Rename(t.Context(), "Ada Lovelace"); err != nil || i.DisplayName == nil || *i.DisplayName != "Ada Lovelace" {
			t.Fatalf("rename %+v (%v)", i, err)
		}
		if err := p.SignOut(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Me(t.Context()); !errors.Is(err, client.ErrSignedOut) {
			t.Fatalf("after signing out: %v", err)
		}
		if got, _ := sessionOf(t, tenant.Client, p.SessionID()); got.RevokedAt == nil {
			t.Fatalf("signed out, the session is %+v", got)
		}
	})

	t.Run("studio sign-in", func(t *testing.T) {
		custom := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: game, Kind: client.KindCustom, ExternalKey: "custom-" + harness.Unique()})
		created := checkSignIn(t, harness.Over(t, tenant.Client).Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": custom.ID}))
		if created.Identity.ID != custom.ID || created.Identity.Kind != client.KindCustom {
			t.Fatalf("studio sign-in: %+v", created.Identity)
		}
		p := svc.Anonymous().Player(created)
		if i, err := p.Me(t.Context()); err != nil || i.ID != custom.ID {
			t.Fatalf("me %+v (%v)", i, err)
		}
		s, err := tenant.Client.CreateIdentitySession(t.Context(), client.CreateIdentitySessionRequest{IdentityID: custom.ID})
		if err != nil || s.SessionID == created.SessionID {
			t.Fatalf("another studio sign-in: %v (%v)", s, err)
		}
		if got, err := tenant.Client.GetIdentitySession(t.Context(), s.SessionID); err != nil || got.IdentityID != custom.ID || got.RevokedAt != nil {
			t.Fatalf("get %+v (%v)", got, err)
		}
		if got, err := tenant.Client.RevokeIdentitySession(t.Context(), s.SessionID); err != nil || got.RevokedAt == nil {
			t.Fatalf("revoke %+v (%v)", got, err)
		}
		w := harness.Over(t, tenant.Client)
		w.Do("GET", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000000", nil).Want(http.StatusNotFound, "Session not found")
		w.Do("DELETE", "/v1/identity-sessions/ses_0195f2a0-0000-7000-8000-000000000000", nil).Want(http.StatusNotFound, "Session not found")
		w.Do("GET", "/v1/identity-sessions/ide_0195f2a0-0000-7000-8000-000000000000", nil).Problem("value_error", "path", "session_id")
		w.Do("POST", "/v1/identity-sessions", map[string]any{}).Problem("missing", "body", "identity_id")
		w.Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": "ide_0195f2a0-0000-7000-8000-000000000000"}).Want(http.StatusNotFound, "Identity not found")
	})

	t.Run("deleting the identity revokes its sessions", func(t *testing.T) {
		d := newDevice()
		s1, s2 := deviceSignIn(t, svc, game, d), deviceSignIn(t, svc, game, d)
		bearer(t, svc, s1.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		harness.Over(t, tenant.Client).Do("PATCH", "/v1/identities/"+s1.Identity.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
		for _, s := range []client.SignInResponse{s1, s2} {
			wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
			wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/nonce", nil), accessRefused)
			refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
			if got, _ := sessionOf(t, tenant.Client, s.SessionID); got.RevokedAt == nil {
				t.Fatalf("the identity is deleted, its session is %+v", got)
			}
		}
		harness.Over(t, tenant.Client).Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": s1.Identity.ID}).Want(http.StatusNotFound, "Identity not found")
		// Signing in again makes a new identity: the deleted one stays deleted.
		again := deviceSignIn(t, svc, game, d)
		if again.Identity.ID == s1.Identity.ID {
			t.Fatal("a sign-in brought the deleted identity back")
		}
	})

	t.Run("deleting the game revokes its sessions", func(t *testing.T) {
		g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{})
		s := deviceSignIn(t, svc, g.ID, newDevice())
		custom := harness.NewIdentity(t, tenant.Client, client.CreateIdentityRequest{GameID: g.ID, Kind: client.KindCustom, ExternalKey: "custom-" + harness.Unique()})
		studio, err := tenant.Client.CreateIdentitySession(t.Context(), client.CreateIdentitySessionRequest{IdentityID: custom.ID})
		if err != nil {
			t.Fatal(err)
		}
		harness.Over(t, tenant.Client).Do("PATCH", "/v1/games/"+g.ID, map[string]any{"deleted": true}).Want(http.StatusOK)
		for _, s := range []client.SignInResponse{s, studio} {
			wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
			refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
			if got, _ := sessionOf(t, tenant.Client, s.SessionID); got.RevokedAt == nil {
				t.Fatalf("the game is deleted, its session is %+v", got)
			}
		}
		bearer(t, svc, "").Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "DEVICE", "external_key": newDevice()}).
			Want(http.StatusNotFound, "Game not found")
		harness.Over(t, tenant.Client).Do("POST", "/v1/identity-sessions", map[string]any{"identity_id": custom.ID}).Want(http.StatusNotFound, "Game not found")
		// The other game's players are not touched.
		bearer(t, svc, deviceSignIn(t, svc, game, device).AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	})

	t.Run("validation", func(t *testing.T) {
		anon := bearer(t, svc, "")
		anon.Do("POST", "/v1/client/sessions", map[string]any{"kind": "DEVICE", "external_key": newDevice()}).Problem("missing", "body", "game_id")
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "external_key": newDevice()}).Problem("missing", "body", "kind")
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE"}).Problem("missing", "body", "external_key")
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "PHONE", "external_key": newDevice()}).Want(http.StatusUnprocessableEntity)
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": "short"}).Want(http.StatusUnprocessableEntity)
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "DEVICE", "external_key": newDevice(), "display_name": ""}).Want(http.StatusUnprocessableEntity)
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": harness.NewGameID(), "kind": "DEVICE", "external_key": newDevice()}).Want(http.StatusNotFound, "Game not found")
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": game, "kind": "CUSTOM", "external_key": "custom-" + harness.Unique()}).
			Problem("value_error", "body", "kind")
		anon.Do("POST", "/v1/client/sessions/refresh", map[string]any{}).Problem("missing", "body", "refresh_token")
		anon.Do("POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": "not-a-token"}).Want(http.StatusUnauthorized, refreshRefused)
		// 401 before 422 on the client endpoints that need a token.
		wantBearerRefused(t, anon.Do("PATCH", "/v1/client/me", map[string]any{"display_name": ""}), accessRequired)
	})

	t.Run("a 422 never echoes a credential", func(t *testing.T) {
		anon := bearer(t, svc, "")
		const device = "SeCrEt-DeViCe-42"
		for _, body := range []map[string]any{
			{"game_id": game, "kind": "DEVICE", "external_key": device + " x"},      // the device ID refused
			{"kind": "DEVICE", "external_key": device},                              // the whole body echoed
			{"game_id": game, "kind": "STEAM", "steam_ticket": "zz" + device},       // the ticket refused
			{"game_id": "nope", "kind": "DEVICE", "external_key": []string{device}}, // everything wrong
		} {
			if a := anon.Do("POST", "/v1/client/sessions", body).Want(http.StatusUnprocessableEntity); strings.Contains(string(a.Body), device) {
				t.Fatalf("a 422 echoes the credential: %s", a.Body)
			}
		}
		if a := anon.Do("POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": []string{device}}).Want(http.StatusUnprocessableEntity); strings.Contains(string(a.Body), device) {
			t.Fatalf("a 422 echoes the refresh token: %s", a.Body)
		}
	})
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSteamSignIn(t *testing.T) {
	t.Parallel()
	fake := steamfake.New(t)
	svc := harness.StartService(t, harness.WithEnv("LEADR_STEAM_API_URL", fake.URL()))
	tenant := harness.NewTenant(t, svc)
	key := steamKey()
	g := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(key)})
	if !g.SteamConfigured {
		t.Fatalf("game %+v", g)
	}
	fake.ExpectKey("480", key)
	steamID := steamfake.SteamID64(22202)
	fake.Ticket("ABCDEF0123", steamfake.Player{SteamID: steamID})
	fake.Ticket("0badba11", steamfake.Player{SteamID: steamfake.SteamID64(666), PublisherBanned: true})
	fake.Ticket("0ddba11", steamfake.Player{SteamID: steamfake.SteamID64(777), VACBanned: true})
	fake.Refuse("dead01", 101)
	anon := bearer(t, svc, "")
	steam := func(game, ticket string, extra ...any) harness.Answer {
		body := map[string]any{"game_id": game, "kind": "STEAM", "steam_ticket": ticket}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		return anon.Do("POST", "/v1/client/sessions", body)
	}

	// The SteamID comes from Steam, never from the client.
	s := checkSignIn(t, steam(g.ID, "abcdef0123", "external_key", steamfake.SteamID64(1), "display_name", "Gabe"))
	if i := s.Identity; i.Kind != client.KindSteam || i.ExternalKey != steamID || i.GameID != g.ID || i.AccountID != tenant.Account.ID ||
		i.DisplayName == nil || *i.DisplayName != "Gabe" {
		t.Fatalf("identity %+v", i)
	}
	reqs := fake.Requests()
	if last := reqs[len(reqs)-1]; last.AppID != "480" || last.Key != key || !strings.EqualFold(last.Ticket, "abcdef0123") {
		t.Fatalf("Steam was asked %+v", last)
	}
	if again := checkSignIn(t, steam(g.ID, "ABCDEF0123")); again.Identity.ID != s.Identity.ID {
		t.Fatalf("the same ticket signed in %s, then %s", s.Identity.ID, again.Identity.ID)
	}
	if page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{Kind: client.KindSteam, ExternalKey: steamfake.SteamID64(1)}); err != nil || len(page.Data) != 0 {
		t.Fatalf("the client's external_key made an identity: %+v (%v)", page.Data, err)
	}
	bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	// A VAC ban is not a publisher ban.
	checkSignIn(t, steam(g.ID, "0ddba11"))

	t.Run("refused", func(t *testing.T) {
		steam(g.ID, "dead01").Want(http.StatusUnauthorized, "Invalid Steam ticket")
		steam(g.ID, "0123456789").Want(http.StatusUnauthorized, "Invalid Steam ticket") // unknown to Steam
		steam(g.ID, "0badba11").Want(http.StatusForbidden, "Steam account is banned")
	})

	t.Run("not configured", func(t *testing.T) {
		steam(tenant.Game.ID, "abcdef0123").Want(http.StatusBadRequest, "Steam sign-in is not configured for this game")
		appOnly := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480")})
		steam(appOnly.ID, "abcdef0123").Want(http.StatusBadRequest, "Steam sign-in is not configured for this game")
	})

	t.Run("unknown or deleted game", func(t *testing.T) {
		steam(harness.NewGameID(), "abcdef0123").Want(http.StatusNotFound, "Game not found")
		gone := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(key)})
		if _, err := tenant.Client.DeleteGame(t.Context(), gone.ID); err != nil {
			t.Fatal(err)
		}
		steam(gone.ID, "abcdef0123").Want(http.StatusNotFound, "Game not found")
	})

	t.Run("validation", func(t *testing.T) {
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "STEAM", "external_key": steamID}).Problem("missing", "body", "steam_ticket")
		for _, bad := range []string{"a", "not-hex!", strings.Repeat("ab", 2049)} {
			a := steam(g.ID, bad)
			a.Problem("value_error", "body", "steam_ticket")
			if len(bad) > 1 && strings.Contains(string(a.Body), bad) {
				t.Fatalf("a 422 echoes the ticket: %s", a.Body)
			}
		}
		anon.Do("POST", "/v1/client/sessions", map[string]any{"game_id": g.ID, "kind": "CUSTOM", "external_key": "custom-" + harness.Unique()}).
			Problem("value_error", "body", "kind")
	})

	t.Run("Steam unavailable", func(t *testing.T) {
		fake.Fail(http.StatusInternalServerError)
		steam(g.ID, "abcdef0123").Want(http.StatusServiceUnavailable, "Steam is unavailable")
		fake.Fail(0)
		// A publisher key Steam refuses is the studio's configuration, not
		// the player's ticket.
		wrongKey := harness.NewGame(t, tenant.Client, client.CreateGameRequest{SteamAppID: ptr("480"), SteamWebAPIKey: ptr(steamKey())})
		steam(wrongKey.ID, "abcdef0123").Want(http.StatusServiceUnavailable, "Steam is unavailable")

		// LEADR waits 5 s for Steam, no more.
		fake.Slow(20 * time.Second)
		began := time.Now()
		steam(g.ID, "abcdef0123").Want(http.StatusServiceUnavailable, "Steam is unavailable")
		if took := time.Since(began); took < 4500*time.Millisecond || took > 9*time.Second {
			t.Fatalf("a slow Steam answered after %v, want about 5s", took)
		}
		fake.Slow(0)
		checkSignIn(t, steam(g.ID, "abcdef0123"))
	})
}

// jwtParts splits a JWT and decodes its header and payload.
func jwtParts(t *testing.T, token string) (header, payload map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	for i, into := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload, parts[2]
}

func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signJWT makes a token of header and payload signed with secret under mac.
func signJWT(t *testing.T, mac func() hash.Hash, secret string, header, payload map[string]any) string {
	t.Helper()
	in := segment(t, header) + "." + segment(t, payload)
	h := hmac.New(mac, []byte(secret))
	h.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestTamperedAccessTokens: a token is good only as issued, for its own
// session. Tokens that change what it says are signed here with the
// service's own key (opened as only whoever holds the database and the root
// key can), so that each is refused for what changed; the algorithms and
// keys refused are section 12's, in TestAccessTokenRefusals.
func TestTamperedAccessTokens(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	other := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	header, payload, sig := jwtParts(t, s.AccessToken)
	if header["alg"] != "ES256" {
		t.Fatalf("header %v", header)
	}
	key := signingKey(t, svc, kidOf(t, s.AccessToken))
	sign := func(payload map[string]any) string { return es256(t, key, header, payload) }
	// Our own signing of the token as issued is accepted: the refusals
	// below are for what was changed, not for how the tests sign.
	me(t, svc, sign(payload)).Want(http.StatusOK)
	me(t, svc, s.AccessToken).Want(http.StatusOK)
	// A shorter life than the session's newest token is a life it could
	// have given.
	me(t, svc, sign(with(payload, "exp", time.Now().Add(5*time.Minute).Unix()))).Want(http.StatusOK)

	parts := strings.Split(s.AccessToken, ".")
	flip := func(seg string) string {
		c := byte('A')
		if seg[0] == 'A' {
			c = 'B'
		}
		return string(c) + seg[1:]
	}
	_, otherPayload, _ := jwtParts(t, other.AccessToken)
	cases := map[string]string{
		"payload changed, signature kept":   parts[0] + "." + segment(t, with(payload, "sub", otherPayload["sub"])) + "." + sig,
		"payload of another token":          parts[0] + "." + strings.Split(other.AccessToken, ".")[1] + "." + sig,
		"signature changed":                 parts[0] + "." + parts[1] + "." + flip(sig),
		"signature removed":                 parts[0] + "." + parts[1] + ".",
		"alg none":                          segment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + ".",
		"alg None, signature kept":          segment(t, map[string]any{"alg": "None", "typ": "JWT"}) + "." + parts[1] + "." + sig,
		"claims mixed from two sessions":    sign(with(payload, "sub", otherPayload["sub"])),
		"a session that does not exist":     sign(with(payload, "sid", "ses_0195f2a0-0000-7000-8000-000000000000")),
		"no expiry":                         sign(with(payload, "exp", nil)),
		"outliving the session's newest":    sign(with(payload, "exp", time.Now().Add(time.Hour).Unix())),
		"not a JWT":                         "garbage",
		"an API key":                        tenant.Key.Key,
		"the refresh token":                 s.RefreshToken,
		"the token twice":                   s.AccessToken + s.AccessToken,
		"padded base64":                     parts[0] + "=." + parts[1] + "." + sig,
		"account of another tenant, signed": sign(with(payload, "acc", harness.NewTenant(t, svc).Account.ID)),
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			wantBearerRefused(t, me(t, svc, token), accessRefused)
			wantBearerRefused(t, bearer(t, svc, token, client.NonceHeader, "x").Do("PATCH", "/v1/client/me", map[string]any{"display_name": "Mallory"}), accessRefused)
		})
	}
	t.Run("missing", func(t *testing.T) {
		for _, ep := range [][2]string{{"GET", "/v1/client/me"}, {"PATCH", "/v1/client/me"}, {"GET", "/v1/client/nonce"}, {"DELETE", "/v1/client/sessions/current"}} {
			var body any
			if ep[0] == "PATCH" {
				body = map[string]any{"display_name": "Mallory"}
			}
			wantBearerRefused(t, bearer(t, svc, "").Do(ep[0], ep[1], body), accessRequired)
		}
	})
	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		harness.Over(t, svc.Bearer("", client.WithHeader("Authorization", "bearer "+s.AccessToken))).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	})
	// The untouched token still works: nothing above revoked anything.
	me(t, svc, s.AccessToken).Want(http.StatusOK)
}

func TestExpiredAccessToken(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", "1s"), harness.WithEnv("LEADR_REFRESH_TOKEN_TTL", "1h"))
	tenant := harness.NewTenant(t, svc)
	s := checkSignIn(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions",
		map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": newDevice()}), 1, 3600)
	time.Sleep(2100 * time.Millisecond)
	wantBearerRefused(t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/me", nil), accessRefused)
	// The refresh token outlives it, and gives a working one.
	a := refreshWith(t, svc, s.RefreshToken).Want(http.StatusOK)
	wantKeys(t, a, refreshKeys...)
	r := decode[client.RefreshResponse](t, a)
	if r.ExpiresIn != 1 || r.RefreshExpiresIn != 3600 {
		t.Fatalf("refresh: %s", a.Body)
	}
	if got := bearer(t, svc, r.AccessToken).Do("GET", "/v1/client/me", nil); got.Status != http.StatusOK {
		// A one-second token may expire in transit (its expiry is whole
		// seconds); then it must be the bearer refusal.
		wantBearerRefused(t, got, accessRefused)
	}
	// The typed Player refreshes by itself.
	p, err := svc.Anonymous().SignIn(t.Context(), client.SignInRequest{GameID: tenant.Game.ID, Kind: client.KindDevice, ExternalKey: newDevice()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := p.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(700 * time.Millisecond)
	}
}

func TestNonces(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	s1, s2 := deviceSignIn(t, svc, tenant.Game.ID, newDevice()), deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	nonceOf := func(s client.SignInResponse) string {
		return decode[client.Nonce](t, bearer(t, svc, s.AccessToken).Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK)).NonceValue
	}
	rename := func(s client.SignInResponse, nonce string, name any) harness.Answer {
		var headers []string
		if nonce != "" {
			headers = []string{client.NonceHeader, nonce}
		}
		return bearer(t, svc, s.AccessToken, headers...).Do("PATCH", "/v1/client/me", map[string]any{"display_name": name})
	}

	rename(s1, "", "Ada").Want(http.StatusPreconditionFailed, "Nonce required")
	rename(s1, "unknown-nonce-unknown-nonce-unknown-nonce12", "Ada").Want(http.StatusPreconditionFailed, "Invalid nonce")
	// Validation before the nonce.
	rename(s1, "", "").Want(http.StatusUnprocessableEntity)
	rename(s1, "", nil).Want(http.StatusUnprocessableEntity)

	// Another session's nonce is no nonce, and stays its session's.
	ofS2 := nonceOf(s2)
	rename(s1, ofS2, "Mallory").Want(http.StatusPreconditionFailed, "Invalid nonce")
	if got := rename(s2, ofS2, "Grace").Want(http.StatusOK); got.Str("display_name") != "Grace" {
		t.Fatalf("renamed %s", got.Body)
	}
	// Used.
	rename(s2, ofS2, "Grace again").Want(http.StatusPreconditionFailed, "Nonce already used")
	if got, _ := tenant.Client.GetIdentity(t.Context(), s2.Identity.ID); got.DisplayName == nil || *got.DisplayName != "Grace" {
		t.Fatalf("a refused rename renamed: %+v", got)
	}
	// A nonce whose rename failed validation is not used up.
	n := nonceOf(s1)
	rename(s1, n, strings.Repeat("x", 65)).Want(http.StatusUnprocessableEntity)
	rename(s1, n, "Ada").Want(http.StatusOK)

	// At most five unused nonces per session: a sixth drops the oldest,
	// which is then unknown.
	s4 := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	var minted []string
	for range 6 {
		minted = append(minted, nonceOf(s4))
	}
	rename(s4, minted[0], "Ada").Want(http.StatusPreconditionFailed, "Invalid nonce")
	for _, n := range minted[1:] {
		rename(s4, n, "Ada").Want(http.StatusOK)
	}

	// Nonces of a revoked session are gone with it.
	s3 := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
	n3 := nonceOf(s3)
	if _, err := tenant.Client.RevokeIdentitySession(t.Context(), s3.SessionID); err != nil {
		t.Fatal(err)
	}
	wantBearerRefused(t, rename(s3, n3, "Ghost"), accessRefused)

	t.Run("concurrent use of one nonce", func(t *testing.T) {
		const n = 16
		nonce := nonceOf(s1)
		c := svc.Bearer(s1.AccessToken, client.WithHeader(client.NonceHeader, nonce))
		statuses := make([]int, n)
		details := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := c.Do(t.Context(), "PATCH", "/v1/client/me", map[string]any{"display_name": "Racer " + harness.Unique()})
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = resp.Status
				var d struct {
					Detail any `json:"detail"`
				}
				_ = json.Unmarshal(resp.Body, &d)
				details[i], _ = d.Detail.(string)
			})
		}
		wg.Wait()
		ok := 0
		for i, st := range statuses {
			switch {
			case st == http.StatusOK:
				ok++
			case st == http.StatusPreconditionFailed && details[i] == "Nonce already used":
			default:
				t.Errorf("request %d: %d %q", i, st, details[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d renames with one nonce succeeded, want exactly 1: %v", ok, n, statuses)
		}
	})
}

func TestRefreshRace(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t)
	tenant := harness.NewTenant(t, svc)
	for round := range 3 {
		s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())
		const n = 16
		c := svc.Bearer("")
		statuses := make([]int, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := c.Do(t.Context(), "POST", "/v1/client/sessions/refresh", map[string]any{"refresh_token": s.RefreshToken})
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i], bodies[i] = resp.Status, string(resp.Body)
			})
		}
		wg.Wait()
		ok := 0
		for i, st := range statuses {
			switch {
			case st == http.StatusOK:
				ok++
			case st == http.StatusUnauthorized && bodies[i] == `{"detail":"`+refreshRefused+`"}`:
			default:
				t.Errorf("round %d, request %d: %d %s", round, i, st, bodies[i])
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d refreshes with one token succeeded, want exactly 1: %v", round, ok, n, statuses)
		}
		// The old token is dead whatever happened.
		refreshWith(t, svc, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const origin = "https://play.example"
	svc := harness.StartService(t, harness.WithEnv("LEADR_CORS_ALLOWED_ORIGINS", origin))
	tenant := harness.NewTenant(t, svc)
	s := deviceSignIn(t, svc, tenant.Game.ID, newDevice())

	preflight := func(svc *harness.Service, from, path, method string) *client.Response {
		t.Helper()
		c := svc.Bearer("", client.WithHeader("Origin", from), client.WithHeader("Access-Control-Request-Method", method),
			client.WithHeader("Access-Control-Request-Headers", "authorization, content-type, leadr-client-nonce"))
		resp, err := c.Do(t.Context(), "OPTIONS", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	list := func(h string) []string {
		var out []string
		for _, v := range strings.Split(h, ",") {
			out = append(out, strings.ToLower(strings.TrimSpace(v)))
		}
		return out
	}
	noCORS := func(what string, resp *client.Response) {
		t.Helper()
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("%s: %s: %q", what, h, v)
			}
		}
	}

	t.Run("an allowed origin", func(t *testing.T) {
		resp := preflight(svc, origin, "/v1/client/me", "PATCH")
		if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
			t.Fatalf("preflight: %d %s", resp.Status, resp.Body)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Fatalf("Access-Control-Allow-Origin %q", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Fatalf("Access-Control-Allow-Credentials %q", got)
		}
		methods := list(resp.Header.Get("Access-Control-Allow-Methods"))
		if !slices.Contains(methods, "patch") || !slices.Contains(methods, "get") {
			t.Fatalf("Access-Control-Allow-Methods %q", resp.Header.Get("Access-Control-Allow-Methods"))
		}
		headers := list(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "leadr-client-nonce", "if-match", "if-none-match"} {
			if !slices.Contains(headers, h) {
				t.Fatalf("Access-Control-Allow-Headers %q lacks %s", resp.Header.Get("Access-Control-Allow-Headers"), h)
			}
		}
		if !slices.Contains(list(strings.Join(resp.Header.Values("Vary"), ",")), "origin") {
			t.Fatalf("Vary %q", resp.Header.Values("Vary"))
		}
		for _, p := range [][2]string{{"/v1/client/sessions", "POST"}, {"/v1/client/sessions/refresh", "POST"}, {"/v1/client/nonce", "GET"}, {"/v1/client/sessions/current", "DELETE"}} {
			if r := preflight(svc, origin, p[0], p[1]); r.Header.Get("Access-Control-Allow-Origin") != origin ||
				!slices.Contains(list(r.Header.Get("Access-Control-Allow-Methods")), strings.ToLower(p[1])) {
				t.Fatalf("preflight of %s %s: %d %v", p[1], p[0], r.Status, r.Header)
			}
		}

		// The requests themselves.
		me := bearer(t, svc, s.AccessToken, "Origin", origin).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
		if me.Header.Get("Access-Control-Allow-Origin") != origin || me.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("GET /v1/client/me from %s: %v", origin, me.Header)
		}
		// A page can read why its token was refused.
		refused := bearer(t, svc, "garbage", "Origin", origin).Do("GET", "/v1/client/me", nil)
		wantBearerRefused(t, refused, accessRefused)
		if refused.Header.Get("Access-Control-Allow-Origin") != origin ||
			!slices.Contains(list(refused.Header.Get("Access-Control-Expose-Headers")), "www-authenticate") ||
			!slices.Contains(list(refused.Header.Get("Access-Control-Expose-Headers")), "etag") ||
			!slices.Contains(list(refused.Header.Get("Access-Control-Expose-Headers")), "retry-after") {
			t.Fatalf("a refusal from %s: %v", origin, refused.Header)
		}
		in := bearer(t, svc, "", "Origin", origin).Do("POST", "/v1/client/sessions",
			map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": newDevice()})
		checkSignIn(t, in)
		if in.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("sign-in from %s: %v", origin, in.Header)
		}
	})

	t.Run("other origins", func(t *testing.T) {
		for _, other := range []string{"https://evil.example", "http://play.example", "https://play.example.evil", "https://play.example:8443", "null"} {
			resp := preflight(svc, other, "/v1/client/me", "PATCH")
			noCORS("preflight from "+other, resp)
			if resp.Status >= 200 && resp.Status < 300 {
				t.Errorf("preflight from %s: %d", other, resp.Status)
			}
			// Served, but the browser keeps the answer from the page.
			noCORS("GET from "+other, bearer(t, svc, s.AccessToken, "Origin", other).Do("GET", "/v1/client/me", nil).Want(http.StatusOK).Response)
		}
	})

	t.Run("admin endpoints never answer cross-origin", func(t *testing.T) {
		for _, p := range [][2]string{{"/v1/identities", "GET"}, {"/v1/identity-sessions", "GET"}, {"/v1/identity-sessions/" + s.SessionID, "DELETE"},
			{"/v1/games", "POST"}, {"/v1/api-keys", "POST"}, {"/v1/health", "GET"}} {
			resp := preflight(svc, origin, p[0], p[1])
			noCORS("preflight of "+p[1]+" "+p[0], resp)
			if resp.Status >= 200 && resp.Status < 300 {
				t.Errorf("preflight of %s %s: %d", p[1], p[0], resp.Status)
			}
		}
		for _, p := range []string{"/v1/identities", "/v1/identity-sessions", "/v1/identity-sessions/" + s.SessionID, "/v1/games"} {
			a := harness.Over(t, svc.Bearer("", client.WithAPIKey(tenant.Key.Key), client.WithHeader("Origin", origin))).Do("GET", p, nil).Want(http.StatusOK)
			noCORS("GET "+p, a.Response)
		}
	})

	t.Run("no origin configured", func(t *testing.T) {
		plain := harness.StartService(t)
		resp := preflight(plain, origin, "/v1/client/me", "GET")
		noCORS("preflight without configured origins", resp)
		if resp.Status >= 200 && resp.Status < 300 {
			t.Errorf("preflight without configured origins: %d", resp.Status)
		}
	})
}

// TestSessionsAcrossReplicas runs two replicas on one PostgreSQL database:
// each accepts the other's tokens, publishes the same keys, and refuses at
// once a session revoked, or a signing key revoked, on the other.
func TestSessionsAcrossReplicas(t *testing.T) {
	t.Parallel()
	one, two := twoReplicas(t)
	tenant := harness.NewTenant(t, one)
	s := deviceSignIn(t, one, tenant.Game.ID, newDevice())
	bearer(t, two, s.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	r := checkRefresh(t, refreshWith(t, two, s.RefreshToken), s.SessionID)
	refreshWith(t, one, s.RefreshToken).Want(http.StatusUnauthorized, refreshRefused) // reuse, on the other replica
	refusedWithin(t, func() harness.Answer { return bearer(t, two, r.AccessToken).Do("GET", "/v1/client/me", nil) }, accessRefused)

	s2 := deviceSignIn(t, two, tenant.Game.ID, newDevice())
	n := decode[client.Nonce](t, bearer(t, one, s2.AccessToken).Do("GET", "/v1/client/nonce", nil).Want(http.StatusOK))
	bearer(t, two, s2.AccessToken, client.NonceHeader, n.NonceValue).Do("PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}).Want(http.StatusOK)
	bearer(t, one, s2.AccessToken, client.NonceHeader, n.NonceValue).Do("PATCH", "/v1/client/me", map[string]any{"display_name": "Ada"}).
		Want(http.StatusPreconditionFailed, "Nonce already used")
	if _, err := two.Client(tenant.Key.Key).RevokeIdentitySession(t.Context(), s2.SessionID); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, func() harness.Answer { return bearer(t, one, s2.AccessToken).Do("GET", "/v1/client/me", nil) }, accessRefused)

	// A signing key revoked on one replica: the other refuses its tokens,
	// even one it has just served, and publishes what the first does.
	s3 := deviceSignIn(t, one, tenant.Game.ID, newDevice())
	bearer(t, two, s3.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
	kid, err := id.Parse[id.SigningKey](kidOf(t, s3.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.SigningKeys.Revoke(t.Context(), kid); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, func() harness.Answer { return bearer(t, two, s3.AccessToken).Do("GET", "/v1/client/me", nil) }, accessRefused)
	published, _ := publishedKeys(t, one)
	if p, _ := publishedKeys(t, two); !maps.EqualFunc(p, published, func(a, b *ecdsa.PublicKey) bool { return a.Equal(b) }) || p[kid.String()] != nil {
		t.Fatalf("after the revocation one publishes %v, two %v", published, p)
	}
	// Refresh tokens are not signed: the session goes on with the key that
	// signs now, on every replica.
	r3 := checkRefresh(t, refreshWith(t, two, s3.RefreshToken), s3.SessionID)
	bearer(t, one, r3.AccessToken).Do("GET", "/v1/client/me", nil).Want(http.StatusOK)
}

// TestTokenNeverOutlivesItsSession: whoever holds the signing key (the
// database and its root key) cannot mint a token that outlives its session,
// and refreshing never carries a session past LEADR_SESSION_MAX_AGE.
func TestTokenNeverOutlivesItsSession(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_ACCESS_TOKEN_TTL", "1s"), harness.WithEnv("LEADR_REFRESH_TOKEN_TTL", "1h"),
		harness.WithEnv("LEADR_SESSION_MAX_AGE", "2s"))
	tenant := harness.NewTenant(t, svc)
	signedIn := time.Now()
	s := checkSignIn(t, bearer(t, svc, "").Do("POST", "/v1/client/sessions",
		map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": newDevice()}), 1, 2)

	// A token of that session, validly signed, expiring in 2100.
	header, payload, _ := jwtParts(t, s.AccessToken)
	forged := es256(t, signingKey(t, svc, kidOf(t, s.AccessToken)), header, with(payload, "exp", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))
	wantBearerRefused(t, bearer(t, svc, forged).Do("GET", "/v1/client/me", nil), accessRefused)

	// Refreshing does not extend the session: its refresh token expires at
	// its maximum age, whatever its TTL.
	r := decode[client.RefreshResponse](t, refreshWith(t, svc, s.RefreshToken).Want(http.StatusOK))
	if left := 2*time.Second - time.Since(signedIn); r.RefreshExpiresIn > int(left.Seconds())+1 || r.ExpiresIn > 1 {
		t.Fatalf("a refresh %v before the maximum age gives tokens for %ds and %ds", left, r.ExpiresIn, r.RefreshExpiresIn)
	}
	view, _ := sessionOf(t, tenant.Client, s.SessionID)
	if end := view.CreatedAt.Add(2 * time.Second); !view.RefreshExpiresAt.Equal(end) || view.ExpiresAt.After(end) {
		t.Fatalf("session %+v outlives its maximum age %v", view, end)
	}
	time.Sleep(time.Until(view.CreatedAt.Add(2*time.Second + 100*time.Millisecond)))
	refreshWith(t, svc, r.RefreshToken).Want(http.StatusUnauthorized, refreshRefused)
}

// TestSignUpLimit: anonymous clients cannot fill the database with
// identities: each client address creates at most LEADR_RATE_LIMIT_SIGN_UP
// of them, past which a sign-in that would create one is 429 and writes
// nothing, while signing in as an identity that exists costs nothing.
func TestSignUpLimit(t *testing.T) {
	t.Parallel()
	svc := harness.StartService(t, harness.WithEnv("LEADR_RATE_LIMIT_SIGN_UP", "2/h"),
		harness.WithEnv("LEADR_TRUSTED_PROXIES", "127.0.0.1/32,::1"))
	tenant := harness.NewTenant(t, svc)
	from := func(address, device string) harness.Answer {
		return bearer(t, svc, "", "X-Forwarded-For", address).
			Do("POST", "/v1/client/sessions", map[string]any{"game_id": tenant.Game.ID, "kind": "DEVICE", "external_key": device})
	}
	known := newDevice()
	checkSignIn(t, from("203.0.113.1", known))
	checkSignIn(t, from("203.0.113.1", newDevice()))
	refused := newDevice()
	wantLimited(t, from("203.0.113.1", refused))
	page, err := tenant.Client.ListIdentities(t.Context(), client.ListIdentitiesParams{ExternalKey: refused})
	if err != nil || len(page.Data) != 0 {
		t.Fatalf("a refused sign-up created %+v (%v)", page.Data, err)
	}
	// Signing in again, as often as it likes, is no sign-up.
	for range 3 {
		checkSignIn(t, from("203.0.113.1", known))
	}
	// Another address has a budget of its own.
	checkSignIn(t, from("203.0.113.2", refused))
}
